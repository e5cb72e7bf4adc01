# SPDX-License-Identifier: EUPL-1.2
"""The audit log tables: LDV records, decision records, access records, and chain heads.

Narrow, append-only (database triggers reject UPDATE/DELETE/TRUNCATE, see migration 0002) and
hash-chained: every row carries `chain_id`, `seq`, `prev_hash` and `hash` (see `dgkb.audit.chain`).
`audit_chain_heads` holds one row per (table, chain), moved forward in the same transaction as the
records it covers; a trigger lets it only move forward (migration 0005).
Times are stored in UTC (`UtcDateTime`: aware UTC on SQLite and PostgreSQL alike), so a hash recomputed
from a row read back equals the hash computed before the insert.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime

# BIGINT identity on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class ChainedRecord:
    """Columns every hash-chained audit row has."""

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    chain_id: Mapped[str] = mapped_column(String(96))
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LdvRecord(ChainedRecord, Base):
    """Logboek Dataverwerkingen (Logius LDV 1.0): one per processing per data subject. No employee."""

    __tablename__ = "ldv_records"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq", name="uq_ldv_records_chain_seq"),
        Index("ix_ldv_records_subject_time", "data_subject_id", "start_time"),
        Index("ix_ldv_records_activity_time", "processing_activity_id", "start_time"),
        Index("ix_ldv_records_trace_id", "trace_id"),
    )

    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[str] = mapped_column(String(8))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    data_subject_id: Mapped[str] = mapped_column(String(64))
    data_subject_id_type: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(64))
    categories: Mapped[str] = mapped_column(Text)  # JSON list
    retention_until: Mapped[date] = mapped_column(Date)


class DecisionRecord(ChainedRecord, Base):
    """The policy decision log: the AuthZEN-shaped request and the per-category answer."""

    __tablename__ = "decision_records"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq", name="uq_decision_records_chain_seq"),
        Index("ix_decision_records_subject_time", "data_subject_id", "occurred_at"),
        Index("ix_decision_records_activity_time", "processing_activity_id", "occurred_at"),
        Index("ix_decision_records_trace_id", "trace_id"),
    )

    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    register_version: Mapped[str] = mapped_column(String(100))
    request: Mapped[str] = mapped_column(Text)  # JSON object
    response: Mapped[str] = mapped_column(Text)  # JSON object
    consent_status: Mapped[str | None] = mapped_column(Text)  # JSON object
    data_subject_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))


class AccessRecord(ChainedRecord, Base):
    """Internal access log: who (employee/system) accessed whose data, for which purpose."""

    __tablename__ = "access_records"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq", name="uq_access_records_chain_seq"),
        Index("ix_access_records_subject_time", "data_subject_id", "occurred_at"),
        Index("ix_access_records_actor_time", "actor_id", "occurred_at"),
        Index("ix_access_records_activity_time", "processing_activity_id", "occurred_at"),
        Index("ix_access_records_trace_id", "trace_id"),
    )

    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(32))
    organisation_unit: Mapped[str | None] = mapped_column(String(200))
    assurance: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    contact_id: Mapped[str | None] = mapped_column(String(64))
    data_subject_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    data_subject_id_type: Mapped[str] = mapped_column(String(32))
    categories_requested: Mapped[str] = mapped_column(Text)  # JSON list
    categories_delivered: Mapped[str] = mapped_column(Text)  # JSON list
    categories_denied: Mapped[str] = mapped_column(Text)  # JSON list
    outcome: Mapped[str] = mapped_column(String(16))


class AuditChainHead(Base):
    """The committed head (last seq and hash) of one chain in one table: written in the same transaction
    as the chain's records, so a chain whose rows end before its head has lost its tail. Rows can only
    be inserted or moved forward (seq increases; table and chain never change), never deleted.

    Only (table_name, chain_id) is indexed, so moving a head is a HOT update on PostgreSQL."""

    __tablename__ = "audit_chain_heads"
    __table_args__ = (Index("uq_audit_chain_heads_table_chain", "table_name", "chain_id", unique=True),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[str] = mapped_column(String(96))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    anchored_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the head last moved


CHAINED_TABLES: tuple[type[LdvRecord] | type[DecisionRecord] | type[AccessRecord], ...] = (
    LdvRecord,
    DecisionRecord,
    AccessRecord,
)
APPEND_ONLY_TABLES: tuple[str, ...] = (
    "ldv_records",
    "decision_records",
    "access_records",
)
FORWARD_ONLY_TABLES: tuple[str, ...] = ("audit_chain_heads",)
