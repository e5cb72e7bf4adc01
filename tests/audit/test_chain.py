"""Hash chains: parallel appends on several chains, and verify catching every kind of tampering:
changed, deleted (first, middle, newest, whole chain) and added rows, and tampered chain heads."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from dgkb.audit import AuditWriter, verify
from dgkb.audit.chain import (
    CHAIN_COLUMNS,
    GENESIS,
    ChainPool,
    _canonical_value,
    canonical_fields,
    linked_hash,
    record_hash,
)
from dgkb.audit.writer import ACCESS
from dgkb.store.db import Database

from .support import T0, MakeContext, dba, disable_append_only, make_decision, record, scalar

TABLES = ("ldv_records", "decision_records", "access_records")


async def write_views(writer: AuditWriter, make_context: MakeContext, count: int) -> None:
    for i in range(count):
        await record(writer, make_context(), at=T0 + timedelta(seconds=i))


async def first_chain(database: Database, table: str) -> str:
    return str(await scalar(database, f"SELECT min(chain_id) FROM {table}"))


async def test_verify_passes_on_concurrent_writes_spread_over_chains(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    async def task() -> None:
        for i in range(10):
            await record(writer, make_context(), at=T0 + timedelta(seconds=i))

    await asyncio.gather(*(task() for _ in range(50)))

    report = await verify(database, batch_size=64)  # small batches: crosses many batch borders
    assert report.ok, report.first_break
    assert report.records == 1500  # 500 views x (LDV + decision + access)
    chains = await scalar(database, "SELECT count(DISTINCT chain_id) FROM ldv_records")
    assert isinstance(chains, int)
    assert chains > 1
    assert report.chains == 3 * chains
    assert report.heads == 3 * chains


async def test_changed_row_is_reported_with_table_chain_and_seq(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 12)
    chain = await first_chain(database, "access_records")
    await disable_append_only(database, "access_records")
    await dba(
        database,
        f"UPDATE access_records SET actor_id = 'iemand-anders' WHERE chain_id = '{chain}' AND seq = 2",
    )
    report = await verify(database)
    assert not report.ok
    broken = report.first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        chain,
        2,
        "hash_mismatch",
    )


async def test_deleted_row_in_the_middle_is_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 12)
    chain = await first_chain(database, "ldv_records")
    await disable_append_only(database, "ldv_records")
    await dba(database, f"DELETE FROM ldv_records WHERE chain_id = '{chain}' AND seq = 2")
    report = await verify(database)
    broken = report.first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == ("ldv_records", chain, 3, "seq_gap")
    assert "expected seq 2" in broken.detail


async def test_deleted_first_row_is_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 12)
    chain = await first_chain(database, "decision_records")
    await disable_append_only(database, "decision_records")
    await dba(database, f"DELETE FROM decision_records WHERE chain_id = '{chain}' AND seq = 1")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "decision_records",
        chain,
        2,
        "seq_gap",
    )


async def test_rewritten_row_with_recomputed_hash_breaks_the_next_link(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 12)
    chain = await first_chain(database, "access_records")
    await disable_append_only(database, "access_records")
    async with database.engine.connect() as conn:
        query = select(ACCESS).where(ACCESS.c.chain_id == chain, ACCESS.c.seq == 2)
        row = (await conn.execute(query)).mappings().one()
    content = {k: v for k, v in row.items() if k not in CHAIN_COLUMNS}
    content["actor_id"] = "iemand-anders"
    forged = record_hash("access_records", chain, 2, row["prev_hash"], content)
    await dba(
        database,
        f"UPDATE access_records SET actor_id = 'iemand-anders', hash = '{forged}' "
        f"WHERE chain_id = '{chain}' AND seq = 2",
    )
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        chain,
        3,
        "prev_hash_mismatch",
    )


@pytest.mark.parametrize("table", TABLES)
async def test_deleted_newest_record_of_a_chain_is_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext, table: str
) -> None:
    await write_views(writer, make_context, 12)  # 4 chains x 3 views; nothing else runs in between
    chain = await first_chain(database, table)
    await disable_append_only(database, table)
    await dba(database, f"DELETE FROM {table} WHERE chain_id = '{chain}' AND seq = 3")
    report = await verify(database)
    broken = report.first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem, broken.id) == (
        table,
        chain,
        3,
        "truncated",
        None,
    )
    assert broken.detail == "chain ends at seq 2 but its head is at seq 3"
    assert report.summary.startswith(f"{table} keten {chain} seq 3 (rij ontbreekt): truncated: ")


async def test_deleted_newest_access_row_after_concurrent_writers_is_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    async def one(i: int) -> None:  # half with a decision, half without: chains of different lengths
        await writer.record_processing(
            context=make_context(),
            name="klant identificeren",
            retention="P1Y",
            categories=["klant.basis"],
            started_at=T0 + timedelta(seconds=i),
            ended_at=T0 + timedelta(seconds=i),
            decision=make_decision() if i % 2 else None,
        )

    await asyncio.gather(*(one(i) for i in range(50)))
    report = await verify(database)
    assert report.ok, report.first_break
    assert report.records == 125  # 50 LDV + 25 decisions + 50 access

    newest = "SELECT {} FROM access_records WHERE id = (SELECT max(id) FROM access_records)"
    chain, seq = (
        await scalar(database, newest.format("chain_id")),
        await scalar(database, newest.format("seq")),
    )
    await disable_append_only(database, "access_records")
    await dba(database, "DELETE FROM access_records WHERE id = (SELECT max(id) FROM access_records)")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        chain,
        seq,
        "truncated",
    )


async def test_deleted_whole_chain_is_caught_by_its_head(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 4)
    chain = await first_chain(database, "access_records")
    await disable_append_only(database, "access_records")
    await dba(database, f"DELETE FROM access_records WHERE chain_id = '{chain}'")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.id, broken.problem) == (
        "access_records",
        chain,
        1,
        None,
        "truncated",
    )
    assert broken.detail == "head at seq 1 but no rows of the chain remain"


async def test_rows_added_behind_the_writers_back_are_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    """A well-linked row appended with plain INSERT rights: its chain now runs past its head."""
    await write_views(writer, make_context, 4)
    chain = await first_chain(database, "access_records")
    async with database.engine.connect() as conn:
        query = select(ACCESS).where(ACCESS.c.chain_id == chain, ACCESS.c.seq == 1)
        row = (await conn.execute(query)).mappings().one()
    content = {k: v for k, v in row.items() if k not in CHAIN_COLUMNS}
    content["actor_id"] = "iemand-anders"
    forged = {**content, "chain_id": chain, "seq": 2, "prev_hash": row["hash"]}
    forged["hash"] = record_hash("access_records", chain, 2, row["hash"], content)
    async with database.engine.begin() as conn:
        await conn.execute(ACCESS.insert(), forged)
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "access_records",
        chain,
        2,
        "beyond_head",
    )
    assert broken.id is not None
    assert broken.detail == "chain runs to seq 2 but its head is at seq 1"


async def test_tampered_heads_are_caught(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 8)  # every chain at seq 2
    chain = await first_chain(database, "ldv_records")
    where = f"WHERE table_name = 'ldv_records' AND chain_id = '{chain}'"
    await disable_append_only(database, "audit_chain_heads")

    await dba(database, f"UPDATE audit_chain_heads SET hash = '{GENESIS}' {where}")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "ldv_records",
        chain,
        2,
        "head_mismatch",
    )

    rewind = f"(SELECT hash FROM ldv_records WHERE chain_id = '{chain}' AND seq = 1)"
    await dba(database, f"UPDATE audit_chain_heads SET seq = 1, hash = {rewind} {where}")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "ldv_records",
        chain,
        2,
        "beyond_head",
    )

    await dba(database, f"DELETE FROM audit_chain_heads {where}")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem) == (
        "ldv_records",
        chain,
        2,
        "head_missing",
    )

    await dba(
        database,
        "INSERT INTO audit_chain_heads (table_name, chain_id, seq, hash, anchored_at) "
        f"VALUES ('ldv_records', 'verzonnen', 4, '{GENESIS}', CURRENT_TIMESTAMP)",
        f"INSERT INTO audit_chain_heads (table_name, chain_id, seq, hash, anchored_at) "
        f"SELECT 'ldv_records', '{chain}', seq, hash, CURRENT_TIMESTAMP FROM ldv_records "
        f"WHERE chain_id = '{chain}' AND seq = 2",
    )
    broken = (await verify(database)).first_break  # a head whose chain never existed
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.problem) == ("ldv_records", "verzonnen", "truncated")


async def test_truncation_with_the_head_rewound_too_is_beyond_verify(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    """The limit of the guarantee (README): who can rewrite the heads as well as the rows, with the
    triggers off, leaves a consistent shorter log. Only an anchor outside the database would show it."""
    await write_views(writer, make_context, 8)
    chain = await first_chain(database, "access_records")
    await disable_append_only(database, "access_records")
    await disable_append_only(database, "audit_chain_heads")
    await dba(
        database,
        f"DELETE FROM access_records WHERE chain_id = '{chain}' AND seq = 2",
        "UPDATE audit_chain_heads SET seq = 1, hash = "
        f"(SELECT hash FROM access_records WHERE chain_id = '{chain}' AND seq = 1) "
        f"WHERE table_name = 'access_records' AND chain_id = '{chain}'",
    )
    assert (await verify(database)).ok


async def test_verify_beside_live_writers_reports_no_break(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    """verify takes no snapshot: chains grow while it walks, and new chains start (retired ones).
    Each writer stops after WRITES records: unbounded writers made every verify pass chase a log that
    grew as fast as it was read (a minute per run on PostgreSQL); a pass takes a few queries, the
    writers' 8 × WRITES commits far longer, so the log still grows while verify walks it."""
    stop = asyncio.Event()
    writes = 40

    async def keep_writing() -> None:
        i = 0
        while not stop.is_set() and i < writes:
            await record(writer, make_context(), at=T0 + timedelta(seconds=i))
            i += 1
            if i % 7 == 0:
                async with writer.pool.acquire() as chain:
                    writer.pool.retire(chain)

    await write_views(writer, make_context, 8)
    tasks = [asyncio.create_task(keep_writing()) for _ in range(8)]
    try:
        seen = []
        for _ in range(4):
            report = await verify(database, batch_size=8)
            assert report.ok, report.first_break
            seen.append(report.records)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert seen == sorted(seen)
    assert seen[-1] > seen[0]  # the log grew while verify walked it
    report = await verify(database)
    assert report.ok, report.first_break


