"""Objections: at most one open objection per subject × purpose, enforced by the database (a partial
unique index over the statuses that count), so the same objection sent twice at the same moment
(a double click, two tabs) is one row. The check-then-insert in ObjectionService could not prevent
that: both requests read "none yet" before either inserted.

Rows that such a race already duplicated are kept (an objection is never deleted) but the later ones
are set to `dubbel`, outside the index; of duplicates the one in force wins, then the oldest.

Revision ID: 0016_objections_once
Revises: 0015_correction_dialogue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_objections_once"
down_revision = "0015_correction_dialogue"
branch_labels = None
depends_on = None

# dgkb.consent.objections.OPEN and DUPLICATE, as they are at this revision (a migration does not
# import application code, which may change after it)
DUPLICATE = "dubbel"
WHERE = "status IN ('van-kracht', 'in-behandeling', 'toegewezen')"


def _rank(alias: str) -> str:
    """0 for an objection in force, 1 for one pending: the one in force is kept."""
    return f"CASE WHEN {alias}.status = 'in-behandeling' THEN 1 ELSE 0 END"


def upgrade() -> None:
    op.execute(
        sa.text(
            f"""
            UPDATE objections SET status = :duplicate
            WHERE {WHERE} AND EXISTS (
                SELECT 1 FROM objections AS kept
                WHERE kept.subject_key = objections.subject_key
                  AND kept.processing_activity_id = objections.processing_activity_id
                  AND kept.{WHERE}
                  AND kept.id <> objections.id
                  AND ({_rank("kept")} < {_rank("objections")}
                       OR ({_rank("kept")} = {_rank("objections")}
                           AND (kept.created_at < objections.created_at
                                OR (kept.created_at = objections.created_at AND kept.id < objections.id))))
            )
            """  # noqa: S608  (only this module's constants are formatted in; the value is bound)
        ).bindparams(duplicate=DUPLICATE)
    )
    op.create_index(
        "uq_objections_open",
        "objections",
        ["subject_key", "processing_activity_id"],
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_objections_open", table_name="objections")
