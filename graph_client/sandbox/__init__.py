"""The fake Meta platform (Graph API, OAuth dialog, webhooks) for tests, benchmarks and demos.

sandbox = create_sandbox_app(SandboxConfig(app_id="123", app_secret="s"))
sandbox.seed_demo()
client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox))
"""

from graph_client.sandbox.app import Sandbox, create_sandbox_app
from graph_client.sandbox.config import SandboxConfig
from graph_client.sandbox.seed import DEMO, SeedSpec

__all__ = ["DEMO", "Sandbox", "SandboxConfig", "SeedSpec", "create_sandbox_app"]
