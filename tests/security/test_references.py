"""The tests the suite's README cites from elsewhere still exist under those names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO_ROOT

README = Path(__file__).with_name("README.md")


def test_every_referenced_test_exists() -> None:
    references = re.findall(r"(tests/[\w/]+\.py)::(\w+)", README.read_text())
    assert len(references) >= 5
    missing = []
    for path, name in references:
        source = REPO_ROOT / path
        tree = ast.parse(source.read_text()) if source.exists() else ast.Module(body=[])
        names = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if name not in names:
            missing.append(f"{path}::{name}")
    assert not missing
    for module in re.findall(r"`(test_\w+\.py)`", README.read_text()):
        assert (README.parent / module).exists(), module
