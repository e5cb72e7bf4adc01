"""Repository of contact sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dgkb.store.tables import ContactSessionRow


class ContactRepository:
    async def add(self, session: AsyncSession, row: ContactSessionRow) -> None:
        session.add(row)
        await session.flush()

    async def get(self, session: AsyncSession, contact_id: str) -> ContactSessionRow | None:
        return await session.get(ContactSessionRow, contact_id)

    async def touch(self, session: AsyncSession, contact_id: str, at: datetime) -> None:
        await session.execute(
            update(ContactSessionRow).where(ContactSessionRow.id == contact_id).values(last_activity_at=at)
        )

    async def open_for_actor(self, session: AsyncSession, actor_id: str) -> list[ContactSessionRow]:
        result = await session.scalars(
            select(ContactSessionRow)
            .where(ContactSessionRow.actor_id == actor_id, ContactSessionRow.ended_at.is_(None))
            .order_by(ContactSessionRow.started_at.desc())
            .limit(50)
        )
        return list(result)

    async def idle_since(self, session: AsyncSession, cutoff: datetime) -> list[ContactSessionRow]:
        result = await session.scalars(
            select(ContactSessionRow).where(
                ContactSessionRow.ended_at.is_(None), ContactSessionRow.last_activity_at < cutoff
            )
        )
        return list(result)
