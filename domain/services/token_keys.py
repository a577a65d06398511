"""Re-encrypting every stored Meta token under the newest key (``rotate-keys``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import MetaConnection, Page, WhatsAppAccount
from domain.tokens import CONNECTION_PURPOSE, PAGE_PURPOSE, WHATSAPP_PURPOSE
from domain.vault import TokenVault

# (model, column, purpose). The purpose is part of the associated data, so a page token
# cannot be passed off as a user token.
ENCRYPTED_COLUMNS: tuple[tuple[Any, str, str], ...] = (
    (MetaConnection, "token_encrypted", CONNECTION_PURPOSE),
    (Page, "page_token_encrypted", PAGE_PURPOSE),
    (WhatsAppAccount, "token_encrypted", WHATSAPP_PURPOSE),
)

BATCH = 500


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotated: int
    already_current: int


async def rotate_all(session: AsyncSession, vault: TokenVault) -> RotationReport:
    """Re-encrypt all tokens not under the newest key, in batches; the caller commits."""
    rotated = current = 0
    for model, column, purpose in ENCRYPTED_COLUMNS:
        attr = getattr(model, column)
        last_id = None
        while True:
            stmt = select(model).where(attr.is_not(None)).order_by(model.id).limit(BATCH)
            if last_id is not None:
                stmt = stmt.where(model.id > last_id)
            rows = list((await session.execute(stmt)).scalars())
            if not rows:
                break
            for row in rows:
                value = getattr(row, column)
                if vault.is_current(value):
                    current += 1
                    continue
                setattr(row, column, vault.reencrypt(value, row_id=row.id, purpose=purpose))
                rotated += 1
            await session.flush()
            last_id = rows[-1].id
    return RotationReport(rotated=rotated, already_current=current)
