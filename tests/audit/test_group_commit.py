"""Group commit: concurrent record sets share transactions, each caller still waits for the commit of
its own; chains stay strictly ordered; a failed batch fails exactly its own callers, leaves no gap and
the writer carries on. On both backends (the `database` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dgkb.audit import AuditUnavailable, AuditWriter, verify
from dgkb.audit.writer import ACCESS
from dgkb.domain.context import RequestContext
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database
from tests.conftest import PG_URL, fresh_database_url

from .support import T0, MakeContext, dba, disable_append_only, record, scalar

TABLES = ("ldv_records", "decision_records", "access_records")


async def until(condition: Callable[[], bool], *, turns: int = 10_000) -> None:
    """Let the event loop run until `condition` holds (counted in turns of the loop, not in time)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def traces_in_chain_order(database: Database, table: str) -> list[tuple[str, int, str]]:
    async with database.engine.connect() as conn:
        query = text(f"SELECT chain_id, seq, trace_id FROM {table} ORDER BY chain_id, seq")
        return [(r.chain_id, r.seq, r.trace_id) for r in await conn.execute(query)]


async def queued_batch(
    writer: AuditWriter, contexts: list[RequestContext], *, already_pending: int = 0
) -> list[asyncio.Task[None]]:
    """Start one view per context, in this order, and wait until all of them are queued (the caller
    holds the only chain, so none is taken yet): they form one batch once the chain is free."""
    tasks = [
        asyncio.create_task(record(writer, c, at=T0 + timedelta(seconds=i))) for i, c in enumerate(contexts)
    ]
    await until(lambda: writer.pending == already_pending + len(contexts))
    return tasks


