"""How identity was established (method, issuer, acr, time) with each identification; used
assertion nonces (single use across nodes); the test broker's and dev issuer's login codes.

Revision ID: 0009_identification_evidence
Revises: 0008_consent_expiry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_identification_evidence"
down_revision = "0008_consent_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_sessions") as batch:
        batch.add_column(sa.Column("identification_method", sa.String(32)))
        batch.add_column(sa.Column("identification_issuer", sa.String(500)))
        batch.add_column(sa.Column("identification_acr", sa.String(500)))
        batch.add_column(sa.Column("identification_at", sa.DateTime(timezone=True)))
    op.create_table(
        "assertion_nonces",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assertion_nonces_expires_at", "assertion_nonces", ["expires_at"])
    op.create_table(
        "login_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("issuer", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_codes_expires_at", "login_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_login_codes_expires_at", table_name="login_codes")
    op.drop_table("login_codes")
    op.drop_index("ix_assertion_nonces_expires_at", table_name="assertion_nonces")
    op.drop_table("assertion_nonces")
    with op.batch_alter_table("contact_sessions") as batch:
        batch.drop_column("identification_at")
        batch.drop_column("identification_acr")
        batch.drop_column("identification_issuer")
        batch.drop_column("identification_method")
