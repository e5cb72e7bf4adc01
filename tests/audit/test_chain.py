"""Hash chains: parallel appends on several chains, and verify catching every kind of tampering."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from dgkb.audit import AuditWriter, verify
from dgkb.audit.chain import CHAIN_COLUMNS, GENESIS, ChainPool, record_hash
from dgkb.audit.writer import ACCESS
from dgkb.store.db import Database

from .support import T0, MakeContext, dba, disable_append_only, record, scalar


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
    await writer.anchor()

    report = await verify(database, batch_size=64)  # small batches: crosses many batch borders
    assert report.ok, report.first_break
    assert report.records == 1500  # 500 views x (LDV + decision + access)
    chains = await scalar(database, "SELECT count(DISTINCT chain_id) FROM ldv_records")
    assert isinstance(chains, int)
    assert chains > 1
    assert report.chains == 3 * chains
    assert report.anchors == 3 * chains


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


async def test_deleted_tail_is_caught_by_the_anchor(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 12)  # 4 chains x 3 views
    await writer.anchor()
    chain = await first_chain(database, "ldv_records")
    await disable_append_only(database, "ldv_records")
    await dba(database, f"DELETE FROM ldv_records WHERE chain_id = '{chain}' AND seq = 3")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq, broken.problem, broken.id) == (
        "ldv_records",
        chain,
        3,
        "truncated",
        None,
    )


async def test_deleted_whole_chain_is_caught_by_its_birth_anchor(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 4)  # no periodic anchor: the birth anchor suffices
    chain = await first_chain(database, "access_records")
    await disable_append_only(database, "access_records")
    await dba(database, f"DELETE FROM access_records WHERE chain_id = '{chain}'")
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.problem) == ("access_records", chain, "truncated")


async def test_tail_written_after_the_last_anchor_is_not_a_break(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    await write_views(writer, make_context, 4)
    await writer.anchor()
    await write_views(writer, make_context, 4)
    report = await verify(database)
    assert report.ok
    assert report.records == 24


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
    assert (await verify(database)).summary == "24 records in 12 ketens, 12 ankers gecontroleerd"
    chain = await first_chain(database, "ldv_records")
    await disable_append_only(database, "ldv_records")
    await dba(database, f"UPDATE ldv_records SET name = 'iets anders' WHERE chain_id = '{chain}' AND seq = 2")
    summary = (await verify(database)).summary
    assert summary.startswith(f"ldv_records keten {chain} seq 2 (id ")
    assert "hash_mismatch" in summary
