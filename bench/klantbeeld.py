"""Klantbeeld benchmark: latency, DGKB overhead and throughput over real sockets, plus the PDP decision
time and the audit log-write time. Prints its figures; `make bench` runs it.

Three processes, so that the figures are honest on a small machine:

* the simulators of every source (uvloop), answering after a fixed latency (`--latency-ms`);
* DGKB under uvicorn (uvloop + httptools), with its own database (a temporary SQLite file by default,
  `--database-url` for PostgreSQL);
* this process, driving the load with aiohttp (one keep-alive session; each client has its own
  identified contact and reads its klantbeeld over and over).

DGKB overhead per request = end-to-end latency − the slowest source call of that request as measured
by DGKB (`secties[].duurMs`); the stricter figure subtracts the configured simulator latency instead
(a source call may be several sequential HTTP calls, e.g. Zaken: list, then status, then zaaktype).

    .venv/bin/python bench/klantbeeld.py            # full run (5 s per scenario)
    .venv/bin/python bench/klantbeeld.py --quick    # smoke run (1 s per scenario)
    .venv/bin/python bench/klantbeeld.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/klantbeeld.py --profile-dgkb /tmp/dgkb.prof   # cProfile of the DGKB process
    .venv/bin/python bench/klantbeeld.py --workers 2 --database-url postgresql+asyncpg://…  # `dgkb run
        --workers 2` (granian) as the DGKB process, with NATS and Redis (--nats-url, --redis-url)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from rich.console import Console
from rich.table import Table

PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/vraag-lopende-zaak"
BSN = "999993653"
USER = "kcm-anna"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Targets of issue 12 (this 2-core machine).
TARGET_LATENCY_FACTOR = 1.1  # latency p50 at 1 client ≤ 1.1 × the simulator latency
TARGET_OVERHEAD_P50_MS = 3.0
TARGET_OVERHEAD_P95_MS = 10.0
TARGET_OVERHEAD_CLIENTS = 10
TARGET_CPU_MS = 4.0  # DGKB CPU per uncached klantbeeld
TARGET_DECISION_US = 50.0  # a decision on the request path (table or LRU)
TARGET_THROUGHPUT_PER_CORE = 250.0  # DGKB-CPU-bound klantbeelden/s per core
TARGET_AUDIT_PG_PER_S = 3000.0  # audit record sets/s, 50 concurrent writers, PostgreSQL


# -- child processes -----------------------------------------------------------------------------


def _wait_for_stop(conn: Connection) -> Awaitable[Any]:
    """Resolves when the parent sends anything (or closes the pipe)."""

    def recv() -> Any:
        with contextlib.suppress(EOFError):
            return conn.recv()
        return None

    return asyncio.get_running_loop().run_in_executor(None, recv)


def _simulators_main(latency_ms: int, conn: Connection) -> None:
    """Child process: every source simulator on its own free port, until told to stop."""

    async def main() -> None:
        from dgkb.runner import running_simulators

        async with running_simulators(base_port=0, latency_ms=latency_ms) as urls:
            conn.send(urls)
            await _wait_for_stop(conn)

    uvloop.run(main())


class _NoCache:
    """A source cache that never hits: every klantbeeld calls its sources (the issue's overhead
    definition needs the source latency in every request)."""

    async def get(self, key: str) -> None:
        return None

    async def set(self, key: str, subject_key: str, value: object, ttl: float) -> None:
        return None

    async def invalidate_subject(self, subject_key: str) -> int:
        return 0

    async def aclose(self) -> None:
        return None


def _dgkb_main(
    database_url: str,
    overrides: dict[str, str],
    profile: str | None,
    pool_size: int,
    source_cache: bool,
    cold: bool,
    conn: Connection,
) -> None:
    """Child process: DGKB under uvicorn (uvloop + httptools) on a free port, until told to stop.
    Without `source_cache` the in-process source cache is replaced by one that never hits."""
    import uvicorn

    if not source_cache:
        import dgkb.composition.root

        dgkb.composition.root.MemoryCache = _NoCache  # type: ignore[attr-defined,assignment]

    if cold:  # every read as the first of its subject: no identity map (issue 12 §1's cold figure)
        import dgkb.sources.zaken

        dgkb.sources.zaken.IDENTITY_TTL = 0.0

    if pool_size:  # experiment: a fixed-size connection pool instead of the engine default
        import functools

        import dgkb.app
        from dgkb.store.db import Database

        dgkb.app.Database = functools.partial(Database, pool_size=pool_size, max_overflow=0)  # type: ignore[attr-defined,assignment]

    from dgkb.app import create_app
    from dgkb.settings import Environment, Settings
    from dgkb.simulators.serve import BackgroundServer

    async def main() -> None:
        settings = Settings(env=Environment.TEST, database_url=database_url, port=0)
        if pool_size:  # a fixed pool, no overflow
            settings = settings.model_copy(
                update={"database_pool_size": pool_size, "database_max_overflow": 0}
            )
        app = create_app(settings, source_overrides=overrides)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            backlog=2048,
        )
        server = BackgroundServer(config)  # no signal handlers: the pipe says when to stop
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during start-up")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        loop = type(asyncio.get_running_loop()).__module__
        conn.send({"url": f"http://127.0.0.1:{port}", "loop": loop})
        await _wait_for_stop(conn)
        server.should_exit = True
        await task

    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    try:
        uvloop.run(main())
    finally:
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)


def _dgkb_workers_main(
    database_url: str,
    config_dir: str,
    workers: int,
    nats_url: str,
    redis_url: str,
    pool_size: int,
    conn: Connection,
) -> None:
    """Child process: `dgkb run --workers N` (granian, the production server) on a free port, until
    told to stop; its workers are children of this process. Settings through the environment, as an
    operator sets them; the sources (and, without --source-cache, cacheTtl 0) in `config_dir`."""
    import signal
    import threading

    import httpx

    from dgkb.runner import serve_workers
    from dgkb.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    os.environ.update(
        DGKB_ENV="development",  # the workers share the dev issuer's key (written under config_dir/../var)
        DGKB_CONFIG_DIR=config_dir,
        DGKB_DATABASE_URL=database_url,
        DGKB_NATS_URL=nats_url,
        DGKB_REDIS_URL=redis_url,
        DGKB_RECONCILE_SECONDS="0",
    )
    if pool_size:
        os.environ.update(DGKB_DATABASE_POOL_SIZE=str(pool_size), DGKB_DATABASE_MAX_OVERFLOW="0")
    url = f"http://127.0.0.1:{port}"

    def announce_then_wait_for_stop() -> None:
        while True:
            try:
                httpx.get(f"{url}/api/v1/status", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(2.0)  # the other workers finish their start-up too (one answering is not all)
        conn.send({"url": url, "loop": f"granian, {workers} workers"})
        with contextlib.suppress(EOFError):
            conn.recv()
        os.kill(os.getpid(), signal.SIGINT)  # granian's supervisor stops its workers

    threading.Thread(target=announce_then_wait_for_stop, daemon=True).start()
    serve_workers(
        Settings(port=port), workers=workers, with_simulators=False, latency_ms=0, console=Console(quiet=True)
    )


def _workers_config(tmp: Path, overrides: dict[str, str], source_cache: bool) -> str:
    """A copy of config/ whose sources point at the bench's simulators (cacheTtl 0 unless
    `source_cache`): the workers read their configuration themselves."""
    import shutil

    import yaml

    from dgkb.settings import PROJECT_ROOT

    config = tmp / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    for src in sources["sources"]:
        src["baseUrl"] = overrides.get(src["id"], src["baseUrl"])
        if not source_cache:
            src["cacheTtl"] = 0
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    return str(config)


@dataclass
class Child:
    """A child process plus the pipe that stops it."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    info: Any

    def pids(self) -> list[int]:
        """The child and its live descendants (Linux /proc): with --workers the granian workers are
        the child's children."""
        found: list[int] = []
        todo = [self.process.pid] if self.process.pid else []
        while todo:
            pid = todo.pop()
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                        todo.extend(int(c) for c in fh.read().split())
                found.append(pid)
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the child and its live descendants so far (Linux /proc)."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / CLK_TCK


