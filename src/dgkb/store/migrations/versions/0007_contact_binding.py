"""Contacts belong to (issuer, employee, organisation); control answers shown before they are attested.

Revision ID: 0007_contact_binding
Revises: 0006_feedback_handling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_contact_binding"
down_revision = "0006_feedback_handling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_sessions") as batch:
        # the identity provider that vouched for the employee (token `iss`)
        batch.add_column(sa.Column("actor_issuer", sa.String(500)))
        # pseudonym of the subject whose control-question answers were shown to the agent in this
        # contact: only then may the agent attest 'controlevragen' for that subject
        batch.add_column(sa.Column("control_answers_key", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("contact_sessions") as batch:
        batch.drop_column("control_answers_key")
        batch.drop_column("actor_issuer")
