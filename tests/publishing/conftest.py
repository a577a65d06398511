from tests.connections.conftest import sandbox_server  # noqa: F401
