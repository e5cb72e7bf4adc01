"""Tables of meten en leren (issue 15 §4): pseudonymised events, their roll-ups, source health samples.

An event holds no BSN, name, free text or employee: the customer is a pseudonym under a key of its own
(`klant`, see Settings.meten_keyring), so it cannot be joined to the access log's pseudonyms; the time
is kept to the hour only (the access log has the exact moment of each registration), with the
Amsterdam day, ISO week and (whole-week) month precomputed so that roll-ups group portably on SQLite
and PostgreSQL. `bewaren_tot` comes from the bewaartermijn of the organisation's meten-en-leren purpose.

Roll-ups (`meten_rollups`) are what the dashboard reads: one row per organisation, family, dimension,
key, grain and bucket with the count, the number of distinct customers and whether the cell may be
shown (`gepubliceerd`, decided by dgkb.dashboard.suppression); other sums in `waarden` (JSON).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ContactEventRow(Base):
    """One saved question of a contact moment."""

    __tablename__ = "meten_contact_events"
    __table_args__ = (
        Index("ix_meten_contact_events_block", "organisation", "maand"),
        Index("ix_meten_contact_events_repeat", "organisation", "klant", "onderwerp", "occurred_at"),
        Index("ix_meten_contact_events_retention", "bewaren_tot"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)  # truncated to the hour
    dag: Mapped[date] = mapped_column(Date)  # Europe/Amsterdam
    week: Mapped[date] = mapped_column(Date)  # Monday of the ISO week
    maand: Mapped[date] = mapped_column(Date)  # first of the month holding the week's Thursday
    kanaal: Mapped[str] = mapped_column(String(32))
    onderwerp: Mapped[str] = mapped_column(String(64))  # id from onderwerpen.yaml, never free text
    uitkomst: Mapped[str] = mapped_column(String(32))
    beantwoord: Mapped[bool | None] = mapped_column(Boolean)  # "vraag beantwoord?"; unknown = NULL
    doorverwezen_naar: Mapped[str | None] = mapped_column(String(100))  # from the configured list
    duur_seconden: Mapped[int | None] = mapped_column(Integer)  # the contact's handling time, once
    team: Mapped[str | None] = mapped_column(String(200))  # the employee's team, never the employee
    herhaald: Mapped[bool] = mapped_column(Boolean)  # ≥ 2 earlier contacts, same onderwerp, window
    klant: Mapped[str | None] = mapped_column(String(64))  # pseudonym (own key); NULL: anonymous
    key_id: Mapped[str | None] = mapped_column(String(64))
    bewaren_tot: Mapped[date] = mapped_column(Date)


class FeedbackEventRow(Base):
    """A rating given, or a complaint or report submitted or closed (with its throughput time)."""

    __tablename__ = "meten_feedback_events"
    __table_args__ = (
        Index("ix_meten_feedback_events_block", "organisation", "maand"),
        Index("ix_meten_feedback_events_retention", "bewaren_tot"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dag: Mapped[date] = mapped_column(Date)
    week: Mapped[date] = mapped_column(Date)
    maand: Mapped[date] = mapped_column(Date)
    soort: Mapped[str] = mapped_column(String(16))  # oordeel | klacht | melding
    fase: Mapped[str] = mapped_column(String(16))  # gegeven | ingediend | afgehandeld
    kanaal: Mapped[str | None] = mapped_column(String(32))
    onderwerp: Mapped[str] = mapped_column(String(64))  # a configured onderwerp id or "overig"
    score: Mapped[int | None] = mapped_column(Integer)  # NPS question 0–10
    waardering: Mapped[int | None] = mapped_column(Integer)  # 1–5
    doorlooptijd_dagen: Mapped[float | None] = mapped_column(Float)  # at fase afgehandeld
    klant: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(64))
    bewaren_tot: Mapped[date] = mapped_column(Date)


class RollupRow(Base):
    """One cell of the dashboard, computed by an aggregation run."""

    __tablename__ = "meten_rollups"
    __table_args__ = (
        UniqueConstraint(
            "organisation", "familie", "dim", "sleutel", "grain", "bucket", name="uq_meten_rollups_cell"
        ),
        Index("ix_meten_rollups_view", "organisation", "grain", "bucket"),
        Index("ix_meten_rollups_block", "organisation", "familie", "maand"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(20))
    familie: Mapped[str] = mapped_column(String(16))  # contact | doorverwijzing | oordeel | klacht | melding
    dim: Mapped[str] = mapped_column(String(16))  # totaal | kanaal | onderwerp | team | naar
    sleutel: Mapped[str] = mapped_column(String(200))  # "" for totaal
    grain: Mapped[str] = mapped_column(String(8))  # dag | week | maand
    bucket: Mapped[date] = mapped_column(Date)  # the day, the week's Monday, the month's first
    maand: Mapped[date] = mapped_column(Date)  # the block (whole-week month) the bucket lies in
    aantal: Mapped[int] = mapped_column(Integer)
    klanten: Mapped[int] = mapped_column(Integer)  # distinct customers (anonymous contacts count one each)
    gepubliceerd: Mapped[bool] = mapped_column(Boolean)
    waarden: Mapped[str] = mapped_column(Text)  # JSON: the family's other sums


class HealthSampleRow(Base):
    """A source's calls, errors and latency over one sampling interval of one process (no personal data)."""

    __tablename__ = "meten_bron_gezondheid"
    __table_args__ = (Index("ix_meten_bron_gezondheid_dag", "dag", "bron"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    bron: Mapped[str] = mapped_column(String(100))
    node: Mapped[str] = mapped_column(String(32))
    gemeten_op: Mapped[datetime] = mapped_column(UtcDateTime)
    dag: Mapped[date] = mapped_column(Date)  # Europe/Amsterdam
    uur: Mapped[int] = mapped_column(Integer)  # 0–23, Europe/Amsterdam
    aanroepen: Mapped[int] = mapped_column(Integer)
    fouten: Mapped[int] = mapped_column(Integer)
    p50_ms: Mapped[float | None] = mapped_column(Float)
    p95_ms: Mapped[float | None] = mapped_column(Float)


class MetenStateRow(Base):
    """Where the aggregation stands: the last event ids and day it covered, a version the chart cache
    is keyed on, and a lease so that one node at a time aggregates."""

    __tablename__ = "meten_status"

    naam: Mapped[str] = mapped_column(String(32), primary_key=True)
    laatste_contact: Mapped[int] = mapped_column(BigInteger)
    laatste_feedback: Mapped[int] = mapped_column(BigInteger)
    laatste_dag: Mapped[date | None] = mapped_column(Date)
    versie: Mapped[int] = mapped_column(Integer)
    bezig_tot: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bijgewerkt_op: Mapped[datetime | None] = mapped_column(UtcDateTime)
