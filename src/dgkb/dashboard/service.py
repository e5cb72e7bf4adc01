"""The dashboard of meten en leren: tables, charts and CSV from the roll-ups of the aggregation run.

A view is one organisation, one closed bucket (day, week or whole-week month) and optionally one team.
It reads only `meten_rollups` (a few hundred rows: the bucket's cells and the totals of the buckets
before it) and the health samples of its days; a suppressed cell shows as "onderdrukt" and its numbers
leave DGKB nowhere — not in the HTML, the CSV or a chart. The per-key tables (channel, onderwerp,
referral, satisfaction, complaints) are per organisation; a team filter narrows the figures of the
team table's series (contacts, answered, repeat contacts, handling time), never by employee (that
needs the works council's consent, WOR art. 27: DGKB keeps no employee with an event at all).

Charts are rendered off the event loop and cached per organisation, bucket, team and chart, keyed on
the aggregation's version, so a new run never serves an old picture.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dgkb.dashboard.aggregate import Aggregator, RunReport
from dgkb.dashboard.charts import Chart, Point, render_svg
from dgkb.dashboard.suppression import TOTAL
from dgkb.domain.periods import Bucket, Grain, latest_closed, today_local
from dgkb.store.db import Database
from dgkb.store.meten import HealthSampleRow, RollupRow

__all__ = ["TABLES", "DashboardService", "DashboardView", "Table"]

KANAAL_LABELS = {
    "telefoon": "Telefoon",
    "balie": "Balie",
    "e-mail": "E-mail",
    "chat": "Chat",
    "brief": "Brief",
    "webformulier": "Webformulier",
    "social-media": "Sociale media",
    "mijn-omgeving": "Mijn omgeving",
    "backoffice": "Backoffice",
    "onbekend": "Onbekend",
}
OTHER_LABELS = {"overig": "Overig", "anders": "Andere organisatie", "onbekend": "Onbekend"}
SUPPRESSED = "onderdrukt"
TREND_LENGTH = {Grain.DAG: 14, Grain.WEEK: 12, Grain.MAAND: 12}
CHART_CACHE = 512


def dutch(value: float, decimals: int = 1) -> str:
    """72.5 → "72,5" (Dutch decimal comma, dot for thousands)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _text(value: str) -> str:
    """A label as a CSV cell a spreadsheet will not run as a formula (a team name comes from a token)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _pct(part: float, whole: float) -> float | None:
    return None if not whole else 100.0 * part / whole


@dataclass(frozen=True, slots=True)
class Cell:
    sleutel: str
    label: str
    shown: bool
    aantal: int
    waarden: Mapping[str, float]

    def get(self, name: str) -> float:
        return float(self.waarden.get(name, 0.0))


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    value: Callable[[Cell], float | None]
    unit: str = ""  # "%", "min", "dagen"
    decimals: int = 0
    signed: bool = False

    def text(self, cell: Cell) -> str:
        if not cell.shown:
            return SUPPRESSED
        v = self.value(cell)
        if v is None:
            return "—"
        if self.unit == "min":
            minutes, seconds = divmod(round(v), 60)
            return f"{minutes}:{seconds:02d} min"
        number = dutch(v, self.decimals)
        if self.signed and v > 0:
            number = "+" + number
        return f"{number}%" if self.unit == "%" else f"{number} {self.unit}".rstrip()

    def csv(self, cell: Cell) -> str:
        if not cell.shown:
            return SUPPRESSED
        v = self.value(cell)
        if v is None:
            return ""
        # no thousands separator in a CSV: a spreadsheet reads "1.183" as a decimal
        number = v / 60 if self.unit == "min" else v
        decimals = 2 if self.unit == "min" else self.decimals
        return f"{number:.{decimals}f}".replace(".", ",")


def _fcr(c: Cell) -> float | None:
    return _pct(c.get("beantwoord_ja"), c.get("beantwoord_bekend"))


def _nps(c: Cell) -> float | None:
    scored = c.get("met_score")
    return None if not scored else round(100.0 * (c.get("promotors") - c.get("criticasters")) / scored)


def _avg(total: str, count: str) -> Callable[[Cell], float | None]:
    return lambda c: None if not c.get(count) else c.get(total) / c.get(count)


CONTACTEN = Column("contacten", "Contacten", lambda c: float(c.aantal))
BEANTWOORD = Column("beantwoord", "Beantwoord in dit contact", _fcr, "%", 1)
HERHAALD = Column("herhaald", "Herhaalcontact", lambda c: _pct(c.get("herhaald"), c.aantal), "%", 1)
AFHANDELTIJD = Column("afhandeltijd", "Gem. afhandeltijd", _avg("duur_som", "duur_aantal"), "min")
AANTAL = Column("aantal", "Aantal", lambda c: float(c.aantal))
BEOORDELINGEN = Column("beoordelingen", "Beoordelingen", lambda c: c.get("met_score"))
NPS = Column("nps", "NPS", _nps, "", 0, signed=True)
WAARDERING = Column("waardering", "Gem. waardering (1–5)", _avg("waardering_som", "waardering_aantal"), "", 1)
INGEDIEND = Column("ingediend", "Ingediend", lambda c: c.get("ingediend"))
AFGEHANDELD = Column("afgehandeld", "Afgehandeld", lambda c: c.get("afgehandeld"))
DOORLOOPTIJD = Column(
    "doorlooptijd", "Gem. doorlooptijd", _avg("doorlooptijd_som", "doorlooptijd_aantal"), "dagen", 1
)


@dataclass(frozen=True, slots=True)
class TableSpec:
    id: str
    title: str
    description: str
    familie: str
    dim: str
    key_label: str
    columns: tuple[Column, ...]
    chart_column: Column
    chart_title: str


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "kanalen",
        "Contacten per kanaal",
        "Hoeveel vragen via elk kanaal binnenkwamen, welk deel in hetzelfde contact is beantwoord en welk "
        "deel een herhaalcontact was.",
        "contact",
        "kanaal",
        "Kanaal",
        (CONTACTEN, BEANTWOORD, HERHAALD),
        CONTACTEN,
        "Contacten per kanaal",
    ),
    TableSpec(
        "onderwerpen",
        "Contacten per onderwerp",
        "Waar de vragen over gingen, met het deel dat in hetzelfde contact is beantwoord en het deel "
        "herhaalcontacten.",
        "contact",
        "onderwerp",
        "Onderwerp",
        (CONTACTEN, BEANTWOORD, HERHAALD),
        CONTACTEN,
        "Contacten per onderwerp",
    ),
    TableSpec(
        "teams",
        "Per team",
        "Contacten en gemiddelde afhandeltijd (van start van het contact tot de registratie) per team. "
        "Nooit per medewerker: dat vraagt instemming van de ondernemingsraad (art. 27 WOR); DGKB legt "
        "bij een gebeurtenis geen medewerker vast.",
        "contact",
        "team",
        "Team",
        (CONTACTEN, BEANTWOORD, HERHAALD, AFHANDELTIJD),
        AFHANDELTIJD,
        "Gemiddelde afhandeltijd per team (seconden)",
    ),
    TableSpec(
        "doorverwijzingen",
        "Doorverwijzingen",
        "Naar welke organisatie klanten zijn doorverwezen.",
        "doorverwijzing",
        "naar",
        "Doorverwezen naar",
        (AANTAL,),
        AANTAL,
        "Doorverwijzingen per organisatie",
    ),
    TableSpec(
        "tevredenheid-kanaal",
        "Tevredenheid per kanaal",
        "Net Promoter Score: het percentage promotors (9 of 10) min het percentage criticasters (0 tot en "
        "met 6), met de gemiddelde waardering van 1 tot 5.",
        "oordeel",
        "kanaal",
        "Kanaal",
        (BEOORDELINGEN, NPS, WAARDERING),
        NPS,
        "NPS per kanaal",
    ),
    TableSpec(
        "tevredenheid-dienst",
        "Tevredenheid per dienst",
        "Net Promoter Score en gemiddelde waardering per onderwerp van de dienst.",
        "oordeel",
        "onderwerp",
        "Dienst",
        (BEOORDELINGEN, NPS, WAARDERING),
        NPS,
        "NPS per dienst",
    ),
    TableSpec(
        "klachten",
        "Klachten per onderwerp",
        "Ingediende en afgehandelde klachten en de gemiddelde doorlooptijd van indienen tot afhandelen.",
        "klacht",
        "onderwerp",
        "Onderwerp",
        (INGEDIEND, AFGEHANDELD, DOORLOOPTIJD),
        INGEDIEND,
        "Ingediende klachten per onderwerp",
    ),
    TableSpec(
        "meldingen",
        "Meldingen per onderwerp",
        "Ingediende en afgehandelde meldingen en de gemiddelde doorlooptijd.",
        "melding",
        "onderwerp",
        "Onderwerp",
        (INGEDIEND, AFGEHANDELD, DOORLOOPTIJD),
        INGEDIEND,
        "Ingediende meldingen per onderwerp",
    ),
)
TABLE_IDS = frozenset(t.id for t in TABLES) | {"verloop", "bronnen"}


@dataclass
class Table:
    spec: TableSpec
    rows: list[Cell]
    total: Cell | None

    @property
    def suppressed(self) -> int:
        return sum(1 for r in self.rows if not r.shown)


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class SourceRow:
    bron: str
    naam: str
    aanroepen: int
    beschikbaarheid: float | None
    p95_ms: float | None


@dataclass
class DashboardView:
    organisation: str
    bucket: Bucket
    team: str | None
    tables: list[Table]
    trend: list[tuple[Bucket, Cell | None]]
    figures: list[Figure]
    sources: list[SourceRow]
    source_series: list[tuple[str, str, float | None, float | None]]  # (bron naam, x, beschikbaarheid, p95)
    version: int
    empty: bool = False

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.spec.id == table_id)


class DashboardService:
    def __init__(
        self,
        *,
        database: Database,
        aggregator: Aggregator,
        onderwerpen: Mapping[str, str],
        sources: Mapping[str, tuple[str, str]],  # id → (name, organisation OIN)
    ) -> None:
        self._db = database
        self.aggregator = aggregator
        self._labels = {"onderwerp": dict(onderwerpen), "kanaal": KANAAL_LABELS}
        self._sources = dict(sources)
        self._charts: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._rendering: dict[tuple[object, ...], asyncio.Future[str]] = {}
        self._version: tuple[float, int] = (0.0, -1)
        self.renders = 0  # charts rendered by this process (tests, benchmark)

    async def aggregate(self) -> RunReport:
        return await self.aggregator.run()

    async def version(self) -> int:
        """The aggregation's version, re-read at most once a second (the chart cache key)."""
        at, value = self._version
        if time.monotonic() - at > 1.0:
            value = await self.aggregator.version()
            self._version = (time.monotonic(), value)
        return value

    def _label(self, dim: str, key: str) -> str:
        if key in OTHER_LABELS:
            return OTHER_LABELS[key]
        return self._labels.get(dim, {}).get(key, key)

    # --- reading -----------------------------------------------------------------------------------------
    async def periods(self, organisation: str, grain: Grain, limit: int = 60) -> list[Bucket]:
        """The buckets of `grain` with figures, latest first."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(RollupRow.bucket)
                .where(
                    RollupRow.organisation == organisation,
                    RollupRow.grain == grain.value,
                    RollupRow.familie == "contact",
                    RollupRow.dim == TOTAL,
                )
                .order_by(RollupRow.bucket.desc())
                .limit(limit)
            )
            return [Bucket(grain, d) for d in rows]

    async def teams(self, organisation: str) -> list[str]:
        async with self._db.read() as session:
            rows = await session.scalars(
                select(RollupRow.sleutel)
                .where(
                    RollupRow.organisation == organisation,
                    RollupRow.familie == "contact",
                    RollupRow.dim == "team",
                    RollupRow.grain == Grain.MAAND.value,
                    RollupRow.gepubliceerd.is_(True),
                )
                .distinct()
            )
            return sorted(rows)

    def default_bucket(self, grain: Grain) -> Bucket:
        return latest_closed(grain, today_local())

    def _cell(self, row: RollupRow) -> Cell:
        shown = bool(row.gepubliceerd)
        # a suppressed cell's numbers are dropped here: nothing below can show them by mistake
        return Cell(
            sleutel=row.sleutel,
            label=self._label(row.dim, row.sleutel) if row.dim != TOTAL else "Totaal",
            shown=shown,
            aantal=row.aantal if shown else 0,
            waarden=json.loads(row.waarden) if shown else {},
        )

    async def view(self, organisation: str, bucket: Bucket, team: str | None = None) -> DashboardView:
        first = bucket.previous(TREND_LENGTH[bucket.grain] - 1)
        async with self._db.read() as session:
            rows = list(
                await session.scalars(
                    select(RollupRow).where(
                        RollupRow.organisation == organisation,
                        RollupRow.grain == bucket.grain.value,
                        RollupRow.bucket == bucket.key,
                    )
                )
            )
            series_dim, series_key = ("team", team) if team else (TOTAL, "")
            trend_rows = list(
                await session.scalars(
                    select(RollupRow).where(
                        RollupRow.organisation == organisation,
                        RollupRow.grain == bucket.grain.value,
                        RollupRow.bucket >= first.key,
                        RollupRow.bucket <= bucket.key,
                        RollupRow.familie == "contact",
                        RollupRow.dim == series_dim,
                        RollupRow.sleutel == series_key,
                    )
                )
            )
            health = await self._health(session, organisation, bucket)
        cells: dict[tuple[str, str], list[Cell]] = {}
        totals: dict[str, Cell] = {}
        for row in rows:
            cell = self._cell(row)
            if row.dim == TOTAL:
                totals[row.familie] = cell
            else:
                cells.setdefault((row.familie, row.dim), []).append(cell)
        tables = []
        for spec in TABLES:
            found = cells.get((spec.familie, spec.dim), [])
            found.sort(key=lambda c: (not c.shown, -c.aantal, c.label))
            tables.append(Table(spec, found, totals.get(spec.familie)))
        by_bucket = {r.bucket: self._cell(r) for r in trend_rows}
        trend = []
        step = first
        for _ in range(TREND_LENGTH[bucket.grain]):
            trend.append((step, by_bucket.get(step.key)))
            step = _next(step)
        contact = totals.get("contact")
        if team:
            contact = next((c for c in cells.get(("contact", "team"), []) if c.sleutel == team), None)
        sources, series = health
        return DashboardView(
            organisation=organisation,
            bucket=bucket,
            team=team,
            tables=tables,
            trend=trend,
            figures=self._figures(contact, totals, team),
            sources=sources,
            source_series=series,
            version=await self.version(),
            empty=not rows,
        )

    def _figures(self, contact: Cell | None, totals: Mapping[str, Cell], team: str | None) -> list[Figure]:
        def show(cell: Cell | None, column: Column) -> str:
            if cell is None:
                return "geen gegevens"
            return column.text(cell)

        figures = [
            Figure("Contacten" + (f" ({team})" if team else ""), show(contact, CONTACTEN)),
            Figure("Beantwoord in dit contact", show(contact, BEANTWOORD)),
            Figure("Herhaalcontact", show(contact, HERHAALD)),
            Figure("Gem. afhandeltijd", show(contact, AFHANDELTIJD)),
        ]
        if team:
            return figures
        everyone, referred, rated = totals.get("contact"), totals.get("doorverwijzing"), totals.get("oordeel")
        base = everyone.aantal if everyone is not None and everyone.shown else 0

        def share(cell: Cell | None, part: Callable[[Cell], float]) -> str:
            if cell is not None and not cell.shown:
                return SUPPRESSED
            if cell is None or not base:
                return "—"
            return f"{dutch(100.0 * part(cell) / base)}%"

        referral = share(referred, lambda c: float(c.aantal))
        response = share(rated, lambda c: c.get("met_score"))
        figures += [
            Figure("Doorverwezen", referral),
            Figure("NPS", show(rated, NPS)),
            Figure("Gem. waardering", show(rated, WAARDERING)),
            Figure("Respons op de tevredenheidsvraag", response),
            Figure("Klachten ingediend", show(totals.get("klacht"), INGEDIEND)),
            Figure("Meldingen ingediend", show(totals.get("melding"), INGEDIEND)),
        ]
        return figures

    async def _health(
        self, session: AsyncSession, organisation: str, bucket: Bucket
    ) -> tuple[list[SourceRow], list[tuple[str, str, float | None, float | None]]]:
        mine = [sid for sid, (_, org) in self._sources.items() if org == organisation]
        if not mine:
            return [], []
        step = HealthSampleRow.uur if bucket.grain is Grain.DAG else HealthSampleRow.dag
        query = (
            select(
                HealthSampleRow.bron,
                step,
                func.sum(HealthSampleRow.aanroepen),
                func.sum(HealthSampleRow.fouten),
                func.max(HealthSampleRow.p95_ms),
            )
            .where(
                and_(
                    HealthSampleRow.dag >= bucket.first_day,
                    HealthSampleRow.dag <= bucket.last_day,
                    HealthSampleRow.bron.in_(mine),
                )
            )
            .group_by(HealthSampleRow.bron, step)
            .order_by(HealthSampleRow.bron, step)
        )
        totals: dict[str, list[float]] = {}
        series = []
        for bron, at, calls, errors, p95 in (await session.execute(query)).all():
            name = self._sources[bron][0]
            calls, errors = int(calls or 0), int(errors or 0)
            agg = totals.setdefault(bron, [0, 0, 0.0])
            agg[0] += calls
            agg[1] += errors
            agg[2] = max(agg[2], float(p95 or 0.0))
            x = (
                f"{int(str(at)):02d}:00"
                if bucket.grain is Grain.DAG
                else date.fromisoformat(str(at)).strftime("%d-%m")
            )
            series.append((name, x, _pct(calls - errors, calls), float(p95) if p95 is not None else None))
        rows = [
            SourceRow(bron, self._sources[bron][0], int(c), _pct(c - e, c), p or None)
            for bron, (c, e, p) in sorted(totals.items())
        ]
        return rows, series

    # --- charts ---------------------------------------------------------------------------------------------
    def chart(self, view: DashboardView, name: str) -> Chart | None:
        """The chart `name` of a view, from the same numbers as its table (suppressed cells left out)."""
        period = view.bucket.label
        if name == "verloop":
            who = f" van {view.team}" if view.team else ""
            points = [
                Point(b.short_label, float(c.aantal) if c is not None and c.shown else None)
                for b, c in view.trend
            ]
            hidden = sum(1 for p in points if p.y is None)
            return Chart(
                "verloop",
                f"Contacten{who} per {view.bucket.grain.value}",
                f"Aantal contacten{who} in de {len(points)} perioden tot en met {period}"
                + (
                    f"; {hidden} perioden zonder getoond cijfer (onderdrukt of geen gegevens)."
                    if hidden
                    else "."
                ),
                "line",
                view.bucket.grain.label,
                "Contacten",
                points,
            )
        if name in ("bronnen-beschikbaarheid", "bronnen-latentie"):
            availability = name == "bronnen-beschikbaarheid"
            points = [Point(x, a if availability else p, bron) for bron, x, a, p in view.source_series]
            return Chart(
                name,
                "Beschikbaarheid per bron" if availability else "Hoogste p95-responstijd per bron",
                (
                    "Percentage aanroepen zonder fout per bron"
                    if availability
                    else "Hoogste 95e percentiel van de responstijd (ms) per bron"
                )
                + f", per {'uur' if view.bucket.grain is Grain.DAG else 'dag'}, in {period}.",
                "line",
                "Uur" if view.bucket.grain is Grain.DAG else "Dag",
                "Beschikbaarheid" if availability else "p95 (ms)",
                points,
                percent=availability,
            )
        spec = next((t for t in TABLES if t.id == name), None)
        if spec is None:
            return None
        table = view.table(name)
        points = [Point(c.label, spec.chart_column.value(c)) for c in table.rows if c.shown]
        return Chart(
            name,
            spec.chart_title,
            f"{spec.chart_title}, {period}."
            + (
                f" {table.suppressed} onderdrukte cellen staan niet in de grafiek."
                if table.suppressed
                else ""
            ),
            "bar",
            spec.key_label,
            spec.chart_column.label,
            points,
        )

    async def chart_svg(self, view: DashboardView, name: str) -> str | None:
        """The rendered chart, from the cache when the same organisation, bucket, team and version was
        drawn before; rendered in a thread otherwise (one render per key, however many ask at once)."""
        key = (view.organisation, view.bucket.grain, view.bucket.key, view.team, name, view.version)
        cached = self._charts.get(key)
        if cached is not None:
            self._charts.move_to_end(key)
            return cached
        pending = self._rendering.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        chart = self.chart(view, name)
        if chart is None:
            return None
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            svg = await asyncio.to_thread(render_svg, chart)
            self.renders += 1
            future.set_result(svg)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._rendering[key]
        self._charts[key] = svg
        while len(self._charts) > CHART_CACHE:
            self._charts.popitem(last=False)
        return svg

    async def warm(self, organisations: Sequence[str]) -> int:
        """Render the charts of each organisation's latest day, week and month (after a run), so
        the first look at the dashboard finds them ready."""
        done = 0
        for organisation in organisations:
            for grain in Grain:
                view = await self.view(organisation, self.default_bucket(grain))
                if view.empty:
                    continue
                for name in CHART_NAMES:
                    await self.chart_svg(view, name)
                    done += 1
        return done

    # --- CSV ----------------------------------------------------------------------------------------------
    def csv(self, view: DashboardView, table_id: str) -> str:
        """One table as CSV (semicolons, Dutch decimal comma, as the access log export); a suppressed
        cell says "onderdrukt"."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        period = view.bucket.short_label
        if table_id == "verloop":
            writer.writerow(["periode", "team", "contacten", "beantwoord_pct", "herhaalcontact_pct"])
            for b, cell in view.trend:
                if cell is None:
                    writer.writerow([b.short_label, _text(view.team or ""), "", "", ""])
                else:
                    writer.writerow(
                        [
                            b.short_label,
                            _text(view.team or ""),
                            CONTACTEN.csv(cell),
                            BEANTWOORD.csv(cell),
                            HERHAALD.csv(cell),
                        ]
                    )
        elif table_id == "bronnen":
            writer.writerow(["periode", "bron", "aanroepen", "beschikbaarheid_pct", "hoogste_p95_ms"])
            for s in view.sources:
                writer.writerow(
                    [
                        period,
                        _text(s.naam),
                        s.aanroepen,
                        "" if s.beschikbaarheid is None else f"{s.beschikbaarheid:.2f}".replace(".", ","),
                        "" if s.p95_ms is None else f"{s.p95_ms:.0f}",
                    ]
                )
        else:
            table = view.table(table_id)
            writer.writerow(["periode", table.spec.key_label.lower(), *(c.key for c in table.spec.columns)])
            for cell in [*table.rows, *([table.total] if table.total is not None else [])]:
                writer.writerow([period, _text(cell.label), *(c.csv(cell) for c in table.spec.columns)])
        return "\ufeff" + out.getvalue()


CHART_NAMES: tuple[str, ...] = (
    "verloop",
    *(t.id for t in TABLES),
    "bronnen-beschikbaarheid",
    "bronnen-latentie",
)


def _next(bucket: Bucket) -> Bucket:
    if bucket.grain is Grain.DAG:
        return Bucket(bucket.grain, bucket.key + timedelta(days=1))
    if bucket.grain is Grain.WEEK:
        return Bucket(bucket.grain, bucket.key + timedelta(days=7))
    year, month = divmod(bucket.key.year * 12 + bucket.key.month, 12)
    return Bucket(bucket.grain, date(year, month + 1, 1))
