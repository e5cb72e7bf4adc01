"""Searching the logs: by subject, actor, purpose and time, paginated, across key rotation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dgkb.audit import AuditWriter, InvalidCursor, search_access, search_ldv
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database

from .support import BSN, KEYRING, OTHER_BSN, OTHER_PURPOSE, PURPOSE, T0, MakeContext, record


@pytest.fixture
async def populated(writer: AuditWriter, make_context: MakeContext) -> None:
    """25 views of BSN by two agents (alternating), 5 of another person, 3 for another purpose."""
    for i in range(25):
        actor = "agent-a" if i % 2 == 0 else "agent-b"
        await record(writer, make_context(actor_id=actor), at=T0 + timedelta(minutes=i))
    for i in range(5):
        await record(writer, make_context(bsn=OTHER_BSN), at=T0 + timedelta(minutes=i, seconds=30))
    for i in range(3):
        await record(writer, make_context(purpose=OTHER_PURPOSE), at=T0 + timedelta(hours=2, minutes=i))


@pytest.mark.usefixtures("populated")
async def test_search_by_subject_pages_newest_first(database: Database, pseudonymizer: Pseudonymizer) -> None:
    subject = Subject.person(BSN)
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await search_access(database, pseudonymizer, subject=subject, limit=10, cursor=cursor)
        pages += 1
        seen.extend(e.id for e in page.items)
        times = [e.occurred_at for e in page.items]
        assert times == sorted(times, reverse=True)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(seen) == len(set(seen)) == 28  # 25 + 3 for the other purpose
    first = (await search_access(database, pseudonymizer, subject=subject, limit=1)).items[0]
    assert first.processing_activity_id == OTHER_PURPOSE
    assert first.decision is not None
    assert first.decision.response["decisions"]["zorg"]["decision"] is False
    assert first.decision.consent_status == {"zorg": "none"}
    assert first.categories_delivered == ("naw",)
    assert first.categories_denied == ("zorg",)


@pytest.mark.usefixtures("populated")
async def test_search_by_actor_purpose_and_time(database: Database, pseudonymizer: Pseudonymizer) -> None:
    by_actor = await search_access(database, pseudonymizer, actor_id="agent-b", limit=100)
    assert len(by_actor.items) == 12
    assert {e.actor_id for e in by_actor.items} == {"agent-b"}
    assert by_actor.next_cursor is None

    by_purpose = await search_access(database, pseudonymizer, processing_activity_id=OTHER_PURPOSE)
    assert len(by_purpose.items) == 3

    window = await search_access(
        database,
        pseudonymizer,
        subject=Subject.person(BSN),
        since=T0 + timedelta(minutes=10),
        until=T0 + timedelta(minutes=20),
    )
    # occurred_at is the end of the view (start + 120 ms): minutes 10..19 fall in [10:00, 20:00)
    assert len(window.items) == 10

    combined = await search_access(
        database, pseudonymizer, actor_id="agent-a", processing_activity_id=PURPOSE, limit=5
    )
    assert len(combined.items) == 5
    assert combined.next_cursor is not None
    rest = await search_access(
        database,
        pseudonymizer,
        actor_id="agent-a",
        processing_activity_id=PURPOSE,
        limit=50,
        cursor=combined.next_cursor,
    )
    # agent-a did views 0, 2, ..., 24 of BSN for PURPOSE
    assert len(combined.items) + len(rest.items) == 13
    assert not {e.id for e in combined.items} & {e.id for e in rest.items}


@pytest.mark.usefixtures("populated")
async def test_citizen_view_shows_processings_without_employee(
    database: Database, pseudonymizer: Pseudonymizer
) -> None:
    page = await search_ldv(database, pseudonymizer, subject=Subject.person(OTHER_BSN))
    assert len(page.items) == 5
    entry = page.items[0]
    assert entry.name == "klantbeeld raadplegen"
    assert entry.categories == ("naw",)
    assert entry.processing_activity_id == PURPOSE
    assert not hasattr(entry, "actor_id")

    first = await search_ldv(database, pseudonymizer, subject=Subject.person(BSN), limit=20)
    assert first.next_cursor is not None
    second = await search_ldv(database, pseudonymizer, subject=Subject.person(BSN), cursor=first.next_cursor)
    assert len(first.items) + len(second.items) == 28
    assert second.next_cursor is None


async def test_records_under_a_rotated_key_are_still_found(
    database: Database, make_context: MakeContext
) -> None:
    old_ring = [KEYRING[1]]  # k1 only, before the rotation
    old_writer = AuditWriter(database, Pseudonymizer(old_ring))
    await record(old_writer, make_context(), at=T0)
    new_writer = AuditWriter(database, Pseudonymizer(KEYRING))  # k2 current, k1 still in the ring
    await record(new_writer, make_context(), at=T0 + timedelta(hours=1))

    after_rotation = Pseudonymizer(KEYRING)
    page = await search_access(database, after_rotation, subject=Subject.person(BSN))
    assert [e.key_id for e in page.items] == ["k2", "k1"]
    ldv = await search_ldv(database, after_rotation, subject=Subject.person(BSN))
    assert len(ldv.items) == 2

    only_new_key = Pseudonymizer([KEYRING[0]])
    assert len((await search_access(database, only_new_key, subject=Subject.person(BSN))).items) == 1


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJ4IiwgMV0"])
async def test_a_bad_cursor_is_a_clear_error(
    database: Database, pseudonymizer: Pseudonymizer, cursor: str
) -> None:
    with pytest.raises(InvalidCursor) as caught:
        await search_access(database, pseudonymizer, cursor=cursor)
    assert caught.value.code == "audit.cursor_invalid"
    assert caught.value.field == "cursor"


@pytest.mark.usefixtures("populated")
async def test_entries_export_as_json(database: Database, pseudonymizer: Pseudonymizer) -> None:
    access = (await search_access(database, pseudonymizer, limit=1)).items[0].as_dict()
    assert json.loads(json.dumps(access)) == access
    assert access["occurred_at"].startswith("2025-03-01T11:02:00.120000")
    assert access["decision"]["request"]["context"]["purpose"] == OTHER_PURPOSE
    ldv = (await search_ldv(database, pseudonymizer, subject=Subject.person(BSN), limit=1)).items[0].as_dict()
    assert ldv["retention_until"] == "2026-03-01"
    assert "actor_id" not in ldv
