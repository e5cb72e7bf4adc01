"""Graceful shutdown of `dgkb run` (uvicorn) and `dgkb run --workers 1` (granian, the production
server), as an orchestrator does it: SIGTERM to a real process.

The node stops accepting connections, lets a klantbeeld in progress (a slow source) finish with 200,
ends its open event streams with a reconnect hint (`retry:` + `event: herverbinden`, so EventSource
clients move to another node and replay with Last-Event-ID), and exits 0 without running into its
grace period (DGKB_SHUTDOWN_GRACE_SECONDS)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import GEMEENTE, identify, sections
from tests.configs import config_for
from tests.conftest import fresh_database_url
from tests.servers import free_port

pytestmark = pytest.mark.slow

DGKB = [sys.executable, "-m", "dgkb.cli"]
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
SLOW_MS = 700  # per call: a Zaken section is three calls in a row (zaken, status, zaaktype), ~2 s


@dataclass
class Node:
    process: asyncio.subprocess.Process
    api: str
    log: Path


@contextlib.asynccontextmanager
async def dgkb_run(tmp_path: Path, simulators: dict[str, str], *args: str, **env: str) -> AsyncIterator[Node]:
    """`dgkb run --no-simulators` (and `args`) on a free port, its sources at the session's simulators."""
    config = config_for(simulators, tmp_path / "config", deadline=10.0)  # the slow source answers
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("DGKB_NATS_URL", "DGKB_REDIS_URL")},
        "DGKB_ENV": "development",
        "DGKB_CONFIG_DIR": str(config),
        "DGKB_DATABASE_URL": await fresh_database_url("sqlite", tmp_path),
        "DGKB_RECONCILE_SECONDS": "0",
        "DGKB_SOURCE_DEADLINE_SECONDS": "10",  # the request's budget for the sources, with `deadline`
        **env,
    }
    port = free_port()
    log = tmp_path / "dgkb-run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *DGKB, "run", "--no-simulators", "--port", str(port), *args,
            env=environment, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=api, timeout=10) as client:
            while True:
                assert process.returncode is None, log.read_text()
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/api/v1/status")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield Node(process, api, log)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def stream_lines(client: httpx.AsyncClient, path: str, opened: asyncio.Event) -> list[str]:
    """Every line of one event stream, until the server ends it."""
    lines: list[str] = []
    async with client.stream("GET", path, timeout=None) as resp:
        assert resp.status_code == 200, await resp.aread()
        async for line in resp.aiter_lines():
            lines.append(line)
            if line == ": verbonden":
                opened.set()
    return lines


async def zaken_requests(simulators: dict[str, str]) -> int:
    async with httpx.AsyncClient(timeout=10) as c:
        return len((await c.get(f"{simulators['zaken']}/_sim/requests")).json())


SERVERS = {"uvicorn": (), "granian": ("--workers", "1")}


