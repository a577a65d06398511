"""The add-meta-token command against a Graph API served over HTTP (the sandbox)."""

from __future__ import annotations

import asyncio

from server import Runtime
from tests.conftest import create_tenant
from tests.connections.conftest import SandboxServer
from tests.test_cli import run_cli


async def test_add_meta_token_reads_stdin_and_connects(
    sandbox_server: SandboxServer, runtime: Runtime
) -> None:
    """`add-meta-token --label L` against a Graph API (here the sandbox, over HTTP)."""
    tenant = await create_tenant(runtime, "cli-token")
    token = sandbox_server.sandbox.info()["demo_user"]["access_token"]
    env = {
        "DATABASE_URL": runtime.settings.DATABASE_URL,
        "META_GRAPH_URL": f"{sandbox_server.base}/sandbox",
    }
    result = await asyncio.to_thread(
        run_cli,
        "add-meta-token",
        "--label",
        "ops bot",
        "--org",
        tenant.principal.organization_name,
        env=env,
        stdin=token + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "stored Meta token 'ops bot'" in result.stdout
    assert "2 page(s)" in result.stdout
    assert token not in result.stdout + result.stderr
    rejected = await asyncio.to_thread(
        run_cli,
        "add-meta-token",
        "--label",
        "x",
        "--org",
        tenant.principal.organization_name,
        env=env,
        stdin="EAAnotavalidtoken\n",
    )
    assert rejected.returncode != 0
    assert "token" in rejected.stderr
