"""metasync's settings: one pydantic-settings class, built once per process by server.py.

Every variable of DESIGN.md §4 is here. Development runs with built-in placeholder secrets
so a fresh clone starts with no configuration; production refuses to start while any secret
is missing or still a placeholder, and names the variable.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

import limits
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Development placeholders. They are public (they are in this file), so production rejects them.
DEV_JWT_SECRET = "dev-insecure-jwt-secret-change-me-0000000000"  # noqa: S105
DEV_META_APP_ID = "1000000000000001"
DEV_META_APP_SECRET = "dev-insecure-meta-app-secret"  # noqa: S105
DEV_WEBHOOK_VERIFY_TOKEN = "dev-insecure-verify-token"  # noqa: S105
DEV_CRON_SECRET = "dev-insecure-cron-secret"  # noqa: S105
DEV_TOKEN_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"dev-insecure-token-key-32-bytes!").decode()

PLACEHOLDERS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "your_app_secret",
        "your_secure_random_string",
        "your_webhook_token",
        DEV_JWT_SECRET,
        DEV_META_APP_SECRET,
        DEV_WEBHOOK_VERIFY_TOKEN,
        DEV_CRON_SECRET,
        DEV_TOKEN_ENCRYPTION_KEY,
        DEV_META_APP_ID,
    }
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./metasync.db"


class InsecureSettingsError(RuntimeError):
    """Production settings with a missing or placeholder secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True)

    ENVIRONMENT: Literal["development", "production"] = "development"
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    REDIS_URL: str | None = None

    META_APP_ID: str = DEV_META_APP_ID
    META_APP_SECRET: str = DEV_META_APP_SECRET
    META_GRAPH_URL: str = "https://graph.facebook.com"
    META_GRAPH_VERSION: str = "v25.0"
    META_DIALOG_URL: str = "https://www.facebook.com"

    WEBHOOK_VERIFY_TOKEN: str = DEV_WEBHOOK_VERIFY_TOKEN
    CRON_SECRET: str = DEV_CRON_SECRET

    JWT_SECRET: str = DEV_JWT_SECRET
    JWT_ISSUER: str | None = None
    JWT_AUDIENCE: str | None = None
    JWT_ALGORITHMS: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["HS256"])
    JWT_TTL_SECONDS: int = 7 * 24 * 3600

    # Comma-separated urlsafe-base64 32-byte keys, newest first.
    TOKEN_ENCRYPTION_KEYS: str = DEV_TOKEN_ENCRYPTION_KEY

    PUBLIC_URL: str = "http://127.0.0.1:8000"
    FRONTEND_URL: str = "http://localhost:3000"
    CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    NOTIFY_WEBHOOK_URL: str | None = None

    # spec/facebook-sync-api.md limits and how long the REST shims wait for a sync to end.
    SYNC_FULL_INTERVAL_SECONDS: float = 300
    SYNC_INDIVIDUAL_PER_MINUTE: int = 10
    SYNC_WAIT_SECONDS: float = 30

    # spec/social-service-architecture.md: 100 requests per 15 minutes per client on /api
    # (the limits library's notation: "100/15 minutes", "1000/hour").
    API_RATE_LIMIT: str = "100/15 minutes"
    # Recovery (DESIGN §10). How often the scheduler sends the sweepers (webhook inbox,
    # lost sync runs); how long a stored delivery may wait before the sweeper queues it
    # again; how long a running sync may go without its worker's heartbeat before it is
    # declared lost; how long an event about something not stored yet (a reaction that
    # overtook its message) waits for it before it is dropped with the reason.
    SWEEP_INTERVAL_SECONDS: float = 60
    # The periodic jobs this scheduler sends, by name (comma-separated; empty: all of them).
    SCHEDULER_JOBS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    WEBHOOK_RETRY_AFTER_SECONDS: float = 30
    SYNC_LEASE_SECONDS: float = 60
    WEBHOOK_DEFER_SECONDS: float = 300

    LOG_LEVEL: str = "INFO"

    @field_validator("CORS_ORIGINS", "JWT_ALGORITHMS", "SCHEDULER_JOBS", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        # Environment variables arrive as "a,b" (NoDecode stops pydantic-settings from
        # insisting on JSON).
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("JWT_ALGORITHMS")
    @classmethod
    def _only_hmac(cls, value: list[str]) -> list[str]:
        # Tokens are signed with JWT_SECRET, so only HMAC algorithms make sense; the list is
        # an allow-list, which is what keeps "alg: none" and algorithm confusion out.
        allowed = {"HS256", "HS384", "HS512"}
        bad = [alg for alg in value if alg not in allowed]
        if bad or not value:
            raise ValueError(f"JWT_ALGORITHMS must be a subset of {sorted(allowed)}, got {value}")
        return value

    @field_validator("API_RATE_LIMIT")
    @classmethod
    def _readable_limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError(
                f"API_RATE_LIMIT must read like '100/15 minutes', got {value!r}"
            ) from exc
        return value

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"

    @property
    def token_keys(self) -> list[str]:
        return [k.strip() for k in self.TOKEN_ENCRYPTION_KEYS.split(",") if k.strip()]

    def insecure_secrets(self) -> list[str]:
        """Names of secrets that are missing or still a known placeholder."""
        bad: list[str] = []
        for name in ("META_APP_ID", "META_APP_SECRET", "WEBHOOK_VERIFY_TOKEN", "CRON_SECRET"):
            if str(getattr(self, name)).strip().lower() in PLACEHOLDERS:
                bad.append(name)
        if self.JWT_SECRET in PLACEHOLDERS or len(self.JWT_SECRET) < 32:
            bad.append("JWT_SECRET")
        keys = self.token_keys
        if not keys or any(k in PLACEHOLDERS for k in keys):
            bad.append("TOKEN_ENCRYPTION_KEYS")
        return bad

    def check_production_ready(self) -> None:
        """Refuse to run production with a missing or placeholder secret, naming each."""
        if not self.is_production:
            return
        bad = self.insecure_secrets()
        if bad:
            raise InsecureSettingsError(
                "refusing to start in production: missing or placeholder secret(s): "
                + ", ".join(bad)
            )
