"""Issue 13, "three nodes with real failover": 3 `dgkb run` nodes on one PostgreSQL database, with a
Redis and a NATS of their own, behind the shipped HAProxy configuration (tests/topology/harness.py).

- HAProxy's header limits hold: 1,000 half-sent requests pin nothing and are closed (408) after
  `timeout http-request`; a 1 MB header and 10,000 headers are refused before any node sees them.
- Under steady klantbeeld load one node is killed (-9): no klantbeeld request through HAProxy fails;
  a contact started on the dead node goes on at the others; an SSE client of the dead node
  reconnects with Last-Event-ID and gets the event it missed (replayed from JetStream), then live ones.
- Under the same load Redis is killed (then started again) and NATS restarted: every node stays in
  the pool (ready, the component reported unavailable) and no klantbeeld request fails. This is the
  short version of bench/failover.py for CI; the PostgreSQL restart is in tests/api/test_database_outage.py.

Slow (starting three nodes takes most of it): one topology for the module, in one xdist group.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from dgkb.runner import reset_simulators
from tests.conftest import PG_URL, SharedSimulators, fresh_database_url
from tests.events.conftest import (
    LOPENDE_ZAAK,
    SseClient,
    open_contact,
    open_zaak_of,
    set_status,
    zaak_message,
)
from tests.servers import NATS_SERVER, REDIS_SERVER
from tests.topology.harness import HAPROXY, HAPROXY_CFG, NODE_HEADER, TOKEN, Topology, topology

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("topology"),
    pytest.mark.skipif(not HAPROXY, reason="haproxy is not installed (CI installs it)"),
]
needs_topology = pytest.mark.skipif(
    not (PG_URL and REDIS_SERVER and NATS_SERVER),
    reason="DGKB_TEST_DATABASE_URL, redis-server and nats-server are needed (CI has them)",
)
HEADER_TIMEOUT = 2  # seconds: `timeout http-request` of the test's HAProxy (10 s shipped)


def test_the_shipped_haproxy_configuration_is_valid() -> None:
    check = subprocess.run(
        [HAPROXY, "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True, check=False, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Configuration file is valid" in check.stdout + check.stderr


@pytest.fixture(scope="module")
async def top(
    tmp_path_factory: pytest.TempPathFactory, shared_simulators: SharedSimulators
) -> AsyncIterator[Topology]:
    workdir = tmp_path_factory.mktemp("topology")
    # the worker's shared simulators, as the tests before left them (one may have made Zaken fail
    # and counted on the next test's reset): reset them, as the `simulators` fixture does
    await reset_simulators(shared_simulators.urls, shared_simulators.client)
    async with topology(
        database_url=await fresh_database_url("postgresql", workdir),
        simulators=dict(shared_simulators.urls),
        workdir=workdir,
        timeout_http_request=f"{HEADER_TIMEOUT}s",
    ) as running:
        yield running


async def _status_of(port: int, request: bytes) -> bytes:
    """The status line HAProxy answers a raw request with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        return await reader.readline()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@needs_topology
async def test_slowloris_connections_are_closed_and_pin_nothing(top: Topology) -> None:
    half_sent: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(1000):
            reader, writer = await asyncio.open_connection("127.0.0.1", top.haproxy_port)
            writer.write(b"GET /api/v1/status HTTP/1.1\r\nHost: dgkb\r\nX-Langzaam: ")  # never finished
            half_sent.append((reader, writer))
        await asyncio.gather(*(w.drain() for _, w in half_sent))
        # while they hang, HAProxy and the nodes serve everyone else
        async with httpx.AsyncClient(base_url=top.url, timeout=10) as client:
            for _ in range(6):
                assert (await client.get("/health/ready")).status_code == 200
        # each is answered 408 and closed once its headers are late (not held open for ever)
        answers = await asyncio.gather(*(r.read() for r, _ in half_sent))
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:40] for a in answers}
    finally:
        for _, writer in half_sent:
            writer.transport.abort()