async def test_concurrent_views_are_all_committed_in_shared_transactions(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    contexts = [make_context() for _ in range(200)]

    async def writer_task(mine: list[RequestContext]) -> None:
        for context in mine:  # back to back, as a busy API worker's requests
            await record(writer, context)

    await asyncio.gather(*(writer_task(contexts[i::50]) for i in range(50)))

    assert writer.pending == 0
    assert writer.committed_record_sets == 200
    assert writer.committed_batches < 200  # they shared transactions
    for table in TABLES:
        traces = [trace for _, _, trace in await traces_in_chain_order(database, table)]
        assert sorted(traces) == sorted(c.trace.trace_id for c in contexts)  # each exactly once
    # one view's three records sit at the same place of the same chain in each table
    ldv = await traces_in_chain_order(database, "ldv_records")
    assert await traces_in_chain_order(database, "access_records") == ldv
    assert await traces_in_chain_order(database, "decision_records") == ldv
    report = await verify(database, batch_size=50)
    assert report.ok, report.first_break
    assert report.records == 600


async def test_a_batch_is_linked_in_the_order_it_was_queued(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    writer = AuditWriter(database, pseudonymizer, chains=1)
    await record(writer, make_context())
    first = [make_context() for _ in range(12)]
    async with writer.pool.acquire():
        tasks = await queued_batch(writer, first)
    await asyncio.gather(*tasks)
    assert (writer.committed_batches, writer.committed_record_sets) == (2, 13)  # the 12 in one transaction

    [chain] = writer.pool.chains
    rows = await traces_in_chain_order(database, "access_records")
    assert [seq for _, seq, _ in rows] == list(range(1, 14))
    assert {chain_id for chain_id, _, _ in rows} == {chain.chain_id}
    assert [trace for _, _, trace in rows[1:]] == [c.trace.trace_id for c in first]
    assert chain.head("access_records").seq == 13
    where = f"table_name = 'access_records' AND chain_id = '{chain.chain_id}'"
    assert await scalar(database, f"SELECT seq FROM audit_chain_heads WHERE {where}") == 13
    assert (await verify(database)).ok


async def plant_row(database: Database, chain_id: str, seq: int) -> None:
    """Insert, as anyone with INSERT rights could, an access row at `seq` of the chain (a copy of its
    first row): the writer's next batch reaching that seq violates the (chain_id, seq) constraint."""
    columns = [c.name for c in ACCESS.columns if c.name not in ("id", "seq")]
    await dba(
        database,
        f"INSERT INTO access_records ({', '.join(columns)}, seq) SELECT {', '.join(columns)}, {seq} "
        f"FROM access_records WHERE chain_id = '{chain_id}' AND seq = 1",
    )


async def test_a_constraint_violation_in_the_middle_of_a_batch_fails_exactly_that_batch(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    writer = AuditWriter(database, pseudonymizer, chains=1)
    for _ in range(2):
        await record(writer, make_context())
    [chain] = writer.pool.chains
    heads = dict(chain.heads)
    # Batch X (5 views) would take access seq 3..7: its fourth row collides with a row planted at 6.
    await plant_row(database, chain.chain_id, 6)

    async with writer.pool.acquire():
        doomed = await queued_batch(writer, [make_context() for _ in range(5)])
    await until(lambda: writer.pending == 0)  # X is taken and being written
    # Batch Y (3 views, access seq 3..5) queues while X is in flight, and misses the planted row.
    survivors = [make_context() for _ in range(3)]
    later = [asyncio.create_task(record(writer, c)) for c in survivors]

    failed = await asyncio.gather(*doomed, return_exceptions=True)
    assert all(isinstance(e, AuditUnavailable) for e in failed), failed
    assert await asyncio.gather(*later) == [None, None, None]

    assert writer.pool.chains == (chain,)  # the outcome was known (rolled back): the chain goes on
    assert {t: h.seq for t, h in chain.heads.items()} == {t: h.seq + 3 for t, h in heads.items()}
    for table in TABLES:
        count = f"SELECT count(*) FROM {table} WHERE chain_id = '{chain.chain_id}'"
        assert await scalar(database, count) == (6 if table == "access_records" else 5)  # + planted row
    rows = await traces_in_chain_order(database, "ldv_records")
    assert [trace for _, _, trace in rows[2:]] == [c.trace.trace_id for c in survivors]

    # Only the planted row is wrong; removed, the chain verifies and later views continue it.
    broken = (await verify(database)).first_break
    assert broken is not None
    assert (broken.table, broken.chain_id, broken.seq) == ("access_records", chain.chain_id, 6)
    await disable_append_only(database, "access_records")
    await dba(database, f"DELETE FROM access_records WHERE chain_id = '{chain.chain_id}' AND seq = 6")
    await asyncio.gather(*(record(writer, make_context()) for _ in range(4)))
    assert chain.head("access_records").seq == 9
    report = await verify(database)
    assert report.ok, report.first_break
    assert report.records == 27  # 9 views x 3 records


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(await fresh_database_url("postgresql", tmp_path))
    yield db
    await db.dispose()


@pytest.mark.skipif(not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set: terminates a PostgreSQL backend")
async def test_a_connection_killed_in_the_middle_of_a_batch_fails_exactly_that_batch(
    postgres: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    """The committer's backend is terminated while its batch waits for a lock on access_records: the
    batch fails, and the writer reconnects."""
    database = postgres
    writer = AuditWriter(database, pseudonymizer, chains=1)
    await record(writer, make_context())
    [chain] = writer.pool.chains
    heads = dict(chain.heads)

    async with database.engine.connect() as dba_conn:
        await dba_conn.execute(text("LOCK TABLE access_records IN SHARE MODE"))  # blocks INSERTs
        doomed = [asyncio.create_task(record(writer, make_context())) for _ in range(4)]
        blocked = text(  # the only backend of this database that waits for a lock: the committer's
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        for _ in range(2000):
            # pg_stat_activity is a snapshot per transaction: take a fresh one each time
            await dba_conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            pid = (await dba_conn.execute(blocked)).scalar()
            if pid is not None:
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the committer never waited for the lock")
        assert writer.pending == 0  # all four are in the blocked batch
        await dba_conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        failed = await asyncio.gather(*doomed, return_exceptions=True)
        await dba_conn.rollback()
    assert all(isinstance(e, AuditUnavailable) for e in failed), failed

    # The batch is one statement, autocommitted: with the connection gone the writer cannot know
    # whether it committed, so it ends the chain at its known head and goes on with a fresh one.
    assert chain.heads == heads
    [fresh] = writer.pool.chains
    assert fresh is not chain
    for table in TABLES:
        assert await scalar(database, f"SELECT count(*) FROM {table}") == 1
    await asyncio.gather(*(record(writer, make_context()) for _ in range(3)))
    assert fresh.head("ldv_records").seq == 3
    report = await verify(database)
    assert report.ok, report.first_break
    assert report.records == 12
    assert report.chains == 6  # the old chain (one view) and the fresh one, in three tables


async def test_a_value_too_long_for_its_column_is_never_cut_off(
    database: Database, writer: AuditWriter, make_context: MakeContext
) -> None:
    """A cut-off value would no longer match its hash: PostgreSQL refuses it (the batch fails);
    SQLite, which has no lengths, keeps it whole."""
    long_actor = "medewerker-" + "x" * 200  # access_records.actor_id is VARCHAR(200)
    if database.is_sqlite:
        await record(writer, make_context(actor_id=long_actor))
        assert await scalar(database, "SELECT actor_id FROM access_records") == long_actor
    else:
        with pytest.raises(AuditUnavailable):
            await record(writer, make_context(actor_id=long_actor))
        assert await scalar(database, "SELECT count(*) FROM access_records") == 0
    await record(writer, make_context())
    report = await verify(database)
    assert report.ok, report.first_break


async def test_one_view_with_a_bad_value_does_not_fail_the_views_it_shares_a_commit_with(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    """PostgreSQL refuses a value too long for its column, and with it the whole batch: the writer
    then writes the batch's views one by one, so only the bad view fails."""
    writer = AuditWriter(database, pseudonymizer, chains=1)
    await record(writer, make_context())
    [chain] = writer.pool.chains
    long_actor = "medewerker-" + "x" * 200  # access_records.actor_id is VARCHAR(200)
    contexts = [make_context() for _ in range(2)] + [make_context(actor_id=long_actor)]
    contexts += [make_context() for _ in range(2)]
    async with writer.pool.acquire():
        views = await queued_batch(writer, contexts)
    outcomes = await asyncio.gather(*views, return_exceptions=True)
    if database.is_sqlite:  # no lengths: every view is written whole
        assert outcomes == [None] * 5
        return
    assert [type(o).__name__ for o in outcomes] == ["NoneType"] * 2 + ["AuditUnavailable"] + ["NoneType"] * 2
    assert chain.head("access_records").seq == 5  # the first view and the four good ones, in order
    rows = await traces_in_chain_order(database, "ldv_records")
    good = [c.trace.trace_id for i, c in enumerate(contexts) if i != 2]
    assert [trace for _, _, trace in rows[1:]] == good
    report = await verify(database)
    assert report.ok, report.first_break


async def test_a_caller_that_gives_up_does_not_disturb_its_batch(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    writer = AuditWriter(database, pseudonymizer, chains=1)
    async with writer.pool.acquire():
        tasks = await queued_batch(writer, [make_context() for _ in range(3)])
        tasks[1].cancel()  # e.g. the client went away; nothing will be shown to it anyway
        await asyncio.gather(tasks[1], return_exceptions=True)
    await asyncio.gather(tasks[0], tasks[2])
    assert tasks[1].cancelled()
    # What was queued is logged: a view may be logged and not shown, never shown and not logged.
    assert await scalar(database, "SELECT count(*) FROM access_records") == 3
    assert (await verify(database)).ok


@pytest.mark.parametrize("started", [False, True], ids=["before-its-first-step", "waiting-for-a-chain"])
async def test_a_committer_that_is_cancelled_fails_what_was_queued_for_it(
    database: Database, pseudonymizer: Pseudonymizer, make_context: MakeContext, started: bool
) -> None:
    """E.g. the event loop shutting down: the views waiting for that committer fail, none waits forever."""
    writer = AuditWriter(database, pseudonymizer, chains=1)
    async with writer.pool.acquire():
        tasks = await queued_batch(writer, [make_context() for _ in range(3)])
        [committer] = writer._tasks
        if started:  # let it run until it waits for the chain this test holds
            for _ in range(3):
                await asyncio.sleep(0)
        assert (committer in writer._unstarted) is not started
        committer.cancel()
        failed = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(e, AuditUnavailable) for e in failed), failed
    assert writer.pending == 0
    await record(writer, make_context())  # a new committer takes over
    assert await scalar(database, "SELECT count(*) FROM access_records") == 1
    assert (await verify(database)).ok


async def test_the_database_being_unreachable_fails_every_queued_view(
    pseudonymizer: Pseudonymizer, make_context: MakeContext
) -> None:
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere")
    writer = AuditWriter(broken, pseudonymizer)
    views = (record(writer, make_context()) for _ in range(20))
    failed = await asyncio.gather(*views, return_exceptions=True)
    assert all(isinstance(e, AuditUnavailable) for e in failed), failed
    assert writer.pending == 0
    assert all(not c.heads for c in writer.pool.chains)
    await broken.dispose()


def test_committers_and_batches_need_at_least_one(database: Database, pseudonymizer: Pseudonymizer) -> None:
    with pytest.raises(ValueError, match="at least one committer"):
        AuditWriter(database, pseudonymizer, committers=0)
    with pytest.raises(ValueError, match="at least one committer"):
        AuditWriter(database, pseudonymizer, max_batch=0)
