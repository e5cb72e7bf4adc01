"""Periodic samples of the sources' health, for availability and latency over time on the dashboard.

The gateway keeps health in memory only (a rolling window per process, dgkb.federation.health); the
dashboard needs history, so every `meten_gezondheid_seconds` each process stores, per source it
called, the calls, errors and latency (p50, p95) since its previous sample. Several processes each
store their own rows (`node`); the dashboard adds calls and errors up and takes the highest p95.
No personal data: counts and durations only.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from dgkb.domain.periods import AMSTERDAM
from dgkb.federation.fanout import Federation
from dgkb.store.db import Database
from dgkb.store.meten import HealthSampleRow


class HealthSampler:
    def __init__(self, *, database: Database, federation: Federation, node: str | None = None) -> None:
        self._db = database
        self._federation = federation
        self.node = node or secrets.token_hex(4)

    async def sample(self, now: datetime | None = None) -> int:
        """Store one row per source called since the previous sample; returns how many."""
        now = now or datetime.now(UTC)
        local = now.astimezone(AMSTERDAM)
        rows = [
            HealthSampleRow(
                bron=source_id,
                node=self.node,
                gemeten_op=now,
                dag=local.date(),
                uur=local.hour,
                aanroepen=s.calls,
                fouten=s.errors,
                p50_ms=s.p50_ms,
                p95_ms=s.p95_ms,
            )
            for source_id, s in self._federation.health_intervals().items()
            if s.calls
        ]
        if rows:
            async with self._db.transaction() as session:
                session.add_all(rows)
        return len(rows)
