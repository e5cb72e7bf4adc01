"""Meten en leren (issue 15 §4): pseudonymised contact and feedback events, their roll-ups for the
dashboard, periodic samples of the sources' health, and the aggregation's state.

Revision ID: 0018_meten_en_leren
Revises: 0017_message_notices
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_meten_en_leren"
down_revision = "0017_message_notices"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _event_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dag", sa.Date(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("maand", sa.Date(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "meten_contact_events",
        *_event_columns(),
        sa.Column("kanaal", sa.String(32), nullable=False),
        sa.Column("onderwerp", sa.String(64), nullable=False),
        sa.Column("uitkomst", sa.String(32), nullable=False),
        sa.Column("beantwoord", sa.Boolean()),
        sa.Column("doorverwezen_naar", sa.String(100)),
        sa.Column("duur_seconden", sa.Integer()),
        sa.Column("team", sa.String(200)),
        sa.Column("herhaald", sa.Boolean(), nullable=False),
        sa.Column("klant", sa.String(64)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("bewaren_tot", sa.Date(), nullable=False),
    )
    op.create_index("ix_meten_contact_events_block", "meten_contact_events", ["organisation", "maand"])
    op.create_index(
        "ix_meten_contact_events_repeat",
        "meten_contact_events",
        ["organisation", "klant", "onderwerp", "occurred_at"],
    )
    op.create_index("ix_meten_contact_events_retention", "meten_contact_events", ["bewaren_tot"])
    op.create_table(
        "meten_feedback_events",
        *_event_columns(),
        sa.Column("soort", sa.String(16), nullable=False),
        sa.Column("fase", sa.String(16), nullable=False),
        sa.Column("kanaal", sa.String(32)),
        sa.Column("onderwerp", sa.String(64), nullable=False),
        sa.Column("score", sa.Integer()),
        sa.Column("waardering", sa.Integer()),
        sa.Column("doorlooptijd_dagen", sa.Float()),
        sa.Column("klant", sa.String(64)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("bewaren_tot", sa.Date(), nullable=False),
    )
    op.create_index("ix_meten_feedback_events_block", "meten_feedback_events", ["organisation", "maand"])
    op.create_index("ix_meten_feedback_events_retention", "meten_feedback_events", ["bewaren_tot"])
    op.create_table(
        "meten_rollups",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("organisation", sa.String(20), nullable=False),
        sa.Column("familie", sa.String(16), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("sleutel", sa.String(200), nullable=False),
        sa.Column("grain", sa.String(8), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("maand", sa.Date(), nullable=False),
        sa.Column("aantal", sa.Integer(), nullable=False),
        sa.Column("klanten", sa.Integer(), nullable=False),
        sa.Column("gepubliceerd", sa.Boolean(), nullable=False),
        sa.Column("waarden", sa.Text(), nullable=False),
        sa.UniqueConstraint(
            "organisation", "familie", "dim", "sleutel", "grain", "bucket", name="uq_meten_rollups_cell"
        ),
    )
    op.create_index("ix_meten_rollups_view", "meten_rollups", ["organisation", "grain", "bucket"])
    op.create_index("ix_meten_rollups_block", "meten_rollups", ["organisation", "familie", "maand"])
    op.create_table(
        "meten_bron_gezondheid",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("bron", sa.String(100), nullable=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("gemeten_op", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dag", sa.Date(), nullable=False),
        sa.Column("uur", sa.Integer(), nullable=False),
        sa.Column("aanroepen", sa.Integer(), nullable=False),
        sa.Column("fouten", sa.Integer(), nullable=False),
        sa.Column("p50_ms", sa.Float()),
        sa.Column("p95_ms", sa.Float()),
    )
    op.create_index("ix_meten_bron_gezondheid_dag", "meten_bron_gezondheid", ["dag", "bron"])
    op.create_table(
        "meten_status",
        sa.Column("naam", sa.String(32), primary_key=True),
        sa.Column("laatste_contact", sa.BigInteger(), nullable=False),
        sa.Column("laatste_feedback", sa.BigInteger(), nullable=False),
        sa.Column("laatste_dag", sa.Date()),
        sa.Column("versie", sa.Integer(), nullable=False),
        sa.Column("bezig_tot", sa.DateTime(timezone=True)),
        sa.Column("bijgewerkt_op", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("meten_status")
    op.drop_index("ix_meten_bron_gezondheid_dag", table_name="meten_bron_gezondheid")
    op.drop_table("meten_bron_gezondheid")
    op.drop_index("ix_meten_rollups_block", table_name="meten_rollups")
    op.drop_index("ix_meten_rollups_view", table_name="meten_rollups")
    op.drop_table("meten_rollups")
    op.drop_index("ix_meten_feedback_events_retention", table_name="meten_feedback_events")
    op.drop_index("ix_meten_feedback_events_block", table_name="meten_feedback_events")
    op.drop_table("meten_feedback_events")
    op.drop_index("ix_meten_contact_events_retention", table_name="meten_contact_events")
    op.drop_index("ix_meten_contact_events_repeat", table_name="meten_contact_events")
    op.drop_index("ix_meten_contact_events_block", table_name="meten_contact_events")
    op.drop_table("meten_contact_events")