@contextlib.contextmanager
def child(
    target: Callable[..., None], *args: Any, timeout: float = 60.0, daemon: bool = True
) -> Iterator[Child]:
    ctx = multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    process = ctx.Process(target=target, args=(*args, child_conn), daemon=daemon)  # a daemon has no children
    process.start()
    try:
        if not parent_conn.poll(timeout):
            raise TimeoutError(f"{target.__name__} did not start in {timeout} s")
        started = Child(process, parent_conn, parent_conn.recv())
        yield started
    finally:
        with contextlib.suppress(BrokenPipeError, OSError):
            parent_conn.send("stop")
        process.join(15)
        if process.is_alive():
            process.terminate()
            process.join(5)


class InstructionCounter:
    """Instructions retired by one process over a window (`perf stat`), when the machine allows it.

    CPU seconds move with whatever else the machine runs (caches, hyperthreads, frequency);
    instructions barely do, so they compare runs on a noisy machine. None when perf is missing or
    the kernel does not expose the counter."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        if shutil.which("perf") is None or not self.pids:
            return
        with contextlib.suppress(OSError):
            self._proc = subprocess.Popen(
                ["perf", "stat", "-x", ",", "-e", "instructions", "-p", ",".join(map(str, self.pids))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )

    def stop(self) -> float | None:
        if self._proc is None:
            return None
        self._proc.send_signal(signal.SIGINT)
        try:
            _, err = self._proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return None
        for line in err.splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2].startswith("instructions"):
                with contextlib.suppress(ValueError):
                    return float(parts[0])
        return None


def busy_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (Linux /proc/stat, every core)."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLK_TCK


# -- load ----------------------------------------------------------------------------------------


@dataclass
class Sample:
    done_at: float  # perf_counter at completion
    latency_ms: float
    slowest_source_ms: float
    ok: bool


@dataclass
class ScenarioResult:
    name: str
    latency_ms: int
    clients: int
    seconds: float
    samples: list[Sample]
    errors: int
    dgkb_cpu_s: float
    dgkb_instructions: float | None
    sim_cpu_s: float
    bench_cpu_s: float
    machine_cpu_s: float

    @property
    def foreign_cpu_s(self) -> float:
        """CPU used by other processes on the machine during the window (noise indicator)."""
        return max(0.0, self.machine_cpu_s - self.dgkb_cpu_s - self.sim_cpu_s - self.bench_cpu_s)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def throughput(self) -> float:
        return len(self.ok) / self.seconds if self.seconds else 0.0

    def latencies(self) -> list[float]:
        return sorted(s.latency_ms for s in self.ok)

    def overheads(self) -> list[float]:
        return sorted(s.latency_ms - s.slowest_source_ms for s in self.ok)

    def strict_overheads(self) -> list[float]:
        return sorted(s.latency_ms - self.latency_ms for s in self.ok)

    def slowest_sources(self) -> list[float]:
        return sorted(s.slowest_source_ms for s in self.ok)

    def instructions_per_request(self) -> float | None:
        """Millions of instructions DGKB retired per completed request (None without perf)."""
        if self.dgkb_instructions is None or not self.samples:
            return None
        return self.dgkb_instructions / len(self.samples) / 1e6

    def cpu_ms_per_request(self, cpu_s: float) -> float:
        n = len(self.samples)
        return cpu_s * 1000 / n if n else float("nan")


def pct(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Client:
    """One simulated agent: its own identified contact, reading the klantbeeld in a loop."""

    contact_url: str
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0


async def _token(session: aiohttp.ClientSession, api: str) -> str:
    async with session.post(f"{api}/dev-issuer/token", json={"gebruiker": USER}) as resp:
        resp.raise_for_status()
        return str((await resp.json())["access_token"])


async def _open_contact(session: aiohttp.ClientSession, api: str, headers: dict[str, str]) -> str:
    body = {"kanaal": "telefoon", "verwerkingsactiviteit": PURPOSE}
    async with session.post(f"{api}/api/v1/contacten", json=body, headers=headers) as resp:
        if resp.status != 201:
            raise RuntimeError(f"contact start: HTTP {resp.status}: {await resp.text()}")
        contact_id = str((await resp.json())["id"])
    ident = {"bsn": BSN, "zekerheid": "controlevragen"}
    url = f"{api}/api/v1/contacten/{contact_id}"
    # the answers must be shown before 'controlevragen' can be attested
    async with session.post(f"{url}/controlevragen", json={"bsn": BSN}, headers=headers) as resp:
        if resp.status != 200:
            raise RuntimeError(f"controlevragen: HTTP {resp.status}: {await resp.text()}")
    async with session.post(f"{url}/identificatie", json=ident, headers=headers) as resp:
        if resp.status != 200:
            raise RuntimeError(f"identificatie: HTTP {resp.status}: {await resp.text()}")
    return f"{url}/klantbeeld"


def parse_klantbeeld(body: bytes) -> tuple[float, bool]:
    """The slowest source call (ms) of a klantbeeld and whether every fetched section is ok."""
    data = json.loads(body)
    slowest = 0.0
    ok = True
    for sectie in data["secties"]:
        duur = sectie.get("duurMs")
        if duur is not None:
            slowest = max(slowest, float(duur))
            ok = ok and sectie.get("status") == "ok"
    return slowest, ok


async def _read_loop(
    session: aiohttp.ClientSession, client: Client, headers: dict[str, str], stop_at: float
) -> None:
    perf = time.perf_counter
    while True:
        started = perf()
        if started >= stop_at:
            return
        try:
            async with session.get(client.contact_url, headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except aiohttp.ClientError:
            client.errors += 1
            await asyncio.sleep(0.01)
            continue
        done = perf()
        if status != 200:
            client.errors += 1
            continue
        slowest, ok = parse_klantbeeld(body)
        client.samples.append(Sample(done, (done - started) * 1000, slowest, ok))


@contextlib.asynccontextmanager
async def load_session(clients: int) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=clients + 4, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def set_latency(session: aiohttp.ClientSession, sims: dict[str, str], latency_ms: int) -> None:
    for url in sims.values():
        async with session.post(f"{url}/_sim/behaviour", json={"latencyMs": latency_ms}) as resp:
            resp.raise_for_status()


async def run_scenario(
    *,
    api: str,
    sims: dict[str, str],
    dgkb: Child,
    simulators: Child,
    latency_ms: int,
    clients: int,
    seconds: float,
    warmup: float,
) -> ScenarioResult:
    async with load_session(clients) as session:
        await set_latency(session, sims, latency_ms)
        headers = {"Authorization": f"Bearer {await _token(session, api)}"}
        contacts = await asyncio.gather(*(_open_contact(session, api, headers) for _ in range(clients)))
        agents = [Client(url) for url in contacts]
        begin = time.perf_counter()
        measure_from = begin + warmup
        stop_at = measure_from + seconds
        tasks = [asyncio.create_task(_read_loop(session, a, headers, stop_at)) for a in agents]
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        counter = InstructionCounter(dgkb.pids())
        counter.start()
        cpu0 = (dgkb.cpu_seconds(), simulators.cpu_seconds(), time.process_time(), busy_cpu_seconds())
        measured_at = time.perf_counter()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        cpu1 = (dgkb.cpu_seconds(), simulators.cpu_seconds(), time.process_time(), busy_cpu_seconds())
        ended_at = time.perf_counter()
        instructions = counter.stop()
        await asyncio.gather(*tasks)
    # Requests completed inside the measurement window count; warm-up and the tail do not.
    samples = [s for a in agents for s in a.samples if measured_at <= s.done_at <= ended_at]
    return ScenarioResult(
        name=f"{latency_ms} ms × {clients}",
        latency_ms=latency_ms,
        clients=clients,
        seconds=ended_at - measured_at,
        samples=samples,
        errors=sum(a.errors for a in agents) + sum(1 for s in samples if not s.ok),
        dgkb_cpu_s=cpu1[0] - cpu0[0],
        dgkb_instructions=instructions,
        sim_cpu_s=cpu1[1] - cpu0[1],
        bench_cpu_s=cpu1[2] - cpu0[2],
        machine_cpu_s=cpu1[3] - cpu0[3],
    )


# -- micro-benchmarks ------------------------------------------------------------------------------


@dataclass
class Micro:
    name: str
    unit: str
    median: float
    p95: float
    n: int
    note: str = ""
    target_us: float | None = None  # a decision on the request path: held against the target
    rate: float | None = None  # record sets/s (audit)


def _per_call(fn: Callable[[], object], calls: int, rounds: int, scale: float) -> list[float]:
    """Time `rounds` batches of `calls` calls; per-call times in the unit given by `scale`."""
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - t0) * scale / calls)
    return sorted(per_call)


def bench_decisions(quick: bool) -> list[Micro]:
    from dgkb.composition.root import load_configuration
    from dgkb.domain.assurance import Assurance
    from dgkb.domain.channels import Kanaal
    from dgkb.domain.roles import Role
    from dgkb.policy.decision import DecisionRequest
    from dgkb.policy.engine import CedarPolicyEngine
    from dgkb.settings import Settings

    config = load_configuration(Settings())
    t0 = time.perf_counter()
    engine = CedarPolicyEngine(config.register, config.catalogue)
    build_ms = (time.perf_counter() - t0) * 1000
    purpose = config.register.get(PURPOSE)
    assert purpose is not None
    request = DecisionRequest(
        purpose_id=PURPOSE,
        role=Role.KCM,
        assurance=Assurance.CONTROLEVRAGEN,
        organisation=purpose.organisatie.oin,
        channel=Kanaal.TELEFOON,
        categories=config.catalogue.ids,
    )
    decision = engine.decide_uncached(request)
    permitted = len(decision.permitted)
    note = f"{len(decision.categories)} categories in one batch, {permitted} permitted"
    for _ in range(200):  # warm up both paths
        engine.decide(request)
        engine.decide_uncached(request)
    scale = 1e6
    cached = _per_call(lambda: engine.decide(request), 200, 20 if quick else 100, scale)
    table = _per_call(lambda: engine.decide_from_table(request), 50, 20 if quick else 100, scale)
    uncached = _per_call(lambda: engine.decide_uncached(request), 10, 20 if quick else 100, scale)
    # A mix over every purpose of the register (kcm, control questions): the uncached spread.
    mix = [
        DecisionRequest(
            purpose_id=va.id,
            role=Role.KCM,
            assurance=Assurance.CONTROLEVRAGEN,
            organisation=va.organisatie.oin,
            channel=Kanaal.TELEFOON,
            categories=config.catalogue.ids,
        )
        for va in config.register.verwerkingsactiviteiten
    ]
    mixed: list[float] = []
    for _ in range(3 if quick else 10):
        for req in mix:
            mixed.extend(_per_call(lambda r=req: engine.decide_uncached(r), 5, 1, scale))  # type: ignore[misc]
    mixed.sort()
    return [
        Micro(
            "PDP decide (LRU-cached, as on the request path)",
            "µs",
            pct(cached, 50),
            pct(cached, 95),
            len(cached) * 200,
            note,
            target_us=TARGET_DECISION_US,
        ),
        Micro(
            "PDP decide from the precomputed table (LRU missed)",
            "µs",
            pct(table, 50),
            pct(table, 95),
            len(table) * 50,
            f"{note}; table: {engine.table.evaluations} Cedar evaluations at start-up, {build_ms:.0f} ms",
            target_us=TARGET_DECISION_US,
        ),
        Micro(
            "PDP decide_uncached (Cedar live, not on the request path)",
            "µs",
            pct(uncached, 50),
            pct(uncached, 95),
            len(uncached) * 10,
            note,
        ),
        Micro(
            "PDP decide_uncached, every purpose of the register",
            "µs",
            pct(mixed, 50),
            pct(mixed, 95),
            len(mixed) * 5,
            f"{len(mix)} purposes",
        ),
    ]


async def bench_audit(database_url: str, label: str, quick: bool) -> list[Micro]:
    from dgkb.audit.writer import AuditWriter
    from dgkb.composition.root import load_configuration
    from dgkb.domain.assurance import Assurance
    from dgkb.domain.channels import Kanaal
    from dgkb.domain.context import Actor, RequestContext, Trace
    from dgkb.domain.identifiers import Subject
    from dgkb.domain.pseudonym import Pseudonymizer
    from dgkb.domain.roles import Role
    from dgkb.policy.decision import DecisionRequest
    from dgkb.policy.engine import CedarPolicyEngine
    from dgkb.settings import Settings
    from dgkb.store.db import Database

    settings = Settings()
    config = load_configuration(settings)
    engine = CedarPolicyEngine(config.register, config.catalogue)
    purpose = config.register.get(PURPOSE)
    assert purpose is not None
    oin = purpose.organisatie.oin
    decision = engine.decide(
        DecisionRequest(
            purpose_id=PURPOSE,
            role=Role.KCM,
            assurance=Assurance.CONTROLEVRAGEN,
            organisation=oin,
            channel=Kanaal.TELEFOON,
            categories=config.catalogue.ids,
        )
    )
    delivered = [c.category for c in decision.permitted]
    database = Database(database_url)
    writer = AuditWriter(database, Pseudonymizer(settings.pseudonym_keyring()))

    async def one() -> float:
        context = RequestContext(
            actor=Actor(id="bench", role=Role.KCM, organisation=oin),
            subject=Subject.person(BSN),
            purpose_id=PURPOSE,
            assurance=Assurance.CONTROLEVRAGEN,
            channel=Kanaal.TELEFOON,
            trace=Trace(),
            contact_id="bench-contact",
        )
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await writer.record_klantbeeld(
            context=context,
            decision=decision,
            categories_requested=list(config.catalogue.ids),
            categories_delivered=delivered,
            started_at=now - timedelta(milliseconds=60),
            ended_at=now,
            consent_status={},
        )
        return (time.perf_counter() - t0) * 1000

    try:
        for _ in range(20):  # warm the pool and the chains
            await one()
        sequential = sorted([await one() for _ in range(100 if quick else 500)])
        concurrent: list[float] = []
        rounds = 4 if quick else 20
        commits = writer.committed_batches
        t0 = time.perf_counter()
        for _ in range(rounds):
            concurrent.extend(await asyncio.gather(*(one() for _ in range(50))))
        wall = time.perf_counter() - t0
        commits = writer.committed_batches - commits  # group commit: transactions for the 50 × rounds
        concurrent.sort()
    finally:
        await database.dispose()
    rate = len(concurrent) / wall
    return [
        Micro(
            f"audit record_klantbeeld, sequential ({label})",
            "ms",
            pct(sequential, 50),
            pct(sequential, 95),
            len(sequential),
            f"{1000 / statistics.mean(sequential):.0f} record sets/s",
            rate=1000 / statistics.mean(sequential),
        ),
        Micro(
            f"audit record_klantbeeld, 50 concurrent ({label})",
            "ms",
            pct(concurrent, 50),
            pct(concurrent, 95),
            len(concurrent),
            f"{rate:.0f} record sets/s, {len(concurrent) / max(commits, 1):.0f} per commit",
            rate=rate,
        ),
    ]


# -- report --------------------------------------------------------------------------------------


def _f(value: float, digits: int = 1) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f}"


def scenario_table(results: list[ScenarioResult]) -> Table:
    table = Table(title="Klantbeeld over HTTP (ms; overhead = latency − slowest source call)")
    for col in (
        "scenario",
        "requests",
        "errors",
        "req/s",
        "latency p50/p95/p99",
        "overhead p50/p95/p99",
        "lat − sim p50/p95/p99",
        "slowest src p50",
    ):
        table.add_column(col, justify="right" if col != "scenario" else "left")
    for r in results:
        lat, ovh, strict, src = r.latencies(), r.overheads(), r.strict_overheads(), r.slowest_sources()
        table.add_row(
            r.name,
            str(len(r.ok)),
            str(r.errors),
            _f(r.throughput),
            " / ".join(_f(pct(lat, p)) for p in (50, 95, 99)),
            " / ".join(_f(pct(ovh, p)) for p in (50, 95, 99)),
            " / ".join(_f(pct(strict, p)) for p in (50, 95, 99)),
            _f(pct(src, 50)),
        )
    return table


def cpu_table(results: list[ScenarioResult]) -> Table:
    table = Table(title="CPU per klantbeeld (ms CPU per completed request, per process) and CPU use")
    for col in (
        "scenario",
        "DGKB ms",
        "DGKB M instr.",
        "simulators ms",
        "load driver ms",
        "DGKB use",
        "other processes",
        "DGKB-CPU-bound klantbeelden/s per core",
    ):
        table.add_column(col, justify="right" if col != "scenario" else "left")
    for r in results:
        table.add_row(
            r.name,
            _f(r.cpu_ms_per_request(r.dgkb_cpu_s), 2),
            _f(r.instructions_per_request() or float("nan"), 1),
            _f(r.cpu_ms_per_request(r.sim_cpu_s), 2),
            _f(r.cpu_ms_per_request(r.bench_cpu_s), 2),
            f"{r.dgkb_cpu_s / r.seconds * 100:.0f}% of a core" if r.seconds else "—",
            f"{r.foreign_cpu_s / r.seconds * 100:.0f}% of a core" if r.seconds else "—",
            _f(1000 / r.cpu_ms_per_request(r.dgkb_cpu_s), 0) if r.dgkb_cpu_s else "—",
        )
    return table


def micro_table(micros: list[Micro]) -> Table:
    table = Table(title="Micro-benchmarks (in-process)")
    for col in ("what", "median", "p95", "n", "note"):
        table.add_column(col, justify="left" if col in ("what", "note") else "right")
    for m in micros:
        digits = 1 if m.unit == "µs" else 2
        table.add_row(
            m.name, f"{_f(m.median, digits)} {m.unit}", f"{_f(m.p95, digits)} {m.unit}", str(m.n), m.note
        )
    return table


def verdicts(results: list[ScenarioResult], micros: list[Micro]) -> list[tuple[bool | None, str]]:
    out: list[tuple[bool | None, str]] = []
    for r in results:
        if r.clients == 1 and r.latency_ms > 0:
            p50 = pct(r.latencies(), 50)
            limit = TARGET_LATENCY_FACTOR * r.latency_ms
            out.append((p50 <= limit, f"latency p50 {_f(p50)} ms ≤ {limit:.0f} ms ({r.name})"))
    at10 = [r for r in results if r.clients == TARGET_OVERHEAD_CLIENTS and r.latency_ms > 0]
    for r in at10:
        ovh = r.overheads()
        p50, p95 = pct(ovh, 50), pct(ovh, 95)
        out.append(
            (
                p50 <= TARGET_OVERHEAD_P50_MS,
                f"overhead p50 {_f(p50)} ms ≤ {TARGET_OVERHEAD_P50_MS:g} ms ({r.name})",
            )
        )
        out.append(
            (
                p95 <= TARGET_OVERHEAD_P95_MS,
                f"overhead p95 {_f(p95)} ms ≤ {TARGET_OVERHEAD_P95_MS:g} ms ({r.name})",
            )
        )
        strict = r.strict_overheads()
        out.append(
            (
                None,
                f"(info) latency − {r.latency_ms} ms simulator: p50 {_f(pct(strict, 50))} ms, "
                f"p95 {_f(pct(strict, 95))} ms ({r.name})",
            )
        )
    zero = [r for r in results if r.latency_ms == 0 and r.samples]
    if zero:
        best = max(zero, key=lambda r: r.throughput)
        cpu = min(r.cpu_ms_per_request(r.dgkb_cpu_s) for r in zero)
        out.append((cpu <= TARGET_CPU_MS, f"DGKB CPU {_f(cpu, 2)} ms per klantbeeld ≤ {TARGET_CPU_MS:g} ms"))
        per_core = 1000 / cpu if cpu else float("nan")
        out.append(
            (
                per_core >= TARGET_THROUGHPUT_PER_CORE,
                f"{_f(per_core, 0)} klantbeelden/s per DGKB core ≥ {TARGET_THROUGHPUT_PER_CORE:.0f}",
            )
        )
        out.append((None, f"(info) end to end {_f(best.throughput)} klantbeelden/s ({best.name})"))
    for m in micros:
        if m.target_us is not None:
            out.append(
                (m.median <= m.target_us, f"decision {_f(m.median)} µs ≤ {m.target_us:.0f} µs ({m.name})")
            )
        if m.rate is not None and "PostgreSQL" in m.name and "concurrent" in m.name:
            out.append(
                (
                    m.rate >= TARGET_AUDIT_PG_PER_S,
                    f"audit {m.rate:.0f} record sets/s ≥ {TARGET_AUDIT_PG_PER_S:.0f} ({m.name})",
                )
            )
    errors = sum(r.errors for r in results)
    out.append((errors == 0, f"{errors} failed requests or non-ok sections"))
    return out


def figures(
    args: argparse.Namespace, label: str, results: list[ScenarioResult], micros: list[Micro]
) -> dict[str, Any]:
    """Every figure of the run, for `--json` (the closing notes compare these between runs)."""

    def pcts(values: Sequence[float]) -> dict[str, float | None]:
        return {f"p{p}": (None if math.isnan(v := pct(values, p)) else round(v, 3)) for p in (50, 95, 99)}

    return {
        "database": label,
        "cpus": os.cpu_count(),
        "seconds_per_scenario": args.seconds,
        "source_cache": args.source_cache,
        "cold": args.cold,
        "workers": getattr(args, "workers", 1),
        "scenarios": [
            {
                "simulator_latency_ms": r.latency_ms,
                "clients": r.clients,
                "requests": len(r.ok),
                "errors": r.errors,
                "throughput_per_s": round(r.throughput, 2),
                "latency_ms": pcts(r.latencies()),
                "overhead_ms": pcts(r.overheads()),
                "latency_minus_simulator_ms": pcts(r.strict_overheads()),
                "slowest_source_ms": pcts(r.slowest_sources()),
                "cpu_ms_per_request": {
                    "dgkb": round(r.cpu_ms_per_request(r.dgkb_cpu_s), 3),
                    "dgkb_million_instructions": r.instructions_per_request(),
                    "simulators": round(r.cpu_ms_per_request(r.sim_cpu_s), 3),
                    "load_driver": round(r.cpu_ms_per_request(r.bench_cpu_s), 3),
                },
                "other_processes_cores": round(r.foreign_cpu_s / r.seconds, 3) if r.seconds else None,
            }
            for r in results
        ],
        "micro": [
            {"name": m.name, "unit": m.unit, "median": m.median, "p95": m.p95, "n": m.n, "note": m.note}
            | ({"per_s": round(m.rate, 1)} if m.rate is not None else {})
            for m in micros
        ],
        "verdicts": [{"pass": passed, "line": line} for passed, line in verdicts(results, micros)],
    }


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per scenario")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 s per scenario, short micros")
    parser.add_argument("--latency-ms", type=int, default=50, help="simulator latency of the latency runs")
    parser.add_argument("--clients", default="1,10,50", help="concurrency of the latency runs")
    parser.add_argument("--throughput-clients", default="10,50", help="concurrency of the 0 ms runs")
    parser.add_argument("--database-url", default="", help="DGKB database (default: temporary SQLite)")
    parser.add_argument("--profile-dgkb", default="", help="write a cProfile of the DGKB process here")
    parser.add_argument(
        "--experiment-pool-size",
        type=int,
        default=0,
        help="experiment: run DGKB with a fixed database pool of this size (no overflow)",
    )
    parser.add_argument(
        "--source-cache",
        action="store_true",
        help="keep DGKB's source cache (default off: every klantbeeld calls its sources, so the "
        "simulator latency is in every request as the overhead definition needs)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no identity map (subject → zaak URLs): every read makes the dependent round trips of a "
        "first read, for the cold figures",
    )
    parser.add_argument("--json", default="", metavar="PATH", help="also write every figure as JSON here")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run DGKB as `dgkb run --workers N` (granian, N processes, NATS and Redis); "
        "0 = uvicorn in one process",
    )
    parser.add_argument(
        "--nats-url", default=os.environ.get("DGKB_TEST_NATS_URL", ""), help="NATS for --workers"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("DGKB_TEST_REDIS_URL", ""), help="Redis for --workers"
    )
    parser.add_argument("--skip-http", action="store_true", help="only the micro-benchmarks")
    parser.add_argument("--skip-micro", action="store_true", help="only the HTTP scenarios")
    args = parser.parse_args(argv)
    if args.workers > 1 and not (args.nats_url and args.redis_url):
        parser.error("--workers > 1 needs NATS and Redis: --nats-url and --redis-url (or DGKB_TEST_*)")
    if args.quick:
        args.seconds = 1.0
        args.warmup = 0.5
    return args


def run_http(args: argparse.Namespace, database_url: str, console: Console) -> list[ScenarioResult]:
    from dgkb.runner import rebase_sources
    from dgkb.settings import Settings

    plan = [(args.latency_ms, int(c)) for c in args.clients.split(",") if c]
    plan += [(0, int(c)) for c in args.throughput_clients.split(",") if c]
    results: list[ScenarioResult] = []
    with contextlib.ExitStack() as stack, child(_simulators_main, args.latency_ms) as simulators:
        sims: dict[str, str] = simulators.info
        overrides = rebase_sources(Settings(), sims)
        dgkb_child = (
            child(
                _dgkb_workers_main,
                database_url,
                _workers_config(
                    Path(stack.enter_context(tempfile.TemporaryDirectory())), overrides, args.source_cache
                ),
                args.workers,
                args.nats_url,
                args.redis_url,
                args.experiment_pool_size,
                daemon=False,
            )
            if args.workers
            else child(
                _dgkb_main,
                database_url,
                overrides,
                args.profile_dgkb or None,
                args.experiment_pool_size,
                args.source_cache,
                args.cold,
            )
        )
        with dgkb_child as dgkb:
            api = dgkb.info["url"]
            console.print(
                f"DGKB {api} (loop: {dgkb.info['loop']}), simulators pid {simulators.process.pid}, "
                f"DGKB pid {dgkb.process.pid}"
            )
            for latency, clients in plan:
                console.print(f"  scenario {latency} ms × {clients} …", end="")
                result = uvloop.run(
                    run_scenario(
                        api=api,
                        sims=sims,
                        dgkb=dgkb,
                        simulators=simulators,
                        latency_ms=latency,
                        clients=clients,
                        seconds=args.seconds,
                        warmup=args.warmup,
                    )
                )
                console.print(f" {len(result.ok)} requests, {result.throughput:.0f}/s")
                results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    from dgkb.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="dgkb-bench-") as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        label = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        upgrade(database_url)
        console.print(
            f"[bold]DGKB klantbeeld benchmark[/bold] — {label}, {os.cpu_count()} CPUs, "
            f"{args.seconds:g} s per scenario after {args.warmup:g} s warm-up, purpose {PURPOSE}, "
            f"source cache {'on' if args.source_cache else 'off'}"
            + (", cold (no identity map)" if args.cold else "")
        )
        results = [] if args.skip_http else run_http(args, database_url, console)
        micros: list[Micro] = []
        if not args.skip_micro:
            micros.extend(bench_decisions(args.quick))
            audit_url = f"sqlite+aiosqlite:///{Path(tmp) / 'audit.sqlite3'}"
            upgrade(audit_url)
            micros.extend(uvloop.run(bench_audit(audit_url, "SQLite", args.quick)))
            if args.database_url and label == "PostgreSQL":
                micros.extend(uvloop.run(bench_audit(args.database_url, "PostgreSQL", args.quick)))
    if results:
        console.print(scenario_table(results))
        console.print(cpu_table(results))
    if micros:
        console.print(micro_table(micros))
    misses = 0
    for passed, line in verdicts(results, micros):
        if passed is None:
            console.print(f"  {line}")
            continue
        misses += not passed
        console.print(f"{'[green]PASS[/green]' if passed else '[red]MISS[/red]'}  {line}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(figures(args, label, results, micros), indent=2, ensure_ascii=False)
        )
        console.print(f"figures written to {args.json}")
    if args.profile_dgkb:
        console.print(
            f"cProfile of the DGKB process: {args.profile_dgkb} (python -m pstats {args.profile_dgkb})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
