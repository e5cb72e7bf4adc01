"""The PostgreSQL connection pool is sized per worker process (DGKB_DATABASE_POOL_SIZE and
…_MAX_OVERFLOW), so workers x (pool + overflow) bounds the connections a deployment opens (issue 12 §3).
The audit writer's group commit needs only one or two of them."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import exc, text

from dgkb.app import database_pool
from dgkb.settings import Settings
from dgkb.store import db as db_module
from dgkb.store.db import Database

PG = "postgresql+asyncpg://dgkb@db/dgkb"


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert database_pool(Settings(database_url=PG)) == {"pool_size": 10, "max_overflow": 10}
    monkeypatch.setenv("DGKB_DATABASE_POOL_SIZE", "6")
    monkeypatch.setenv("DGKB_DATABASE_MAX_OVERFLOW", "0")
    assert database_pool(Settings(database_url=PG)) == {"pool_size": 6, "max_overflow": 0}
    assert database_pool(Settings(database_url="sqlite+aiosqlite:///x.sqlite3")) == {}  # its own fixed pool
    monkeypatch.setenv("DGKB_DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings()


async def test_a_pool_opens_at_most_its_size_plus_overflow(database_url: str) -> None:
    database = Database(database_url, pool_size=2, max_overflow=1, pool_timeout=0.05)
    try:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                conn = await stack.enter_async_context(database.engine.connect())
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            # a fourth waits for one of the three (here: gives up after pool_timeout), never opens one
            with pytest.raises(exc.TimeoutError):
                async with database.engine.connect():
                    pass
        async with database.engine.connect() as conn:  # handed back: available again
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.dispose()


async def _terminate_pooled(database: Database) -> int:
    """Kill every other session of this database, as a PostgreSQL restart or a firewall's idle
    timeout would: the pool still holds their connections. Returns the pid of the one that lives."""
    async with database.engine.connect() as conn:
        own = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await conn.commit()
    return int(own)


async def _pooled_pids(database: Database, n: int) -> set[int]:
    async with contextlib.AsyncExitStack() as stack:
        conns = [await stack.enter_async_context(database.engine.connect()) for _ in range(n)]
        return {(await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in conns}


async def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping per checkout (a round trip before every unit of work), but a connection that sat
    idle is checked first: one that died meanwhile never reaches a request."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.2)
    database = Database(postgres_url, pool_size=2, max_overflow=0)
    try:
        before = await _pooled_pids(database, 2)
        survivor = await _terminate_pooled(database)  # uses one of the two, kills the other
        (killed,) = before - {survivor}
        await asyncio.sleep(0.3)
        after = await _pooled_pids(database, 2)  # both idle past the threshold: pinged
        assert killed not in after, "a dead connection was handed out"
        assert survivor in after, "a live connection is kept"
    finally:
        await database.dispose()


async def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the threshold no ping is sent (the point); a connection that died in that window fails
    its statement as a disconnect, and SQLAlchemy drops the whole pool, so the next one works."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    database = Database(postgres_url, pool_size=1, max_overflow=0)
    try:
        (pid,) = await _pooled_pids(database, 1)
        admin = Database(postgres_url, pool_size=1, max_overflow=0)
        async with admin.engine.connect() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            await conn.commit()
        await admin.dispose()
        with pytest.raises(exc.DBAPIError) as failed:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
        (fresh,) = await _pooled_pids(database, 1)
        assert fresh != pid
    finally:
        await database.dispose()
