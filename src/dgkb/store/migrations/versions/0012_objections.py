"""Objections (bezwaar, art. 21 AVG) of a customer to a processing activity: subject × purpose.

Revision ID: 0012_objections
Revises: 0011_confirmations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_objections"
down_revision = "0011_confirmations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("proactive", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("explanation", sa.Text()),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_objections_subject_purpose", "objections", ["subject_key", "processing_activity_id"])
    op.create_index("ix_objections_status", "objections", ["organisation", "status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_objections_status", table_name="objections")
    op.drop_index("ix_objections_subject_purpose", table_name="objections")
    op.drop_table("objections")
