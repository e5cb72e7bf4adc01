"""Contact sessions and consents.

Revision ID: 0001_base
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("organisation_unit", sa.String(200)),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("purpose_id", sa.String(500)),
        sa.Column("subject_kind", sa.String(32)),
        sa.Column("subject_value", sa.String(32)),
        sa.Column("subject_key", sa.String(64)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("assurance", sa.String(32)),
        sa.Column("shielded", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("zaak_identificatie", sa.String(100)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_contact_sessions_actor_id", "contact_sessions", ["actor_id"])
    op.create_index("ix_contact_sessions_subject_key", "contact_sessions", ["subject_key"])
    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(200)),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_consents_subject_purpose", "consents", ["subject_key", "processing_activity_id"])


def downgrade() -> None:
    op.drop_table("consents")
    op.drop_table("contact_sessions")
