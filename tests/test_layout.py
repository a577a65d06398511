"""DESIGN.md §1: the layout, and rule 5 (only server.py composes; nothing imports server or
settings), which import-linter cannot express for top-level modules."""

from __future__ import annotations

import ast

from schema import SDL_PATH, printed_schema
from tests.conftest import REPO_ROOT

PACKAGES = ("schema", "resolvers", "domain", "graph_client", "tasks", "migrations")


def test_layout_exists() -> None:
    for name in (*PACKAGES, "tests"):
        assert (REPO_ROOT / name).is_dir(), name
    for name in (
        "server.py",
        "settings.py",
        "pyproject.toml",
        "README.md",
        ".ci/run",
        "requirements.lock",
    ):
        assert (REPO_ROOT / name).is_file(), name


def _imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_server_imports_server_and_settings() -> None:
    offenders = []
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            imported = _imported_modules(ast.parse(path.read_text()))
            if imported & {"server", "settings"}:
                offenders.append(str(path.relative_to(REPO_ROOT)))
    settings_imports = _imported_modules(ast.parse((REPO_ROOT / "settings.py").read_text()))
    assert offenders == []
    assert not settings_imports & {*PACKAGES, "server"}


def test_committed_schema_matches_the_code() -> None:
    """Regenerate with:
    python -c 'import schema; schema.SDL_PATH.write_text(schema.printed_schema())'"""
    assert SDL_PATH.read_text() == printed_schema()