@needs_topology
async def test_a_huge_header_or_ten_thousand_headers_are_refused(top: Topology) -> None:
    huge = b"GET /api/v1/status HTTP/1.1\r\nHost: dgkb\r\nX-Groot: " + b"a" * 1024 * 1024 + b"\r\n\r\n"
    many = (
        b"GET /api/v1/status HTTP/1.1\r\nHost: dgkb\r\n"
        + b"".join(b"X-H%d: x\r\n" % i for i in range(10_000))
        + b"\r\n"
    )
    for request in (huge, many):
        status = await _status_of(top.haproxy_port, request)
        assert status.split(b" ")[1] in (b"400", b"431"), status
    fine = await _status_of(top.haproxy_port, b"GET /health/live HTTP/1.1\r\nHost: dgkb\r\n\r\n")
    assert fine.startswith(b"HTTP/1.1 200"), fine


async def _notify(client: httpx.AsyncClient, zaken: str, zaak: dict[str, object], statustype: str) -> None:
    status = await set_status(zaken, zaak, statustype)
    message = zaak_message(zaak, status["url"], datetime.now(UTC).isoformat())
    # as the routing component does: a 503 (the node could not reach the zaak's source in time, as
    # on a loaded machine) is delivered again a moment later, for up to ten seconds (Open
    # Notificaties retries for far longer)
    for _ in range(20):
        resp = await client.post(
            "/api/v1/notificaties", json=message, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        if resp.status_code != 503:
            break
        await asyncio.sleep(0.5)
    assert resp.status_code < 300, resp.text


@needs_topology
async def test_killing_a_node_under_load_fails_no_klantbeeld_and_loses_no_event(top: Topology) -> None:
    token = await top.token()
    auth = {"Authorization": f"Bearer {token}"}
    async with contextlib.AsyncExitStack() as stack:
        lb = await stack.enter_async_context(httpx.AsyncClient(base_url=top.url, headers=auth, timeout=30))
        viewer = await stack.enter_async_context(
            httpx.AsyncClient(base_url=top.url, headers=auth, timeout=30)
        )
        # the SSE client's node is the one to die; a contact is started there too
        first = await open_contact(viewer, LOPENDE_ZAAK)
        sse = await stack.enter_async_context(SseClient(viewer, f"/api/v1/contacten/{first}/gebeurtenissen"))
        assert sse.headers is not None
        victim = top.node(sse.headers[NODE_HEADER])
        on_victim = httpx.AsyncClient(base_url=victim.url, headers=auth, timeout=30)
        async with on_victim:
            started_there = await open_contact(on_victim, LOPENDE_ZAAK)
        contacts = [first, started_there] + [await open_contact(lb, LOPENDE_ZAAK) for _ in range(4)]

        zaken = top.simulators["zaken"]
        zaak, statustypen = await open_zaak_of(zaken)
        steps = [s["url"] for s in statustypen if not s["isEindstatus"]]
        await _notify(lb, zaken, zaak, steps[0])
        kind, _ = await sse.next(wait=15)
        assert kind == "bijgewerkt"
        last_seen = sse.last_event_id
        assert last_seen is not None

        # steady load: every contact's klantbeeld, read again and again through HAProxy
        results: list[int | str] = []
        stop = asyncio.Event()
        counted = asyncio.Event()
        wanted = 30

        def count(result: int | str) -> None:
            results.append(result)
            if len(results) >= wanted:
                counted.set()

        async def reader(contact: str) -> None:
            async with httpx.AsyncClient(base_url=top.url, headers=auth, timeout=30) as client:
                while not stop.is_set():
                    try:
                        resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
                        count(resp.status_code)
                    except httpx.HTTPError as exc:
                        count(type(exc).__name__)

        readers = [asyncio.create_task(reader(c)) for c in contacts]
        try:
            await counted.wait()
            await victim.kill()
            # the stream of the dead node ends; what happens meanwhile is missed by the client
            await asyncio.wait_for(sse.closed.wait(), 30)
            await _notify(lb, zaken, zaak, steps[1 % len(steps)])
            counted.clear()
            wanted = len(results) + 60  # and the load goes on a while after
            await counted.wait()
        finally:
            stop.set()
            await asyncio.gather(*readers)
        failures = [r for r in results if r != 200]
        assert not failures, f"{len(failures)} of {len(results)} klantbeeld requests failed: {failures[:5]}"

        # the contact started on the dead node goes on elsewhere
        resp = await lb.get(f"/api/v1/contacten/{started_there}/klantbeeld")
        assert resp.status_code == 200, resp.text
        assert resp.headers[NODE_HEADER] != victim.name

        # the browser reconnects (to a live node) with the last id it saw: the missed event first
        again = await stack.enter_async_context(
            SseClient(
                viewer, f"/api/v1/contacten/{first}/gebeurtenissen", headers={"Last-Event-ID": last_seen}
            )
        )
        assert again.headers is not None
        assert again.headers[NODE_HEADER] != victim.name
        kind, data = await again.next(wait=15)
        assert kind == "bijgewerkt", (kind, data)
        assert "dienst.zaken-lopend" in data["categorieen"], data
        replayed = again.last_event_id
        await _notify(lb, zaken, zaak, steps[2 % len(steps)])
        kind, data = await again.next(wait=15)
        assert kind == "bijgewerkt", (kind, data)
        assert again.last_event_id != replayed


@needs_topology
async def test_the_killed_node_comes_back_into_the_pool(top: Topology) -> None:
    down = [n for n in top.nodes if n.process is None]
    for node in down:
        await node.start()
        await node.ready()
    await asyncio.wait_for(top.all_up(), 60)


async def _load_through(
    top: Topology, auth: dict[str, str], contacts: list[str], fault: Callable[[], Awaitable[None]]
) -> list[int | str]:
    """Every contact's klantbeeld read again and again through HAProxy while `fault` runs, and for
    30 requests after it: the status (or the error) of each request."""
    results: list[int | str] = []
    stop = asyncio.Event()
    enough = asyncio.Event()
    wanted = 10**9

    async def reader(contact: str) -> None:
        async with httpx.AsyncClient(base_url=top.url, headers=auth, timeout=30) as client:
            while not stop.is_set():
                try:
                    resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
                    results.append(resp.status_code)
                except httpx.HTTPError as exc:
                    results.append(type(exc).__name__)
                if len(results) >= wanted:
                    enough.set()

    readers = [asyncio.create_task(reader(c)) for c in contacts]
    try:
        await fault()
        wanted = len(results) + 30
        await enough.wait()
    finally:
        stop.set()
        await asyncio.gather(*readers)
    return results


async def _until_every_node(top: Topology, component: str, state: str) -> None:
    """Until each running node's /health/ready (200 throughout: a node stays in the pool) says
    `component` is `state`."""
    seen: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(600):
            answers = [await client.get(f"{n.url}/health/ready") for n in top.nodes if n.process]
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            seen = [a.json()["checks"][component] for a in answers]
            if all(s == state for s in seen):
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{component} never {state} on every node: {seen}")


@needs_topology
async def test_redis_killed_and_nats_restarted_under_load_fail_no_klantbeeld(top: Topology) -> None:
    """The cache and the bus are optimisations of a node, not its foundations: with Redis killed
    (then back) and NATS restarted (its stream lost), every node stays in the pool, reports the
    component unavailable meanwhile, and no klantbeeld request through HAProxy fails."""
    for node in top.nodes:  # the node killed earlier in this module is back
        if node.process is None:
            await node.start()
            await node.ready()
    await asyncio.wait_for(top.all_up(), 60)
    auth = {"Authorization": f"Bearer {await top.token()}"}
    async with httpx.AsyncClient(base_url=top.url, headers=auth, timeout=30) as lb:
        contacts = [await open_contact(lb, LOPENDE_ZAAK) for _ in range(4)]

    async def kill_redis() -> None:
        await top.redis.stop()
        await _until_every_node(top, "cache", "unavailable")
        await top.redis.start()
        await _until_every_node(top, "cache", "ok")

    async def restart_nats() -> None:
        await top.nats.stop()
        await _until_every_node(top, "bus", "unavailable")
        await top.nats.start()
        await _until_every_node(top, "bus", "ok")

    for fault in (kill_redis, restart_nats):
        results = await _load_through(top, auth, contacts, fault)
        failures = [r for r in results if r != 200]
        assert not failures, f"{fault.__name__}: {len(failures)} of {len(results)} failed: {failures[:5]}"
