"""Migrations as a rollout runs them: several pods of a new version start at once, and every one of
them migrates before serving (`dgkb run`), so concurrent upgrades of one database must all succeed."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.store.migrate import alembic_config
from tests.conftest import PG_URL, empty_postgres_database

pytestmark = pytest.mark.skipif(not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set (PostgreSQL)")


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """An empty PostgreSQL database (not the migrated template the other tests copy)."""
    async with empty_postgres_database(f"{make_url(PG_URL).database}_migrate_race") as url:
        yield url


async def _migrate(database_url: str) -> tuple[int, str]:
    """`dgkb migrate` in a process of its own, as each pod (or the migration Job) runs it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dgkb.cli",
        "migrate",
        env={**os.environ, "DGKB_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.mark.slow  # three Python processes
async def test_pods_starting_together_all_migrate_an_empty_database(empty_database: str) -> None:
    results = await asyncio.gather(*(_migrate(empty_database) for _ in range(3)))
    failures = [out for code, out in results if code != 0]
    assert not failures, failures[0]
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    engine = create_async_engine(empty_database)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    finally:
        await engine.dispose()
    assert versions == [head]
