"""Drill (docs/beheer.md, "Backups"): a PostgreSQL backup of DGKB restored into a fresh database passes
`dgkb audit verify`, and the privacy officer finds the same accesses in it.

The log is written the way production writes it: views over HTTP by the app, and a view by the CLI
(another process, so another hash chain); the backup is taken with `pg_dump` while views are still
being written (pg_dump reads one snapshot, so the chain heads and the records it saves agree);
`pg_restore` puts it into an empty database, and the real `dgkb` command checks it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.store.db import Database
from tests.api.conftest import GEMEENTE, open_contact, running_stack
from tests.audit.support import disable_append_only
from tests.configs import config_for
from tests.conftest import PG_URL, empty_postgres_database, fresh_database_url

DGKB = [sys.executable, "-m", "dgkb.cli"]
BSN = "999993653"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
TOOLS = ("pg_dump", "pg_restore")

pytestmark = [
    pytest.mark.slow,  # subprocesses: pg_dump, pg_restore, dgkb
    pytest.mark.skipif(not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set (PostgreSQL)"),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in TOOLS), reason="pg_dump/pg_restore are not installed"
    ),
]


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and psql take it (no `+asyncpg`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def dgkb(database_url: str, *args: str, config: Path | None = None) -> tuple[int, str]:
    env = {**os.environ, "DGKB_DATABASE_URL": database_url, "COLUMNS": "200"}
    if config is not None:
        env["DGKB_CONFIG_DIR"] = str(config)
    return await run(*DGKB, *args, env=env)


async def count(database_url: str, table: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
    finally:
        await engine.dispose()


def verified(output: str) -> tuple[int, int, int]:
    """(records, chains, heads) from `dgkb audit verify`'s line."""
    found = re.search(r"(\d+) records in (\d+) ketens, (\d+) ketenkoppen", " ".join(output.split()))
    assert found, output
    records, chains, heads = (int(g) for g in found.groups())
    return records, chains, heads


async def test_backup_taken_while_writing_restores_into_a_fresh_database_that_verifies(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    source = await fresh_database_url("postgresql", tmp_path)
    dump = tmp_path / "dgkb.dump"
    async with running_stack(source, simulators) as stack, await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, bsn=BSN)
        traces = []
        for _ in range(3):
            view = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert view.status_code == 200, view.text
            traces.append(view.json()["traceId"])

        # another process writes to chains of its own
        code, out = await dgkb(
            source,
            "klantbeeld",
            "--doel",
            ALGEMEEN,
            "--bsn",
            BSN,
            "--rol",
            "kcm",
            "--zekerheid",
            "controlevragen",
            config=config_for(simulators, tmp_path / "config"),
        )
        assert code == 0, out

        # the backup runs while agents keep reading (a hot backup, as in production)
        stop = asyncio.Event()

        async def keep_reading() -> int:
            reads = 0
            while not stop.is_set():
                resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
                assert resp.status_code == 200, resp.text
                reads += 1
            return reads

        reader = asyncio.create_task(keep_reading())
        await asyncio.sleep(0.2)
        code, out = await run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", libpq_url(source))
        stop.set()
        assert code == 0, out
        assert await reader > 0

    assert dump.stat().st_size > 0

    name = f"{make_url(PG_URL).database}_restore"
    async with empty_postgres_database(name) as restored:
        code, out = await run(
            "pg_restore", "--exit-on-error", "--no-owner", f"--dbname={libpq_url(restored)}", str(dump)
        )
        assert code == 0, out

        code, out = await dgkb(restored, "audit", "verify")
        assert code == 0, out
        assert "Toegangslog intact" in out
        records, chains, heads = verified(out)
        assert records == sum(
            [await count(restored, t) for t in ("ldv_records", "decision_records", "access_records")]
        )
        assert chains >= 2 * 3, "the app's and the CLI's chains (LDV, decision, access records each)"
        assert heads == chains
        # the backup holds what was written before it started, and more: the reads during the dump
        assert await count(restored, "access_records") >= 4

        # the privacy officer finds the accesses in the restored log (same pseudonym keys)
        code, out = await dgkb(restored, "audit", "search", "--bsn", BSN, "--json")
        assert code == 0, out
        for trace in traces:
            assert f'"trace_id": "{trace}"' in out, trace
        assert '"actor_id": "cli:' in out

        # the restored log is still append-only
        engine = create_async_engine(restored)
        try:
            with pytest.raises(DBAPIError):
                async with engine.begin() as conn:
                    await conn.execute(text("UPDATE access_records SET actor_id = 'iemand-anders'"))
        finally:
            await engine.dispose()

        # and verify would notice a restore that lost the newest record of a chain
        database = Database(restored)
        try:
            await disable_append_only(database, "access_records")
            async with database.engine.begin() as conn:
                await conn.execute(
                    text("DELETE FROM access_records WHERE id = (SELECT max(id) FROM access_records)")
                )
        finally:
            await database.dispose()
        code, out = await dgkb(restored, "audit", "verify")
        assert code == 1
        assert "NIET intact" in out
