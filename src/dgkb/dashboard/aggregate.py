"""The aggregation run: pseudonymised events → the dashboard's cells, with suppression decided once.

A run recomputes the (whole-week) month blocks that got new events, or whose buckets closed since the
last run, for each organisation: per family and dimension, the count, the distinct customers and the
family's sums per day, week and month (one read of the block's events, counted in one pass over the
precomputed day/week/month columns: the same on SQLite and PostgreSQL), then which cells may be shown
(dgkb.dashboard.suppression), written as `meten_rollups`. The dashboard reads only those rows, so a
render never touches the events (the 1 million event benchmark renders from a few hundred rows). Open
buckets are not written at all.

Aggregating is a processing under each organisation's meten-en-leren purpose: one LDV and access
record per organisation per run, naming no data subject (AuditWriter.record_aggregate), not one per
person. One node at a time runs (a lease in `meten_status`). Events past their retention are deleted
by the run.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dgkb.audit.writer import AuditWriter
from dgkb.dashboard.suppression import TOTAL, CellId, Stat, decide_block
from dgkb.domain.context import Actor, Trace
from dgkb.domain.periods import Bucket, Grain, month_weeks, today_local
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.store.db import Database
from dgkb.store.meten import ContactEventRow, FeedbackEventRow, HealthSampleRow, MetenStateRow, RollupRow

log = logging.getLogger("dgkb.dashboard")

ROLLUPS: Table = RollupRow.__table__  # type: ignore[assignment]  # Core inserts: no ORM per row
STATE = "aggregatie"
LEASE = timedelta(minutes=10)
HEALTH_KEEP = timedelta(days=400)
ONBEKEND = "onbekend"


Row = Any  # a row of one of the event tables (attribute access)


@dataclass(frozen=True)
class Family:
    """Events of one kind, the dimensions they are broken down by, and the sums kept per cell."""

    name: str
    table: Any  # ContactEventRow or FeedbackEventRow
    keep: Callable[[Row], bool]
    dims: dict[str, Callable[[Row], str]]
    sums: dict[str, Callable[[Row], float]] = field(default_factory=dict)


C, F = ContactEventRow, FeedbackEventRow


def _flag(value: bool | None) -> float:
    return 1.0 if value else 0.0


def _known(value: object) -> float:
    return 0.0 if value is None else 1.0


def _number(value: float | None) -> float:
    return 0.0 if value is None else float(value)


def _families() -> list[Family]:
    feedback_sums: dict[str, Callable[[Row], float]] = {
        "ingediend": lambda r: _flag(r.fase == "ingediend"),
        "afgehandeld": lambda r: _flag(r.fase == "afgehandeld"),
        "doorlooptijd_som": lambda r: _number(r.doorlooptijd_dagen),
        "doorlooptijd_aantal": lambda r: _known(r.doorlooptijd_dagen),
    }
    return [
        Family(
            "contact",
            C,
            lambda r: True,
            {
                "kanaal": lambda r: r.kanaal,
                "onderwerp": lambda r: r.onderwerp,
                "team": lambda r: r.team or ONBEKEND,
            },
            {
                "beantwoord_ja": lambda r: _flag(r.beantwoord),
                "beantwoord_bekend": lambda r: _known(r.beantwoord),
                "herhaald": lambda r: _flag(r.herhaald),
                "duur_som": lambda r: _number(r.duur_seconden),
                "duur_aantal": lambda r: _known(r.duur_seconden),
            },
        ),
        Family(
            "doorverwijzing",
            C,
            lambda r: r.uitkomst == "doorverwezen",
            {"naar": lambda r: r.doorverwezen_naar or "anders"},
        ),
        Family(
            "oordeel",
            F,
            lambda r: r.soort == "oordeel",
            {"kanaal": lambda r: r.kanaal or ONBEKEND, "onderwerp": lambda r: r.onderwerp},
            {
                "promotors": lambda r: _flag(r.score is not None and r.score >= 9),
                "passief": lambda r: _flag(r.score in (7, 8)),
                "criticasters": lambda r: _flag(r.score is not None and r.score <= 6),
                "met_score": lambda r: _known(r.score),
                "waardering_som": lambda r: _number(r.waardering),
                "waardering_aantal": lambda r: _known(r.waardering),
            },
        ),
        Family(
            "klacht", F, lambda r: r.soort == "klacht", {"onderwerp": lambda r: r.onderwerp}, feedback_sums
        ),
        Family(
            "melding", F, lambda r: r.soort == "melding", {"onderwerp": lambda r: r.onderwerp}, feedback_sums
        ),
    ]


FAMILIES = _families()


def cells_of(
    family: Family, rows: Iterable[Row]
) -> tuple[dict[CellId, Stat], dict[CellId, dict[str, float]]]:
    """Count, distinct customers and sums per (dimension, key, grain, bucket) of one family's events.
    An anonymous contact (no pseudonym) counts as a customer of its own."""
    names = list(family.sums)
    getters = list(family.sums.values())
    dims = list(family.dims.items())
    width = len(names)
    acc: dict[CellId, tuple[list[float], set[str]]] = {}  # cell → ([count, *sums], customers)
    for row in rows:
        if not family.keep(row):
            continue
        person = row.klant or f"anoniem:{row.id}"
        values = [g(row) for g in getters]
        keys = [(TOTAL, "")]
        keys.extend((dim, key(row)) for dim, key in dims)
        for grain, bucket in ((Grain.DAG, row.dag), (Grain.WEEK, row.week), (Grain.MAAND, row.maand)):
            for dim, key in keys:
                cell = (dim, key, grain, bucket)
                found = acc.get(cell)
                if found is None:
                    found = acc[cell] = ([0.0] * (width + 1), set())
                numbers, people = found
                numbers[0] += 1
                people.add(person)
                for i in range(width):
                    numbers[i + 1] += values[i]
    stats = {c: Stat(int(n[0]), len(p)) for c, (n, p) in acc.items()}
    sums = {c: dict(zip(names, n[1:], strict=True)) for c, (n, _) in acc.items()}
    return stats, sums


def block_units(month: date, today: date) -> list[list[Bucket]]:
    """The units of a block decided (and shown) together, in order: each week that is over with its
    days, then the month when it is over. A day is shown once its week is over."""
    units: list[list[Bucket]] = []
    for monday in month_weeks(month):
        week = Bucket(Grain.WEEK, monday)
        if week.closed(today):
            units.append([*week.children(), week])
    whole = Bucket(Grain.MAAND, month)
    if whole.closed(today):
        units.append([whole])
    return units


@dataclass
class RunReport:
    blocks: int = 0  # (organisation, month) blocks recomputed
    cells: int = 0
    shown: int = 0
    organisations: tuple[str, ...] = ()
    seconds: float = 0.0
    skipped: bool = False  # another node holds the lease


class Aggregator:
    def __init__(self, *, database: Database, register: Register, audit: AuditWriter) -> None:
        self._db = database
        self._register = register
        self._audit = audit

    # --- state and lease ----------------------------------------------------------------------------
    async def _lease(self, now: datetime) -> MetenStateRow | None:
        async with self._db.transaction() as session:
            state = await session.get(MetenStateRow, STATE)
            if state is None:
                session.add(MetenStateRow(naam=STATE, laatste_contact=0, laatste_feedback=0, versie=0))
                await session.flush()
            taken = await session.execute(
                update(MetenStateRow)
                .where(
                    MetenStateRow.naam == STATE,
                    (MetenStateRow.bezig_tot.is_(None)) | (MetenStateRow.bezig_tot < now),
                )
                .values(bezig_tot=now + LEASE)
                .returning(MetenStateRow.laatste_contact)
            )
            if taken.scalar_one_or_none() is None:
                return None
            return await session.get(MetenStateRow, STATE, populate_existing=True)

    async def version(self) -> int:
        """Changes with every run that rewrote cells (the chart cache is keyed on it)."""
        async with self._db.read() as session:
            value = await session.scalar(select(MetenStateRow.versie).where(MetenStateRow.naam == STATE))
        return int(value or 0)

    # --- the run ----------------------------------------------------------------------------------------
    async def run(self, *, today: date | None = None, now: datetime | None = None) -> RunReport:
        """Recompute what changed since the last run; log it once per organisation."""
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        today = today or today_local(now)
        state = await self._lease(now)
        if state is None:
            return RunReport(skipped=True)
        report = RunReport()
        last_contact, last_feedback = state.laatste_contact, state.laatste_feedback
        failed = False
        try:
            blocks, last_contact, last_feedback = await self._changed_blocks(state, today)
            report.organisations = tuple(sorted({o for o, _ in blocks}))
            # logged before anything is aggregated: no log record, no aggregation (fail closed)
            for organisation in report.organisations:
                await self._log_run(organisation, now)
            for organisation, month in sorted(blocks):
                cells, shown = await self._recompute(organisation, month, today)
                report.blocks += 1
                report.cells += cells
                report.shown += shown
            await self._forget_expired(today, now)
        except BaseException:
            failed = True
            raise
        finally:
            async with self._db.transaction() as session:
                values: dict[str, Any] = {"bezig_tot": None}
                if not failed and (report.blocks or state.laatste_dag != today):
                    values.update(
                        laatste_contact=last_contact,
                        laatste_feedback=last_feedback,
                        laatste_dag=today,
                        versie=MetenStateRow.versie + (1 if report.blocks else 0),
                        bijgewerkt_op=datetime.now(UTC),
                    )
                await session.execute(update(MetenStateRow).where(MetenStateRow.naam == STATE).values(values))
        report.seconds = time.perf_counter() - started
        return report

    async def _changed_blocks(
        self, state: MetenStateRow, today: date
    ) -> tuple[set[tuple[str, date]], int, int]:
        """Blocks with events newer than the last run, and blocks in which a bucket closed since then."""
        blocks: set[tuple[str, date]] = set()
        async with self._db.read() as session:
            last_contact = int(await session.scalar(select(func.max(C.id))) or 0)
            last_feedback = int(await session.scalar(select(func.max(F.id))) or 0)
            for table, since, until in (
                (C, state.laatste_contact, last_contact),
                (F, state.laatste_feedback, last_feedback),
            ):
                if until > since:
                    rows = await session.execute(
                        select(table.organisation, table.maand)
                        .where(table.id > since, table.id <= until)
                        .distinct()
                    )
                    blocks.update((o, m) for o, m in rows.all())
            # days that closed since the last run: their blocks, for every organisation with events there
            last_day = state.laatste_dag or today  # a first run takes every block with events anyway
            closed_days = [last_day + timedelta(days=i) for i in range((today - last_day).days)]
            months = {Bucket(Grain.DAG, d).month for d in closed_days}
            for table in (C, F):
                if months:
                    rows = await session.execute(
                        select(table.organisation, table.maand).where(table.maand.in_(months)).distinct()
                    )
                    blocks.update((o, m) for o, m in rows.all())
        return blocks, last_contact, last_feedback

    async def _events(self, session: AsyncSession, table: Any, organisation: str, month: date) -> list[Row]:
        """The events of one block, read once (counting them here is one pass, and portable)."""
        skip = ("organisation", "key_id", "bewaren_tot", "occurred_at")
        columns = [c for c in table.__table__.columns if c.name not in skip]
        query = (
            select(*columns)
            .where(table.organisation == organisation, table.maand == month)
            .order_by(table.id)  # a fixed order: the same events, the same decisions
        )
        return list((await session.execute(query)).all())

    async def _recompute(self, organisation: str, month: date, today: date) -> tuple[int, int]:
        units = block_units(month, today)
        closed = {(b.grain, b.key) for unit in units for b in unit}
        rows: list[dict[str, Any]] = []
        async with self._db.read() as session:
            events = {table: await self._events(session, table, organisation, month) for table in (C, F)}
        for family in FAMILIES:
            stats, sums = cells_of(family, events[family.table])
            stats = {c: s for c, s in stats.items() if (c[2], c[3]) in closed}
            decided = decide_block([TOTAL, *family.dims], stats, units)
            rows.extend(
                {
                    "organisation": organisation,
                    "familie": family.name,
                    "dim": cell[0],
                    "sleutel": cell[1],
                    "grain": cell[2].value,
                    "bucket": cell[3],
                    "maand": month,
                    "aantal": stat.aantal,
                    "klanten": stat.klanten,
                    "gepubliceerd": decided.get(cell, False),
                    "waarden": json.dumps(sums.get(cell, {}), sort_keys=True),
                }
                for cell, stat in stats.items()
            )
        async with self._db.transaction() as session:
            await session.execute(
                delete(RollupRow).where(RollupRow.organisation == organisation, RollupRow.maand == month)
            )
            for start in range(0, len(rows), 1000):
                await session.execute(insert(ROLLUPS), rows[start : start + 1000])
        return len(rows), sum(1 for r in rows if r["gepubliceerd"])

    async def _forget_expired(self, today: date, now: datetime) -> None:
        async with self._db.transaction() as session:
            await session.execute(delete(C).where(C.bewaren_tot < today))
            await session.execute(delete(F).where(F.bewaren_tot < today))
            await session.execute(
                delete(HealthSampleRow).where(HealthSampleRow.gemeten_op < now - HEALTH_KEEP)
            )

    async def _log_run(self, organisation: str, at: datetime) -> None:
        purpose = self._register.system_purpose(organisation, "meten-en-leren")
        if purpose is None:
            return
        await self._audit.record_aggregate(
            actor=Actor(id="dgkb-meten-en-leren", role=Role.SYSTEEM, organisation=organisation, name="DGKB"),
            purpose_id=purpose.id,
            trace=Trace(),
            name="gebeurtenissen optellen voor het dashboard (meten en leren)",
            started_at=at,
            ended_at=at,
            categories=["contact.historie", "beleving.oordeel", "feedback.klachten", "feedback.meldingen"],
        )


def group_rows(rows: Sequence[RollupRow]) -> dict[tuple[str, str], list[RollupRow]]:
    """Rows by (family, dimension)."""
    grouped: dict[tuple[str, str], list[RollupRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.familie, row.dim)].append(row)
    return grouped
