"""Mijn berichten: the outbox of notices ("U heeft een nieuw bericht"), sent in the background with
retries instead of inline while a notification is handled.

Revision ID: 0017_message_notices
Revises: 0016_objections_once
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_message_notices"
down_revision = "0016_objections_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_notices",
        sa.Column(
            "message_id",
            sa.String(36),
            sa.ForeignKey("messages.id", name="fk_message_notices_message_id_messages"),
            primary_key=True,
        ),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_value", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failure", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_message_notices_next_attempt_at", "message_notices", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_message_notices_next_attempt_at", table_name="message_notices")
    op.drop_table("message_notices")
