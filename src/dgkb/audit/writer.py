# SPDX-License-Identifier: EUPL-1.2
"""The audit writer: log before you show, fail closed (DESIGN §3.4).

One processing = one record set: its LDV record(s), the decision record (if any) and the access record,
each linked onto a hash chain of this process's pool. The caller awaits the commit of its record set
before it shows anything.

Group commit (issue 12 §3): record sets are queued to the process's committers. A committer takes
everything queued (up to `max_batch`), links it in queue order onto one free chain, and writes it in
one transaction: one multi-row INSERT per table and one upsert moving that chain's head in each table
(`audit_chain_heads`), so the log can never lose its newest rows unnoticed. A lone writer commits at
once (no timer); under load, what queues while a commit is in flight forms the next batch. If the
transaction fails, it rolls back, the chain head stays where it was and every caller of that batch gets
`AuditUnavailable`: each fails its request and shows nothing. Later batches continue the chain without
a gap; a chain whose commit outcome is unknown is retired.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Integer, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from dgkb.audit.chain import Chain, ChainPool, Head, canonical_fields
from dgkb.audit.records import (
    AuditUnavailable,
    DecisionLike,
    Outcome,
    access_content,
    aggregate_contents,
    decision_content,
    ldv_content,
)
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import DEFAULT_RETENTION, Register
from dgkb.store.audit_tables import AccessRecord, AuditChainHead, DecisionRecord, LdvRecord
from dgkb.store.db import Database, UtcDateTime
from dgkb.telemetry.metrics import AUDIT_FAILURES, AUDIT_WRITES

LDV: Table = LdvRecord.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRecord.__table__  # type: ignore[assignment]
ACCESS: Table = AccessRecord.__table__  # type: ignore[assignment]
HEADS: Table = AuditChainHead.__table__  # type: ignore[assignment]


def head_row(chain_id: str, table: str, head: Head, now: datetime) -> dict[str, Any]:
    return {"table_name": table, "chain_id": chain_id, "seq": head.seq, "hash": head.hash, "anchored_at": now}


def move_heads(dialect: str) -> Insert:
    """Insert a chain's head, or move it forward (the database trigger refuses any other move)."""
    stmt = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(HEADS)
    return stmt.on_conflict_do_update(
        index_elements=[HEADS.c.table_name, HEADS.c.chain_id],
        set_={c: stmt.excluded[c] for c in ("seq", "hash", "anchored_at")},
    )


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


