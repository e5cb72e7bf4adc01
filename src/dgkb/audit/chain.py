# SPDX-License-Identifier: EUPL-1.2
"""Hash chains over the audit tables, and their verification.

Every audit row is linked to the previous row of the same chain in the same table:
`hash = sha256(canonical JSON of {table, chain_id, seq, prev_hash, content fields})`. The first row
of a chain has seq 1 and `prev_hash = GENESIS`.

Concurrency (DESIGN §7): a single global chain would serialise every write of every node. Instead
each writer process owns a small `ChainPool`; an append takes a free chain, so concurrent requests
write in parallel on different chains while each chain stays strictly ordered. The head (seq, hash)
of each chain lives in memory (a new process starts new chains, so nothing is read at start) and
advances only after the transaction committed, so a failed write leaves no gap.

Truncation: the same transaction that appends to a chain also moves that chain's row in
`audit_chain_heads` (one row per table and chain, updated in place: a HOT update on PostgreSQL, and
only the rows of the chain being appended to are locked, so chains still write in parallel). A chain
therefore always ends exactly at its head; a database trigger lets a head only move forward.

`verify` walks every chain of every table in (chain_id, seq) order in batches, recomputes hashes,
checks seq continuity, prev_hash links, and that each chain ends at its head: a chain ending before
its head lost its tail (`truncated`), a head without rows lost the whole chain, rows past the head or
without a head were written outside the writer or had their head removed. It runs beside live writers
without a snapshot: heads are read before a table is walked, and a chain found longer than its head is
checked again against the head re-read after the walk (the writer moved both in one transaction).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dgkb.store.audit_tables import CHAINED_TABLES, AuditChainHead
from dgkb.store.db import Database

GENESIS = "0" * 64
CHAIN_COLUMNS = frozenset({"id", "chain_id", "seq", "prev_hash", "hash"})


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot hash audit value of type {type(value).__name__}")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The string encoder `json.dumps(..., ensure_ascii=False)` itself uses (the C one where available).
_string: Callable[[str], str] = json.encoder.encode_basestring


# Escaped forms of the long strings that recur in every view (the decision's answer and question as
# JSON text, a few KB each): escaping them costs more than finding them again. Bounded; cleared when full.
_LONG = 512
_escaped: dict[str, str] = {}
# "key": of every column name seen
_keys: dict[str, str] = {}


def _string_json(value: str) -> str:
    if len(value) < _LONG:
        return _string(value)
    escaped = _escaped.get(value)
    if escaped is None:
        if len(_escaped) >= 256:
            _escaped.clear()
        escaped = _escaped[value] = _string(value)
    return escaped


def _field_json(value: Any) -> str:
    """`_json(_canonical_value(value))`, without the encoder's set-up for the common types."""
    kind = type(value)
    if kind is str:
        return _string_json(value)
    if kind is int:
        return int.__repr__(value)
    if kind is datetime and value.tzinfo is not None:
        utc = value.astimezone(UTC)
        if utc.year >= 1000:  # strftime's %Y does not pad to four digits: isoformat would differ
            return f'"{utc.replace(tzinfo=None).isoformat(timespec="microseconds")}Z"'
    if kind is date:  # retention_until, in every record: an ISO date needs no escaping
        return f'"{value.isoformat()}"'
    if kind is bool:
        return "true" if value else "false"
    return _json(_canonical_value(value))


def _key(name: str) -> str:
    key = _keys.get(name)
    if key is None:
        key = _keys[name] = _string(name) + ":"
    return key


def canonical_fields(content: Mapping[str, Any]) -> str:
    """The content part of a row's hashed body: `_json` of the content without its NULL fields, with
    every value in its canonical form. It does not depend on the row's place in a chain, so a writer
    computes it before the row is queued (and a bad value fails only its own caller). Built field by
    field because this runs three times per view (equal to `_json` output: tests/audit/test_chain.py)."""
    fields = []
    for name in sorted(content):
        value = content[name]
        if value is None:
            continue
        # short strings (most fields) inline: this loop runs some forty times per view
        if type(value) is str and len(value) < _LONG:
            fields.append(_key(name) + _string(value))
        else:
            fields.append(_key(name) + _field_json(value))
    return "{" + ",".join(fields) + "}"


