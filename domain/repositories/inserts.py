"""Insert-or-ignore on a unique key, on both supported databases: the database, not a
read-then-insert race, decides which of two concurrent writers creates the row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def insert_or_ignore(
    session: AsyncSession, model: Any, values: dict[str, Any], conflict: Sequence[str]
) -> bool:
    """Insert ``values`` unless a row with the same ``conflict`` columns exists; True when
    this call created it."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = _insert(dialect)(model).values(**values)
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=list(conflict)))
    return bool(getattr(result, "rowcount", 0))


async def insert_many_or_ignore(
    connection: AsyncConnection,
    model: Any,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: InstrumentedAttribute[Any],
) -> set[Any]:
    """Insert every row whose ``conflict`` columns are new, as one statement; the
    ``returning`` column of the rows it created. A Core statement on a connection: the
    ORM's per-statement bookkeeping cost more than the insert itself on the webhook path."""
    if not rows:
        return set()
    stmt = _insert(connection.dialect.name)(model.__table__)
    stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    result = await connection.execute(stmt.returning(returning), list(rows))
    return set(result.scalars())
