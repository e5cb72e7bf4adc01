"""Circuit breaker and source cache, in isolation and (for Redis) against a real server."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from dgkb.federation.breaker import BreakerState, CircuitBreaker
from dgkb.federation.cache import MemoryCache, RedisCache, SourceCache, cache_key

REDIS_URL = os.environ.get("DGKB_TEST_REDIS_URL", "")


def test_breaker_opens_after_consecutive_failures_and_probes_once() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after=0.05)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    time.sleep(0.06)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.record_failure()  # failed probe: open again, cool-down restarts
    assert breaker.state is BreakerState.OPEN
    time.sleep(0.06)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_cache_key_holds_no_plain_identifier_and_depends_on_fields() -> None:
    key = cache_key("brp", "a1b2c3", {"klant.basis": ("naam",)})
    assert "999993653" not in key
    assert key != cache_key("brp", "a1b2c3", {"klant.basis": ("naam", "geboorte")})
    assert key == cache_key("brp", "a1b2c3", {"klant.basis": ("naam",)})


async def _exercise(cache: SourceCache, s1: str = "subject-1", s2: str = "subject-2") -> None:
    k1 = cache_key("brp", s1, {"klant.basis": ("naam",)})
    k2 = cache_key("zaken", s1, {"dienst.zaken-lopend": ("identificatie",)})
    k3 = cache_key("brp", s2, {"klant.basis": ("naam",)})
    await cache.set(k1, s1, {"klant.basis": {"naam": "A"}}, ttl=30)
    await cache.set(k2, s1, {"dienst.zaken-lopend": []}, ttl=30)
    await cache.set(k3, s2, {"klant.basis": {"naam": "B"}}, ttl=0.05)
    assert await cache.get(k1) == {"klant.basis": {"naam": "A"}}
    assert await cache.invalidate_subject(s1) == 2
    assert await cache.get(k1) is None
    assert await cache.get(k2) is None
    assert await cache.get(k3) == {"klant.basis": {"naam": "B"}}
    await asyncio.sleep(0.1)
    assert await cache.get(k3) is None  # expired


async def test_memory_cache() -> None:
    await _exercise(MemoryCache())


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    for i in range(5):
        await cache.set(f"k{i}", f"s{i}", {"x": i}, ttl=30)
    assert await cache.get("k0") is None
    assert await cache.get("k4") == {"x": 4}


@pytest.mark.skipif(not REDIS_URL, reason="DGKB_TEST_REDIS_URL not set (CI sets it)")
async def test_redis_cache() -> None:
    cache = RedisCache(REDIS_URL, connect_timeout=5, timeout=5)  # a busy CI machine: no spurious miss
    # subjects of this process only: other test processes (xdist workers) may share the Redis db
    s1, s2 = (f"subject-{n}-{os.getpid()}" for n in (1, 2))
    try:
        await cache.invalidate_subject(s1)
        await cache.invalidate_subject(s2)
        await _exercise(cache, s1, s2)
    finally:
        await cache.aclose()


async def test_a_refused_credential_never_opens_the_breaker_and_counts_apart() -> None:
    """401/403 is an answer: an open breaker would hide the reason behind "onbereikbaar". The
    source's health counts the refusals apart (for /api/v1/bronnen)."""
    from dgkb.federation.fanout import Federation
    from dgkb.sources.base import SourceUnauthorized, SourceUnavailable

    federation = Federation(concurrency={"ki": 5}, failure_threshold=2)

    async def refused() -> None:
        raise SourceUnauthorized("ki: HTTP 403", status=403)

    for _ in range(5):
        with pytest.raises(SourceUnauthorized):
            await federation.call("ki", 1.0, refused)
    (state,) = federation.states()
    assert state.breaker is BreakerState.CLOSED
    assert (state.health.calls, state.health.unauthorized, state.health.error_rate) == (5, 5, 1.0)
    assert state.health.last_error == "source.unauthorized"

    async def down() -> None:
        raise SourceUnavailable("ki: HTTP 503")

    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await federation.call("ki", 1.0, down, idempotent=False)
    (state,) = federation.states()
    assert state.breaker is BreakerState.OPEN  # an outage still opens it
    assert state.health.unauthorized == 5
