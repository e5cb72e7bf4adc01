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

`verify` walks every chain of every table in (chain_id, seq) order in batches, recomputes hashes,
checks seq continuity, prev_hash links and the last anchor of each chain (tail truncation).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, func, select, tuple_
from sqlalchemy.engine import RowMapping

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


def record_hash(table: str, chain_id: str, seq: int, prev_hash: str, content: Mapping[str, Any]) -> str:
    """The hash of one audit row. NULL fields are left out, so adding a nullable column later keeps
    the hashes of older rows valid."""
    payload = {
        "table": table,
        "chain_id": chain_id,
        "seq": seq,
        "prev_hash": prev_hash,
        "fields": {k: _canonical_value(v) for k, v in content.items() if v is not None},
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Head:
    seq: int = 0
    hash: str = GENESIS


class Chain:
    """One chain: per audit table the committed head. Used by one append at a time (see ChainPool)."""

    def __init__(self, chain_id: str) -> None:
        self.chain_id = chain_id
        self._heads: dict[str, Head] = {}
        self._anchored: dict[str, int] = {}

    def head(self, table: str) -> Head:
        return self._heads.get(table, Head())

    @property
    def heads(self) -> Mapping[str, Head]:
        return dict(self._heads)

    def append(self) -> ChainAppend:
        """Start linking rows; the chain moves only when the returned append is committed."""
        return ChainAppend(self)

    def unanchored(self) -> Iterator[tuple[str, Head]]:
        for table, head in self._heads.items():
            if self._anchored.get(table) != head.seq:
                yield table, head

    def mark_anchored(self, table: str, seq: int) -> None:
        self._anchored[table] = max(seq, self._anchored.get(table, 0))


class ChainAppend:
    """Rows linked onto a chain inside one transaction; `commit()` after the database committed."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self._heads = dict(chain._heads)
        self.started: list[tuple[str, Head]] = []  # first rows of the chain in a table: anchor them

    @property
    def chain_id(self) -> str:
        return self._chain.chain_id

    def link(self, table: str, content: Mapping[str, Any]) -> dict[str, Any]:
        """The row to insert: content plus chain_id, seq, prev_hash and hash."""
        head = self._heads.get(table, Head())
        seq = head.seq + 1
        digest = record_hash(table, self._chain.chain_id, seq, head.hash, content)
        self._heads[table] = Head(seq, digest)
        if seq == 1:
            self.started.append((table, Head(seq, digest)))
        return {
            **content,
            "chain_id": self._chain.chain_id,
            "seq": seq,
            "prev_hash": head.hash,
            "hash": digest,
        }

    def commit(self) -> None:
        self._chain._heads = self._heads
        for table, head in self.started:
            self._chain.mark_anchored(table, head.seq)


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
    id: int | None  # row id; None when the row is missing (truncated tail)
    problem: str  # hash_mismatch | seq_gap | prev_hash_mismatch | anchor_mismatch | truncated
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    records: int
    chains: int  # (table, chain) pairs walked
    anchors: int  # last anchors matched against their row
    first_break: ChainBreak | None = None

    @property
    def summary(self) -> str:
        """One line for operators (Dutch, like the CLI)."""
        checked = f"{self.records} records in {self.chains} ketens, {self.anchors} ankers gecontroleerd"
        b = self.first_break
        if b is None:
            return checked
        row = f"id {b.id}" if b.id is not None else "rij ontbreekt"
        return f"{b.table} keten {b.chain_id} seq {b.seq} ({row}): {b.problem}: {b.detail}; {checked}"


# (table, chain_id) -> (seq of the last anchor, hashes anchored at that seq)
_Anchors = dict[tuple[str, str], tuple[int, set[str]]]


async def _last_anchors(database: Database) -> _Anchors:
    heads = AuditChainHead.__table__
    last = (
        select(heads.c.table_name, heads.c.chain_id, func.max(heads.c.seq).label("seq"))
        .group_by(heads.c.table_name, heads.c.chain_id)
        .subquery()
    )
    stmt = select(heads.c.table_name, heads.c.chain_id, heads.c.seq, heads.c.hash).join(
        last,
        and_(
            heads.c.table_name == last.c.table_name,
            heads.c.chain_id == last.c.chain_id,
            heads.c.seq == last.c.seq,
        ),
    )
    anchors: _Anchors = {}
    async with database.engine.connect() as conn:
        for table_name, chain_id, seq, digest in (await conn.execute(stmt)).all():
            anchors.setdefault((table_name, chain_id), (seq, set()))[1].add(digest)
    return anchors


class _Walk:
    """State of the walk over one table: the chain being checked and what the next row must be."""

    def __init__(self, table: str, anchors: _Anchors) -> None:
        self.table = table
        self.anchors = anchors
        self.chain_id = ""
        self.expected_seq = 0  # 0 = no chain started yet
        self.expected_prev = GENESIS
        self.records = self.chains = self.anchors_checked = 0
        self.seen: set[str] = set()

    def end_chain(self) -> ChainBreak | None:
        """At the end of a chain: its last row must not be older than its last anchor."""
        if not self.expected_seq:
            return None
        last_seq = self.expected_seq - 1
        anchor = self.anchors.get((self.table, self.chain_id))
        if anchor is not None and anchor[0] > last_seq:
            detail = f"chain ends at seq {last_seq} but was anchored at seq {anchor[0]}"
            return ChainBreak(self.table, self.chain_id, last_seq + 1, None, "truncated", detail)
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
        anchor = self.anchors.get((self.table, self.chain_id))
        if anchor is not None and anchor[0] == seq:
            self.anchors_checked += 1
            if anchor[1] != {row["hash"]}:
                return broken_link("anchor_mismatch", "row hash differs from the anchored head")
        self.records += 1
        self.expected_seq, self.expected_prev = seq + 1, row["hash"]
        return None


async def verify(database: Database, *, batch_size: int = 1000) -> VerifyReport:
    """Recompute and check every chain of every audit table, streaming in batches of `batch_size`
    rows; stop at the first broken link."""
    anchors = await _last_anchors(database)
    records = chains = anchors_checked = 0
    seen: set[tuple[str, str]] = set()

    def report(first_break: ChainBreak | None) -> VerifyReport:
        return VerifyReport(first_break is None, records, chains, anchors_checked, first_break)

    for model in CHAINED_TABLES:
        table: Table = model.__table__  # type: ignore[assignment]
        content_columns = [c.name for c in table.columns if c.name not in CHAIN_COLUMNS]
        walk = _Walk(table.name, anchors)
        broken: ChainBreak | None = None
        after: tuple[str, int] | None = None
        async with database.engine.connect() as conn:
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
        broken = broken or walk.end_chain()
        records += walk.records
        chains += walk.chains
        anchors_checked += walk.anchors_checked
        seen.update((table.name, c) for c in walk.seen)
        if broken:
            return report(broken)

    for (name, chain_id), (seq, _) in sorted(anchors.items()):
        if (name, chain_id) not in seen:
            detail = f"anchored at seq {seq} but no rows of the chain remain"
            return report(ChainBreak(name, chain_id, 1, None, "truncated", detail))
    return report(None)
