"""Alembic environment: async engines for both SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from dgkb.store import audit_tables, corrections, meten, tables  # noqa: F401  (register every table on Base.metadata)
from dgkb.store.db import Base, create_engine

target_metadata = Base.metadata

# Several processes migrate the same database at once when pods of a new version start together
# (`dgkb run` migrates before serving): on PostgreSQL the first takes this transaction-level advisory
# lock and the others wait for its commit, then find the schema at head and do nothing. Without it
# they race to create the same tables and all but one fail (tests/store/test_migrate.py).
MIGRATION_LOCK = 0x64676B62  # "dgkb"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


asyncio.run(_main())
