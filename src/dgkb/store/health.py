"""Whether DGKB reaches its database and its audit log: the readiness half of /api/v1/status and
/health/ready (no personal data).

The readiness probe runs every few seconds from every load balancer, also while the node is busy, so
it has a connection of its own (PostgreSQL: a pool of one, no overflow): a pool taken by a burst of
views is load, not an outage, and must not take the node out of the pool. Every check is bounded
(`timeout`), so a hung database answers "not ready" in about a second instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dgkb.store.audit_tables import AuditChainHead
from dgkb.store.db import Database, create_engine

__all__ = ["PROBE_TIMEOUT", "Health"]

PROBE_TIMEOUT = 1.0  # seconds one readiness check may take


class Health:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._probe_engine: AsyncEngine | None = None

    async def database_reachable(self) -> bool:
        """One trivial query; any failure (down, refused, timed out, misconfigured) is `False`."""
        try:
            async with self._database.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _engine(self) -> AsyncEngine:
        if self._database.is_sqlite:  # one file, no server to lose: the app's own pool will do
            return self._database.engine
        if self._probe_engine is None:
            self._probe_engine = create_engine(
                self._database.url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=PROBE_TIMEOUT,
                connect_args={"timeout": PROBE_TIMEOUT},  # asyncpg's connect timeout
            )
        return self._probe_engine

    async def _answers(self, sql: str, timeout: float) -> bool:  # noqa: ASYNC109 (a probe's own bound)
        try:
            async with asyncio.timeout(timeout):
                async with self._engine().connect() as conn:
                    await conn.execute(text(sql))
        except Exception:  # down, refused, timed out, no such table: not usable, whatever the cause
            return False
        return True

    async def database_ready(self, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109
        """`SELECT 1` on the probe connection within `timeout`."""
        return await self._answers("SELECT 1", timeout)

    async def audit_ready(self, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109
        """The audit log's chain heads are readable within `timeout`: the tables are there (migrated)
        and the database serves them. No view is shown without its log record, so a node whose log is
        unusable can only refuse views: not ready."""
        table = AuditChainHead.__tablename__
        return await self._answers(f"SELECT 1 FROM {table} LIMIT 1", timeout)  # noqa: S608 (a constant)

    async def aclose(self) -> None:
        engine, self._probe_engine = self._probe_engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                await engine.dispose()
