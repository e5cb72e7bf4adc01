"""Real-time benchmark: event-to-screen latency, i.e. a ZGW notification sent to DGKB → the
`bijgewerkt` SSE frame received by a viewer. Prints p50/p95/p99 for

* 1 node:  notification to node A, viewer on A (in-process bus);
* 2 nodes: notification to node B, viewer on A (NATS JetStream between two DGKB processes, one
  database: PostgreSQL with --database-url, else one SQLite file);
* 500 open SSE connections on node A: the same, with 499 other open streams — `spread` (each on
  its own contact, 499 idle streams) and `same` (all on the measured contact, so every event is
  fanned out to 500 streams; p50/p95 of the measured stream and of the last of the 500).

Processes: the simulators (one child), each DGKB node (uvicorn + uvloop + httptools, one child
each), and this driver (aiohttp). Every notification is a new status of a zaak of BSN 999993653,
so DGKB resolves the subject by reading the zaak's rollen at the Zaken simulator each time; the
measured time includes that read, the cache invalidation, the bus and the purpose decision.

    .venv/bin/python bench/realtime.py [--quick] [--events N] [--database-url URL] [--nats-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from klantbeeld import _simulators_main, _wait_for_stop, child, pct

PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/vraag-lopende-zaak"
BSN = "999993653"
TOKEN = "bench-notificaties-geheim-van-minstens-32-tekens"
CRS = {"Accept-Crs": "EPSG:4326"}
TARGET_ONE_NODE_P95_MS = 100.0
TARGET_TWO_NODES_P95_MS = 250.0


def _dgkb_main(database_url: str, overrides: dict[str, str], nats_url: str, conn: Connection) -> None:
    """Child process: one DGKB node on a free port until told to stop."""
    import uvicorn

    from dgkb.app import create_app
    from dgkb.settings import Environment, Settings
    from dgkb.simulators.serve import BackgroundServer

    async def main() -> None:
        settings = Settings(
            env=Environment.TEST,
            database_url=database_url,
            port=0,
            nats_url=nats_url,
            notificaties_token=TOKEN,
            reconcile_seconds=0,
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
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        server = BackgroundServer(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        conn.send({"url": f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"})
        await _wait_for_stop(conn)
        server.should_exit = True
        await task

    uvloop.run(main())


@dataclass
class Result:
    scenario: str
    latencies_ms: list[float]
    accepted_ms: list[float]
    fanout_ms: list[float] | None = None


class Stream:
    """One SSE connection; `frames` receives (perf_counter at arrival, data) of `bijgewerkt`."""

    def __init__(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        self.frames: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(session, url, headers))

    async def _run(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=None)) as resp:
            assert resp.status == 200, await resp.text()
            event = ""
            async for raw in resp.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith(": verbonden"):
                    self._ready.set()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "bijgewerkt":
                    self.frames.put_nowait((time.perf_counter(), json.loads(line[5:])))

    async def ready(self) -> None:
        await asyncio.wait_for(self._ready.wait(), 30)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


async def _login(session: aiohttp.ClientSession, api: str) -> dict[str, str]:
    async with session.post(f"{api}/dev-issuer/token", json={"gebruiker": "kcm-anna"}) as resp:
        token = (await resp.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _contact(session: aiohttp.ClientSession, api: str, auth: dict[str, str], bsn: str = BSN) -> str:
    async with session.post(
        f"{api}/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": PURPOSE}, headers=auth
    ) as resp:
        contact = str((await resp.json())["id"])
    async with session.post(
        f"{api}/api/v1/contacten/{contact}/controlevragen", json={"bsn": bsn}, headers=auth
    ) as resp:
        assert resp.status == 200, await resp.text()
    async with session.post(
        f"{api}/api/v1/contacten/{contact}/identificatie",
        json={"bsn": bsn, "zekerheid": "controlevragen"},
        headers=auth,
    ) as resp:
        assert resp.status == 200, await resp.text()
    return contact


async def _zaak(session: aiohttp.ClientSession, zaken: str) -> dict[str, Any]:
    params = {"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": BSN}
    async with session.get(f"{zaken}/zaken/api/v1/zaken", params=params, headers=CRS) as resp:
        zaak: dict[str, Any] = (await resp.json())["results"][0]
        return zaak


@contextlib.asynccontextmanager
async def driver_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        yield session


async def measure(
    scenario: str,
    *,
    viewer_api: str,
    target_api: str,
    zaken: str,
    events: int,
    others: int = 0,
    same_contact: bool = False,
) -> Result:
    async with driver_session() as session:
        auth = await _login(session, viewer_api)
        contact = await _contact(session, viewer_api, auth)
        streams = [Stream(session, f"{viewer_api}/api/v1/contacten/{contact}/gebeurtenissen", auth)]
        extra_contacts = [contact] * others if same_contact else []
        if not same_contact:
            from dgkb.simulators.world import build_world

            sem = asyncio.Semaphore(20)
            bsns = [p.bsn for p in build_world().persons if p.bsn != BSN]

            async def one(i: int) -> str:
                async with sem:
                    return await _contact(session, viewer_api, auth, bsns[i % len(bsns)])

            extra_contacts = list(await asyncio.gather(*(one(i) for i in range(others))))
        streams += [
            Stream(session, f"{viewer_api}/api/v1/contacten/{c}/gebeurtenissen", auth) for c in extra_contacts
        ]
        await asyncio.gather(*(s.ready() for s in streams))
        zaak = await _zaak(session, zaken)
        receivers = streams if same_contact else streams[:1]
        start = datetime(2026, 1, 1, tzinfo=UTC)
        run_id = uuid.uuid4().hex
        latencies: list[float] = []
        accepted: list[float] = []
        fanout: list[float] = []
        for i in range(events):
            message = {
                "kanaal": "zaken",
                "hoofdObject": zaak["url"],
                "resource": "status",
                "resourceUrl": f"{zaak['url']}/bench/{run_id}/{i}",
                "actie": "create",
                "aanmaakdatum": (start + timedelta(seconds=i)).isoformat(),
                "kenmerken": {"bronorganisatie": "123456782", "zaaktype": zaak["zaaktype"]},
            }
            t0 = time.perf_counter()
            async with session.post(
                f"{target_api}/api/v1/notificaties",
                json=message,
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as resp:
                assert resp.status == 204, await resp.text()
            accepted.append((time.perf_counter() - t0) * 1000)
            try:
                arrivals = [await asyncio.wait_for(r.frames.get(), 10) for r in receivers]
            except TimeoutError:
                raise TimeoutError(f"{scenario}: event {i} not received in 10 s") from None
            latencies.append((arrivals[0][0] - t0) * 1000)
            if same_contact:
                fanout.append((max(a for a, _ in arrivals) - t0) * 1000)
            await asyncio.sleep(0.01)
        await asyncio.gather(*(s.close() for s in streams))
    return Result(scenario, latencies, accepted, fanout or None)


def _row(r: Result) -> list[str]:
    lat = sorted(r.latencies_ms)
    acc = sorted(r.accepted_ms)
    row = [r.scenario, str(len(lat)), *(f"{pct(lat, p):.1f}" for p in (50, 95, 99)), f"{pct(acc, 50):.1f}"]
    if r.fanout_ms:
        f = sorted(r.fanout_ms)
        row.append(f"{pct(f, 50):.1f} / {pct(f, 95):.1f}")
    else:
        row.append("")
    return row


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="50 events per scenario, 100 extra streams")
    p.add_argument("--events", type=int, default=300)
    p.add_argument("--connections", type=int, default=500)
    p.add_argument("--database-url", default="")
    p.add_argument("--nats-url", default=os.environ.get("DGKB_NATS_URL", "nats://127.0.0.1:4222"))
    return p.parse_args(argv)


async def _nats_up(url: str) -> bool:
    try:
        import nats

        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        await nc.close()
        return True
    except Exception:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=150)
    events = 50 if args.quick else args.events
    connections = 100 if args.quick else args.connections
    from dgkb.runner import rebase_sources
    from dgkb.settings import Settings
    from dgkb.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'rt.sqlite3'}"
        upgrade(database_url)
        nats_ok = asyncio.run(_nats_up(args.nats_url))
        results: list[Result] = []
        with child(_simulators_main, 0) as sims:
            overrides = rebase_sources(Settings(), sims.info)
            zaken = sims.info["zaken"]
            with child(_dgkb_main, database_url, overrides, "") as a:
                api = a.info["url"]
                run = asyncio.run
                results.append(
                    run(measure("1 node", viewer_api=api, target_api=api, zaken=zaken, events=events))
                )
                results.append(
                    run(
                        measure(
                            f"1 node, {connections} streams (spread)",
                            viewer_api=api,
                            target_api=api,
                            zaken=zaken,
                            events=events,
                            others=connections - 1,
                        )
                    )
                )
                results.append(
                    run(
                        measure(
                            f"1 node, {connections} streams (same customer)",
                            viewer_api=api,
                            target_api=api,
                            zaken=zaken,
                            events=events,
                            others=connections - 1,
                            same_contact=True,
                        )
                    )
                )
            if nats_ok:
                with (
                    child(_dgkb_main, database_url, overrides, args.nats_url) as a,
                    child(_dgkb_main, database_url, overrides, args.nats_url) as b,
                ):
                    results.append(
                        asyncio.run(
                            measure(
                                "2 nodes (NATS), viewer A, notified B",
                                viewer_api=a.info["url"],
                                target_api=b.info["url"],
                                zaken=zaken,
                                events=events,
                            )
                        )
                    )
                    results.append(
                        asyncio.run(
                            measure(
                                f"2 nodes (NATS), {connections} streams (spread) on A",
                                viewer_api=a.info["url"],
                                target_api=b.info["url"],
                                zaken=zaken,
                                events=events,
                                others=connections - 1,
                            )
                        )
                    )
            else:
                console.print(
                    f"[yellow]NATS at {args.nats_url} not reachable: 2-node scenarios skipped[/yellow]"
                )
    table = Table(
        "scenario",
        "events",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "accepted p50 ms",
        "all 500 received p50/p95 ms",
        title="Event-to-screen latency (notification sent → SSE frame received)",
    )
    for r in results:
        table.add_row(*_row(r))
    console.print(table)
    db = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    console.print(f"database: {db}; machine: {os.cpu_count()} cores")
    for r in results:
        p95 = pct(sorted(r.latencies_ms), 95)
        target = TARGET_TWO_NODES_P95_MS if r.scenario.startswith("2 nodes") else TARGET_ONE_NODE_P95_MS
        verdict = "[green]PASS[/green]" if p95 < target else "[red]MISS[/red]"
        console.print(f"{verdict} {r.scenario}: p95 {p95:.1f} ms (target < {target:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
