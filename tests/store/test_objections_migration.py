"""Migration 0016: duplicate open objections that a race made before it keep one open row each (the
one in force, else the oldest); the others become `dubbel`, and from then on the database refuses a
second open row for the same subject × purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from dgkb.store.db import Database
from dgkb.store.migrate import upgrade_async
from dgkb.store.tables import ObjectionRow
from tests.conftest import DB_BACKENDS, _reset_postgres, fresh_database_url

BEFORE = "0015_correction_dialogue"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/kcc-algemene-vraag"


@pytest.fixture(params=DB_BACKENDS)
async def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = await fresh_database_url("postgresql", tmp_path)
        await _reset_postgres(url)
    await upgrade_async(url, BEFORE)
    db = Database(url)
    yield db
    await db.dispose()


def _row(id_: str, subject: str, status: str, minutes: int, purpose: str = PURPOSE) -> dict[str, object]:
    return {
        "id": id_,
        "subject_key": subject,
        "key_id": "k1",
        "subject_kind": "bsn",
        "organisation": "00000001001234567000",
        "processing_activity_id": purpose,
        "proactive": False,
        "status": status,
        "channel": "mijn-omgeving",
        "created_at": T0 + timedelta(minutes=minutes),
    }


async def test_duplicates_become_dubbel_and_a_new_duplicate_is_refused(old_database: Database) -> None:
    rows = [
        _row("a1", "s-a", "in-behandeling", 0),  # the oldest of three pending: kept
        _row("a2", "s-a", "in-behandeling", 0),
        _row("a3", "s-a", "in-behandeling", 1),
        _row("b1", "s-b", "in-behandeling", 0),  # pending, but a later one was upheld: that one kept
        _row("b2", "s-b", "toegewezen", 5),
        _row("c1", "s-c", "afgewezen", 0),  # a rejected objection does not count
        _row("c2", "s-c", "in-behandeling", 1),
        _row("d1", "s-a", "in-behandeling", 0, purpose=PURPOSE + "-2"),  # another purpose
    ]
    async with old_database.transaction() as session:
        await session.execute(insert(ObjectionRow.__table__), rows)  # type: ignore[arg-type]
    await upgrade_async(old_database.url)
    async with old_database.read() as session:
        found = await session.execute(select(ObjectionRow.id, ObjectionRow.status))
        status = {id_: s for id_, s in found}
    assert status == {
        "a1": "in-behandeling",
        "a2": "dubbel",
        "a3": "dubbel",
        "b1": "dubbel",
        "b2": "toegewezen",
        "c1": "afgewezen",
        "c2": "in-behandeling",
        "d1": "in-behandeling",
    }
    with pytest.raises(IntegrityError):
        async with old_database.transaction() as session:
            await session.execute(insert(ObjectionRow.__table__), [_row("a4", "s-a", "van-kracht", 9)])  # type: ignore[arg-type]
    async with old_database.transaction() as session:  # a closed status is no duplicate
        await session.execute(insert(ObjectionRow.__table__), [_row("a5", "s-a", "afgewezen", 9)])  # type: ignore[arg-type]
