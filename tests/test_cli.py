"""The command line of DESIGN.md §4, run as a user runs it: `python server.py ...`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.database import create_engine
from domain.models import MetaConnection, Organization
from domain.vault import TokenVault, generate_key
from migrations.runner import upgrade_engine
from tests.conftest import REPO_ROOT

PLAINTEXT = "EAABsecretPlaintextToken" + "z" * 60


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    full_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "server.py", *args],
        cwd=REPO_ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_issue_token_creates_user_and_org_once(scratch_database_url: str) -> None:
    env = {"DATABASE_URL": scratch_database_url}
    if scratch_database_url.startswith("postgresql"):
        assert run_cli("migrate", env=env).returncode == 0
    first = run_cli("issue-token", "--email", "Ana@Example.com", "--org", "Acme", env=env)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, options={"verify_signature": False})
    again = run_cli("issue-token", "--email", "ana@example.com", env=env)
    claims_again = jwt.decode(
        again.stdout.strip().splitlines()[-1], options={"verify_signature": False}
    )
    # Same user, same (first) organization.
    assert claims_again["sub"] == claims["sub"]
    assert claims_again["org"] == claims["org"]
    assert claims["email"] == "ana@example.com"

    bad = run_cli("issue-token", "--email", "not-an-email", env=env)
    assert bad.returncode != 0
    assert "email" in bad.stderr


def test_production_refuses_placeholder_secrets_by_name(scratch_database_url: str) -> None:
    result = run_cli(
        "migrate", env={"ENVIRONMENT": "production", "DATABASE_URL": scratch_database_url}
    )
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr
    assert "META_APP_SECRET" in result.stderr


async def test_rotate_keys_reencrypts_and_never_stores_plaintext(
    scratch_database_url: str,
) -> None:
    old, new = generate_key(), generate_key()
    engine = create_engine(scratch_database_url)
    await upgrade_engine(engine)
    row_id, org_id = uuid.uuid4(), uuid.uuid4()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add(Organization(id=org_id, name="rotation"))
        await session.flush()
        session.add(
            MetaConnection(
                id=row_id,
                organization_id=org_id,
                label="ops",
                token_encrypted=TokenVault([old]).encrypt(
                    PLAINTEXT, row_id=row_id, purpose="meta_connection.token"
                ),
            )
        )
        await session.commit()

    async def stored() -> str:
        async with engine.connect() as conn:
            value = (
                await conn.execute(text("SELECT token_encrypted FROM meta_connections"))
            ).scalar_one()
        return str(value)

    before = await stored()
    assert PLAINTEXT not in before

    result = run_cli(
        "rotate-keys",
        env={"DATABASE_URL": scratch_database_url, "TOKEN_ENCRYPTION_KEYS": f"{new},{old}"},
    )
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 1 token" in result.stdout
    after = await stored()
    assert PLAINTEXT not in after
    assert after != before
    assert (
        TokenVault([new]).decrypt(after, row_id=row_id, purpose="meta_connection.token")
        == PLAINTEXT
    )
    assert PLAINTEXT not in result.stdout + result.stderr
    # Running again finds nothing to do.
    again = run_cli(
        "rotate-keys",
        env={"DATABASE_URL": scratch_database_url, "TOKEN_ENCRYPTION_KEYS": f"{new},{old}"},
    )
    assert "re-encrypted 0 token(s); 1 already current" in again.stdout
    await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_sandbox_starts_on_a_fresh_database_and_answers(tmp_path: object) -> None:
    """The README's run command: `python server.py --sandbox` on a fresh SQLite file."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEST_", "DATABASE_URL", "REDIS_URL"))
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/serve.db"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-u", "server.py", "--sandbox", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        response = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{base}/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, "server did not start"
        assert response.status_code == 200
        assert response.json()["checks"]["database"] == {"status": "ok"}
        info = httpx.get(f"{base}/sandbox/_control/info").json()
        assert info["graph_base_url"] == f"{base}/sandbox/v25.0"
        anonymous = httpx.post(f"{base}/graphql", json={"query": "{viewer{email}}"})
        assert anonymous.status_code == 401
        # The printed demo token sees the demo user's connected pages at once.
        issued = run_cli("issue-token", "--email", "demo@example.com", env=env)
        demo = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
        demo_pages = httpx.post(
            f"{base}/graphql",
            json={"query": "{ pages { totalCount edges { node { name } } } }"},
            headers=demo,
        ).json()
        # The demo is filled: templates at once, conversations once the first sync ran.
        filled = (
            "{ whatsappAccounts { edges { node { templates { totalCount } } } } "
            "pages { edges { node { conversations { totalCount } } } } }"
        )
        for _ in range(120):
            data = httpx.post(
                f"{base}/graphql", json={"query": filled}, headers=demo, timeout=30
            ).json()
            conversations = sum(
                e["node"]["conversations"]["totalCount"] for e in data["data"]["pages"]["edges"]
            )
            if conversations:
                break
            time.sleep(0.5)
        templates = data["data"]["whatsappAccounts"]["edges"][0]["node"]["templates"]
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=20)
    names = {e["node"]["name"] for e in demo_pages["data"]["pages"]["edges"]}
    assert templates["totalCount"] > 0
    assert conversations > 0
    assert names == {p["name"] for p in info["pages"]}
    # It printed a ready bearer token for the demo user and the sandbox's Meta token.
    lines = stdout.splitlines()
    bearer = lines[lines.index("demo bearer token (demo@example.com):") + 1].strip()
    assert jwt.decode(bearer, options={"verify_signature": False})["email"] == "demo@example.com"
    assert info["demo_user"]["access_token"] in stdout
    # Structured JSON logs with a request id, and no Meta token in them.
    assert '"request_id"' in stderr
    assert '"event": "http_request"' in stderr
    assert info["demo_user"]["access_token"] not in stderr
