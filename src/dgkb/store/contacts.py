"""Repository of contact sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dgkb.domain.assurance import IdentificationEvidence
from dgkb.store.tables import ContactSessionRow


class ContactRepository:
    async def add(self, session: AsyncSession, row: ContactSessionRow) -> None:
        session.add(row)
        await session.flush()

    async def get(self, session: AsyncSession, contact_id: str) -> ContactSessionRow | None:
        return await session.get(ContactSessionRow, contact_id)

    async def read_many(self, conn: AsyncConnection, contact_ids: Sequence[str]) -> list[Row[Any]]:
        """Contact sessions as plain Core rows (their columns as attributes), in one SELECT: the
        read of every page of Mijn omgeving, without building ORM objects."""
        table = ContactSessionRow.__table__
        result = await conn.execute(select(table).where(table.c.id.in_(list(contact_ids))))
        return list(result)

    async def touch_many(self, session: AsyncSession, contact_ids: Sequence[str], at: datetime) -> None:
        await session.execute(
            update(ContactSessionRow)
            .where(ContactSessionRow.id.in_(list(contact_ids)))
            .values(last_activity_at=at)
        )

    async def touch(self, session: AsyncSession, contact_id: str, at: datetime) -> None:
        await session.execute(
            update(ContactSessionRow).where(ContactSessionRow.id == contact_id).values(last_activity_at=at)
        )

    async def bind_subject(
        self,
        session: AsyncSession,
        contact_id: str,
        *,
        subject_kind: str,
        subject_value: str,
        subject_key: str,
        key_id: str,
        known_keys: Sequence[str] = (),
        assurance: str,
        shielded: bool,
        at: datetime,
        evidence: IdentificationEvidence,
    ) -> bool:
        """Bind a subject to an open contact in one conditional UPDATE: it succeeds only when the
        contact has no subject yet or already this one, so two concurrent identifications of one
        fresh contact cannot both win (the database serialises the update). True when bound.
        `known_keys`: the subject's pseudonyms under the other keys of the ring, so a contact bound
        before a key rotation is still this subject's."""
        c = ContactSessionRow
        result = await session.execute(
            update(c)
            .where(
                c.id == contact_id,
                c.ended_at.is_(None),
                or_(c.subject_key.is_(None), c.subject_key.in_([subject_key, *known_keys])),
            )
            .values(
                subject_kind=subject_kind,
                subject_value=subject_value,
                subject_key=subject_key,
                key_id=key_id,
                assurance=assurance,
                shielded=shielded,
                last_activity_at=at,
                identification_method=evidence.method.value,
                identification_issuer=evidence.issuer,
                identification_acr=evidence.acr,
                identification_at=evidence.authenticated_at or at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

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
