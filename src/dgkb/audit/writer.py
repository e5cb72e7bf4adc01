# SPDX-License-Identifier: EUPL-1.2
"""The audit writer: log before you show, fail closed (DESIGN §3.4).

One processing = one short transaction inserting its LDV record(s), the decision record (if any) and
the access record, each linked onto a hash chain of this process's pool, and moving the head of that
chain in each of those tables (one upsert of `audit_chain_heads`), so the log can never lose its newest
rows unnoticed. If anything fails the whole transaction rolls back, the chain head stays where it was
and `AuditUnavailable` is raised: the caller fails the request and shows nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from dgkb.audit.chain import ChainPool, Head
from dgkb.audit.records import (
    AuditUnavailable,
    DecisionLike,
    Outcome,
    access_content,
    decision_content,
    ldv_content,
)
from dgkb.domain.context import RequestContext
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import DEFAULT_RETENTION, Register
from dgkb.store.audit_tables import AccessRecord, AuditChainHead, DecisionRecord, LdvRecord
from dgkb.store.db import Database

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
    ) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        # the one place a record's retention comes from: the register's bewaartermijn of its purpose
        self._register = register
        self._move_heads = move_heads("sqlite" if database.is_sqlite else "postgresql")
        self.pool = ChainPool(chains)

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

    async def _append(self, records: Sequence[tuple[Table, Mapping[str, Any]]]) -> None:
        """Link `records` onto one chain of the pool and write them, with the chain's new head in each
        of their tables, in one transaction; or raise `AuditUnavailable` and leave the chain as it was."""
        async with self.pool.acquire() as chain:
            append = chain.append()
            rows = [(table, append.link(table.name, content)) for table, content in records]
            # The heads move in the same transaction: a chain always ends exactly at its head.
            now = datetime.now(UTC)
            heads = [head_row(append.chain_id, t, h, now) for t, h in append.moved.items()]
            committing = False
            try:
                async with self._database.engine.connect() as conn:
                    for table, row in rows:
                        await conn.execute(table.insert(), row)
                    await conn.execute(self._move_heads, heads)
                    committing = True
                    await conn.commit()
            except BaseException as exc:
                if committing:
                    # The commit may or may not have happened: this chain's head is unknown now.
                    self.pool.retire(chain)
                if isinstance(exc, Exception):
                    raise AuditUnavailable("het toegangslog kan niet worden geschreven") from exc
                raise
            append.commit()