class AuditWriter:
    """Writes the LDV, decision and access logs; built once per process in the app lifespan."""

    def __init__(
        self,
        database: Database,
        pseudonymizer: Pseudonymizer,
        chains: int = 4,
        *,
        register: Register | None = None,
        committers: int | None = None,
        max_batch: int = 256,
    ) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        # the one place a record's retention comes from: the register's bewaartermijn of its purpose
        self._register = register
        self._move_heads = move_heads("sqlite" if database.is_sqlite else "postgresql")
        self.pool = ChainPool(chains)
        # SQLite has one writer at a time: a second committer would only wait for the file lock. On
        # PostgreSQL a second committer fills and sends the next batch while the first one's commit is
        # being flushed, each on its own chain and connection.
        if committers is None:
            committers = 1 if database.is_sqlite else 2
        if committers < 1 or max_batch < 1:
            raise ValueError("an audit writer needs at least one committer and a batch of one")
        self._max_committers = min(committers, chains)
        self._max_batch = max_batch  # bounds one transaction's size and time under a backlog
        self._committers = 0
        self._queue: deque[_RecordSet] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unstarted: set[asyncio.Task[None]] = set()  # committers created that have not run yet
        # counters for benchmarks and tests: transactions committed, and record sets in them
        self.committed_batches = 0
        self.committed_record_sets = 0

    def retention(self, purpose_id: str) -> str:
        """The bewaartermijn of a record under this purpose, from the register."""
        register = self._register
        return register.retention(purpose_id) if register is not None else DEFAULT_RETENTION

    async def record_klantbeeld(
        self,
        *,
        context: RequestContext,
        decision: DecisionLike,
        categories_requested: Sequence[str],
        categories_delivered: Sequence[str],
        started_at: datetime,
        ended_at: datetime,
        name: str = "klantbeeld raadplegen",
        outcome: str = "delivered",
        consent_status: Mapping[str, Any] | None = None,
        consented_categories: Collection[str] = (),
    ) -> None:
        """Log one view of the customer (LDV + decision + access) before any of it is shown."""
        await self.record_processing(
            context=context,
            name=name,
            started_at=started_at,
            ended_at=ended_at,
            categories_requested=categories_requested,
            categories_delivered=categories_delivered,
            outcome=outcome,
            decision=decision,
            consent_status=consent_status,
            consented_categories=consented_categories,
        )

    async def record_processing(
        self,
        *,
        context: RequestContext,
        name: str,
        started_at: datetime,
        ended_at: datetime,
        retention: str | None = None,
        categories_requested: Sequence[str] = (),
        categories_delivered: Sequence[str] = (),
        categories: Sequence[str] | None = None,
        outcome: str = "delivered",
        decision: DecisionLike | None = None,
        consent_status: Mapping[str, Any] | None = None,
        consented_categories: Collection[str] = (),
    ) -> None:
        """Log any processing about the context's subject (identification, consent change, purpose
        change, a view): an LDV and an access record, plus the decision record when one was taken.

        `categories` is shorthand for a processing without a view: requested = delivered = categories."""
        if categories is not None:
            categories_requested = categories_delivered = categories
        if retention is None:
            retention = self.retention(context.purpose_id)
        result = Outcome(outcome)
        started_at = _aware("started_at", started_at)
        ended_at = _aware("ended_at", ended_at)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        span_id = secrets.token_hex(8)  # this processing's span, child of the request's span
        denied = [c.category for c in decision.categories if not c.permitted] if decision is not None else []
        ldv = ldv_content(
            context=context,
            pseudonym=pseudonym,
            span_id=span_id,
            name=name,
            started_at=started_at,
            ended_at=ended_at,
            outcome=result,
            categories=categories_delivered,
            retention=retention,
        )
        access = access_content(
            context=context,
            pseudonym=pseudonym,
            span_id=span_id,
            occurred_at=ended_at,
            outcome=result,
            categories_requested=categories_requested,
            categories_delivered=categories_delivered,
            categories_denied=denied,
        )
        decided = (
            None
            if decision is None
            else decision_content(
                context=context,
                pseudonym=pseudonym,
                span_id=span_id,
                decision=decision,
                action=name,
                occurred_at=started_at,
                categories_requested=categories_requested,
                consented_categories=consented_categories,
                consent_status=consent_status,
            )
        )
        await self._append(
            [(LDV, ldv), *([] if decided is None else [(DECISIONS, decided)]), (ACCESS, access)]
        )

    async def record_aggregate(
        self,
        *,
        actor: Actor,
        purpose_id: str,
        trace: Trace,
        name: str,
        started_at: datetime,
        ended_at: datetime,
        categories: Sequence[str],
    ) -> None:
        """Log one processing of DGKB over many people at once (an aggregation run for the
        dashboard): one LDV and one access record that name no data subject, not one per person."""
        ldv, access = aggregate_contents(
            actor_id=actor.id,
            actor_role=actor.role.value,
            organisation=actor.organisation,
            purpose_id=purpose_id,
            trace_id=trace.trace_id,
            parent_span_id=trace.span_id,
            span_id=secrets.token_hex(8),
            name=name,
            started_at=_aware("started_at", started_at),
            ended_at=_aware("ended_at", ended_at),
            categories=categories,
            retention=self.retention(purpose_id),
        )
        await self._append([(LDV, ldv), (ACCESS, access)])

    @property
    def pending(self) -> int:
        """Record sets queued and not yet taken into a transaction."""
        return len(self._queue)

    async def _append(self, records: Sequence[tuple[Table, Mapping[str, Any]]]) -> None:
        """Queue one record set for the committers and wait until it is committed; or raise
        `AuditUnavailable` when the transaction it was in failed (its chain is left as it was)."""
        record_set = _RecordSet(
            tuple((table, content, canonical_fields(content)) for table, content in records),
            asyncio.get_running_loop().create_future(),
        )
        started = time.perf_counter()
        self._queue.append(record_set)
        if self._committers < self._max_committers:
            self._committers += 1
            task = asyncio.create_task(self._commit_queued())
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            self._unstarted.add(task)
            task.add_done_callback(self._committer_done)
        try:
            await record_set.done
        except AuditUnavailable:
            AUDIT_FAILURES.inc()
            raise
        AUDIT_WRITES.observe(time.perf_counter() - started)

    def _committer_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task in self._unstarted:
            # Cancelled before its first step (e.g. the event loop shutting down), so its own clean-up
            # never ran: count it out, and fail what it would have taken rather than let it wait.
            self._unstarted.discard(task)
            self._committers -= 1
            _fail(self._take_all(), asyncio.CancelledError())

    def _take(self) -> list[_RecordSet]:
        return [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]

    async def _commit_queued(self) -> None:
        """One committer: while record sets are queued, take all of them (up to `max_batch`) onto one
        free chain and commit them in one transaction. What queues while a commit is in flight forms
        the next batch, so a lone writer waits for no timer and many writers share each commit."""
        self._unstarted.discard(asyncio.current_task())
        conn: AsyncConnection | None = None
        try:
            while await self._more_to_do(conn):
                async with self.pool.acquire() as chain:
                    batch = self._take()
                    if not batch:  # another committer took them while this one waited for a chain
                        break
                    try:
                        if conn is None:
                            conn = await self._connect()
                        await self._write(conn, chain, batch)
                    except Exception as exc:
                        await _discard(conn)
                        conn = None  # the next batch starts on a fresh connection
                        if len(batch) > 1 and _bad_data(exc):
                            conn = await self._write_one_by_one(chain, batch)
                        else:
                            _fail(batch, exc)
                        continue
                    except BaseException as exc:  # cancelled: fail it (and the rest, below)
                        _fail(batch, exc)
                        raise
                for record_set in batch:
                    if not record_set.done.done():  # a caller that gave up may have cancelled it
                        record_set.done.set_result(None)
        except BaseException as exc:
            # Cancelled, or broken outside a batch's write (e.g. the writer used from another event
            # loop): no committer may come for what is queued, so fail it rather than let it wait.
            _fail(self._take_all(), exc)
            raise
        finally:
            # Before the await below: a record set queued from now on starts a committer of its own.
            self._committers -= 1
            await _discard(conn)

    async def _write_one_by_one(self, chain: Chain, batch: Sequence[_RecordSet]) -> AsyncConnection | None:
        """The database refused a batch's data (e.g. a value too long for its column; nothing was
        written and the chain is as it was). One view's bad value must not fail the views it happened
        to share a commit with: each is written alone, and only those the database refuses fail."""
        conn: AsyncConnection | None = None
        for i, record_set in enumerate(batch):
            try:
                if conn is None:
                    conn = await self._connect()
                await self._write(conn, chain, [record_set])
            except Exception as exc:
                await _discard(conn)
                conn = None
                _fail([record_set], exc)
                if not _refused(exc):  # the outcome is unknown and the chain retired: stop here
                    _fail(batch[i + 1 :], exc)
                    return None
                continue
            except BaseException as exc:  # cancelled: nobody else will write the rest
                _fail(batch[i:], exc)
                raise
            if not record_set.done.done():
                record_set.done.set_result(None)
        return conn

    async def _connect(self) -> AsyncConnection:
        conn = await self._database.engine.connect()
        if not self._database.is_sqlite:  # each batch is one statement: it commits by itself
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    async def _more_to_do(self, conn: AsyncConnection | None) -> bool:
        """Whether record sets are queued. A committer holding a connection first lets the event loop
        run a few turns: views that queue right after a commit (e.g. the next requests of the clients
        it just answered) then reuse it instead of checking one out again (with the pool's pre-ping,
        three round trips). No timer: a record set queued meanwhile is taken at once."""
        if conn is not None:
            for _ in range(_LINGER_TURNS):
                if self._queue:
                    break
                await asyncio.sleep(0)
        return bool(self._queue)

    def _take_all(self) -> list[_RecordSet]:
        taken = list(self._queue)
        self._queue.clear()
        return taken

    async def _write(self, conn: AsyncConnection, chain: Chain, batch: Sequence[_RecordSet]) -> None:
        """Link the batch's record sets onto `chain` in queue order and write them, with the chain's new
        head in each table, in one transaction; the chain moves only after the commit."""
        append = chain.append()
        rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in _TABLES}
        for record_set in batch:
            for table, content, fields in record_set.rows:
                rows[table.name].append(append.link(table.name, content, fields))
        # The heads move in the same transaction: a chain always ends exactly at its head.
        now = datetime.now(UTC)
        heads = [head_row(append.chain_id, t, h, now) for t, h in append.moved.items()]
        sent = False  # from here on the database may have committed, unless it answers with an error
        try:
            if self._database.is_sqlite:
                for table in _TABLES:
                    if rows[table.name]:
                        await conn.execute(table.insert(), rows[table.name])  # one executemany
                await conn.execute(self._move_heads, heads)
                sent = True
                await conn.commit()
            else:
                # One statement on an autocommit connection: rows and heads commit together or not at
                # all, in one round trip (BEGIN, three INSERTs, the upsert and COMMIT took six).
                sent = True
                await conn.exec_driver_sql(_BATCH_SQL, _batch_parameters(rows, heads))
        except BaseException as exc:
            if sent and not _refused(exc):
                # The commit may or may not have happened: this chain's head is unknown now.
                self.pool.retire(chain)
            raise
        append.commit()
        self.committed_batches += 1
        self.committed_record_sets += len(batch)