@pytest.mark.parametrize("server", list(SERVERS))
async def test_sigterm_finishes_the_view_in_progress_and_sends_open_streams_elsewhere(
    tmp_path: Path, simulators: dict[str, str], server: str
) -> None:
    async with dgkb_run(tmp_path, simulators, *SERVERS[server], DGKB_SHUTDOWN_GRACE_SECONDS="10") as node:
        async with httpx.AsyncClient(base_url=node.api, timeout=10) as anon:
            token = (await anon.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()[
                "access_token"
            ]
        auth = {"Authorization": f"Bearer {token}"}
        # a client per stream and one for the view: each its own connection
        clients = [httpx.AsyncClient(base_url=node.api, headers=auth, timeout=30) for _ in range(3)]
        async with contextlib.AsyncExitStack() as stack:
            for c in clients:
                await stack.enter_async_context(c)
            agent, *listeners = clients
            resp = await agent.post(
                "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK}
            )
            assert resp.status_code == 201, resp.text
            contact = resp.json()["id"]
            await identify(agent, contact, {"bsn": "999993653"})
            opened = [asyncio.Event(), asyncio.Event()]
            streams = [
                asyncio.create_task(stream_lines(c, f"/api/v1/contacten/{contact}/gebeurtenissen", o))
                for c, o in zip(listeners, opened, strict=True)
            ]
            for o in opened:
                await o.wait()

            async with httpx.AsyncClient(timeout=10) as c:
                (
                    await c.post(f"{simulators['zaken']}/_sim/behaviour", json={"latencyMs": SLOW_MS})
                ).raise_for_status()
            before = await zaken_requests(simulators)
            view = asyncio.create_task(agent.get(f"/api/v1/contacten/{contact}/klantbeeld"))
            while await zaken_requests(simulators) == before:  # the view waits on the slow source now
                assert not view.done(), view.result().text
                await asyncio.sleep(0.02)

            node.process.send_signal(signal.SIGTERM)

            # the open streams: a reconnect hint, then the end
            for lines in await asyncio.gather(*streams):
                assert "event: herverbinden" in lines, lines
                assert "retry: 500" in lines
                assert lines.index("event: herverbinden") > lines.index(": verbonden")
            if server == "granian":
                # the supervisor keeps the listening socket until its workers are done; a draining
                # worker tells the load balancer to send nothing new
                async with httpx.AsyncClient(base_url=node.api, timeout=5) as fresh:
                    ready = await fresh.get("/health/ready")
                assert ready.status_code == 503, ready.text
                assert ready.json()["code"] == "server.stopping"
                assert not view.done(), "the readiness check came while the view still ran"
            else:
                # new connections are refused while the process still finishes the view
                refused = False
                while not refused and node.process.returncode is None:
                    try:
                        async with httpx.AsyncClient(base_url=node.api, timeout=5) as fresh:
                            await fresh.get("/api/v1/status")
                    except httpx.ConnectError:
                        refused = True
                    await asyncio.sleep(0.02)
                assert refused, "a new connection was accepted after SIGTERM"
                assert not view.done() or view.result().status_code == 200

            answer = await view
            assert answer.status_code == 200, answer.text
            zaken = sections(answer.json())["dienst.zaken-lopend"][0]
            assert zaken["status"] == "ok", zaken  # the slow source's answer, not a cut-off
        assert await node.process.wait() == 0
        out = node.log.read_text()
        assert "timeout graceful shutdown exceeded" not in out, out
        assert "Traceback" not in out, out


async def test_the_grace_period_bounds_the_shutdown(tmp_path: Path, simulators: dict[str, str]) -> None:
    """A view slower than the grace period is cut off then: the process stops anyway."""
    async with dgkb_run(tmp_path, simulators, DGKB_SHUTDOWN_GRACE_SECONDS="1") as node:
        async with httpx.AsyncClient(base_url=node.api, timeout=10) as anon:
            token = (await anon.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()[
                "access_token"
            ]
        async with httpx.AsyncClient(
            base_url=node.api, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as agent:
            resp = await agent.post(
                "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK}
            )
            contact = resp.json()["id"]
            await identify(agent, contact, {"bsn": "999993653"})
            async with httpx.AsyncClient(timeout=10) as c:
                (
                    await c.post(f"{simulators['zaken']}/_sim/behaviour", json={"latencyMs": 8000})
                ).raise_for_status()
            before = await zaken_requests(simulators)
            view = asyncio.create_task(agent.get(f"/api/v1/contacten/{contact}/klantbeeld"))
            while await zaken_requests(simulators) == before:  # noqa: ASYNC110 (polled over HTTP)
                await asyncio.sleep(0.02)
            node.process.send_signal(signal.SIGTERM)
            assert await node.process.wait() == 0
            assert not view.done() or view.exception() is not None or view.result().status_code != 200
            with contextlib.suppress(httpx.HTTPError):
                await view
        assert "timeout graceful shutdown exceeded" in node.log.read_text()
