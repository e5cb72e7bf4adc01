# SPDX-License-Identifier: EUPL-1.2
"""Audit logs: LDV, decision and access records (hash-chained, append-only) and chain anchors.

Revision ID: 0002_audit
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_base"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_APPEND_ONLY = ("ldv_records", "decision_records", "access_records", "audit_chain_heads")


def _chain_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.String(96), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ldv_records",
        *_chain_columns(),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.String(8), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("data_subject_id", sa.String(64), nullable=False),
        sa.Column("data_subject_id_type", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("retention_until", sa.Date, nullable=False),
        sa.UniqueConstraint("chain_id", "seq", name="uq_ldv_records_chain_seq"),
    )
    op.create_index("ix_ldv_records_subject_time", "ldv_records", ["data_subject_id", "start_time"])
    op.create_index("ix_ldv_records_activity_time", "ldv_records", ["processing_activity_id", "start_time"])
    op.create_index("ix_ldv_records_trace_id", "ldv_records", ["trace_id"])

    op.create_table(
        "decision_records",
        *_chain_columns(),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("register_version", sa.String(100), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("consent_status", sa.Text),
        sa.Column("data_subject_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("chain_id", "seq", name="uq_decision_records_chain_seq"),
    )
    op.create_index(
        "ix_decision_records_subject_time", "decision_records", ["data_subject_id", "occurred_at"]
    )
    op.create_index(
        "ix_decision_records_activity_time", "decision_records", ["processing_activity_id", "occurred_at"]
    )
    op.create_index("ix_decision_records_trace_id", "decision_records", ["trace_id"])

    op.create_table(
        "access_records",
        *_chain_columns(),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(32), nullable=False),
        sa.Column("organisation_unit", sa.String(200)),
        sa.Column("assurance", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("contact_id", sa.String(64)),
        sa.Column("data_subject_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("data_subject_id_type", sa.String(32), nullable=False),
        sa.Column("categories_requested", sa.Text, nullable=False),
        sa.Column("categories_delivered", sa.Text, nullable=False),
        sa.Column("categories_denied", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.UniqueConstraint("chain_id", "seq", name="uq_access_records_chain_seq"),
    )
    op.create_index("ix_access_records_subject_time", "access_records", ["data_subject_id", "occurred_at"])
    op.create_index("ix_access_records_actor_time", "access_records", ["actor_id", "occurred_at"])
    op.create_index(
        "ix_access_records_activity_time", "access_records", ["processing_activity_id", "occurred_at"]
    )
    op.create_index("ix_access_records_trace_id", "access_records", ["trace_id"])

    op.create_table(
        "audit_chain_heads",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.String(96), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_chain_heads_chain", "audit_chain_heads", ["table_name", "chain_id", "seq"])

    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION dgkb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dgkb_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dgkb_audit_append_only()"
        )


def _sqlite_triggers() -> None:
    # SQLite has no TRUNCATE; `DELETE FROM t` without WHERE still fires the row trigger.
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only_{action.lower()} BEFORE {action} ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS dgkb_audit_append_only()")
    else:
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
    for table in reversed(_APPEND_ONLY):
        op.drop_table(table)
