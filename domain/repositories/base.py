"""Shared machinery of the organization-scoped repositories."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from domain.models import Base
from domain.pagination import (
    Slice,
    SortKey,
    after_condition,
    decode_cursor,
    make_slice,
    order_by,
)

M = TypeVar("M", bound=Base)
# A parent key: a row id, or a Meta id for children linked by it (comments to their post).
P = TypeVar("P", bound=Hashable)


class OrgScoped(Generic[M]):
    """Every query of a subclass is scoped to one organization; there is no unscoped path.

    Rows of another organization are indistinguishable from missing ones.
    """

    model: type[M]
    soft_delete: bool = True

    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.session = session
        self.organization_id = organization_id

    def _scope(self) -> list[ColumnElement[bool]]:
        model: Any = self.model
        conditions: list[ColumnElement[bool]] = [model.organization_id == self.organization_id]
        if self.soft_delete:
            conditions.append(model.deleted_at.is_(None))
        return conditions

    def select(self) -> Select[M]:
        return select(self.model).where(*self._scope())

    async def get(self, row_id: uuid.UUID) -> M | None:
        model: Any = self.model
        result = await self.session.execute(self.select().where(model.id == row_id))
        return result.scalar_one_or_none()

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, M]:
        if not ids:
            return {}
        model: Any = self.model
        result = await self.session.execute(self.select().where(model.id.in_(set(ids))))
        rows: list[Any] = list(result.scalars())
        return {row.id: row for row in rows}

    async def list_slice(
        self,
        keys: Sequence[SortKey],
        *,
        first: int,
        after: str | None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> Slice[M]:
        stmt = self.select().where(*where)
        if after is not None:
            stmt = stmt.where(after_condition(keys, decode_cursor(after, keys)))
        stmt = stmt.order_by(*order_by(keys)).limit(first + 1)
        rows = list((await self.session.execute(stmt)).scalars())
        return make_slice(rows, first, keys)

    async def count(self, where: Sequence[ColumnElement[bool]] = ()) -> int:
        stmt = select(func.count()).select_from(self.model).where(*self._scope(), *where)
        return int((await self.session.execute(stmt)).scalar_one())

    async def slices_by_parent(
        self,
        parent: InstrumentedAttribute[Any],
        parent_ids: Sequence[P],
        keys: Sequence[SortKey],
        *,
        first: int,
        after: str | None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> dict[P, Slice[M]]:
        """The first ``first`` children of each parent, in one statement (a window query).

        This is what keeps nested connections at a constant statement count: one query for
        any number of parents instead of one per parent.
        """
        if not parent_ids:
            return {}
        rank = (
            func.row_number()
            .over(partition_by=parent, order_by=order_by(keys))
            .label("rank_in_parent")
        )
        inner = self.select().add_columns(rank).where(parent.in_(set(parent_ids)), *where)
        if after is not None:
            inner = inner.where(after_condition(keys, decode_cursor(after, keys)))
        sub = inner.subquery()
        row_alias: Any = aliased(self.model, sub)
        stmt = (
            select(row_alias)
            .where(sub.c.rank_in_parent <= first + 1)
            .order_by(sub.c[parent.key], sub.c.rank_in_parent)
        )
        grouped: dict[P, list[M]] = defaultdict(list)
        for row in (await self.session.execute(stmt)).scalars():
            grouped[getattr(row, parent.key)].append(row)
        return {pid: make_slice(grouped.get(pid, []), first, keys) for pid in parent_ids}

    async def counts_by_parent(
        self,
        parent: InstrumentedAttribute[Any],
        parent_ids: Sequence[P],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> dict[P, int]:
        if not parent_ids:
            return {}
        stmt = (
            select(parent, func.count())
            .where(*self._scope(), parent.in_(set(parent_ids)), *where)
            .group_by(parent)
        )
        counts = {row[0]: int(row[1]) for row in (await self.session.execute(stmt)).all()}
        return {pid: counts.get(pid, 0) for pid in parent_ids}
