"""Shared fixtures: databases (SQLite always, PostgreSQL when DGKB_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.store.db import Database
from dgkb.store.migrate import upgrade_async

PG_URL = os.environ.get("DGKB_TEST_DATABASE_URL", "")
SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"

DB_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty, migrated database of the given backend."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'dgkb-test.sqlite3'}"
    else:
        url = PG_URL
        await _reset_postgres(url)
    await upgrade_async(url)
    return url


@pytest.fixture(params=DB_BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrised over every available backend: the test runs once on SQLite, once on PostgreSQL."""
    return await fresh_database_url(request.param, tmp_path)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"../shared/reference not found at {SHARED_REFERENCE}; conformance tests need it")
    return SHARED_REFERENCE
