"""Issue 13 §1: Redis is an optimisation. Refused, hung (SIGSTOP) or back again, the klantbeeld answers
with every section ok; a Redis that does not answer costs a view its own short timeout, counted,
not the five seconds (or forever) of a client without socket timeouts. Notification de-duplication
degrades to at-least-once. Each test has a redis-server of its own: the shared one is never touched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dgkb.domain.identifiers import Subject
from dgkb.events.notificaties import Deduper
from dgkb.federation.cache import RedisCache
from dgkb.federation.redis_guard import RedisGuard, RedisUnavailable
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack, sections
from tests.clients import http_client
from tests.conftest import fresh_database_url
from tests.servers import OwnServer, free_port, needs_redis_server, own_redis

pytestmark = needs_redis_server

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BSN = "999993653"


@pytest.fixture
async def redis_server() -> AsyncIterator[OwnServer]:
    async with own_redis() as server:
        yield server


@pytest.fixture
async def redis_stack(
    tmp_path: Path, simulators: dict[str, str], redis_server: OwnServer
) -> AsyncIterator[Stack]:
    """DGKB with its source cache in the test's own Redis (the zaken answers are cached)."""
    async with running_stack(
        await fresh_database_url("sqlite", tmp_path),
        simulators,
        source_deadline_seconds=2.0,
        redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
        redis_retry_after_seconds=0.05,
    ) as stack:
        yield stack


def redis_cache(stack: Stack) -> RedisCache:
    cache = stack.app.state.services.federation.cache
    assert isinstance(cache, RedisCache)
    return cache


async def zaken_calls(stack: Stack) -> int:
    async with http_client() as c:
        return len((await c.get(f"{stack.simulators['zaken']}/_sim/requests")).json())


def all_ok(body: dict[str, object]) -> None:
    by_category = sections(body)  # type: ignore[arg-type]
    assert by_category["klant.basis"][0]["status"] == "ok"
    assert by_category["dienst.zaken-lopend"][0]["status"] == "ok"
    assert by_category["dienst.zaken-lopend"][0]["gegevens"], "the person's open zaak is shown"


async def view(client: httpx.AsyncClient, contact: str) -> dict[str, object]:
    resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    all_ok(body)
    return body


async def test_redis_refusing_connections_is_a_miss_not_a_failed_view(
    redis_stack: Stack, redis_server: OwnServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with await redis_stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        await view(anna, contact)
        await redis_server.stop()  # the port now refuses connections
        with caplog.at_level(logging.WARNING):
            for _ in range(5):
                await view(anna, contact)
        cache = redis_cache(redis_stack)
        assert cache.stats.hits + cache.stats.misses > 0, "the cache was in use while Redis was up"
        assert cache.guard.counters.errors >= 1
        assert cache.stats.unavailable >= 5
        status = (await redis_stack.client.get("/api/v1/status")).json()
        assert status["status"] == "ok", "a cache outage leaves DGKB serving"
        assert status["cache"]["soort"] == "redis"
        assert status["cache"]["beschikbaar"] is False
        assert status["cache"]["fouten"] >= 1
    # the cache's own lines (the rate limiter's Redis client logs its own: api/ratelimit.py), once per
    # error type per interval, whatever the number of views: the refused connections; on a loaded
    # machine a call caught in the stop may end by the 50 ms timeout instead (its own line)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "dgkb.redis" and r.getMessage().startswith("cache:")
    ]
    refused = [line for line in lines if "ConnectionError" in line]
    assert len(refused) == 1, lines
    assert len(lines) - len(refused) <= 1, lines
    assert all("ConnectionError" in x or "Timeout" in x for x in lines), lines
    assert BSN not in caplog.text


