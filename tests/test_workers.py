"""`dgkb run --workers N` as an operator starts it: a real supervisor process with two granian workers on
one port, against PostgreSQL, Redis and NATS.

Which worker serves a connection is the kernel's choice; the test finds it out the way an operator
would, without any header naming the worker: the server side of each TCP connection is a socket that
exactly one worker process holds open (/proc/net/tcp and /proc/<pid>/fd)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.configs import config_for
from tests.conftest import PG_URL, fresh_database_url
from tests.events.conftest import LOPENDE_ZAAK, TOKEN, open_contact, open_zaak_of, set_status, zaak_message

NATS_URL = os.environ.get("DGKB_TEST_NATS_URL", "")
REDIS_URL = os.environ.get("DGKB_TEST_REDIS_URL", "")
DGKB = [sys.executable, "-m", "dgkb.cli"]
WITHOUT_SHARED = {k: v for k, v in os.environ.items() if k not in ("DGKB_NATS_URL", "DGKB_REDIS_URL")}

needs_services = pytest.mark.skipif(
    not (NATS_URL and REDIS_URL and PG_URL),
    reason="DGKB_TEST_NATS_URL, DGKB_TEST_REDIS_URL and DGKB_TEST_DATABASE_URL are needed (CI sets them)",
)


async def dgkb(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *DGKB, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.mark.parametrize(
    ("shared", "missing"),
    [
        ({}, "DGKB_NATS_URL en DGKB_REDIS_URL zijn niet gezet"),
        ({"DGKB_NATS_URL": "nats://127.0.0.1:4222"}, "DGKB_REDIS_URL is niet gezet"),
    ],
)
async def test_several_workers_refuse_to_start_without_nats_and_redis(
    shared: dict[str, str], missing: str, tmp_path: Path
) -> None:
    env = {**WITHOUT_SHARED, **shared, "COLUMNS": "400"}
    env["DGKB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'nooit.sqlite3'}"
    code, out = await dgkb(env, "run", "--workers", "2", "--no-simulators", "--port", str(free_port()))
    assert code == 1
    assert "Configuratie ongeldig" in out
    assert f"2 workers vragen om NATS en Redis, maar {missing}" in " ".join(out.split())
    assert not (tmp_path / "nooit.sqlite3").exists()  # refused before migrating anything


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_pids(supervisor: int) -> list[int]:
    """The granian workers: the supervisor's spawned children (not multiprocessing's resource tracker)."""
    children: list[int] = []
    for task in os.listdir(f"/proc/{supervisor}/task"):
        with contextlib.suppress(FileNotFoundError):
            children += [int(c) for c in Path(f"/proc/{supervisor}/task/{task}/children").read_text().split()]
    return [pid for pid in children if b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _server_socket_inodes(server_port: int, client_port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                inodes.add(inode)
    return inodes


def serving_worker(pids: list[int], server_port: int, response: httpx.Response) -> int:
    """The worker holding the server side of the connection `response` came over."""
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    targets = {f"socket:[{inode}]" for inode in _server_socket_inodes(server_port, client_port)}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(FileNotFoundError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


@dataclass
class Supervisor:
    process: asyncio.subprocess.Process
    api: str
    port: int
    env: dict[str, str]
    workers: list[int]


@pytest.fixture
async def two_workers(tmp_path: Path, simulators: dict[str, str]) -> AsyncIterator[Supervisor]:
    """`dgkb run --workers 2` on a free port, sources pointing at the session's simulators, a fresh
    PostgreSQL database; in development, so the workers share the dev issuer's key under tmp/var."""
    async with running_workers(tmp_path, simulators) as supervisor:
        yield supervisor