async def test_pool_hands_out_each_chain_to_one_append_at_a_time() -> None:
    pool = ChainPool(2, prefix="host-1-abcd")
    assert [c.chain_id for c in pool.chains] == ["host-1-abcd-0", "host-1-abcd-1"]
    busy: set[str] = set()
    overlap: list[int] = []

    async def use() -> None:
        async with pool.acquire() as chain:
            assert chain.chain_id not in busy
            busy.add(chain.chain_id)
            overlap.append(len(busy))
            await asyncio.sleep(0.001)
            busy.discard(chain.chain_id)

    await asyncio.gather(*(use() for _ in range(20)))
    assert max(overlap) == 2


async def test_retired_chain_is_replaced_by_a_fresh_one() -> None:
    pool = ChainPool(1, prefix="host-1-abcd")
    async with pool.acquire() as chain:
        append = chain.append()
        append.link("ldv_records", {"name": "x"})
        append.commit()
        fresh = pool.retire(chain)
    async with pool.acquire() as next_chain:
        assert next_chain is fresh
        assert next_chain.chain_id == "host-1-abcd-1"
        assert next_chain.head("ldv_records").seq == 0


def test_null_fields_are_left_out_of_the_hash() -> None:
    assert record_hash("t", "c", 1, GENESIS, {"a": "x", "b": None}) == record_hash(
        "t", "c", 1, GENESIS, {"a": "x"}
    )
    assert record_hash("t", "c", 1, GENESIS, {"a": "x"}) != record_hash("u", "c", 1, GENESIS, {"a": "x"})


