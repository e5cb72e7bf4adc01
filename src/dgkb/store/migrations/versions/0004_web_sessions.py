"""Server-side sessions of the web console: an opaque id in the cookie, the rest here.

Revision ID: 0004_web_sessions
Revises: 0003_feedback
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web_sessions"
down_revision = "0003_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        # SHA-256 of the cookie value: a copy of this table does not hand out live sessions
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("actor_id", sa.String(200)),
        sa.Column("actor", sa.Text),  # JSON: role, organisation, unit, name (no customer data)
        sa.Column("csrf_token", sa.String(64), nullable=False),
        # pending login (authorization-code + PKCE): cleared once the login completes
        sa.Column("oidc_state", sa.String(64)),
        sa.Column("oidc_verifier", sa.String(128)),
        sa.Column("oidc_nonce", sa.String(64)),
        sa.Column("return_to", sa.String(200)),
        sa.Column("data", sa.Text),  # JSON: per-contact display state of this browser session
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_last_seen_at", "web_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("web_sessions")
