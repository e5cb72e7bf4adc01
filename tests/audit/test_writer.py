"""The audit writer: three linked rows per view, no employee in LDV, append-only, fail closed."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from dgkb.audit import AuditUnavailable, AuditWriter, retention_until, verify
from dgkb.audit.records import decision_content
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.policy.decision import CategoryDecision, Decision
from dgkb.store.db import Database

from .support import BSN, KEYRING, OIN, PURPOSE, T0, MakeContext, dba, make_decision, record, scalar

TABLES = ("ldv_records", "decision_records", "access_records")


async def rows(database: Database, table: str) -> list[dict[str, object]]:
    async with database.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        return [dict(r) for r in result.mappings()]


async def test_klantbeeld_writes_three_linked_rows(
    database: Database, writer: AuditWriter, make_context: MakeContext, pseudonymizer: Pseudonymizer
) -> None:
    context = make_context()
    await record(writer, context)

    [ldv] = await rows(database, "ldv_records")
    [decision] = await rows(database, "decision_records")
    [access] = await rows(database, "access_records")
    pseudonym = pseudonymizer.pseudonym(context.subject)
    for row in (ldv, decision, access):
        assert row["trace_id"] == context.trace.trace_id
        assert row["span_id"] == ldv["span_id"]
        assert row["data_subject_id"] == pseudonym.value
        assert row["key_id"] == pseudonym.key_id == "k2"
        assert row["seq"] == 1
        assert row["prev_hash"] == "0" * 64
    assert ldv["parent_span_id"] == context.trace.span_id
    assert ldv["span_id"] != context.trace.span_id
    assert ldv["name"] == "klantbeeld raadplegen"
    assert ldv["status_code"] == "OK"
    assert ldv["processing_activity_id"] == PURPOSE
    assert ldv["data_subject_id_type"] == "bsn"
    assert json.loads(str(ldv["categories"])) == ["naw"]
    assert str(ldv["retention_until"]) == "2026-03-01"

    request = json.loads(str(decision["request"]))
    assert request["subject"]["properties"] == {"role": "kcm", "organisation": OIN}
    assert request["resource"]["properties"]["categories"] == ["naw", "zorg"]
    assert request["context"]["purpose"] == PURPOSE
    assert request["context"]["assurance"] == "digid-midden"
    response = json.loads(str(decision["response"]))["decisions"]
    assert response["naw"]["decision"] is True
    assert response["naw"]["fields"] == ["naam", "adres"]
    assert response["zorg"] == {
        "decision": False,
        "reasons": ["CONSENT_REQUIRED"],
        "fields": [],
        "policyIds": ["forbid-without-consent"],
    }
    assert json.loads(str(decision["consent_status"])) == {"zorg": "none"}

    assert access["actor_id"] == "medewerker-42"
    assert access["actor_role"] == "kcm"
    assert access["organisation"] == OIN
    assert access["organisation_unit"] == "KCC"
    assert access["channel"] == "telefoon"
    assert access["contact_id"] == "contact-1"
    assert json.loads(str(access["categories_requested"])) == ["naw", "zorg"]
    assert json.loads(str(access["categories_delivered"])) == ["naw"]
    assert json.loads(str(access["categories_denied"])) == ["zorg"]
    assert access["outcome"] == "delivered"
    assert (await verify(database)).ok


async def test_ldv_record_carries_no_employee_identity(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await record(writer, make_context(actor_id="medewerker-zeer-herkenbaar"))
    [ldv] = await rows(database, "ldv_records")
    [decision] = await rows(database, "decision_records")
    for row in (ldv, decision):
        flat = json.dumps(row, default=str)
        assert "medewerker-zeer-herkenbaar" not in flat
        assert "KCC" not in flat
        assert "contact-1" not in flat
        assert not {"actor_id", "actor_role", "organisation_unit", "contact_id"} & row.keys()


async def test_subject_id_is_keyed_pseudonym_not_bsn_or_bare_hash(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await record(writer, make_context())
    bare = {hashlib.sha256(v.encode()).hexdigest() for v in (BSN, f"bsn:{BSN}")}
    for table in TABLES:
        [row] = await rows(database, table)
        flat = json.dumps(row, default=str)
        assert BSN not in flat
        assert row["data_subject_id"] not in bare
        assert len(str(row["data_subject_id"])) == 64


async def test_record_processing_without_decision(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    context = make_context()
    await writer.record_processing(
        context=context,
        name="klant identificeren",
        retention="P6M",
        started_at=T0,
        ended_at=T0 + timedelta(seconds=1),
        outcome="error",
    )
    [ldv] = await rows(database, "ldv_records")
    assert ldv["status_code"] == "ERROR"
    assert str(ldv["retention_until"]) == "2025-09-01"
    assert await rows(database, "decision_records") == []
    [access] = await rows(database, "access_records")
    assert access["outcome"] == "error"
    assert (await verify(database)).ok


async def test_record_processing_with_processed_categories(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await writer.record_processing(
        context=make_context(),
        name="klant identificeren",
        retention="P1Y",
        categories=["klant.basis"],
        started_at=T0,
        ended_at=T0,
    )
    [ldv] = await rows(database, "ldv_records")
    assert json.loads(str(ldv["categories"])) == ["klant.basis"]
    [access] = await rows(database, "access_records")
    assert json.loads(str(access["categories_requested"])) == ["klant.basis"]
    assert json.loads(str(access["categories_delivered"])) == ["klant.basis"]
    assert json.loads(str(access["categories_denied"])) == []


async def test_naive_times_are_refused(writer: AuditWriter, make_context: MakeContext) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await writer.record_processing(
            context=make_context(),
            name="klant identificeren",
            retention="P6M",
            started_at=T0.replace(tzinfo=None),
            ended_at=T0,
        )


@pytest.mark.parametrize("table", [*TABLES, "audit_chain_heads"])
async def test_update_and_delete_are_rejected(
    database: Database, writer: AuditWriter, make_context: MakeContext, table: str
) -> None:
    await record(writer, make_context())
    for statement in (f"UPDATE {table} SET chain_id = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            await dba(database, statement)
    if not database.is_sqlite:
        with pytest.raises(DBAPIError, match="append-only"):
            await dba(database, f"TRUNCATE {table}")
    assert await scalar(database, f"SELECT count(*) FROM {table}") == (
        3 if table == "audit_chain_heads" else 1
    )


async def test_fails_closed_and_keeps_chain_head_when_a_table_is_gone(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    writer = AuditWriter(database, pseudonymizer, chains=1)
    await record(writer, make_context())
    [chain] = writer.pool.chains
    heads = dict(chain.heads)

    # access_records is written last: LDV and decision inserts succeed, then the transaction fails.
    await dba(database, "ALTER TABLE access_records RENAME TO access_records_away")
    with pytest.raises(AuditUnavailable) as caught:
        await record(writer, make_context(), at=T0 + timedelta(minutes=1))
    assert caught.value.code == "audit.unavailable"
    assert writer.pool.chains == (chain,)
    assert chain.heads == heads
    assert await scalar(database, "SELECT count(*) FROM ldv_records") == 1
    assert await scalar(database, "SELECT count(*) FROM decision_records") == 1

    # Back in business: the next write continues the same chain without a gap.
    await dba(database, "ALTER TABLE access_records_away RENAME TO access_records")
    await record(writer, make_context(), at=T0 + timedelta(minutes=2))
    assert chain.head("ldv_records").seq == 2
    report = await verify(database)
    assert report.ok, report.first_break
    assert report.records == 6


async def test_fails_closed_when_the_database_is_unreachable(
    pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere")
    writer = AuditWriter(broken, pseudonymizer)
    with pytest.raises(AuditUnavailable):
        await record(writer, make_context())
    assert all(not c.heads for c in writer.pool.chains)
    await broken.dispose()


async def test_each_write_moves_the_heads_of_its_chain_in_the_same_transaction(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await record(writer, make_context())
    heads = await rows(database, "audit_chain_heads")
    assert len(heads) == 3  # one chain used, three tables
    for head in heads:
        [row] = await rows(database, str(head["table_name"]))
        assert (head["chain_id"], head["seq"], head["hash"]) == (row["chain_id"], 1, row["hash"])
    first = writer.pool.chains[0].chain_id
    for _ in range(4):  # FIFO: the fifth view lands on the first chain again
        await record(writer, make_context())
    heads = await rows(database, "audit_chain_heads")
    assert len(heads) == 12  # one row per (table, chain), moved in place: not one per write
    moved = {h["table_name"]: h for h in heads if h["chain_id"] == first}
    for table in TABLES:
        assert moved[table]["seq"] == 2
        assert moved[table]["hash"] == await scalar(
            database, f"SELECT hash FROM {table} WHERE chain_id = '{first}' AND seq = 2"
        )
    report = await verify(database)
    assert report.ok
    assert report.heads == 12  # four chains x three tables


async def test_a_chain_head_only_moves_forward(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    for _ in range(5):  # the first chain reaches seq 2
        await record(writer, make_context())
    chain = writer.pool.chains[0].chain_id
    where = f"WHERE table_name = 'access_records' AND chain_id = '{chain}'"
    for change in (
        "seq = seq - 1",
        "seq = seq",
        "hash = 'x'",
        "chain_id = 'x', seq = seq + 1",
        "id = id + 100",
    ):
        with pytest.raises(DBAPIError, match="only moves forward"):
            await dba(database, f"UPDATE audit_chain_heads SET {change} {where}")
    with pytest.raises(DBAPIError, match="append-only"):
        await dba(database, f"DELETE FROM audit_chain_heads {where}")
    assert await scalar(database, f"SELECT seq FROM audit_chain_heads {where}") == 2
    # a second head for the same (table, chain) is refused too
    with pytest.raises(IntegrityError):
        await dba(
            database,
            "INSERT INTO audit_chain_heads (table_name, chain_id, seq, hash, anchored_at) "
            f"VALUES ('access_records', '{chain}', 1, 'x', CURRENT_TIMESTAMP)",
        )


def test_retention_date_is_calendar_aware() -> None:
    assert retention_until(date(2024, 1, 31), "P1M") == date(2024, 2, 29)
    assert retention_until(date(2024, 2, 29), "P1Y") == date(2025, 2, 28)
    assert retention_until(date(2024, 1, 1), "P7Y") == date(2031, 1, 1)
    assert retention_until(date(2024, 1, 1), "P30D") == date(2024, 1, 31)
    assert retention_until(date(2024, 1, 1), "P2W") == date(2024, 1, 15)
    assert retention_until(date(2024, 11, 15), "P1Y6M") == date(2026, 5, 15)
    assert retention_until(T0, "PT36H") == date(2025, 3, 2)
    with pytest.raises(ValueError, match="ISO 8601"):
        retention_until(date(2024, 1, 1), "1 jaar")


def test_a_decision_answer_is_encoded_per_decision_object(make_context: MakeContext) -> None:
    """The answer's text is kept per decision object (the policy engine hands out the same one for the
    same question): another decision, even one made after the first is gone, gets its own answer."""
    context = make_context()

    def answer(decision: Decision) -> object:
        pseudonym = Pseudonymizer(KEYRING).pseudonym(context.subject)
        content = decision_content(
            context=context,
            pseudonym=pseudonym,
            span_id="0" * 16,
            decision=decision,
            action="klantbeeld raadplegen",
            occurred_at=T0,
            categories_requested=["naw"],
            consented_categories=(),
            consent_status=None,
        )
        return json.loads(str(content["response"]))["decisions"]

    first = make_decision()
    assert answer(first)["naw"]["decision"] is True
    assert answer(first) == answer(first)
    del first
    for permitted in (False, True, False):
        other = Decision(PURPOSE, "2", (CategoryDecision("naw", permitted),))
        assert answer(other)["naw"]["decision"] is permitted
        assert "zorg" not in answer(other)