async def test_report_summary_names_the_break(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 8)
    assert (await verify(database)).summary == "24 records in 12 ketens, 12 ketenkoppen gecontroleerd"
    chain = await first_chain(database, "ldv_records")
    await disable_append_only(database, "ldv_records")
    await dba(database, f"UPDATE ldv_records SET name = 'iets anders' WHERE chain_id = '{chain}' AND seq = 2")
    summary = (await verify(database)).summary
    assert summary.startswith(f"ldv_records keten {chain} seq 2 (id ")
    assert "hash_mismatch" in summary


def reference_hash(table: str, chain_id: str, seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    """The hash as specified (and as every stored row was hashed): one json.dumps of the whole body."""
    payload = {
        "table": table,
        "chain_id": chain_id,
        "seq": seq,
        "prev_hash": prev_hash,
        "fields": {k: _canonical_value(v) for k, v in content.items() if v is not None},
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_text = st.text(st.characters(exclude_categories=("Cs",)))  # any text UTF-8 can encode
_values = st.one_of(
    st.none(),
    _text,
    st.text(min_size=600),  # the long strings the writer keeps escaped
    st.integers(),
    st.booleans(),
    st.dates(),
    # away from the ends of the calendar, where moving to UTC overflows (either way)
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (-9, 1, 14))]),
    ),
)


@given(
    table=_text,
    chain_id=_text,
    seq=st.integers(min_value=1),
    prev_hash=_text,
    content=st.dictionaries(_text, _values, max_size=8),
)
def test_the_fast_hash_equals_the_specified_one(
    table: str, chain_id: str, seq: int, prev_hash: str, content: dict[str, Any]
) -> None:
    assert record_hash(table, chain_id, seq, prev_hash, content) == reference_hash(
        table, chain_id, seq, prev_hash, content
    )
    fields = canonical_fields(content)
    assert linked_hash(table, chain_id, seq, prev_hash, fields) == record_hash(
        table, chain_id, seq, prev_hash, content
    )