def linked_hash(table: str, chain_id: str, seq: int, prev_hash: str, fields: str) -> str:
    """`record_hash` from the row's `canonical_fields`: the same canonical JSON, with the keys in their
    sorted order (chain_id, fields, prev_hash, seq, table), put together without encoding it again."""
    body = (
        f'{{"chain_id":{_string(chain_id)},"fields":{fields},"prev_hash":{_string(prev_hash)},'
        f'"seq":{seq},"table":{_string(table)}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_hash(table: str, chain_id: str, seq: int, prev_hash: str, content: Mapping[str, Any]) -> str:
    """The hash of one audit row: sha256 of the canonical JSON (sorted keys, compact, UTF-8) of
    `{table, chain_id, seq, prev_hash, fields}`. NULL fields are left out, so adding a nullable column
    later keeps the hashes of older rows valid."""
    return linked_hash(table, chain_id, seq, prev_hash, canonical_fields(content))


@dataclass(frozen=True, slots=True)
class Head:
    seq: int = 0
    hash: str = GENESIS


_START = Head()


class Chain:
    """One chain: per audit table the committed head. Used by one append at a time (see ChainPool)."""

    def __init__(self, chain_id: str) -> None:
        self.chain_id = chain_id
        self._heads: dict[str, Head] = {}

    def head(self, table: str) -> Head:
        return self._heads.get(table, Head())

    @property
    def heads(self) -> Mapping[str, Head]:
        return dict(self._heads)

    def append(self) -> ChainAppend:
        """Start linking rows; the chain moves only when the returned append is committed."""
        return ChainAppend(self)


class ChainAppend:
    """Rows linked onto a chain inside one transaction; `commit()` after the database committed."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self._heads = dict(chain._heads)
        self._moved: dict[str, Head] = {}

    @property
    def chain_id(self) -> str:
        return self._chain.chain_id

    def link(self, table: str, content: Mapping[str, Any], fields: str | None = None) -> dict[str, Any]:
        """The row to insert: content plus chain_id, seq, prev_hash and hash. `fields` is the
        content's `canonical_fields` when the caller computed it already."""
        head = self._heads.get(table, _START)
        seq = head.seq + 1
        if fields is None:
            fields = canonical_fields(content)
        digest = linked_hash(table, self._chain.chain_id, seq, head.hash, fields)
        self._heads[table] = self._moved[table] = Head(seq, digest)
        return {
            **content,
            "chain_id": self._chain.chain_id,
            "seq": seq,
            "prev_hash": head.hash,
            "hash": digest,
        }

    @property
    def moved(self) -> Mapping[str, Head]:
        """The new head of each table this append linked rows onto: to write with the rows."""
        return dict(self._moved)

    def commit(self) -> None:
        self._chain._heads = self._heads


class ChainPool:
    """The chains of one writer process, handed out one append at a time (FIFO, so all are used)."""

    def __init__(self, size: int = 4, *, prefix: str | None = None) -> None:
        if size < 1:
            raise ValueError("a chain pool needs at least one chain")
        self.prefix = prefix or f"{socket.gethostname()[:48]}-{os.getpid()}-{secrets.token_hex(4)}"
        self._next = 0
        self._replacement: dict[str, Chain] = {}
        self._chains = [self._new_chain() for _ in range(size)]
        self._free: asyncio.Queue[Chain] = asyncio.Queue()
        for chain in self._chains:
            self._free.put_nowait(chain)

    def _new_chain(self) -> Chain:
        chain = Chain(f"{self.prefix}-{self._next}")
        self._next += 1
        return chain

    @property
    def chains(self) -> tuple[Chain, ...]:
        return tuple(self._chains)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Chain]:
        """Exclusive use of one free chain (waits while all are busy)."""
        chain = await self._free.get()
        try:
            yield chain
        finally:
            self._free.put_nowait(self._replacement.pop(chain.chain_id, chain))

    def retire(self, chain: Chain) -> Chain:
        """Replace a chain whose head is uncertain (commit outcome unknown) by a fresh chain.

        The old chain simply ends; its last row is wherever the database says it is."""
        fresh = self._new_chain()
        self._chains[self._chains.index(chain)] = fresh
        self._replacement[chain.chain_id] = fresh
        return fresh


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link found: where, and what is wrong."""

    table: str
    chain_id: str
    seq: int
    id: int | None  # row id; None when the row is missing (truncated tail, deleted chain)
    # truncated | head_missing | beyond_head | head_mismatch | seq_gap | prev_hash_mismatch | hash_mismatch
    problem: str
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    records: int
    chains: int  # (table, chain) pairs walked
    heads: int  # chain heads matched against the row at their seq
    first_break: ChainBreak | None = None

    @property
    def summary(self) -> str:
        """One line for operators (Dutch, like the CLI)."""
        checked = f"{self.records} records in {self.chains} ketens, {self.heads} ketenkoppen gecontroleerd"
        b = self.first_break
        if b is None:
            return checked
        row = f"id {b.id}" if b.id is not None else "rij ontbreekt"
        return f"{b.table} keten {b.chain_id} seq {b.seq} ({row}): {b.problem}: {b.detail}; {checked}"


HEADS: Table = AuditChainHead.__table__  # type: ignore[assignment]


async def _read_heads(conn: AsyncConnection, table: str) -> dict[str, Head]:
    """chain_id -> committed head of every chain of `table`."""
    stmt = select(HEADS.c.chain_id, HEADS.c.seq, HEADS.c.hash).where(HEADS.c.table_name == table)
    return {chain_id: Head(seq, digest) for chain_id, seq, digest in (await conn.execute(stmt)).all()}


@dataclass(frozen=True, slots=True)
class _Tail:
    """The last row of a chain as the walk saw it."""

    chain_id: str
    seq: int
    hash: str
    id: int


class _Walk:
    """State of the walk over one table: the chain being checked and what the next row must be."""

    def __init__(self, table: str, heads: Mapping[str, Head]) -> None:
        self.table = table
        self.heads = heads  # read before the walk
        self.chain_id = ""
        self.expected_seq = 0  # 0 = no chain started yet
        self.expected_prev = GENESIS
        self.last_id = 0
        self.records = self.chains = self.heads_checked = 0
        self.seen: set[str] = set()
        self.unsettled: list[_Tail] = []  # chains longer than their head, or without one: check again

    def end_chain(self) -> ChainBreak | None:
        """At the end of a chain: it must end at its head (rows written while we walk are settled later)."""
        if not self.expected_seq:
            return None
        tail = _Tail(self.chain_id, self.expected_seq - 1, self.expected_prev, self.last_id)
        head = self.heads.get(self.chain_id)
        if head is not None and head.seq > tail.seq:
            detail = f"chain ends at seq {tail.seq} but its head is at seq {head.seq}"
            return ChainBreak(self.table, self.chain_id, tail.seq + 1, None, "truncated", detail)
        if head is None or head.seq < tail.seq:
            self.unsettled.append(tail)
        return None

    def check(self, row: RowMapping, content_columns: Sequence[str]) -> ChainBreak | None:
        if row["chain_id"] != self.chain_id or not self.expected_seq:
            if broken := self.end_chain():
                return broken
            self.chain_id = row["chain_id"]
            self.seen.add(self.chain_id)
            self.chains += 1
            self.expected_seq, self.expected_prev = 1, GENESIS
        seq, row_id = row["seq"], row["id"]

        def broken_link(problem: str, detail: str) -> ChainBreak:
            return ChainBreak(self.table, self.chain_id, seq, row_id, problem, detail)

        if seq != self.expected_seq:
            return broken_link("seq_gap", f"expected seq {self.expected_seq}, found {seq}")
        if row["prev_hash"] != self.expected_prev:
            return broken_link("prev_hash_mismatch", "prev_hash differs from the hash of the previous row")
        content = {c: row[c] for c in content_columns}
        if record_hash(self.table, self.chain_id, seq, row["prev_hash"], content) != row["hash"]:
            return broken_link("hash_mismatch", "row content does not match its hash")
        head = self.heads.get(self.chain_id)
        if head is not None and head.seq == seq:
            self.heads_checked += 1
            if head.hash != row["hash"]:
                return broken_link("head_mismatch", "row hash differs from the chain head")
        self.records += 1
        self.expected_seq, self.expected_prev, self.last_id = seq + 1, row["hash"], row_id
        return None

    def missing_chains(self) -> ChainBreak | None:
        """A head whose chain has no rows at all: the whole chain was deleted."""
        for chain_id, head in sorted(self.heads.items()):
            if chain_id not in self.seen:
                detail = f"head at seq {head.seq} but no rows of the chain remain"
                return ChainBreak(self.table, chain_id, 1, None, "truncated", detail)
        return None

    async def settle(self, conn: AsyncConnection, table: Table) -> ChainBreak | None:
        """Chains the walk found longer than their head (or without one), against the heads now: the
        writer moves rows and head in one transaction, so a later head covers every row it committed."""
        if not self.unsettled:
            return None
        now = await _read_heads(conn, self.table)
        for tail in self.unsettled:
            head = now.get(tail.chain_id)
            if head is None:
                detail = "the chain has rows but no head in audit_chain_heads"
                return ChainBreak(self.table, tail.chain_id, tail.seq, tail.id, "head_missing", detail)
            if head.seq < tail.seq:
                query = select(table.c.id).where(
                    table.c.chain_id == tail.chain_id, table.c.seq == head.seq + 1
                )
                row_id = (await conn.execute(query)).scalar()
                detail = f"chain runs to seq {tail.seq} but its head is at seq {head.seq}"
                return ChainBreak(self.table, tail.chain_id, head.seq + 1, row_id, "beyond_head", detail)
            if head.seq == tail.seq:
                self.heads_checked += 1
                if head.hash != tail.hash:
                    detail = "row hash differs from the chain head"
                    return ChainBreak(self.table, tail.chain_id, tail.seq, tail.id, "head_mismatch", detail)
            # head.seq > tail.seq: the chain grew after the walk passed it
        return None


async def verify(database: Database, *, batch_size: int = 1000) -> VerifyReport:
    """Recompute and check every chain of every audit table, streaming in batches of `batch_size`
    rows; stop at the first broken link."""
    records = chains = heads_checked = 0

    def report(first_break: ChainBreak | None) -> VerifyReport:
        return VerifyReport(first_break is None, records, chains, heads_checked, first_break)

    for model in CHAINED_TABLES:
        table: Table = model.__table__  # type: ignore[assignment]
        content_columns = [c.name for c in table.columns if c.name not in CHAIN_COLUMNS]
        broken: ChainBreak | None = None
        after: tuple[str, int] | None = None
        async with database.engine.connect() as conn:
            walk = _Walk(table.name, await _read_heads(conn, table.name))
            while broken is None:
                stmt = select(table).order_by(table.c.chain_id, table.c.seq).limit(batch_size)
                if after is not None:
                    stmt = stmt.where(tuple_(table.c.chain_id, table.c.seq) > tuple_(*after))
                rows = (await conn.execute(stmt)).mappings().all()
                for row in rows:
                    if broken := walk.check(row, content_columns):
                        break
                if len(rows) < batch_size:
                    break
                after = (rows[-1]["chain_id"], rows[-1]["seq"])
            broken = broken or walk.end_chain() or walk.missing_chains() or await walk.settle(conn, table)
        records += walk.records
        chains += walk.chains
        heads_checked += walk.heads_checked
        if broken:
            return report(broken)
    return report(None)
