""" "Bevestig met DigiD" during a call: confirmations in the database (single use, several nodes).

Revision ID: 0011_confirmations
Revises: 0009_identification_evidence
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_confirmations"
down_revision = "0009_identification_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confirmations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("state_hash", sa.String(64), unique=True),
        sa.Column("nonce", sa.String(100)),
        sa.Column("code_verifier", sa.String(128)),
        sa.Column("readback_hash", sa.String(64)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("assurance", sa.String(32)),
        sa.Column("method", sa.String(32)),
        sa.Column("issuer", sa.String(500)),
        sa.Column("acr", sa.String(500)),
        sa.Column("authenticated_at", sa.DateTime(timezone=True)),
        sa.Column("notification_id", sa.String(64)),
        sa.Column("failure", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_confirmations_contact_id", "confirmations", ["contact_id"])
    op.create_index("ix_confirmations_expires_at", "confirmations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_confirmations_expires_at", table_name="confirmations")
    op.drop_index("ix_confirmations_contact_id", table_name="confirmations")
    op.drop_table("confirmations")
