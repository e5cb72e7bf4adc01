"""Mijn omgeving: pending verifications of a new address (Mijn profiel) and messages (Mijn berichten).

Revision ID: 0013_mijn_profiel_berichten
Revises: 0012_objections
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_mijn_profiel_berichten"
down_revision = "0012_objections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_verifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("soort", sa.String(16), nullable=False),
        sa.Column("adres", sa.String(80)),
        sa.Column("omschrijving", sa.String(40), nullable=False, server_default=""),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_profile_verifications_subject_key", "profile_verifications", ["subject_key"])
    op.create_index("ix_profile_verifications_expires_at", "profile_verifications", ["expires_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("notify_outcome", sa.String(32)),
    )
    op.create_index("ix_messages_subject_created", "messages", ["subject_key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_subject_created", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_profile_verifications_expires_at", table_name="profile_verifications")
    op.drop_index("ix_profile_verifications_subject_key", table_name="profile_verifications")
    op.drop_table("profile_verifications")