async def test_a_hung_redis_costs_its_own_timeout_and_then_the_cache_is_used_again(
    redis_stack: Stack, redis_server: OwnServer
) -> None:
    async with await redis_stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        await view(anna, contact)
        redis_server.pause()  # SIGSTOP: connections are accepted by the kernel, nothing answers
        try:
            await view(anna, contact)
            await view(anna, contact)
            cache = redis_cache(redis_stack)
            assert cache.guard.counters.timeouts >= 1, "the cache call ended by its own timeout"
        finally:
            redis_server.resume()
        # back: after the short pause the guard keeps, reads and writes reach Redis again
        await view(anna, contact)
        for _ in range(100):
            before = await zaken_calls(redis_stack)
            await view(anna, contact)
            if await zaken_calls(redis_stack) == before:
                break  # answered from the cache: Redis is used again
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the cache was not used again after Redis came back")
        assert cache.guard.health().available


async def test_an_invalidation_missed_during_the_outage_is_done_when_redis_is_back(
    redis_stack: Stack, redis_server: OwnServer
) -> None:
    """A change notified while Redis hangs must not leave the old answer in the cache."""
    services = redis_stack.app.state.services
    async with await redis_stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        await view(anna, contact)  # cached in Redis
        redis_server.pause()
        try:
            await services.changes.publish_change(Subject.person(BSN), ["dienst.zaken-lopend"], "zaken")
            cache = redis_cache(redis_stack)
            assert cache.pending_invalidations == 1
        finally:
            redis_server.resume()
        for _ in range(100):
            before = await zaken_calls(redis_stack)
            await view(anna, contact)
            if cache.pending_invalidations == 0:
                assert await zaken_calls(redis_stack) > before, "the stale answer was not served"
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the missed invalidation was never done")


async def test_deduplication_is_at_least_once_when_redis_is_down(redis_server: OwnServer) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    a = Deduper(redis_url=url, processing_ttl=0.2, retry_after=0.0)
    b = Deduper(redis_url=url, processing_ttl=0.2, retry_after=0.0)
    try:
        # shared while Redis is up: a redelivery to the other node is a duplicate
        assert await a.claim("m1")
        await a.done("m1")
        assert not await b.claim("m1")
        # A claims m2, then Redis hangs: A cannot release its claim after a failure ...
        assert await a.claim("m2")
        redis_server.pause()
        try:
            await a.release("m2")
            assert a.guard is not None
            assert a.guard.counters.timeouts >= 1
            # ... and a claim on a hung Redis falls back to this node's memory, at once
            assert await b.claim("m3")
            assert not await b.claim("m3")  # a redelivery to the same node is still recognised
        finally:
            redis_server.resume()
        # ... so the processing marker expires by itself and the redelivery to B is handled
        for _ in range(100):
            if await b.claim("m2"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("a claim that could not be released blocked the message for good")
        # Redis refusing connections: every claim is this node's decision, none fails
        await redis_server.stop()
        assert await a.claim("m4")
        assert not await a.claim("m4")
        await a.done("m4")
        await a.release("m5")
    finally:
        await a.aclose()
        await b.aclose()


async def test_the_guard_leaves_redis_alone_only_after_failures_in_a_row() -> None:
    """One failure (a busy event loop can time a read out too) costs one miss; three in a row and
    Redis is left alone for `retry_after`, then probed again."""
    now = [0.0]
    guard = RedisGuard(
        f"redis://127.0.0.1:{free_port()}/0", name="test", retry_after=1.0, failures=3, clock=lambda: now[0]
    )
    try:
        for _ in range(3):
            with pytest.raises(RedisUnavailable):
                await guard.call(lambda r: r.get("k"))
        assert (guard.counters.errors, guard.counters.bypassed) == (3, 0)
        with pytest.raises(RedisUnavailable):
            await guard.call(lambda r: r.get("k"))
        assert (guard.counters.errors, guard.counters.bypassed) == (3, 1)
        assert not guard.health().available
        now[0] = 1.5
        with pytest.raises(RedisUnavailable):
            await guard.call(lambda r: r.get("k"))
        assert guard.counters.errors == 4, "probed again after retry_after"
    finally:
        await guard.aclose()
