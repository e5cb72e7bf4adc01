"""Sources benchmark (issue "Sources" §7): deadlines, circuit breaker, cache and customer search over
real sockets. Prints its figures; `make bench` runs it after `bench/klantbeeld.py`.

Same three-process set-up as `bench/klantbeeld.py` (whose helpers it reuses): the simulators of every
source in one process (Klantinteracties with `--extra-addresses` extra digitale adressen), DGKB under
uvicorn in another (source deadline `--source-deadline`, default 1.0 s), this process driving the load
with aiohttp. The klantbeeld is that of purpose `gemeentelijke-belastingen` read by kcm-anna with
zekerheid digid-midden: BRP, Klantinteracties (two sections), gemeente-belastingen and gemeente-boetes.

1. Deadline: one source slow (`--slow-ms`, 2 s; `--slow-source`), one dead (503; `--dead-source`), the
   others answering after `--latency-ms`. DGKB runs here with the breaker threshold raised out of reach
   (a bench-only patch of `dgkb.composition.root.Federation`), so every request goes through the
   deadline path; the view must come back within deadline + `DEADLINE_SLACK_MS` with the other sections ok.
2. Breaker: a fresh DGKB with the real breaker (opens after 5 failures): the first reads one by one
   (the breaker opening), then 10 clients with both breakers open: the dead source's `duurMs` must be
   < 1 ms. Then `GET /api/v1/bronnen` as beheer-bea (breaker state, p50/p95, error rate).
3. Cache: a fresh DGKB, every source at `--latency-ms`: first read of a subject (miss: a contact per
   subject of the simulated world) against the repeated reads within the cache TTL (hit).
4. Search: `POST /api/v1/klantzoekopdrachten` by phone number and by e-mail address over the
   Klantinteracties simulator with 100,000 extra digitale adressen, at 1 and 10 clients, simulators at
   `--search-latency-ms` (0: the figure is the search itself); plus the simulator's own
   `adres__icontains` time, to split DGKB from the simulator.

    .venv/bin/python bench/sources.py            # full run
    .venv/bin/python bench/sources.py --quick    # smoke run
    .venv/bin/python bench/sources.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import klantbeeld as kb  # bench/ is on sys.path: this file runs as a script (so do its children)
import uvloop
from rich.console import Console
from rich.table import Table

PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/gemeentelijke-belastingen"
BSN = "999993653"
ZEKERHEID = "digid-midden"
USER = "kcm-anna"
ADMIN = "beheer-bea"
PHONE = "06-45408799"  # 999993653's phone number
EMAIL = "johanna.vanderberg@example.nl"  # and e-mail address
KI_TOKEN = "demo-openklant-token"  # the demo simulator's token (config/sources.yaml)
KI_PATH = "/klantinteracties/api/v1"

DEADLINE_SLACK_MS = 100.0  # "within the deadline + small overhead"
TARGET_BREAKER_MS = 1.0  # a dead source behind an open breaker costs < 1 ms


# -- child processes -----------------------------------------------------------------------------


def _simulators_main(latency_ms: int, extra_addresses: int, conn: Connection) -> None:
    """Child process: every simulator on a free port; Klantinteracties with extra digitale adressen."""

    async def main() -> None:
        from dgkb.runner import simulator_apps
        from dgkb.simulators import klantinteracties
        from dgkb.simulators.serve import serve_in_background
        from dgkb.simulators.world import build_world

        world = build_world()
        apps = simulator_apps(world, latency_ms)
        apps["klantinteracties"] = klantinteracties.create_app(
            world, token=KI_TOKEN, latency_ms=latency_ms, extra_addresses=extra_addresses
        )
        async with contextlib.AsyncExitStack() as stack:
            urls = {}
            for name, app in apps.items():
                _, url = await stack.enter_async_context(serve_in_background(app, 0))
                urls[name] = url
            conn.send(urls)
            await kb._wait_for_stop(conn)

    uvloop.run(main())


def _dgkb_main(
    database_url: str, overrides: dict[str, str], deadline: float, breaker_threshold: int, conn: Connection
) -> None:
    """Child process: DGKB (as in bench/klantbeeld.py) with DGKB_SOURCE_DEADLINE_SECONDS=`deadline`;
    `breaker_threshold` > 0 patches the breaker's failure threshold (bench-only, to keep it closed)."""
    os.environ["DGKB_SOURCE_DEADLINE_SECONDS"] = str(deadline)
    if breaker_threshold:
        import dgkb.composition.root
        from dgkb.federation.fanout import Federation

        dgkb.composition.root.Federation = functools.partial(Federation, failure_threshold=breaker_threshold)  # type: ignore[attr-defined,assignment]
    kb._dgkb_main(database_url, overrides, None, 0, True, False, conn)  # with the source cache


