"""Issue 13: /health/live and /health/ready, the probes of a load balancer. Readiness fails (503
problem+json) only when the database or the audit log is unusable; a Redis or NATS that is down is
"degraded" (200, naming it) and keeps the node in the pool. Redis and NATS here are servers of the
test's own; PostgreSQL is reached through the test's own TCP proxy, which it cuts or makes hang."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.conftest import running_stack
from tests.api.test_database_outage import TcpProxy, needs_postgres
from tests.conftest import PG_URL, fresh_database_url
from tests.servers import needs_nats_server, needs_redis_server, own_nats, own_redis


def assert_not_ready(resp: httpx.Response, *failed: str) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) > 0
    body = resp.json()
    assert body["code"] == "server.not_ready"
    for name in failed:
        assert body["checks"][name] == "unavailable", body


async def test_live_and_ready_answer_without_a_login_and_stay_out_of_the_openapi(tmp_path: Path) -> None:
    async with running_stack(await fresh_database_url("sqlite", tmp_path), {}) as stack:
        live = await stack.client.get("/health/live")
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}
        ready = await stack.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "ok"
        assert body["degraded"] == []
        assert body["checks"] == {
            "database": "ok",
            "audit": "ok",
            "cache": "not-configured",
            "bus": "not-configured",
        }
        assert ready.headers["cache-control"] == "no-store"
        paths = (await stack.client.get("/api/v1/openapi.json")).json()["paths"]
        assert not [p for p in paths if p.startswith("/health")]


async def test_an_unusable_audit_log_makes_the_node_not_ready_but_still_live(tmp_path: Path) -> None:
    url = await fresh_database_url("sqlite", tmp_path)
    async with running_stack(url, {}) as stack:
        assert (await stack.client.get("/health/ready")).status_code == 200
        engine = create_async_engine(url)
        async with engine.begin() as conn:  # the log's chain heads are gone: no record can be written
            await conn.execute(text("ALTER TABLE audit_chain_heads RENAME TO audit_chain_heads_weg"))
        await engine.dispose()
        ready = await stack.client.get("/health/ready")
        assert_not_ready(ready, "audit")
        assert ready.json()["checks"]["database"] == "ok"
        assert (await stack.client.get("/health/live")).status_code == 200


@needs_redis_server
@needs_nats_server
async def test_redis_or_nats_down_is_degraded_and_keeps_the_node_ready(tmp_path: Path) -> None:
    async with (
        own_redis() as redis,
        own_nats(tmp_path / "nats") as nats,
        running_stack(
            await fresh_database_url("sqlite", tmp_path),
            {},
            redis_url=f"redis://127.0.0.1:{redis.port}/0",
            nats_url=f"nats://127.0.0.1:{nats.port}",
        ) as stack,
    ):
        ready = await stack.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "audit": "ok", "cache": "ok", "bus": "ok"}

        await redis.stop()
        ready = await stack.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert ready.json()["degraded"] == ["cache"]

        await nats.stop()
        for _ in range(100):  # the client notices the lost connection on its own
            ready = await stack.client.get("/health/ready")
            if "bus" in ready.json().get("degraded", []):
                break
            await asyncio.sleep(0.05)
        assert ready.status_code == 200, ready.text
        assert ready.json()["degraded"] == ["cache", "bus"]

        await redis.start()
        await nats.start()
        for _ in range(200):  # both come back: the cache after its pause, the bus on reconnect
            ready = await stack.client.get("/health/ready")
            if ready.json()["status"] == "ok":
                break
            await asyncio.sleep(0.05)
        assert ready.json()["status"] == "ok", ready.text


class SilentServer:
    """Accepts TCP connections and never answers: a hung PostgreSQL."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []
        self.port = 0

    async def _accept(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.append(writer)

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._held:
            writer.transport.abort()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()


@pytest.fixture
async def proxied_pg(tmp_path: Path) -> AsyncIterator[tuple[str, TcpProxy]]:
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    url = make_url(await fresh_database_url("postgresql", tmp_path)).set(host="127.0.0.1", port=proxy.port)
    yield url.render_as_string(hide_password=False), proxy
    with contextlib.suppress(Exception):
        await proxy.cut()


@needs_postgres
async def test_a_database_that_is_gone_or_hangs_is_not_ready_within_about_a_second(
    proxied_pg: tuple[str, TcpProxy],
) -> None:
    url, proxy = proxied_pg
    async with running_stack(url, {}) as stack:
        assert (await stack.client.get("/health/ready")).status_code == 200
        await proxy.cut()  # connections drop, new ones are refused
        assert_not_ready(await stack.client.get("/health/ready"), "database", "audit")
        assert (await stack.client.get("/health/live")).status_code == 200

    async with SilentServer() as silent:
        hung = make_url(url).set(port=silent.port).render_as_string(hide_password=False)
        async with running_stack(hung, {}) as stack:
            # bounded by the probe's own timeout, not by the driver's connect timeout (60 s): the
            # client's generous 30 s would otherwise run out first
            ready = await stack.client.get("/health/ready", timeout=30)
            assert_not_ready(ready, "database", "audit")
