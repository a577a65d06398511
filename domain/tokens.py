"""Sealing and opening the Meta tokens stored on rows (through the vault, bound to the row)."""

from __future__ import annotations

from domain.meta import token_fingerprint
from domain.models import MetaConnection, Page, WhatsAppAccount
from domain.vault import TokenVault

CONNECTION_PURPOSE = "meta_connection.token"
PAGE_PURPOSE = "page.token"
WHATSAPP_PURPOSE = "whatsapp_account.token"

Sealed = MetaConnection | Page | WhatsAppAccount


def _column(row: Sealed) -> tuple[str, str]:
    if isinstance(row, MetaConnection):
        return "token_encrypted", CONNECTION_PURPOSE
    if isinstance(row, Page):
        return "page_token_encrypted", PAGE_PURPOSE
    return "token_encrypted", WHATSAPP_PURPOSE


def seal(vault: TokenVault, row: Sealed, token: str | None) -> None:
    """Store ``token`` encrypted on ``row`` (None drops it), with its fingerprint."""
    column, purpose = _column(row)
    if token is None:
        setattr(row, column, None)
        row.token_fingerprint = None
        return
    setattr(row, column, vault.encrypt(token, row_id=row.id, purpose=purpose))
    row.token_fingerprint = token_fingerprint(token)


def unseal(vault: TokenVault, row: Sealed) -> str | None:
    column, purpose = _column(row)
    value = getattr(row, column)
    return vault.decrypt(value, row_id=row.id, purpose=purpose) if value else None
