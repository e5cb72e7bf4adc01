"""Helpers for the audit tests: contexts, decisions, one recorded view, DBA statements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from dgkb.audit import AuditWriter
from dgkb.domain.context import RequestContext
from dgkb.policy.decision import CategoryDecision, Decision, ReasonCode
from dgkb.store.db import Database

BSN = "999993653"
OTHER_BSN = "999990019"
OIN = "00000001234567890000"
PURPOSE = "https://example.org/register/klantcontact-algemeen"
OTHER_PURPOSE = "https://example.org/register/wmo-melding"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEYRING = [("k2", b"current-secret-key-of-32-bytes!!"), ("k1", b"older-secret-key-of-32-bytes!!!!")]

MakeContext = Callable[..., RequestContext]


def make_decision(purpose: str = PURPOSE) -> Decision:
    return Decision(
        purpose_id=purpose,
        register_version="1+sha256:abcdef0123456789",
        categories=(
            CategoryDecision("naw", True, fields=("naam", "adres"), policy_ids=("permit-category",)),
            CategoryDecision(
                "zorg",
                False,
                reasons=(ReasonCode.CONSENT_REQUIRED,),
                policy_ids=("forbid-without-consent",),
            ),
        ),
    )


async def record(writer: AuditWriter, context: RequestContext, *, at: datetime = T0) -> None:
    """One klantbeeld view: naw delivered, zorg denied."""
    await writer.record_klantbeeld(
        context=context,
        decision=make_decision(context.purpose_id),
        categories_requested=["naw", "zorg"],
        categories_delivered=["naw"],
        started_at=at,
        ended_at=at + timedelta(milliseconds=120),
        consent_status={"zorg": "none"},
    )


async def dba(database: Database, *statements: str) -> None:
    """Run statements as a DBA would, e.g. to tamper with the log behind the application's back."""
    async with database.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def disable_append_only(database: Database, table: str) -> None:
    """Drop (SQLite) or disable (PostgreSQL) every trigger guarding `table`, as a DBA could."""
    if database.is_sqlite:
        async with database.engine.connect() as conn:
            query = text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t")
            names = (await conn.execute(query, {"t": table})).scalars().all()
        assert names, f"no triggers on {table}"
        await dba(database, *(f'DROP TRIGGER "{name}"' for name in names))
    else:
        await dba(database, f"ALTER TABLE {table} DISABLE TRIGGER ALL")


async def scalar(database: Database, statement: str) -> object:
    async with database.engine.connect() as conn:
        return (await conn.execute(text(statement))).scalar()
