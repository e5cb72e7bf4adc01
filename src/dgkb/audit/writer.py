# SPDX-License-Identifier: EUPL-1.2
"""The audit writer: log before you show, fail closed (DESIGN §3.4).

One processing = one short transaction inserting its LDV record(s), the decision record (if any) and
the access record, each linked onto a hash chain of this process's pool. If anything fails the whole
transaction rolls back, the chain head stays where it was and `AuditUnavailable` is raised: the caller
fails the request and shows nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

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
from dgkb.store.audit_tables import AccessRecord, AuditChainHead, DecisionRecord, LdvRecord
from dgkb.store.db import Database

LDV: Table = LdvRecord.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRecord.__table__  # type: ignore[assignment]
ACCESS: Table = AccessRecord.__table__  # type: ignore[assignment]
HEADS: Table = AuditChainHead.__table__  # type: ignore[assignment]


def anchor_row(chain_id: str, table: str, head: Head, now: datetime) -> dict[str, Any]:
    return {"table_name": table, "chain_id": chain_id, "seq": head.seq, "hash": head.hash, "anchored_at": now}


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


class AuditWriter:
    """Writes the LDV, decision and access logs; built once per process in the app lifespan."""

    def __init__(self, database: Database, pseudonymizer: Pseudonymizer, chains: int = 4) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        self.pool = ChainPool(chains)

    async def record_klantbeeld(
        self,
        *,
        context: RequestContext,
        decision: DecisionLike,
        retention: str,
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
            retention=retention,
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
        retention: str,
        started_at: datetime,
        ended_at: datetime,
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
        async with self.pool.acquire() as chain:
            append = chain.append()
            batches: list[tuple[Table, dict[str, Any]]] = [(LDV, append.link(LDV.name, ldv))]
            if decided is not None:
                batches.append((DECISIONS, append.link(DECISIONS.name, decided)))
            batches.append((ACCESS, append.link(ACCESS.name, access)))
            # A chain's birth is anchored in the same transaction, so deleting a whole chain shows.
            batches.extend(
                (HEADS, anchor_row(append.chain_id, t, h, datetime.now(UTC))) for t, h in append.started
            )
            committing = False
            try:
                async with self._database.engine.connect() as conn:
                    for table, row in batches:
                        await conn.execute(table.insert(), row)
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

    async def anchor(self) -> int:
        """Write the committed head of every chain that moved since its last anchor (periodically and
        at shutdown), so that cutting off a chain's tail is detectable. Returns the anchors written."""
        now = datetime.now(UTC)
        heads = [(chain, table, head) for chain in self.pool.chains for table, head in chain.unanchored()]
        rows = [anchor_row(c.chain_id, t, h, now) for c, t, h in heads]
        if not rows:
            return 0
        try:
            async with self._database.engine.begin() as conn:
                await conn.execute(HEADS.insert(), rows)
        except Exception as exc:
            raise AuditUnavailable("de ankers van het toegangslog kunnen niet worden geschreven") from exc
        for chain, table, head in heads:
            chain.mark_anchored(table, head.seq)
        return len(rows)