@contextlib.asynccontextmanager
async def running_workers(
    tmp_path: Path, simulators: dict[str, str], **extra_env: str
) -> AsyncIterator[Supervisor]:
    """See `two_workers`; `extra_env`: more settings (DGKB_…) for the run."""
    database_url = await fresh_database_url("postgresql", tmp_path)
    config = config_for(simulators, tmp_path / "config")
    env = {
        **WITHOUT_SHARED,
        "DGKB_ENV": "development",
        "DGKB_CONFIG_DIR": str(config),
        "DGKB_DATABASE_URL": database_url,
        "DGKB_NATS_URL": NATS_URL,
        "DGKB_REDIS_URL": REDIS_URL,
        "DGKB_NOTIFICATIES_TOKEN": TOKEN,
        "DGKB_RECONCILE_SECONDS": "0",
        **extra_env,
    }
    port = free_port()
    log = (tmp_path / "dgkb-run.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *DGKB, "run", "--workers", "2", "--no-simulators", "--port", str(port),
        env=env, stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=api, timeout=10) as client:
            while True:  # until both workers run their lifespan and one answers
                assert process.returncode is None, (tmp_path / "dgkb-run.log").read_text()
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/api/v1/status")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        workers = worker_pids(process.pid)
        assert len(workers) == 2, workers
        yield Supervisor(process, api, port, env, workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        log.close()


async def client_on(
    w: Supervisor, worker: int, headers: dict[str, str], stack: contextlib.AsyncExitStack
) -> httpx.AsyncClient:
    """A keep-alive client with a single connection, served by `worker`: connections are opened (a
    few at a time, as the kernel hands them out) until that worker accepts one."""
    for _ in range(50):
        batch = [
            httpx.AsyncClient(
                base_url=w.api, headers=headers, timeout=10, limits=httpx.Limits(max_connections=1)
            )
            for _ in range(4)
        ]
        answers = await asyncio.gather(*(c.get("/api/v1/status") for c in batch))
        chosen = None
        for client, answer in zip(batch, answers, strict=True):
            if chosen is None and serving_worker(w.workers, w.port, answer) == worker:
                chosen = client
            else:
                await client.aclose()
        if chosen is not None:
            stack.push_async_callback(chosen.aclose)
            return chosen
    raise AssertionError(f"the kernel never handed a connection to worker {worker}")


async def sse_frames(client: httpx.AsyncClient, path: str, into: asyncio.Queue[tuple[str, Any]]) -> None:
    async with client.stream("GET", path, timeout=None) as resp:
        await into.put(("status", resp))
        event, data = "message", []
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                await into.put((event, json.loads("\n".join(data))))
                event, data = "message", []


@needs_services
async def test_two_workers_serve_one_port_with_sse_cache_and_audit_correct_across_them(
    two_workers: Supervisor, simulators: dict[str, str]
) -> None:
    w = two_workers
    first, second = w.workers
    async with httpx.AsyncClient(base_url=w.api, timeout=10) as anon:
        token = (await anon.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    async with contextlib.AsyncExitStack() as stack:
        a = await client_on(w, first, headers, stack)
        b = await client_on(w, second, headers, stack)
        viewer = await client_on(w, first, headers, stack)
        # a contact opened at A (the token checked there) is read at B: one database, one issuer key
        contact = await open_contact(a, LOPENDE_ZAAK)
        kb_path = f"/api/v1/contacten/{contact}/klantbeeld"
        at_b = await b.get(kb_path)
        assert at_b.status_code == 200, at_b.text
        assert {s["categorie"]: s["status"] for s in at_b.json()["secties"]}["dienst.zaken-lopend"] == "ok"
        assert (await a.get(kb_path)).status_code == 200  # read at both: the shared cache holds it

        # a live view held open at A hears of a notification that B received (NATS), and A's re-read
        # shows the new status (B dropped the answers from the shared Redis cache)
        frames: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stream = asyncio.create_task(
            sse_frames(viewer, f"/api/v1/contacten/{contact}/gebeurtenissen", frames)
        )
        try:
            _, resp = await asyncio.wait_for(frames.get(), 10)
            assert resp.status_code == 200
            assert serving_worker(w.workers, w.port, resp) == first
            zaak, statustypen = await open_zaak_of(simulators["zaken"])
            new = next(s for s in statustypen if not s["isEindstatus"])
            status = await set_status(simulators["zaken"], zaak, new["url"])
            message = zaak_message(zaak, status["url"], datetime.now(UTC).isoformat())
            notified = await b.post(
                "/api/v1/notificaties", json=message, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert notified.status_code < 300, notified.text
            assert serving_worker(w.workers, w.port, notified) == second
            while (frame := await asyncio.wait_for(frames.get(), 10))[0] != "bijgewerkt":
                pass
            assert "dienst.zaken-lopend" in frame[1]["categorieen"]
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream
        after = (await a.get(kb_path)).json()
        statuses = [
            z["status"]["omschrijving"]
            for s in after["secties"]
            if s["categorie"] == "dienst.zaken-lopend" and s["gegevens"]
            for z in s["gegevens"]
            if z["url"] == zaak["url"]
        ]
        assert statuses == [new["omschrijving"]]

        # both workers write audit records at the same time, each on chains of its own
        reads = await asyncio.gather(*(c.get(kb_path) for c in (a, b) * 5))
        assert all(r.status_code == 200 for r in reads)

    engine = create_async_engine(w.env["DGKB_DATABASE_URL"])
    try:
        async with engine.connect() as conn:
            chains = (
                (await conn.execute(text("SELECT DISTINCT chain_id FROM access_records"))).scalars().all()
            )
    finally:
        await engine.dispose()
    writers = {int(chain.split("-")[-3]) for chain in chains}
    assert set(w.workers) <= writers, (w.workers, chains)
    code, out = await dgkb(w.env, "audit", "verify")
    assert code == 0, out
    assert "Toegangslog intact" in out