def _bad_data(exc: BaseException) -> bool:
    """The database refused a value (SQLSTATE class 22, data exception: too long, bad encoding, …),
    as opposed to the chain or the connection being the problem."""
    if isinstance(exc, DataError):
        return True
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return isinstance(exc, DBAPIError) and isinstance(sqlstate, str) and sqlstate.startswith("22")


def _refused(exc: BaseException) -> bool:
    """The database answered with an error, so it rolled the transaction back (a lost connection or a
    cancelled wait leaves the outcome unknown)."""
    return isinstance(exc, DBAPIError) and not exc.connection_invalidated


def _columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if c.name != "id"]


def _batch_sql() -> str:
    """PostgreSQL: a batch in one statement. Each table's rows arrive as one array per column and are
    inserted with unnest (one INSERT per table, however many rows), the heads are upserted by the
    outer statement; data-modifying CTEs all run, in one transaction, even though nothing reads them."""
    number = 0

    def element(column: Column[Any]) -> str:
        # Not VARCHAR(n): an explicit cast cuts a longer string off, and the row would no longer match
        # its hash. As TEXT, the INSERT's own assignment to the column refuses it, as executemany does.
        kind = column.type
        if isinstance(kind, String):
            return "TEXT"
        if isinstance(kind, BigInteger | Integer):
            return "BIGINT"
        if isinstance(kind, UtcDateTime):
            return "TIMESTAMPTZ"
        if isinstance(kind, Date):
            return "DATE"
        raise TypeError(f"no array type for {column}: {kind!r}")  # a new column type: add it here

    def arrays(table: Table) -> str:
        nonlocal number
        casts = []
        for column in _columns(table):
            number += 1
            casts.append(f"${number}::{element(column)}[]")
        return f"SELECT * FROM unnest({', '.join(casts)})"  # noqa: S608 (column types from the metadata)

    def names(table: Table) -> str:
        return ", ".join(c.name for c in _columns(table))

    inserts = [f"{t.name} AS (INSERT INTO {t.name} ({names(t)}) {arrays(t)})" for t in _TABLES]
    moved = ", ".join(f"{c} = excluded.{c}" for c in ("seq", "hash", "anchored_at"))
    return (
        f"WITH {', '.join(inserts)} INSERT INTO {HEADS.name} ({names(HEADS)}) {arrays(HEADS)} "
        f"ON CONFLICT (table_name, chain_id) DO UPDATE SET {moved}"
    )


