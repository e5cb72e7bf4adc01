"""Three DGKB nodes behind HAProxy, as an operator runs them (issue 13 "three nodes with real failover").

`Topology` starts, on free ports: a redis-server and a nats-server (-js) of its own (so they can be
killed and restarted without touching the shared ones), N `dgkb run --workers 1` processes on one
PostgreSQL database, and HAProxy with the shipped deploy/haproxy/haproxy.cfg (plus one line that
names the serving node in a response header, so a test knows which node to kill). Every node has the
same public URL (HAProxy's) and dev-issuer key file, so a token minted by one is valid on all.

Used by tests/topology/ and bench/failover.py; no pytest fixtures here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dgkb.settings import PROJECT_ROOT
from tests.configs import config_for
from tests.servers import REDIS_SERVER, OwnServer, free_port, nats_argv

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else "")
HAPROXY_CFG = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"
NODE_HEADER = "X-Dgkb-Node"  # test only: which server HAProxy chose (%s = the server's name)
TOKEN = "test-notificaties-geheim-van-minstens-32-tekens"
DGKB = [sys.executable, "-m", "dgkb.cli"]
SHARED = ("DGKB_NATS_URL", "DGKB_REDIS_URL", "DGKB_DATABASE_URL", "DGKB_PUBLIC_URL")


async def _ready(url: str, process: asyncio.subprocess.Process | None, log: Path) -> None:
    """Until `url` answers 200 (polling; the caller bounds the wait if it wants to)."""
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process is not None and process.returncode is not None:
                tail = (await asyncio.to_thread(log.read_text))[-4000:]
                raise RuntimeError(f"exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)


@dataclass
class Node:
    """One `dgkb run --workers 1` (a granian supervisor and its worker, in a session of their own)."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert self.process is None
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *DGKB, "run", "--workers", "1", "--no-simulators", "--port", str(self.port),
                env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    async def ready(self) -> None:
        await _ready(f"{self.url}/health/ready", self.process, self.log)

    async def kill(self) -> None:
        """kill -9 of the node: supervisor and worker at once, nothing cleaned up."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@dataclass
class Topology:
    nodes: list[Node]
    redis: OwnServer
    nats: OwnServer
    haproxy_port: int
    workdir: Path
    simulators: dict[str, str]
    haproxy: asyncio.subprocess.Process | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.haproxy_port}"

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    async def token(self, user: str = "kcm-anna") -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            resp = await client.post("/dev-issuer/token", json={"gebruiker": user})
            resp.raise_for_status()
            return str(resp.json()["access_token"])

    async def start_haproxy(self, timeout_http_request: str) -> None:
        config = self.workdir / "haproxy.cfg"
        # the shipped file, plus (tests only) a header naming the node that answered
        config.write_text(
            HAPROXY_CFG.read_text() + f"    http-response set-header {NODE_HEADER} %s\n", encoding="utf-8"
        )
        env = {
            **os.environ,
            "HAPROXY_BIND": f"127.0.0.1:{self.haproxy_port}",
            "HAPROXY_TIMEOUT_HTTP_REQUEST": timeout_http_request,
            **{f"DGKB_NODE_{i + 1}": f"127.0.0.1:{n.port}" for i, n in enumerate(self.nodes)},
        }
        log = self.workdir / "haproxy.log"
        with log.open("ab") as out:
            self.haproxy = await asyncio.create_subprocess_exec(
                HAPROXY, "-db", "-f", str(config), env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        await _ready(f"{self.url}/health/live", self.haproxy, log)

    async def all_up(self) -> None:
        """Until HAProxy sent a request to every node (each check passed, each server up)."""
        seen: set[str] = set()
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while seen != {n.name for n in self.nodes}:
                with contextlib.suppress(httpx.HTTPError):
                    seen.add((await client.get("/health/ready")).headers.get(NODE_HEADER, ""))
                    seen.discard("")
                await asyncio.sleep(0.02)


def node_config(workdir: Path, simulators: dict[str, str]) -> Path:
    """A copy of config/ whose sources point at the given simulators."""
    return config_for(simulators, workdir / "config")


@contextlib.asynccontextmanager
async def topology(
    *,
    database_url: str,
    simulators: dict[str, str],
    workdir: Path,
    nodes: int = 3,
    timeout_http_request: str = "10s",
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Topology]:
    """The running topology (the database migrated already); everything stopped on exit."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    redis_port, nats_port, haproxy_port = free_port(), free_port(), free_port()
    redis = OwnServer(
        [REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        redis_port,
    )
    nats = OwnServer(nats_argv(nats_port, workdir / "nats"), nats_port)
    config = node_config(workdir, simulators)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DGKB_") or k.startswith("DGKB_TEST_")}
    env.update(
        {
            "DGKB_ENV": "test",
            "DGKB_CONFIG_DIR": str(config),
            "DGKB_DATABASE_URL": database_url,
            "DGKB_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "DGKB_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DGKB_PUBLIC_URL": f"http://127.0.0.1:{haproxy_port}",
            "DGKB_DEV_ISSUER_KEY_FILE": str(workdir / "dev-issuer-key.pem"),
            "DGKB_NOTIFICATIES_TOKEN": TOKEN,
            "DGKB_RECONCILE_SECONDS": "0",
            "DGKB_SOURCE_DEADLINE_SECONDS": "5",
            # three nodes on a PostgreSQL other tests use too: a small pool each
            "DGKB_DATABASE_POOL_SIZE": "5",
            "DGKB_DATABASE_MAX_OVERFLOW": "5",
            **(settings or {}),
        }
    )
    members = [
        Node(name=f"node{i + 1}", port=free_port(), env=env, log=workdir / f"node{i + 1}.log")
        for i in range(nodes)
    ]
    top = Topology(
        nodes=members,
        redis=redis,
        nats=nats,
        haproxy_port=haproxy_port,
        workdir=workdir,
        simulators=simulators,
    )
    try:
        await redis.start()
        await asyncio.to_thread((workdir / "nats").mkdir, parents=True, exist_ok=True)
        await nats.start()
        for node in members:
            await node.start()
        await asyncio.gather(*(node.ready() for node in members))
        await top.start_haproxy(timeout_http_request)
        await top.all_up()
        yield top
    finally:
        if top.haproxy is not None:
            with contextlib.suppress(ProcessLookupError):
                top.haproxy.kill()
            await top.haproxy.wait()
        await asyncio.gather(*(node.stop() for node in members), return_exceptions=True)
        await nats.stop()
        await redis.stop()


__all__ = ["HAPROXY", "HAPROXY_CFG", "NODE_HEADER", "TOKEN", "Node", "Topology", "node_config", "topology"]
