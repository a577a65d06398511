"""Client ↔ Page mappings of spec/meta-module-api.md (a client id of the business's own system
mapped to a Page and, through it, to an Instagram account)."""

from __future__ import annotations

from sqlalchemy import select

from domain.models import ClientPageMapping, Page
from domain.repositories.base import OrgScoped


class ClientPageMappingRepository(OrgScoped[ClientPageMapping]):
    model = ClientPageMapping
    soft_delete = False  # a mapping is replaced by the next sync, never soft-deleted

    async def for_client(self, client_id: str) -> list[ClientPageMapping]:
        """The client's mappings (one per Page): those with an Instagram account first, then
        the most recently updated."""
        stmt = (
            self.select()
            .where(ClientPageMapping.client_id == client_id)
            .order_by(
                ClientPageMapping.ig_account_id.is_(None),
                ClientPageMapping.updated_at.desc(),
                ClientPageMapping.id,
            )
        )
        return list((await self.session.execute(stmt)).scalars())

    async def instagram_pages(self) -> list[tuple[str, Page]]:
        """Every (Instagram account id, Page it is reached through) the organization mapped,
        most recently updated first; a Page removed since is left out."""
        stmt = (
            select(ClientPageMapping.ig_account_id, Page)
            .join(Page, Page.id == ClientPageMapping.page_id)
            .where(
                *self._scope(),
                ClientPageMapping.ig_account_id.is_not(None),
                Page.organization_id == self.organization_id,
                Page.deleted_at.is_(None),
            )
            .order_by(ClientPageMapping.updated_at.desc(), ClientPageMapping.id)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(str(ig), page) for ig, page in rows]
