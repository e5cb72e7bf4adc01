"""Tables of what DGKB owns besides the audit log: contact sessions and consents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime


class ContactSessionRow(Base):
    """A contact (or a case worker's zaak session). The plain subject identifier is kept only while
    the session is open (sources need it); on end it is cleared and only the pseudonym remains."""

    __tablename__ = "contact_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(200), index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    organisation_unit: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    purpose_id: Mapped[str | None] = mapped_column(String(500))
    subject_kind: Mapped[str | None] = mapped_column(String(32))
    subject_value: Mapped[str | None] = mapped_column(String(32))
    subject_key: Mapped[str | None] = mapped_column(String(64), index=True)
    key_id: Mapped[str | None] = mapped_column(String(64))
    assurance: Mapped[str | None] = mapped_column(String(32))
    shielded: Mapped[bool] = mapped_column(Boolean, default=False)
    zaak_identificatie: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsentRow(Base):
    """Consent of a data subject for categories of one processing activity. Never deleted:
    withdrawal sets `withdrawn_at`, so the history of consent stays auditable."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_purpose", "subject_key", "processing_activity_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    categories: Mapped[str] = mapped_column(Text)  # JSON list
    channel: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RatingRow(Base):
    """A rating (beoordeling) of a contact or service, NPS-style 0–10; DGKB's own store when no
    external system holds satisfaction data."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_subject_time", "subject_key", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    toelichting: Mapped[str | None] = mapped_column(String(1000))
    kanaal: Mapped[str] = mapped_column(String(32))
    onderwerp: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FeedbackItemRow(Base):
    """A complaint (klacht) or report (melding) with its current status; history in the next table."""

    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_subject_kind", "subject_key", "soort"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nummer: Mapped[str] = mapped_column(String(32), unique=True)
    soort: Mapped[str] = mapped_column(String(16))  # klacht | melding
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    onderwerp: Mapped[str] = mapped_column(String(200))
    omschrijving: Mapped[str] = mapped_column(Text)
    locatie: Mapped[str | None] = mapped_column(String(300))
    kanaal: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    ingediend_op: Mapped[datetime] = mapped_column(UtcDateTime)
    afgehandeld_op: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FeedbackStatusRow(Base):
    __tablename__ = "feedback_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), ForeignKey("feedback_items.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    toelichting: Mapped[str | None] = mapped_column(String(1000))
    gezet_door: Mapped[str | None] = mapped_column(String(200))
    gezet_op: Mapped[datetime] = mapped_column(UtcDateTime)
