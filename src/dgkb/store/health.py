"""Whether DGKB reaches its database: the readiness half of /api/v1/status (no personal data)."""

from __future__ import annotations

from sqlalchemy import text

from dgkb.store.db import Database

__all__ = ["Health"]


class Health:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def database_reachable(self) -> bool:
        """One trivial query; any failure (down, refused, timed out, misconfigured) is `False`."""
        try:
            async with self._database.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
