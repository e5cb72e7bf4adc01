# SPDX-License-Identifier: EUPL-1.2
"""Chain heads move with the records: one row per (table, chain), forward only.

Before: `audit_chain_heads` held insert-only anchors written every 60 s, so deleting the rows written
since the last anchor went unnoticed. Now the writer moves the head of each (table, chain) it appends to
in the same transaction as the records, and `verify` requires every chain to end exactly at its head.

Upgrade: keep the newest anchor per (table, chain) (the first one written if several share that seq),
move it forward to the chain's current last row where the records go further (the rows the old design
left unanchored; the old verifier accepted them as they are), replace the (table, chain, seq) index by
a unique (table, chain) index, and replace the append-only UPDATE trigger by a forward-only one: a head
may only move to a higher seq of the same table and chain. DELETE and TRUNCATE stay refused. Stop
writers of the previous version before upgrading: they append without moving the heads.

Revision ID: 0005_audit_heads
Revises: 0004_web_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_heads"
down_revision = "0004_web_sessions"
branch_labels = None
depends_on = None

_CHAINED = ("ldv_records", "decision_records", "access_records")
_MESSAGE = "audit log is append-only: a chain head only moves forward"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER audit_chain_heads_append_only ON audit_chain_heads")
    else:
        op.execute("DROP TRIGGER audit_chain_heads_append_only_update")
        op.execute("DROP TRIGGER audit_chain_heads_append_only_delete")

    op.execute(
        """
        DELETE FROM audit_chain_heads WHERE EXISTS (
            SELECT 1 FROM audit_chain_heads AS other
            WHERE other.table_name = audit_chain_heads.table_name
              AND other.chain_id = audit_chain_heads.chain_id
              AND (other.seq > audit_chain_heads.seq
                   OR (other.seq = audit_chain_heads.seq AND other.id < audit_chain_heads.id)))
        """
    )
    heads = sa.table("audit_chain_heads", *(sa.column(c) for c in ("table_name", "chain_id", "seq", "hash")))
    for name in _CHAINED:
        records = sa.table(name, *(sa.column(c) for c in ("chain_id", "seq", "hash")))

        def last(
            column: sa.ColumnClause[object], records: sa.TableClause = records
        ) -> sa.ScalarSelect[object]:
            query = sa.select(column).where(records.c.chain_id == heads.c.chain_id)
            return query.order_by(records.c.seq.desc()).limit(1).scalar_subquery()

        op.execute(
            heads.update()
            .where(heads.c.table_name == name, heads.c.seq < last(records.c.seq))
            .values(seq=last(records.c.seq), hash=last(records.c.hash))
        )
    op.drop_index("ix_audit_chain_heads_chain", table_name="audit_chain_heads")
    op.create_index(
        "uq_audit_chain_heads_table_chain", "audit_chain_heads", ["table_name", "chain_id"], unique=True
    )

    if postgres:
        op.execute(
            f"""
            CREATE FUNCTION dgkb_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id IS DISTINCT FROM OLD.id
                   OR NEW.table_name IS DISTINCT FROM OLD.table_name
                   OR NEW.chain_id IS DISTINCT FROM OLD.chain_id
                   OR NEW.seq IS NULL OR NEW.seq <= OLD.seq THEN
                    RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_chain_heads_forward_only BEFORE UPDATE ON audit_chain_heads "
            "FOR EACH ROW EXECUTE FUNCTION dgkb_audit_head_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_heads_append_only BEFORE DELETE ON audit_chain_heads "
            "FOR EACH ROW EXECUTE FUNCTION dgkb_audit_append_only()"
        )
        # audit_chain_heads_no_truncate (0002) stays.
    else:
        op.execute(
            "CREATE TRIGGER audit_chain_heads_forward_only BEFORE UPDATE ON audit_chain_heads "
            "WHEN NEW.id IS NOT OLD.id OR NEW.table_name IS NOT OLD.table_name "
            "OR NEW.chain_id IS NOT OLD.chain_id OR NEW.seq IS NULL OR NEW.seq <= OLD.seq "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_heads_append_only_delete BEFORE DELETE ON audit_chain_heads "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
        )


def downgrade() -> None:
    # The heads left behind are valid insert-only anchors of the 0002 design (one per chain).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_chain_heads_forward_only ON audit_chain_heads")
        op.execute("DROP TRIGGER audit_chain_heads_append_only ON audit_chain_heads")
        op.execute("DROP FUNCTION dgkb_audit_head_forward_only()")
        op.execute(
            "CREATE TRIGGER audit_chain_heads_append_only BEFORE UPDATE OR DELETE ON audit_chain_heads "
            "FOR EACH ROW EXECUTE FUNCTION dgkb_audit_append_only()"
        )
    else:
        op.execute("DROP TRIGGER audit_chain_heads_forward_only")
        op.execute(
            "CREATE TRIGGER audit_chain_heads_append_only_update BEFORE UPDATE ON audit_chain_heads "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
        )
    op.drop_index("uq_audit_chain_heads_table_chain", table_name="audit_chain_heads")
    op.create_index("ix_audit_chain_heads_chain", "audit_chain_heads", ["table_name", "chain_id", "seq"])
