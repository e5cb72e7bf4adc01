"""Migration 0005: the insert-only anchors of the old design become one forward-only head per chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dgkb.audit import AuditWriter, Outcome, verify
from dgkb.audit.chain import Chain
from dgkb.audit.records import access_content
from dgkb.audit.writer import ACCESS, HEADS
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database
from dgkb.store.migrate import upgrade_async
from tests.conftest import DB_BACKENDS, _reset_postgres, fresh_database_url

from .support import T0, MakeContext, dba, disable_append_only, record

BEFORE = "0004_web_sessions"  # the revision before 0005_audit_heads


@pytest.fixture(params=DB_BACKENDS)
async def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database at the revision before 0005: anchors are insert-only, written every 60 s."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = await fresh_database_url("postgresql", tmp_path)  # a database of this test's own,
        await _reset_postgres(url)  # emptied
    await upgrade_async(url, BEFORE)
    db = Database(url)
    yield db
    await db.dispose()


def linked(
    chain: Chain, count: int, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> list[dict[str, Any]]:
    context = make_context()
    append = chain.append()
    rows = [
        append.link(
            "access_records",
            access_content(
                context=context,
                pseudonym=pseudonymizer.pseudonym(context.subject),
                span_id=f"{i:016x}",
                occurred_at=T0 + timedelta(seconds=i),
                outcome=Outcome("delivered"),
                categories_requested=["naw"],
                categories_delivered=["naw"],
                categories_denied=[],
            ),
        )
        for i in range(count)
    ]
    append.commit()
    return rows


def anchor(chain: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "table_name": "access_records",
        "chain_id": chain,
        "seq": row["seq"],
        "hash": row["hash"],
        "anchored_at": T0,
    }


async def test_upgrade_keeps_one_head_per_chain_at_its_last_row_and_a_prior_truncation_shows(
    old_database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    a = linked(Chain("a"), 3, pseudonymizer, make_context)  # anchored at 1 and 2; seq 3 written after
    b = linked(Chain("b"), 2, pseudonymizer, make_context)  # anchored at 1 and twice at 2
    c = linked(Chain("c"), 2, pseudonymizer, make_context)  # anchored at 2; seq 2 deleted before 0005
    async with old_database.engine.begin() as conn:
        await conn.execute(ACCESS.insert(), [*a, *b, c[0]])
        anchors = [("a", a[0]), ("a", a[1]), ("b", b[0]), ("b", b[1]), ("b", b[1]), ("c", c[0]), ("c", c[1])]
        await conn.execute(HEADS.insert(), [anchor(chain, row) for chain, row in anchors])

    await upgrade_async(old_database.url)

    async with old_database.engine.connect() as conn:
        query = text("SELECT chain_id, seq, hash FROM audit_chain_heads ORDER BY chain_id")
        heads = [tuple(r) for r in (await conn.execute(query)).all()]
    assert heads == [("a", 3, a[2]["hash"]), ("b", 2, b[1]["hash"]), ("c", 2, c[1]["hash"])]
    report = await verify(old_database)
    broken = report.first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        "c",
        2,
        "truncated",
    )
    assert report.heads == 2  # a and b end at their heads


async def test_upgraded_log_is_intact_then_catches_truncation(
    old_database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    a = linked(Chain("a"), 3, pseudonymizer, make_context)
    async with old_database.engine.begin() as conn:
        await conn.execute(ACCESS.insert(), a)
        await conn.execute(HEADS.insert(), [anchor("a", a[0])])  # only its birth was anchored

    await upgrade_async(old_database.url)
    writer = AuditWriter(old_database, pseudonymizer)
    await record(writer, make_context())  # the new writer on the upgraded schema
    report = await verify(old_database)
    assert report.ok, report.first_break
    assert report.records == 6

    await disable_append_only(old_database, "access_records")
    await dba(old_database, "DELETE FROM access_records WHERE chain_id = 'a' AND seq = 3")
    broken = (await verify(old_database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        "a",
        3,
        "truncated",
    )
