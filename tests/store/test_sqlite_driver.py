"""The embedded default's SQLite driver (dgkb.store.sqlite_driver): each statement is one call into
the connection's thread, and it still behaves as a DBAPI cursor should — rows, rowcount, many rows
at once, the database's own errors as SQLAlchemy's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from dgkb.store.db import Database

THINGS = Table(
    "things", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20), unique=True)
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(THINGS.metadata.create_all)
    yield db
    await db.dispose()


@pytest.fixture
def handovers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls handed to aiosqlite's connection threads (by function name), counted on their way."""
    seen: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_statement_is_one_call_into_the_thread(database: Database, handovers: list[str]) -> None:
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is opened (and set up) before counting
        handovers.clear()
        await conn.execute(insert(THINGS), [{"name": "a"}, {"name": "b"}, {"name": "c"}])  # executemany
        await conn.execute(insert(THINGS).values(name="d"))
        rows = (await conn.execute(select(THINGS.c.name).order_by(THINGS.c.id))).scalars().all()
        changed = await conn.execute(
            update(THINGS).where(THINGS.c.name.in_(["a", "b"])).values(name=THINGS.c.name + "!")
        )
        statements = list(handovers)
        await conn.commit()
    assert statements == ["_run"] * 4  # four statements, four calls (the stock adapter makes four each)
    assert rows == ["a", "b", "c", "d"]
    assert changed.rowcount == 2


async def test_the_databases_errors_are_sqlalchemys(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(insert(THINGS).values(name="x"))
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(insert(THINGS).values(name="x"))
    with pytest.raises(OperationalError):
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    async with database.reading() as conn:  # the failures left nothing half done
        assert (await conn.execute(select(THINGS.c.name))).scalars().all() == ["x"]


async def test_a_streamed_result_still_works(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(insert(THINGS), [{"name": f"n{i}"} for i in range(50)])
    async with database.engine.connect() as conn:
        result = await conn.stream(select(THINGS.c.name).order_by(THINGS.c.id))
        names = [name async for name in result.scalars()]
    assert names == [f"n{i}" for i in range(50)]