# -- measurement helpers ---------------------------------------------------------------------------


@dataclass
class Cpu:
    """CPU used per process and by the rest of the machine during one scenario."""

    name: str
    seconds: float
    dgkb_s: float
    sims_s: float
    bench_s: float
    machine_s: float
    loadavg: str

    @property
    def foreign_s(self) -> float:
        return max(0.0, self.machine_s - self.dgkb_s - self.sims_s - self.bench_s)


@dataclass
class Procs:
    dgkb: kb.Child
    sims: kb.Child
    cpu: list[Cpu] = field(default_factory=list)

    @contextlib.contextmanager
    def measure(self, name: str) -> Iterator[None]:
        def snap() -> tuple[float, float, float, float, float]:
            return (
                self.dgkb.cpu_seconds(),
                self.sims.cpu_seconds(),
                time.process_time(),
                kb.busy_cpu_seconds(),
                time.perf_counter(),
            )

        before = snap()
        yield
        after = snap()
        d = [a - b for a, b in zip(after, before, strict=True)]
        with open("/proc/loadavg", encoding="ascii") as fh:
            load = " ".join(fh.read().split()[:3])
        self.cpu.append(Cpu(name, d[4], d[0], d[1], d[2], d[3], load))


@dataclass(frozen=True, slots=True)
class Section:
    source: str
    category: str
    status: str
    duur_ms: float | None
    reden: str | None


@dataclass(frozen=True, slots=True)
class View:
    done_at: float
    latency_ms: float
    sections: tuple[Section, ...]


def parse_view(done_at: float, latency_ms: float, body: dict[str, Any]) -> View:
    sections = tuple(
        Section(s["bronId"], s["categorie"], s["status"], s.get("duurMs"), s.get("reden"))
        for s in body["secties"]
        if s.get("bronId")
    )
    return View(done_at, latency_ms, sections)


def pcts(values: Sequence[float], ps: Sequence[float] = (50, 95, 99)) -> str:
    ordered = sorted(values)
    return " / ".join(kb._f(kb.pct(ordered, p), 2 if ordered and ordered[-1] < 10 else 1) for p in ps)


@contextlib.asynccontextmanager
async def session(clients: int = 10) -> AsyncIterator[aiohttp.ClientSession]:
    async with kb.load_session(clients) as s:
        yield s


async def token(s: aiohttp.ClientSession, api: str, user: str) -> dict[str, str]:
    async with s.post(f"{api}/dev-issuer/token", json={"gebruiker": user}) as resp:
        resp.raise_for_status()
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def open_contact(
    s: aiohttp.ClientSession, api: str, headers: dict[str, str], bsn: str | None = BSN
) -> str | None:
    """A new contact for PURPOSE, identified with a digid-midden login (test broker) when `bsn` is
    given; its URL, or None
    when the identification is refused (e.g. a subject the verifier does not know)."""
    body = {"kanaal": "telefoon", "verwerkingsactiviteit": PURPOSE}
    async with s.post(f"{api}/api/v1/contacten", json=body, headers=headers) as resp:
        if resp.status != 201:
            raise RuntimeError(f"contact start: HTTP {resp.status}: {await resp.text()}")
        url = f"{api}/api/v1/contacten/{(await resp.json())['id']}"
    if bsn is not None:
        # a DigiD level comes only from the customer's login: the test broker issues the ID token
        login = {"bsn": bsn, "niveau": ZEKERHEID}
        async with s.post(f"{api}/test-broker/id-token", json=login) as resp:
            if resp.status != 200:
                return None
            token = await resp.json()
        ident = {"bsn": bsn, "idToken": token["idToken"], "nonce": token["nonce"]}
        async with s.post(f"{url}/identificatie", json=ident, headers=headers) as resp:
            if resp.status != 200:
                return None
    return url


