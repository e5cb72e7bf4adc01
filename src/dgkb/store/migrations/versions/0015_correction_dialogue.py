"""Correction requests routed as a zaak (its identificatie and URL) and the customer's answer to the
owner's question (which question, when).

Revision ID: 0015_correction_dialogue
Revises: 0014_mijn_feedback_corrections
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_correction_dialogue"
down_revision = "0014_mijn_feedback_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("correction_requests") as batch:
        batch.add_column(sa.Column("zaak_identificatie", sa.String(40)))
        batch.add_column(sa.Column("zaak_url", sa.String(1000)))
        batch.add_column(sa.Column("beantwoorde_vraag", sa.String(1000)))
        batch.add_column(sa.Column("beantwoord_op", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("correction_requests") as batch:
        batch.drop_column("beantwoord_op")
        batch.drop_column("beantwoorde_vraag")
        batch.drop_column("zaak_url")
        batch.drop_column("zaak_identificatie")
