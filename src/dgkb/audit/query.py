# SPDX-License-Identifier: EUPL-1.2
"""Reading the audit logs: the privacy officer's access search and the citizen's own LDV view.

Pages are newest first, keyset-paginated on (time, id) with an opaque cursor, so deep pages cost the
same as the first. A subject is searched under its pseudonym for every key of the ring, so records
written before a key rotation are still found.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Select, Table, and_, func, or_, select
from sqlalchemy.engine import RowMapping

from dgkb.audit.writer import ACCESS, DECISIONS, LDV
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database

T = TypeVar("T")
MAX_LIMIT = 500


class InvalidCursor(DomainError):
    code = "audit.cursor_invalid"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    occurred_at: datetime
    processing_activity_id: str
    register_version: str
    request: dict[str, Any]
    response: dict[str, Any]
    consent_status: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access, for the privacy officer: who, whose (pseudonym), why, what, and the decision."""

    id: int
    trace_id: str
    span_id: str
    occurred_at: datetime
    actor_id: str
    actor_role: str
    organisation: str
    organisation_unit: str | None
    assurance: str
    channel: str
    processing_activity_id: str
    contact_id: str | None
    data_subject_id: str
    data_subject_id_type: str
    key_id: str
    categories_requested: tuple[str, ...]
    categories_delivered: tuple[str, ...]
    categories_denied: tuple[str, ...]
    outcome: str
    decision: DecisionEntry | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601 text), for the CLI and exports."""
        return {k: _json_ready(v) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class LdvEntry:
    """One processing about the citizen, for "Mijn omgeving": no employee identity."""

    id: int
    trace_id: str
    name: str
    start_time: datetime
    end_time: datetime
    status_code: str
    processing_activity_id: str
    categories: tuple[str, ...]
    retention_until: date

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO 8601 text), for "Mijn omgeving" exports."""
        return {k: _json_ready(v) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class OwnAccessEntry:
    """One processing about the customer as they may see it themself (art. 15 AVG): when, which
    organisation, why, how and what, and the role that acted — never the employee's identity, unit
    or contact."""

    id: int
    occurred_at: datetime
    organisation: str
    actor_role: str
    channel: str
    processing_activity_id: str
    name: str | None  # what was done (the LDV record's name), e.g. "klantbeeld raadplegen"
    categories_delivered: tuple[str, ...]
    outcome: str
    # the customer's own reads by someone acting for them: the kind (dgkb.domain.representation),
    # from the actor id "mijn:namens:<kind>:…"; the representative's pseudonym is not passed on
    on_behalf: str | None = None


def _on_behalf(role: str, actor_id: str) -> str | None:
    if role != "burger" or not actor_id.startswith("mijn:namens:"):
        return None
    return actor_id.split(":", 3)[2]


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """One pseudonym key: how many log records were written under it and when, and whether the
    ring still holds it (without it, the subjects of those records can no longer be found)."""

    key_id: str
    records: int
    oldest: datetime | None
    newest: datetime | None
    in_ring: bool
    current: bool


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


def encode_cursor(moment: datetime, row_id: int) -> str:
    body = json.dumps([moment.astimezone(UTC).isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Parse a cursor from a previous page; anything else is a clear `audit.cursor_invalid`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment_text, row_id = json.loads(raw)
        moment = datetime.fromisoformat(moment_text)
        # a row id must fit the database's BIGINT and the moment must exist in UTC: a crafted
        # cursor must be a clear 400, never a database error
        if (
            isinstance(row_id, bool)
            or not isinstance(row_id, int)
            or not -(2**63) <= row_id < 2**63
            or moment.tzinfo is None
        ):
            raise ValueError("bad cursor content")
        moment.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(
            "de cursor is ongeldig; begin opnieuw bij de eerste pagina", field="cursor"
        ) from exc
    return moment, row_id


def _page_query(
    table: Table,
    time_column: Column[Any],
    *,
    pseudonymizer: Pseudonymizer,
    subject: Subject | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    stmt = select(table)
    if subject is not None:
        values = [p.value for p in pseudonymizer.all_pseudonyms(subject)]
        stmt = stmt.where(
            table.c.data_subject_id.in_(values), table.c.data_subject_id_type == subject.kind.value
        )
    if since is not None:
        stmt = stmt.where(time_column >= since)
    if until is not None:
        stmt = stmt.where(time_column < until)
    if cursor is not None:
        moment, row_id = decode_cursor(cursor)
        stmt = stmt.where(or_(time_column < moment, and_(time_column == moment, table.c.id < row_id)))
    return stmt.order_by(time_column.desc(), table.c.id.desc()).limit(limit + 1)


def _list(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _next_cursor(rows: Sequence[RowMapping], limit: int, time_key: str) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(last[time_key], last["id"])


async def search_access(
    database: Database,
    pseudonymizer: Pseudonymizer,
    *,
    subject: Subject | None = None,
    actor_id: str | None = None,
    processing_activity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AccessEntry]:
    """Access records (newest first) with their decision, by subject, actor, purpose and time
    (`since` inclusive, `until` exclusive); all filters combine."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = _page_query(
        ACCESS,
        ACCESS.c.occurred_at,
        pseudonymizer=pseudonymizer,
        subject=subject,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    if actor_id is not None:
        stmt = stmt.where(ACCESS.c.actor_id == actor_id)
    if processing_activity_id is not None:
        stmt = stmt.where(ACCESS.c.processing_activity_id == processing_activity_id)
    async with database.engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
        page = rows[:limit]
        decisions: dict[tuple[str, str], DecisionEntry] = {}
        trace_ids = sorted({r["trace_id"] for r in page})
        if trace_ids:
            found = await conn.execute(select(DECISIONS).where(DECISIONS.c.trace_id.in_(trace_ids)))
            for d in found.mappings():
                decisions[(d["trace_id"], d["span_id"])] = DecisionEntry(
                    occurred_at=d["occurred_at"],
                    processing_activity_id=d["processing_activity_id"],
                    register_version=d["register_version"],
                    request=json.loads(d["request"]),
                    response=json.loads(d["response"]),
                    consent_status=None if d["consent_status"] is None else json.loads(d["consent_status"]),
                )
    items = tuple(
        AccessEntry(
            id=r["id"],
            trace_id=r["trace_id"],
            span_id=r["span_id"],
            occurred_at=r["occurred_at"],
            actor_id=r["actor_id"],
            actor_role=r["actor_role"],
            organisation=r["organisation"],
            organisation_unit=r["organisation_unit"],
            assurance=r["assurance"],
            channel=r["channel"],
            processing_activity_id=r["processing_activity_id"],
            contact_id=r["contact_id"],
            data_subject_id=r["data_subject_id"],
            data_subject_id_type=r["data_subject_id_type"],
            key_id=r["key_id"],
            categories_requested=_list(r["categories_requested"]),
            categories_delivered=_list(r["categories_delivered"]),
            categories_denied=_list(r["categories_denied"]),
            outcome=r["outcome"],
            decision=decisions.get((r["trace_id"], r["span_id"])),
        )
        for r in page
    )
    return Page(items, _next_cursor(rows, limit, "occurred_at"))


async def search_ldv(
    database: Database,
    pseudonymizer: Pseudonymizer,
    *,
    subject: Subject,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[LdvEntry]:
    """The processings about one subject (newest first), for the citizen's own view."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = _page_query(
        LDV,
        LDV.c.start_time,
        pseudonymizer=pseudonymizer,
        subject=subject,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    async with database.engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    items = tuple(
        LdvEntry(
            id=r["id"],
            trace_id=r["trace_id"],
            name=r["name"],
            start_time=r["start_time"],
            end_time=r["end_time"],
            status_code=r["status_code"],
            processing_activity_id=r["processing_activity_id"],
            categories=_list(r["categories"]),
            retention_until=r["retention_until"],
        )
        for r in rows[:limit]
    )
    return Page(items, _next_cursor(rows, limit, "start_time"))


async def search_own_access(
    database: Database,
    pseudonymizer: Pseudonymizer,
    *,
    subject: Subject,
    organisations: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> Page[OwnAccessEntry]:
    """The processings about one subject by the given organisations (newest first), for the
    customer's own "wie heeft mijn gegevens bekeken": access records (they name the organisation,
    role and channel) with the name of their LDV record, and nothing that identifies the employee."""
    limit = max(1, min(limit, MAX_LIMIT))
    values = [p.value for p in pseudonymizer.all_pseudonyms(subject)]
    stmt = (
        select(
            ACCESS.c.id,
            ACCESS.c.occurred_at,
            ACCESS.c.organisation,
            ACCESS.c.actor_role,
            ACCESS.c.actor_id,  # read only to tell a representative's reads apart (_on_behalf)
            ACCESS.c.channel,
            ACCESS.c.processing_activity_id,
            ACCESS.c.categories_delivered,
            ACCESS.c.outcome,
            LDV.c.name,
        )
        .select_from(
            ACCESS.outerjoin(
                LDV, and_(LDV.c.trace_id == ACCESS.c.trace_id, LDV.c.span_id == ACCESS.c.span_id)
            )
        )
        .where(
            ACCESS.c.data_subject_id.in_(values),
            ACCESS.c.data_subject_id_type == subject.kind.value,
            ACCESS.c.organisation.in_(list(organisations)),
        )
    )
    if since is not None:
        stmt = stmt.where(ACCESS.c.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(ACCESS.c.occurred_at < until)
    if cursor is not None:
        moment, row_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                ACCESS.c.occurred_at < moment,
                and_(ACCESS.c.occurred_at == moment, ACCESS.c.id < row_id),
            )
        )
    stmt = stmt.order_by(ACCESS.c.occurred_at.desc(), ACCESS.c.id.desc()).limit(limit + 1)
    async with database.engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    items = tuple(
        OwnAccessEntry(
            id=r["id"],
            occurred_at=r["occurred_at"],
            organisation=r["organisation"],
            actor_role=r["actor_role"],
            channel=r["channel"],
            processing_activity_id=r["processing_activity_id"],
            name=r["name"],
            categories_delivered=_list(r["categories_delivered"]),
            outcome=r["outcome"],
            on_behalf=_on_behalf(r["actor_role"], r["actor_id"]),
        )
        for r in rows[:limit]
    )
    return Page(items, _next_cursor(rows, limit, "occurred_at"))


async def key_usage(database: Database, pseudonymizer: Pseudonymizer) -> tuple[KeyUsage, ...]:
    """Every key id the logs were written under and every key of the ring, with the number of
    records (LDV, decision and access records together) and their time span; the ring's keys first,
    in ring order, then keys the ring lacks."""
    counts: dict[str, int] = {}
    moments: dict[str, list[datetime]] = {}
    async with database.engine.connect() as conn:
        for table, moment in (
            (LDV, LDV.c.start_time),
            (DECISIONS, DECISIONS.c.occurred_at),
            (ACCESS, ACCESS.c.occurred_at),
        ):
            stmt = select(table.c.key_id, func.count(), func.min(moment), func.max(moment))
            for key_id, count, oldest, newest in (await conn.execute(stmt.group_by(table.c.key_id))).all():
                counts[key_id] = counts.get(key_id, 0) + count
                moments.setdefault(key_id, []).extend(m for m in (oldest, newest) if m is not None)
    ring = pseudonymizer.key_ids
    return tuple(
        KeyUsage(
            key_id=key_id,
            records=counts.get(key_id, 0),
            oldest=min(moments[key_id]) if moments.get(key_id) else None,
            newest=max(moments[key_id]) if moments.get(key_id) else None,
            in_ring=key_id in ring,
            current=key_id == ring[0],
        )
        for key_id in [*ring, *sorted(set(counts) - set(ring))]
    )
