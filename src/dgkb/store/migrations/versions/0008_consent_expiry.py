"""Consents remember when their expiry was written to the audit log (logged once).

Revision ID: 0008_consent_expiry
Revises: 0007_contact_binding
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_consent_expiry"
down_revision = "0007_contact_binding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("expiry_logged_at", sa.DateTime(timezone=True)))
    # the housekeeping sweep looks for expired consents whose expiry is not logged yet
    op.create_index("ix_consents_expiry", "consents", ["expires_at", "expiry_logged_at"])


def downgrade() -> None:
    op.drop_index("ix_consents_expiry", table_name="consents")
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("expiry_logged_at")
