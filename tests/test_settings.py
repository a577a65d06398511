"""Settings: every variable of DESIGN.md §4; production refuses placeholder secrets."""

from __future__ import annotations

import pytest

from domain.vault import generate_key
from settings import InsecureSettingsError, Settings

PRODUCTION_SECRETS = {
    "META_APP_ID": "123456789012345",
    "META_APP_SECRET": "a" * 32,
    "WEBHOOK_VERIFY_TOKEN": "verify-" + "b" * 20,
    "CRON_SECRET": "cron-" + "c" * 20,
    "JWT_SECRET": "j" * 48,
}


def test_contract_variables_exist() -> None:
    names = set(Settings.model_fields)
    assert names >= {
        "ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "META_APP_ID", "META_APP_SECRET",
        "META_GRAPH_URL", "META_GRAPH_VERSION", "META_DIALOG_URL", "WEBHOOK_VERIFY_TOKEN",
        "CRON_SECRET", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "TOKEN_ENCRYPTION_KEYS",
        "PUBLIC_URL", "FRONTEND_URL", "CORS_ORIGINS", "NOTIFY_WEBHOOK_URL",
    }  # fmt: skip


def test_development_runs_with_placeholders() -> None:
    settings = Settings(ENVIRONMENT="development")
    settings.check_production_ready()
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./metasync.db"
    assert settings.META_GRAPH_VERSION == "v25.0"


def test_production_names_every_placeholder_secret() -> None:
    with pytest.raises(InsecureSettingsError) as info:
        Settings(ENVIRONMENT="production").check_production_ready()
    message = str(info.value)
    for name in ("META_APP_SECRET", "JWT_SECRET", "TOKEN_ENCRYPTION_KEYS", "CRON_SECRET"):
        assert name in message


def test_production_with_real_secrets_starts_and_short_jwt_secret_does_not() -> None:
    good = Settings(
        ENVIRONMENT="production", TOKEN_ENCRYPTION_KEYS=generate_key(), **PRODUCTION_SECRETS
    )
    good.check_production_ready()
    short = dict(PRODUCTION_SECRETS, JWT_SECRET="tooshort")
    with pytest.raises(InsecureSettingsError, match="JWT_SECRET"):
        Settings(
            ENVIRONMENT="production", TOKEN_ENCRYPTION_KEYS=generate_key(), **short
        ).check_production_ready()


def test_lists_come_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("JWT_ALGORITHMS", "HS256,HS512")
    settings = Settings()
    assert settings.CORS_ORIGINS == ["https://a.example", "https://b.example"]
    assert settings.JWT_ALGORITHMS == ["HS256", "HS512"]


def test_asymmetric_or_none_algorithms_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ALGORITHMS", "none")
    with pytest.raises(ValueError, match="JWT_ALGORITHMS"):
        Settings()
