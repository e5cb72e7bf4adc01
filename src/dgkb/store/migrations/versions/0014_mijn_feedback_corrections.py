"""Mijn omgeving: a rating of 1–5 next to the NPS score, linked to a klantcontact or zaak; correction
requests ("Klopt er iets niet?") with where they were sent and their status.

Revision ID: 0014_mijn_feedback_corrections
Revises: 0013_mijn_profiel_berichten
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_mijn_feedback_corrections"
down_revision = "0013_mijn_profiel_berichten"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("waardering", sa.Integer()))  # 1–5; NULL for ratings without one
        batch.add_column(sa.Column("gekoppeld_soort", sa.String(16)))  # klantcontact | zaak
        batch.add_column(sa.Column("gekoppeld_aan", sa.String(100)))  # its nummer or identificatie
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("nummer", sa.String(32), nullable=False, unique=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("processing_activity_id", sa.String(500), nullable=False),
        sa.Column("categorie", sa.String(100), nullable=False),
        sa.Column("bron_id", sa.String(100), nullable=False),
        sa.Column("onderdeel", sa.String(200), nullable=False),
        sa.Column("wat_klopt_niet", sa.String(1000), nullable=False),
        sa.Column("juiste_gegevens", sa.String(1000)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("team", sa.String(200)),
        sa.Column("taak_nummer", sa.String(64)),
        sa.Column("taak_uuid", sa.String(36)),
        sa.Column("klantcontact_uuid", sa.String(36)),
        sa.Column("fout", sa.String(500)),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("ingediend_op", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bijgewerkt_op", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_correction_requests_subject", "correction_requests", ["subject_key", "ingediend_op"])


def downgrade() -> None:
    op.drop_index("ix_correction_requests_subject", table_name="correction_requests")
    op.drop_table("correction_requests")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("gekoppeld_aan")
        batch.drop_column("gekoppeld_soort")
        batch.drop_column("waardering")