async def behave(s: aiohttp.ClientSession, sim_url: str, **body: Any) -> None:
    async with s.post(f"{sim_url}/_sim/behaviour", json=body) as resp:
        resp.raise_for_status()


async def reset_sims(s: aiohttp.ClientSession, sims: dict[str, str], latency_ms: int) -> None:
    for url in sims.values():
        await behave(s, url, latencyMs=latency_ms, fail="none", failureRate=0)


async def read_view(s: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> View:
    started = time.perf_counter()
    async with s.get(f"{url}/klantbeeld", headers=headers) as resp:
        body = await resp.json()
        status = resp.status
    done = time.perf_counter()
    if status != 200:
        raise RuntimeError(f"klantbeeld: HTTP {status}: {body}")
    return parse_view(done, (done - started) * 1000, body)


async def view_load(
    s: aiohttp.ClientSession, urls: Sequence[str], headers: dict[str, str], seconds: float, warmup: float
) -> tuple[list[View], int]:
    """Every contact URL read in a loop by its own client; views completed in the window count."""
    views: list[View] = []
    errors = 0
    begin = time.perf_counter()
    start_at, stop_at = begin + warmup, begin + warmup + seconds

    async def loop(url: str) -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            try:
                view = await read_view(s, url, headers)
            except (aiohttp.ClientError, RuntimeError):
                errors += 1
                await asyncio.sleep(0.01)
                continue
            if start_at <= view.done_at <= stop_at:
                views.append(view)

    await asyncio.gather(*(loop(u) for u in urls))
    return views, errors


# -- scenarios -----------------------------------------------------------------------------------


@dataclass
class DeadlineRun:
    name: str
    clients: int
    views: list[View]
    errors: int


@dataclass
class Report:
    deadline: float
    slow: str
    dead: str
    deadline_runs: list[DeadlineRun] = field(default_factory=list)
    timeline: list[View] = field(default_factory=list)
    breaker_run: DeadlineRun | None = None
    bronnen: list[dict[str, Any]] = field(default_factory=list)
    bronnen_ms: list[float] = field(default_factory=list)
    cache: dict[str, list[View]] = field(default_factory=dict)
    search: list[tuple[str, int, list[float], int]] = field(default_factory=list)
    sim_search: list[tuple[str, list[float], int]] = field(default_factory=list)
    cpu: list[Cpu] = field(default_factory=list)
    open_breaker_us: list[float] = field(default_factory=list)


async def scenario_deadline(
    procs: Procs, api: str, sims: dict[str, str], args: argparse.Namespace, report: Report
) -> None:
    async with session(10) as s:
        await reset_sims(s, sims, args.latency_ms)
        await behave(s, sims[args.slow_source], latencyMs=args.slow_ms)
        await behave(s, sims[args.dead_source], fail="503")
        headers = await token(s, api, USER)
        for clients in (1, 10):
            urls = [u for u in await asyncio.gather(*(open_contact(s, api, headers) for _ in range(clients)))]
            name = f"deadline, {clients} client{'s' if clients > 1 else ''}"
            with procs.measure(name):
                views, errors = await view_load(
                    s, [u for u in urls if u], headers, args.deadline_seconds, args.warmup
                )
            report.deadline_runs.append(DeadlineRun(name, clients, views, errors))


async def scenario_breaker(
    procs: Procs, api: str, sims: dict[str, str], args: argparse.Namespace, report: Report
) -> None:
    async with session(10) as s:
        await reset_sims(s, sims, args.latency_ms)
        await behave(s, sims[args.slow_source], latencyMs=args.slow_ms)
        await behave(s, sims[args.dead_source], fail="503")
        headers = await token(s, api, USER)
        url = await open_contact(s, api, headers)
        assert url is not None
        with procs.measure("breaker opening, 8 reads one by one"):
            for _ in range(8):
                report.timeline.append(await read_view(s, url, headers))
        urls = [u for u in await asyncio.gather(*(open_contact(s, api, headers) for _ in range(10))) if u]
        name = "breakers open, 10 clients"
        with procs.measure(name):
            views, errors = await view_load(s, urls, headers, args.seconds, args.warmup)
        report.breaker_run = DeadlineRun(name, 10, views, errors)
        admin = await token(s, api, ADMIN)
        for _ in range(20 if args.quick else 100):
            t0 = time.perf_counter()
            async with s.get(f"{api}/api/v1/bronnen", headers=admin) as resp:
                resp.raise_for_status()
                body = await resp.json()
            report.bronnen_ms.append((time.perf_counter() - t0) * 1000)
        report.bronnen = body["resultaten"]


async def scenario_cache(
    procs: Procs, api: str, sims: dict[str, str], args: argparse.Namespace, report: Report
) -> None:
    from dgkb.simulators.world import build_world

    bsns = list(build_world().bsns)
    if args.quick:
        bsns = bsns[:60]
    async with session(10) as s:
        await reset_sims(s, sims, args.latency_ms)
        headers = await token(s, api, USER)
        sem = asyncio.Semaphore(10)

        async def contact(bsn: str) -> str | None:
            async with sem:
                return await open_contact(s, api, headers, bsn)

        urls = [u for u in await asyncio.gather(*(contact(b) for b in bsns)) if u]
        single, multi = urls[: len(urls) // 5], urls[len(urls) // 5 :]
        for clients, mine in ((1, single), (10, multi)):
            misses: list[View] = []
            hits: list[View] = []

            async def client(subjects: Sequence[str], misses: list[View], hits: list[View]) -> None:
                for url in subjects:  # first read of a subject: miss; the next ones, within TTL: hits
                    misses.append(await read_view(s, url, headers))
                    for _ in range(args.cache_hits):
                        hits.append(await read_view(s, url, headers))

            with procs.measure(f"cache, {clients} client{'s' if clients > 1 else ''}"):
                await asyncio.gather(*(client(mine[i::clients], misses, hits) for i in range(clients)))
            report.cache[f"miss, {clients} cl."] = misses
            report.cache[f"hit, {clients} cl."] = hits


async def scenario_search(
    procs: Procs, api: str, sims: dict[str, str], args: argparse.Namespace, report: Report
) -> None:
    from dgkb.sources.normalise import normalise_email, normalise_phone, phone_search_core

    async with session(10) as s:
        await reset_sims(s, sims, args.search_latency_ms)
        headers = await token(s, api, USER)
        # the simulator alone: the adapter's adres__icontains query over every digitaal adres
        ki = f"{sims['klantinteracties']}{KI_PATH}/digitaleadressen"
        ki_headers = {"Authorization": f"Token {KI_TOKEN}"}  # as Open Klant wants it
        for label, core in (
            ("telefoon", phone_search_core(normalise_phone(PHONE))),
            ("e-mail", normalise_email(EMAIL)),
        ):
            times = []
            found = 0
            for _ in range(50 if args.quick else 300):
                t0 = time.perf_counter()
                async with s.get(ki, params={"adres__icontains": core}, headers=ki_headers) as resp:
                    resp.raise_for_status()
                    found = (await resp.json())["count"]
                times.append((time.perf_counter() - t0) * 1000)
            report.sim_search.append((f"{label} ({core!r})", times, found))
        for label, term in (("telefoon", PHONE), ("e-mail", EMAIL)):
            for clients in (1, 10):
                contacts = await asyncio.gather(
                    *(open_contact(s, api, headers, None) for _ in range(clients))
                )
                with procs.measure(f"search {label}, {clients} client{'s' if clients > 1 else ''}"):
                    latencies, errors = await search_load(
                        s, api, headers, [c for c in contacts if c], term, args.seconds, args.warmup
                    )
                report.search.append((label, clients, latencies, errors))


async def search_load(
    s: aiohttp.ClientSession,
    api: str,
    headers: dict[str, str],
    contact_urls: Sequence[str],
    term: str,
    seconds: float,
    warmup: float,
) -> tuple[list[float], int]:
    """One client per contact searching `term` in a loop; a search must find BSN to count."""
    latencies: list[float] = []
    errors = 0
    begin = time.perf_counter()
    start_at, stop_at = begin + warmup, begin + warmup + seconds

    async def loop(contact_url: str) -> None:
        nonlocal errors
        body = {"contactId": contact_url.rsplit("/", 1)[1], "zoekterm": term}
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            async with s.post(f"{api}/api/v1/klantzoekopdrachten", json=body, headers=headers) as resp:
                result = await resp.json()
                status = resp.status
            done = time.perf_counter()
            bsns = [k.get("bsn") for k in result.get("kandidaten", [])] if status == 200 else []
            if status != 200 or BSN not in bsns:
                errors += 1
            elif start_at <= done <= stop_at:
                latencies.append((done - t0) * 1000)

    await asyncio.gather(*(loop(u) for u in contact_urls))
    return latencies, errors


def bench_open_breaker(quick: bool) -> list[float]:
    """In process: `Federation.fetch` of one call to a source whose breaker is open (µs per call);
    the API rounds `duurMs` to 0.1 ms, this is the same code path at µs resolution."""
    from dgkb.domain.identifiers import Subject
    from dgkb.federation.fanout import Federation, SourceCall

    class Dead:
        id = "dood"

        async def fetch(self, request: object) -> dict[str, object]:
            raise AssertionError("the breaker is open: no call may go out")

    federation = Federation(concurrency={"dood": 10})
    for _ in range(5):
        federation._breakers["dood"].record_failure()
    call = SourceCall(
        adapter=Dead(),  # type: ignore[arg-type]
        fields={"dossier.financieel": ("bedrag",), "dossier.rechten-en-plichten": ("naam",)},
        headers={},
        deadline=1.0,
        cache_ttl=30.0,  # no cache configured: skipped, as in a miss
    )
    subject = Subject.person(BSN)

    async def run() -> list[float]:
        per_call = []
        for _ in range(20 if quick else 100):
            t0 = time.perf_counter()
            for _ in range(200):
                outcomes = await federation.fetch([call], subject, "pseudoniem")
            per_call.append((time.perf_counter() - t0) * 1e6 / 200)
        assert all(o.status == "onbereikbaar" for o in outcomes)
        return sorted(per_call)

    return uvloop.run(run())


# -- report --------------------------------------------------------------------------------------


def _statuses(sections: Sequence[Section]) -> str:
    counts = Counter(s.status for s in sections)
    return ", ".join(f"{k}×{v}" for k, v in counts.most_common())


def _role(source: str, report: Report) -> str:
    return "slow" if source == report.slow else "dead" if source == report.dead else "healthy"


def deadline_table(report: Report) -> Table:
    table = Table(
        title=f"1. Deadline: {report.slow} slow, {report.dead} dead (503), source deadline "
        f"{report.deadline:g} s, breaker kept closed (ms)"
    )
    for col in ("run", "views", "errors", "latency p50/p95/p99", "max", "max − deadline"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for run in report.deadline_runs:
        lat = [v.latency_ms for v in run.views]
        top = max(lat, default=float("nan"))
        table.add_row(
            run.name,
            str(len(run.views)),
            str(run.errors),
            pcts(lat),
            kb._f(top),
            kb._f(top - report.deadline * 1000),
        )
    return table


def sections_table(title: str, runs: Sequence[DeadlineRun], report: Report) -> Table:
    table = Table(title=title)
    for col in ("run", "source", "role", "section statuses", "duurMs p50/p95/p99", "max", "reden"):
        table.add_column(col, justify="right" if "duur" in col or col == "max" else "left")
    for run in runs:
        by_source: dict[str, list[Section]] = {}
        for v in run.views:
            for sec in v.sections:
                by_source.setdefault(sec.source, []).append(sec)
        for source, secs in sorted(by_source.items(), key=lambda kv: (_role(kv[0], report), kv[0])):
            duur = [s.duur_ms for s in secs if s.duur_ms is not None]
            redenen = ", ".join(sorted({s.reden for s in secs if s.reden}))
            table.add_row(
                run.name,
                source,
                _role(source, report),
                _statuses(secs),
                pcts(duur),
                kb._f(max(duur, default=float("nan")), 2),
                redenen or "—",
            )
    return table


def timeline_table(report: Report) -> Table:
    table = Table(title="2a. Breaker opening: the first reads one by one (status duurMs per source)")
    sources = sorted({s.source for v in report.timeline for s in v.sections})
    table.add_column("read", justify="right")
    table.add_column("latency ms", justify="right")
    for src in sources:
        table.add_column(f"{src} ({_role(src, report)})")
    for i, view in enumerate(report.timeline, 1):
        cells = []
        for src in sources:
            secs = [s for s in view.sections if s.source == src]
            sec = secs[0] if secs else None
            cells.append(f"{sec.status} {kb._f(sec.duur_ms or 0.0, 2)}" if sec else "—")
        table.add_row(str(i), kb._f(view.latency_ms), *cells)
    return table


def bronnen_table(report: Report) -> Table:
    lat = pcts(report.bronnen_ms, (50, 95))
    table = Table(
        title=f"2c. GET /api/v1/bronnen as {ADMIN} after the breaker run (endpoint p50/p95 {lat} ms)"
    )
    for col in ("bron", "actief", "stroomonderbreker", "aanroepen", "p50 ms", "p95 ms", "fout %", "laatste"):
        table.add_column(col, justify="left" if col in ("bron", "stroomonderbreker", "laatste") else "right")
    for b in report.bronnen:
        rate = b.get("foutpercentage")
        table.add_row(
            b["id"],
            "ja" if b.get("actief") else "nee",
            str(b.get("stroomonderbreker") or "—"),
            str(b.get("aanroepen", 0)),
            str(b.get("latencyP50Ms") if b.get("latencyP50Ms") is not None else "—"),
            str(b.get("latencyP95Ms") if b.get("latencyP95Ms") is not None else "—"),
            f"{rate * 100:.0f}" if rate is not None else "—",
            str(b.get("laatsteFout") or "—"),
        )
    return table


def cache_table(report: Report, latency_ms: int) -> Table:
    table = Table(
        title=f"3. Cache hit vs miss: klantbeeld latency (ms), every source at {latency_ms} ms, "
        "one contact per subject of the simulated world"
    )
    for col in ("reads", "n", "latency p50/p95/p99", "slowest source p50", "sections from cache"):
        table.add_column(col, justify="left" if col == "reads" else "right")
    for name, views in report.cache.items():
        fetched = [s for v in views for s in v.sections if s.duur_ms is not None and s.status != "fout"]
        cached = sum(1 for s in fetched if s.duur_ms is not None and s.duur_ms < 1.0)
        slowest = [max((s.duur_ms or 0.0 for s in v.sections), default=0.0) for v in views]
        table.add_row(
            name,
            str(len(views)),
            pcts([v.latency_ms for v in views]),
            kb._f(kb.pct(sorted(slowest), 50)),
            f"{cached}/{len(fetched)} (duurMs < 1)",
        )
    return table


def search_table(report: Report, extra: int, latency_ms: int) -> Table:
    table = Table(
        title=f"4. Customer search over {extra:,} extra digitale adressen (simulators at {latency_ms} ms), ms"
    )
    for col in ("search", "clients", "searches", "errors", "searches/s", "latency p50/p95/p99"):
        table.add_column(col, justify="left" if col == "search" else "right")
    for label, clients, lat, errors in report.search:
        seconds = next((c.seconds for c in report.cpu if c.name.startswith(f"search {label}, {clients} ")), 0)
        table.add_row(
            f"DGKB klantzoekopdracht {label}",
            str(clients),
            str(len(lat)),
            str(errors),
            kb._f(len(lat) / seconds if seconds else float("nan")),
            pcts(lat),
        )
    for label, lat, found in report.sim_search:
        table.add_row(
            f"simulator adres__icontains {label}, {found} found", "1", str(len(lat)), "0", "—", pcts(lat)
        )
    return table


def cpu_table(report: Report) -> Table:
    table = Table(title="CPU during each scenario (% of one core; the machine's load average at the end)")
    for col in ("scenario", "seconds", "DGKB", "simulators", "load driver", "other processes", "loadavg"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for c in report.cpu:

        def share(v: float, c: Cpu = c) -> str:
            return f"{v / c.seconds * 100:.0f}%" if c.seconds else "—"

        table.add_row(
            c.name,
            kb._f(c.seconds),
            share(c.dgkb_s),
            share(c.sims_s),
            share(c.bench_s),
            share(c.foreign_s),
            c.loadavg,
        )
    return table


def verdicts(report: Report) -> list[tuple[bool | None, str]]:
    out: list[tuple[bool | None, str]] = []
    limit = report.deadline * 1000 + DEADLINE_SLACK_MS
    for run in report.deadline_runs:
        lat = sorted(v.latency_ms for v in run.views)
        top = lat[-1] if lat else float("nan")
        out.append(
            (
                bool(lat) and top <= limit and run.errors == 0,
                f"view within deadline + {DEADLINE_SLACK_MS:.0f} ms: max {kb._f(top)} ms ≤ {limit:.0f} ms, "
                f"p95 {kb._f(kb.pct(lat, 95))} ms ({run.name}, {len(lat)} views)",
            )
        )
        secs = [s for v in run.views for s in v.sections]
        wrong = [
            s
            for s in secs
            if s.status != {"slow": "timeout", "dead": "onbereikbaar"}.get(_role(s.source, report), "ok")
        ]
        out.append(
            (
                bool(secs) and not wrong,
                f"sections: slow → timeout, dead → onbereikbaar, others ok: {len(wrong)} of {len(secs)} "
                f"otherwise ({run.name})",
            )
        )
    if report.breaker_run is not None:
        dead = sorted(
            s.duur_ms
            for v in report.breaker_run.views
            for s in v.sections
            if s.source == report.dead and s.duur_ms is not None
        )
        p50, p95 = kb.pct(dead, 50), kb.pct(dead, 95)
        probes = sum(1 for d in dead if d >= TARGET_BREAKER_MS)
        out.append(
            (
                bool(dead) and p95 < TARGET_BREAKER_MS,
                f"dead source with breaker open: duurMs p50 {p50:.3f} ms, p95 {p95:.3f} ms < "
                f"{TARGET_BREAKER_MS:g} ms ({len(dead)} sections; {probes} ≥ 1 ms = half-open probes)",
            )
        )
    if report.open_breaker_us:
        us = report.open_breaker_us
        out.append(
            (
                kb.pct(us, 95) < TARGET_BREAKER_MS * 1000,
                f"in process, Federation.fetch with the breaker open: median {kb.pct(us, 50):.1f} µs, "
                f"p95 {kb.pct(us, 95):.1f} µs per call < {TARGET_BREAKER_MS * 1000:.0f} µs",
            )
        )
    for name in [n for n in report.cache if n.startswith("miss")]:
        miss = [v.latency_ms for v in report.cache[name]]
        hit = [v.latency_ms for v in report.cache[name.replace("miss", "hit")]]
        out.append(
            (
                None,
                f"(info) cache {name.split(', ')[1]}: miss p50 {kb._f(kb.pct(sorted(miss), 50))} ms, "
                f"hit p50 {kb._f(kb.pct(sorted(hit), 50))} ms",
            )
        )
    errors = sum(e for _, _, _, e in report.search)
    out.append((errors == 0, f"search: {errors} searches failed or did not find {BSN}"))
    return out


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per load scenario")
    parser.add_argument("--deadline-seconds", type=float, default=10.0, help="seconds per deadline run")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per load scenario")
    parser.add_argument("--quick", action="store_true", help="smoke run: short scenarios")
    parser.add_argument("--latency-ms", type=int, default=50, help="latency of the healthy simulators")
    parser.add_argument("--search-latency-ms", type=int, default=0, help="simulator latency when searching")
    parser.add_argument("--source-deadline", type=float, default=1.0, help="DGKB_SOURCE_DEADLINE_SECONDS")
    parser.add_argument("--slow-source", default="klantinteracties", help="the slow source")
    parser.add_argument("--slow-ms", type=int, default=2000, help="latency of the slow source")
    parser.add_argument("--dead-source", default="gemeente-belastingen", help="the dead source (503)")
    parser.add_argument("--cache-hits", type=int, default=5, help="repeat reads per subject (hits)")
    parser.add_argument("--extra-addresses", type=int, default=100_000, help="extra digitale adressen")
    parser.add_argument("--database-url", default="", help="DGKB database (default: temporary SQLite)")
    parser.add_argument(
        "--only", default="", help="comma-separated subset of: deadline,breaker,cache,search (default all)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.deadline_seconds, args.warmup = 1.0, 2.0, 0.5
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(filter(None, args.only.split(","))) or {"deadline", "breaker", "cache", "search"}
    console = Console(width=None if sys.stdout.isatty() else 160)
    from dgkb.runner import rebase_sources
    from dgkb.settings import Settings
    from dgkb.store.migrate import upgrade

    report = Report(deadline=args.source_deadline, slow=args.slow_source, dead=args.dead_source)
    with tempfile.TemporaryDirectory(prefix="dgkb-bench-sources-") as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        label = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        upgrade(database_url)
        console.print(
            f"[bold]DGKB sources benchmark[/bold] — {label}, {os.cpu_count()} CPUs, purpose {PURPOSE} "
            f"({ZEKERHEID}), source deadline {args.source_deadline:g} s, simulators {args.latency_ms} ms"
        )
        with kb.child(_simulators_main, args.latency_ms, args.extra_addresses, timeout=120) as sims:
            urls: dict[str, str] = sims.info
            overrides = rebase_sources(Settings(), urls)
            plan: list[tuple[str, int, Any]] = []
            if "deadline" in only:
                plan.append(("deadline", 10**9, scenario_deadline))
            if "breaker" in only:
                plan.append(("breaker", 0, scenario_breaker))
            if "cache" in only or "search" in only:
                steps = [f for n, f in (("cache", scenario_cache), ("search", scenario_search)) if n in only]
                plan.append(("cache+search", 0, steps))
            for name, threshold, steps in plan:
                # a fresh DGKB per group: its breakers, cache and health start empty
                with kb.child(_dgkb_main, database_url, overrides, args.source_deadline, threshold) as dgkb:
                    procs = Procs(dgkb, sims)
                    console.print(f"  {name}: DGKB {dgkb.info['url']} (pid {dgkb.process.pid}) …")
                    for step in steps if isinstance(steps, list) else [steps]:
                        uvloop.run(step(procs, dgkb.info["url"], urls, args, report))
                    report.cpu.extend(procs.cpu)
    if report.deadline_runs:
        console.print(deadline_table(report))
        console.print(
            sections_table("1b. Deadline: sections per source (duurMs in ms)", report.deadline_runs, report)
        )
    if report.timeline:
        console.print(timeline_table(report))
    if report.breaker_run is not None:
        lat = [v.latency_ms for v in report.breaker_run.views]
        console.print(
            sections_table(
                f"2b. Breakers open, 10 clients: {len(lat)} views, latency p50/p95/p99 {pcts(lat)} ms",
                [report.breaker_run],
                report,
            )
        )
        console.print(bronnen_table(report))
    if report.cache:
        console.print(cache_table(report, args.latency_ms))
    if report.search or report.sim_search:
        console.print(search_table(report, args.extra_addresses, args.search_latency_ms))
    console.print(cpu_table(report))
    if "breaker" in only:
        report.open_breaker_us = bench_open_breaker(args.quick)
    for passed, line in verdicts(report):
        if passed is None:
            console.print(f"  {line}")
            continue
        console.print(f"{'[green]PASS[/green]' if passed else '[red]MISS[/red]'}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
