"""Repository of consents (toestemmingen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
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
