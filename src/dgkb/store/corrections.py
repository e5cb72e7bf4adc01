"""Correction requests ("Klopt er iets niet?"): what a customer says is wrong in the data DGKB showed
them, where DGKB sent it (the owner of the source, as configured) and how far it got. The subject is
kept by pseudonym only; the request's texts are the customer's own words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime

__all__ = ["CorrectionRepository", "CorrectionRow"]


class CorrectionRow(Base):
    __tablename__ = "correction_requests"
    __table_args__ = (Index("ix_correction_requests_subject", "subject_key", "ingediend_op"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nummer: Mapped[str] = mapped_column(String(32), unique=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    categorie: Mapped[str] = mapped_column(String(100))
    bron_id: Mapped[str] = mapped_column(String(100))
    onderdeel: Mapped[str] = mapped_column(String(200))  # which item, in the customer's words
    wat_klopt_niet: Mapped[str] = mapped_column(String(1000))
    juiste_gegevens: Mapped[str | None] = mapped_column(String(1000))
    # ontvangen (stored, not sent on) | doorgestuurd (a task at the owner) | afgehandeld
    status: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(32))  # interne-taak | zaak
    team: Mapped[str | None] = mapped_column(String(200))
    taak_nummer: Mapped[str | None] = mapped_column(String(64))
    taak_uuid: Mapped[str | None] = mapped_column(String(36))
    klantcontact_uuid: Mapped[str | None] = mapped_column(String(36))
    zaak_identificatie: Mapped[str | None] = mapped_column(String(40))  # route zaak: the zaak made
    zaak_url: Mapped[str | None] = mapped_column(String(1000))
    fout: Mapped[str | None] = mapped_column(String(500))  # why it was not sent on (Dutch)
    # the owner's question the customer last answered (its text: a zaak's opschorting has no id of its
    # own) and when; the answer itself is written to the source, not kept here
    beantwoorde_vraag: Mapped[str | None] = mapped_column(String(1000))
    beantwoord_op: Mapped[datetime | None] = mapped_column(UtcDateTime)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    ingediend_op: Mapped[datetime] = mapped_column(UtcDateTime)
    bijgewerkt_op: Mapped[datetime] = mapped_column(UtcDateTime)


class CorrectionRepository:
    async def add(self, session: AsyncSession, row: CorrectionRow) -> None:
        session.add(row)
        await session.flush()

    async def for_subject(
        self,
        session: AsyncSession,
        *,
        subject_keys: Sequence[str],
        organisations: Sequence[str] | None = None,
        limit: int = 200,
    ) -> list[CorrectionRow]:
        query = select(CorrectionRow).where(CorrectionRow.subject_key.in_(subject_keys))
        if organisations is not None:
            query = query.where(CorrectionRow.organisation.in_(organisations))
        query = query.order_by(CorrectionRow.ingediend_op.desc()).limit(limit)
        return list(await session.scalars(query))