def _batch_parameters(
    rows: Mapping[str, list[dict[str, Any]]], heads: list[dict[str, Any]]
) -> tuple[Any, ...]:
    """The parameters of `_BATCH_SQL`: per table and column, the list of that column's values."""
    parameters: list[list[Any]] = []
    for table in _TABLES:
        table_rows = rows[table.name]
        parameters.extend([row.get(c.name) for row in table_rows] for c in _columns(table))
    parameters.extend([head[c.name] for head in heads] for c in _columns(HEADS))
    return tuple(parameters)


_TABLES: tuple[Table, ...] = (LDV, DECISIONS, ACCESS)  # the order rows are inserted in
# Turns of the event loop a committer waits for more work before it gives its connection back: enough
# for a burst of callers it resolved to come back (measured: 3 are too few, 8 keep the connection).
_LINGER_TURNS = 8
_BATCH_SQL = _batch_sql()


@dataclass(slots=True, eq=False)
class _RecordSet:
    """One processing's records, waiting for a committer: (table, content, canonical fields) each."""

    rows: tuple[tuple[Table, Mapping[str, Any], str], ...]
    done: asyncio.Future[None]


def _fail(batch: Sequence[_RecordSet], cause: BaseException) -> None:
    for record_set in batch:
        if not record_set.done.done():
            error = AuditUnavailable("het toegangslog kan niet worden geschreven")
            error.__cause__ = cause
            record_set.done.set_exception(error)


async def _discard(conn: AsyncConnection | None) -> None:
    """Give a committer's connection back (rolled back; the pool drops it if it broke)."""
    if conn is not None:
        with contextlib.suppress(Exception):
            await conn.close()
