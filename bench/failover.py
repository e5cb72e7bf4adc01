"""Failover under load (issue 13): three DGKB nodes behind HAProxy, faults injected one after another.

    python bench/failover.py [--seconds 8] [--outage 3] [--clients 6] [--json PATH]

Starts everything of its own on free ports: the source simulators, a private PostgreSQL cluster
(initdb in a temporary directory, run as the `postgres` user when started as root — the shared
PostgreSQL is never restarted), a redis-server, a nats-server (-js) and three `dgkb run --workers 1`
nodes behind HAProxy with the shipped deploy/haproxy/haproxy.cfg (tests/topology/harness.py). Then
`--clients` agents read the klantbeeld of their own contact through HAProxy in a loop, and each
fault runs in turn under that load:

- node kill -9: one node killed (supervisor and worker); brought back after the window;
- Redis killed: the cache (and notification de-duplication) gone; restarted after the window;
- NATS restarted: the bus down for `--outage` s, then started again (its stream is in memory: gone);
- PostgreSQL restarted: the database down for `--outage` s (fast shutdown), then started again.

Per fault: klantbeeld requests and failures (not 200, or no answer) from the fault until the end
of its window, and the recovery time: for a fault with failures, from the moment the component is
back (or the fault, if it does not come back) until the first success after the last failure; for a
fault without failures, 0. Also how long until every node reports the component healthy again on
/health/ready (cache, bus, database). Prints the fault table; `--json PATH` writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs as a script: the topology harness lives with the tests

from tests.servers import free_port  # noqa: E402
from tests.topology.harness import Topology, topology  # noqa: E402

from dgkb.runner import running_simulators  # noqa: E402
from dgkb.store.migrate import upgrade_async  # noqa: E402

PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/vraag-lopende-zaak"
BSN = "999993653"


# -- a private PostgreSQL --------------------------------------------------------------------------
class PrivatePostgres:
    """initdb + pg_ctl in a temporary directory on a free port; as `postgres` when run as root."""

    def __init__(self, workdir: Path) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not versions:
            raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.data = workdir / "pg"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)

    async def _run(self, *argv: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self._as_postgres(*argv), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {out.decode()[-2000:]}")

    async def init(self) -> None:
        self.data.parent.chmod(0o755)
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        initdb = str(self.bin / "initdb")
        await self._run(
            initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )

    async def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        log = str(self.data / "log")
        await self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start"
        )

    async def stop(self) -> None:
        await self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


# -- load --------------------------------------------------------------------------------------------
@dataclass
class Load:
    """Every klantbeeld request: (start time, end time, succeeded, status code or error type)."""

    requests: list[tuple[float, float, bool, str]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def agent(self, url: str, token: str, contact: str) -> None:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as c:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    resp = await c.get(f"/api/v1/contacten/{contact}/klantbeeld")
                    ok, outcome = resp.status_code == 200, str(resp.status_code)
                except httpx.HTTPError as exc:
                    ok, outcome = False, type(exc).__name__
                self.requests.append((started, time.monotonic(), ok, outcome))
                if not ok:
                    await asyncio.sleep(0.05)  # a client backs off a little after an error

    def between(self, start: float, end: float) -> list[tuple[float, float, bool, str]]:
        return [r for r in self.requests if start <= r[1] < end]


@dataclass
class FaultResult:
    fault: str
    requests: int
    failures: int
    recovery_s: float
    healthy_again_s: float | None  # until every node's /health/ready shows the component ok
    failure_kinds: dict[str, int] = field(default_factory=dict)  # status code or error type: count
    note: str = ""


def recovery(window: list[tuple[float, float, bool, str]], back_at: float) -> float:
    failed = [r for r in window if not r[2]]
    if not failed:
        return 0.0
    last_failure = max(r[1] for r in failed)
    after = [r[1] for r in window if r[2] and r[1] > last_failure]
    return round((min(after) if after else last_failure) - back_at, 2)


async def healthy(top: Topology, component: str, since: float) -> float:
    """Seconds from `since` until every running node reports `component` ok on /health/ready."""
    async with httpx.AsyncClient(timeout=3) as client:
        while True:
            states = []
            for node in top.nodes:
                if node.process is None:
                    continue
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    states.append((await client.get(f"{node.url}/health/ready")).json()["checks"][component])
            if states and all(s == "ok" for s in states):
                return round(time.monotonic() - since, 2)
            await asyncio.sleep(0.1)


async def run_fault(
    name: str,
    load: Load,
    top: Topology,
    *,
    seconds: float,
    outage: float,
    inject: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]] | None,
    component: str | None,
    note: str = "",
) -> FaultResult:
    await asyncio.sleep(1.0)  # steady load before the fault
    fault_at = time.monotonic()
    await inject()
    back_at = fault_at
    healthy_s = None
    if restore is not None:
        await asyncio.sleep(outage)
        await restore()
        back_at = time.monotonic()
        if component is not None:
            healthy_s = await healthy(top, component, back_at)
    await asyncio.sleep(max(0.0, fault_at + seconds - time.monotonic()))
    window = load.between(fault_at, time.monotonic())
    return FaultResult(
        fault=name,
        requests=len(window),
        failures=sum(1 for r in window if not r[2]),
        recovery_s=recovery(window, back_at),
        healthy_again_s=healthy_s,
        failure_kinds=dict(Counter(r[3] for r in window if not r[2])),
        note=note,
    )


async def open_contact(client: httpx.AsyncClient) -> str:
    resp = await client.post(
        "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": PURPOSE}
    )
    resp.raise_for_status()
    contact = str(resp.json()["id"])
    (await client.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN})).raise_for_status()
    (
        await client.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
    ).raise_for_status()
    return contact


@contextlib.asynccontextmanager
async def private_postgres(workdir: Path) -> AsyncIterator[PrivatePostgres]:
    pg = PrivatePostgres(workdir)
    await pg.init()
    await pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            await pg.stop()


async def bench(args: argparse.Namespace, console: Console) -> list[FaultResult]:
    workdir = Path(tempfile.mkdtemp(prefix="dgkb-failover-"))
    results: list[FaultResult] = []
    try:
        async with (
            private_postgres(workdir) as pg,
            running_simulators(base_port=0, notificaties_seconds=0) as sims,
        ):
            await upgrade_async(pg.url)
            console.print(
                f"PostgreSQL {pg.bin.parent.name} on port {pg.port}; starting 3 nodes behind HAProxy…"
            )
            async with topology(
                database_url=pg.url, simulators=sims, workdir=workdir / "topology", settings={
                    "DGKB_DATABASE_POOL_SIZE": "10", "DGKB_DATABASE_MAX_OVERFLOW": "10"
                },
            ) as top:  # fmt: skip
                token = await top.token()
                async with httpx.AsyncClient(
                    base_url=top.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ) as client:
                    contacts = [await open_contact(client) for _ in range(args.clients)]
                load = Load()
                agents = [asyncio.create_task(load.agent(top.url, token, c)) for c in contacts]
                try:
                    victim = top.nodes[0]

                    async def restart_victim() -> None:
                        await victim.start()
                        await victim.ready()

                    results.append(
                        await run_fault(
                            "node kill -9", load, top, seconds=args.seconds, outage=0,
                            inject=victim.kill, restore=None, component=None,
                            note="HAProxy retries the dead node's requests on the others",
                        )
                    )  # fmt: skip
                    await restart_victim()
                    await asyncio.wait_for(top.all_up(), 60)
                    results.append(
                        await run_fault(
                            "Redis killed", load, top, seconds=args.seconds, outage=args.outage,
                            inject=top.redis.stop, restore=top.redis.start, component="cache",
                            note=f"restarted after {args.outage:g} s",
                        )
                    )  # fmt: skip
                    results.append(
                        await run_fault(
                            "NATS restarted", load, top, seconds=args.seconds, outage=args.outage,
                            inject=top.nats.stop, restore=top.nats.start, component="bus",
                            note=f"down {args.outage:g} s, stream lost (in memory)",
                        )
                    )  # fmt: skip
                    results.append(
                        await run_fault(
                            "PostgreSQL restarted", load, top, seconds=args.seconds + args.outage,
                            outage=args.outage, inject=pg.stop, restore=pg.start, component="database",
                            note=f"down {args.outage:g} s; views fail closed (503) meanwhile",
                        )
                    )  # fmt: skip
                finally:
                    load.stop.set()
                    await asyncio.gather(*agents, return_exceptions=True)
                total = len(load.requests)
                console.print(
                    f"{total} klantbeeld requests in all, {sum(1 for r in load.requests if not r[2])} failed"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="window per fault, from the fault on")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds Redis, NATS, PostgreSQL stay down")
    parser.add_argument("--clients", type=int, default=6, help="agents reading the klantbeeld in a loop")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    console = Console(width=160)
    results = asyncio.run(bench(args, console))
    table = Table(
        "fault", "requests", "failures", "recovery (s)", "healthy again (s)", "failures were", "note"
    )
    for r in results:
        table.add_row(
            r.fault,
            str(r.requests),
            str(r.failures),
            f"{r.recovery_s:.2f}",
            "" if r.healthy_again_s is None else f"{r.healthy_again_s:.2f}",
            ", ".join(f"{k} × {v}" for k, v in sorted(r.failure_kinds.items())),
            r.note,
        )
    console.print(table)
    if args.json:
        args.json.write_text(
            json.dumps({"clients": args.clients, "seconds": args.seconds, "outage": args.outage,
                        "faults": [asdict(r) for r in results]}, indent=2),
            encoding="utf-8",
        )  # fmt: skip


if __name__ == "__main__":
    main()
