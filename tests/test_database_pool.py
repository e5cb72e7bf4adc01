"""The PostgreSQL connection pool is sized per worker process (DGKB_DATABASE_POOL_SIZE and
…_MAX_OVERFLOW), so workers x (pool + overflow) bounds the connections a deployment opens (issue 12 §3).
The audit writer's group commit needs only one or two of them."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import exc, text

from dgkb.app import database_pool
from dgkb.settings import Settings
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
