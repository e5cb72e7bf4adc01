"""The database pool is sized per worker process (DGKB_DATABASE_POOL_SIZE) and never overflows, so
N workers x pool size bounds the connections a deployment opens (issue 12 §3)."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import exc, text

from dgkb.settings import Settings
from dgkb.store.db import Database


def test_pool_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().database_pool_size == 20
    monkeypatch.setenv("DGKB_DATABASE_POOL_SIZE", "6")
    assert Settings().database_pool_size == 6
    monkeypatch.setenv("DGKB_DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings()


async def test_a_pool_opens_at_most_its_size(database_url: str) -> None:
    database = Database(database_url, pool_size=3, pool_timeout=0.05)
    try:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                conn = await stack.enter_async_context(database.engine.connect())
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            # a fourth waits for one of the three (here: gives up after pool_timeout), never a new one
            with pytest.raises(exc.TimeoutError):
                async with database.engine.connect():
                    pass
        async with database.engine.connect() as conn:  # one handed back: available again
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.dispose()
