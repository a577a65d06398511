"""One Alembic chain that builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from domain.database import create_engine
from domain.models import Base
from migrations.runner import upgrade_engine


async def test_migrated_database_matches_the_models(scratch_database_url: str) -> None:
    engine = create_engine(scratch_database_url)
    try:
        await upgrade_engine(engine)
        # Idempotent: a second run at head changes nothing.
        await upgrade_engine(engine)

        def diff(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        def tables(connection: Connection) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
            names = await conn.run_sync(tables)
    finally:
        await engine.dispose()
    assert differences == []
    assert set(Base.metadata.tables) <= names
    assert "alembic_version" in names
