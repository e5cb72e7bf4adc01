"""Repository of consents (toestemmingen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dgkb.store.tables import ConsentRow


class ConsentRepository:
    async def add(self, session: AsyncSession, row: ConsentRow) -> None:
        session.add(row)
        await session.flush()

    async def get(self, session: AsyncSession, consent_id: str) -> ConsentRow | None:
        return await session.get(ConsentRow, consent_id)

    async def active(
        self,
        session: AsyncSession,
        *,
        subject_keys: Sequence[str],
        processing_activity_id: str | None,
        at: datetime,
    ) -> list[ConsentRow]:
        """Consents in force at `at`: given, not withdrawn, not expired."""
        query = select(ConsentRow).where(
            ConsentRow.subject_key.in_(subject_keys),
            ConsentRow.given_at <= at,
            or_(ConsentRow.withdrawn_at.is_(None), ConsentRow.withdrawn_at > at),
            or_(ConsentRow.expires_at.is_(None), ConsentRow.expires_at > at),
        )
        if processing_activity_id is not None:
            query = query.where(ConsentRow.processing_activity_id == processing_activity_id)
        return list(await session.scalars(query.order_by(ConsentRow.given_at)))

    async def for_subject(self, session: AsyncSession, *, subject_keys: Sequence[str]) -> list[ConsentRow]:
        query = select(ConsentRow).where(ConsentRow.subject_key.in_(subject_keys))
        return list(await session.scalars(query.order_by(ConsentRow.given_at.desc())))

    async def withdraw(self, session: AsyncSession, consent_id: str, at: datetime) -> bool:
        """Set `withdrawn_at` unless already set; False when another request withdrew it first."""
        result = await session.execute(
            update(ConsentRow)
            .where(ConsentRow.id == consent_id, ConsentRow.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )
        return _count(result) == 1

    async def expired_unlogged(self, session: AsyncSession, *, now: datetime, limit: int) -> list[ConsentRow]:
        """Consents whose expiry passed before `now` (not withdrawn first) and is not logged yet."""
        query = (
            select(ConsentRow)
            .where(
                ConsentRow.expires_at.is_not(None),
                ConsentRow.expires_at <= now,
                ConsentRow.expiry_logged_at.is_(None),
                or_(ConsentRow.withdrawn_at.is_(None), ConsentRow.withdrawn_at > ConsentRow.expires_at),
            )
            .order_by(ConsentRow.expires_at)
            .limit(limit)
        )
        return list(await session.scalars(query))

    async def claim_expiry(self, session: AsyncSession, consent_id: str, at: datetime) -> bool:
        """Mark the expiry as logged; False when another process claimed it first (log it once)."""
        result = await session.execute(
            update(ConsentRow)
            .where(ConsentRow.id == consent_id, ConsentRow.expiry_logged_at.is_(None))
            .values(expiry_logged_at=at)
        )
        return _count(result) == 1

    async def release_expiry(self, session: AsyncSession, consent_id: str) -> None:
        """Undo a claim whose audit record could not be written, so the next sweep retries."""
        await session.execute(
            update(ConsentRow).where(ConsentRow.id == consent_id).values(expiry_logged_at=None)
        )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
