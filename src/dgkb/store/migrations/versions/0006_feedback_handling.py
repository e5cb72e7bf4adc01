"""Handling of complaints and reports: the complainant, the Awb term, an optimistic lock, and per
history step who/why/under which purpose, its audit trace id and the message to the customer.

Revision ID: 0006_feedback_handling
Revises: 0005_audit_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_feedback_handling"
down_revision = "0005_audit_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback_items") as batch:
        batch.add_column(sa.Column("subject_value", sa.String(32)))
        batch.add_column(sa.Column("voorkeurskanaal", sa.String(32)))
        batch.add_column(sa.Column("versie", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("termijn_weken", sa.Integer))
        batch.add_column(sa.Column("verdaging_weken", sa.Integer))
    with op.batch_alter_table("feedback_status_history") as batch:
        batch.add_column(sa.Column("volgnummer", sa.Integer))
        batch.add_column(sa.Column("gebeurtenis", sa.String(32)))
        batch.add_column(sa.Column("rol", sa.String(32)))
        batch.add_column(sa.Column("processing_activity_id", sa.String(500)))
        batch.add_column(sa.Column("trace_id", sa.String(32)))
        batch.add_column(sa.Column("bericht_soort", sa.String(32)))
        batch.add_column(sa.Column("bericht_tekst", sa.String(5000)))
        batch.add_column(sa.Column("bericht_kanaal", sa.String(32)))
        batch.add_column(sa.Column("bericht_status", sa.String(16)))
        batch.create_unique_constraint("item_volgnummer", ["item_id", "volgnummer"])
    op.create_index("ix_feedback_status_history_trace_id", "feedback_status_history", ["trace_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_status_history_trace_id", "feedback_status_history")
    with op.batch_alter_table("feedback_status_history") as batch:
        batch.drop_constraint("item_volgnummer", type_="unique")
        for column in (
            "bericht_status",
            "bericht_kanaal",
            "bericht_tekst",
            "bericht_soort",
            "trace_id",
            "processing_activity_id",
            "rol",
            "gebeurtenis",
            "volgnummer",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("feedback_items") as batch:
        for column in ("verdaging_weken", "termijn_weken", "versie", "voorkeurskanaal", "subject_value"):
            batch.drop_column(column)
