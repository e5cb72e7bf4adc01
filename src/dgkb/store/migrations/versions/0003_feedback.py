"""DGKB's own stores for belevingsdata and feedbackdata: ratings, complaints and reports.

Revision ID: 0003_feedback
Revises: 0002_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_feedback"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def _subject_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("id", sa.String(36), primary_key=True),
        *_subject_columns(),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("toelichting", sa.String(1000)),
        sa.Column("kanaal", sa.String(32), nullable=False),
        sa.Column("onderwerp", sa.String(200)),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("recorded_by", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
    )
    op.create_index("ix_ratings_subject_time", "ratings", ["subject_key", "recorded_at"])
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("nummer", sa.String(32), nullable=False, unique=True),
        sa.Column("soort", sa.String(16), nullable=False),
        *_subject_columns(),
        sa.Column("onderwerp", sa.String(200), nullable=False),
        sa.Column("omschrijving", sa.Text, nullable=False),
        sa.Column("locatie", sa.String(300)),
        sa.Column("kanaal", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("ingediend_op", sa.DateTime(timezone=True), nullable=False),
        sa.Column("afgehandeld_op", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_feedback_items_subject_kind", "feedback_items", ["subject_key", "soort"])
    op.create_table(
        "feedback_status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("feedback_items.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("toelichting", sa.String(1000)),
        sa.Column("gezet_door", sa.String(200)),
        sa.Column("gezet_op", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_status_history_item_id", "feedback_status_history", ["item_id"])


def downgrade() -> None:
    op.drop_table("feedback_status_history")
    op.drop_table("feedback_items")
    op.drop_table("ratings")
