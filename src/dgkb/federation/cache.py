"""A short-lived cache of source answers, keyed by (source, keyed pseudonym of the subject, field set).

Never a plain identifier in a key; errors are never cached; everything of one subject can be
invalidated at once (notifications will use this). In process by default; Redis when configured,
so several DGKB nodes share it and an invalidation on one node reaches all. A cache is an
optimisation: a Redis that is down or hung is a miss, never a failed view (RedisCache).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from redis.asyncio import Redis

from dgkb.federation.redis_guard import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    RedisGuard,
    RedisUnavailable,
    describe,
)
from dgkb.telemetry.metrics import CACHE_HIT, CACHE_MISS, CACHE_UNAVAILABLE

CachedAnswer = Mapping[str, Any]


@dataclass(slots=True)
class CacheStats:
    """Counts since start-up, for health and metrics (the hit rate)."""

    hits: int = 0
    misses: int = 0
    unavailable: int = 0  # a read or write that could not reach the cache (counted as a miss too)

    def describe(self) -> dict[str, int]:
        return {"treffers": self.hits, "missers": self.misses, "nietBereikbaar": self.unavailable}


def cache_key(source_id: str, subject_key: str, fields: Mapping[str, tuple[str, ...]]) -> str:
    """`subject_key` is the HMAC pseudonym; the field set is hashed so keys stay short."""
    shape = json.dumps({c: sorted(f) for c, f in sorted(fields.items())}, separators=(",", ":"))
    digest = hashlib.sha256(shape.encode()).hexdigest()[:16]
    return f"dgkb:bron:{source_id}:{subject_key}:{digest}"


class SourceCache(Protocol):
    stats: CacheStats

    async def get(self, key: str) -> CachedAnswer | None: ...

    async def set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None: ...

    async def invalidate_subject(self, subject_key: str) -> int: ...

    def describe(self) -> dict[str, Any]:
        """Kind, availability and counts, for the status page (nothing personal)."""
        ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """Bounded LRU with per-entry expiry, for a single process."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, str, CachedAnswer]] = OrderedDict()
        self._by_subject: dict[str, set[str]] = {}
        self._max = max_entries
        self.stats = CacheStats()

    async def get(self, key: str) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            self.stats.misses += 1
            CACHE_MISS.inc()
            return None
        expires, _, value = entry
        if expires < time.monotonic():
            self._drop(key)
            self.stats.misses += 1
            CACHE_MISS.inc()
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        CACHE_HIT.inc()
        return value

    async def set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None:
        self._entries[key] = (time.monotonic() + ttl, subject_key, value)
        self._entries.move_to_end(key)
        self._by_subject.setdefault(subject_key, set()).add(key)
        while len(self._entries) > self._max:
            self._drop(next(iter(self._entries)))

    async def invalidate_subject(self, subject_key: str) -> int:
        keys = self._by_subject.pop(subject_key, set())
        for key in keys:
            self._entries.pop(key, None)
        return len(keys)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            keys = self._by_subject.get(entry[1])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_subject[entry[1]]

    def describe(self) -> dict[str, Any]:
        return {"soort": "intern", "beschikbaar": True, **self.stats.describe()}

    async def aclose(self) -> None:
        self._entries.clear()
        self._by_subject.clear()


class RedisCache:
    """Shared cache for several nodes. A set per subject lists its keys, for invalidation.

    Redis is an optimisation here: when it refuses, fails or hangs (see RedisGuard: short socket
    timeouts, then left alone for a moment), a read is a miss and a write is skipped, counted in
    `stats` and the guard's counters, never an error of the view. An invalidation that could not
    reach Redis is remembered (bounded) and done before anything else once Redis answers again, so
    an answer cached before a change is not served after the outage."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
        max_pending: int = 10_000,
    ) -> None:
        self.guard = RedisGuard(
            url,
            name="cache",
            connect_timeout=connect_timeout,
            timeout=timeout,
            retry_after=retry_after,
        )
        self.stats = CacheStats()
        self._pending: OrderedDict[str, None] = OrderedDict()  # subjects still to invalidate
        self._max_pending = max_pending

    async def get(self, key: str) -> CachedAnswer | None:
        try:
            await self._flush_pending()
            raw = await self.guard.call(lambda r: r.get(key))
        except RedisUnavailable:
            self.stats.unavailable += 1
            CACHE_UNAVAILABLE.inc()
            return None
        if raw is None:
            self.stats.misses += 1
            CACHE_MISS.inc()
            return None
        self.stats.hits += 1
        CACHE_HIT.inc()
        value: CachedAnswer = json.loads(raw)
        return value

    async def set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None:
        index = f"dgkb:subject:{subject_key}"
        ms = max(1, int(ttl * 1000))
        body = json.dumps(value, separators=(",", ":"))

        async def write(redis: Redis) -> None:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(key, body, px=ms)
                pipe.sadd(index, key)
                # the index lives as long as its longest-living key
                pipe.pexpire(index, ms, nx=True)
                pipe.pexpire(index, ms, gt=True)
                await pipe.execute()

        try:
            await self._flush_pending()
            await self.guard.call(write)
        except RedisUnavailable:
            self.stats.unavailable += 1

    async def invalidate_subject(self, subject_key: str) -> int:
        try:
            await self._flush_pending()
            return await self.guard.call(lambda r: _invalidate(r, subject_key))
        except RedisUnavailable:
            self.stats.unavailable += 1
            self._pending[subject_key] = None
            self._pending.move_to_end(subject_key)
            while len(self._pending) > self._max_pending:  # those expire with their TTL anyway
                self._pending.popitem(last=False)
            return 0

    async def _flush_pending(self) -> None:
        while self._pending:
            subject_key = next(iter(self._pending))
            await self.guard.call(partial(_invalidate, subject_key=subject_key))
            self._pending.pop(subject_key, None)

    @property
    def pending_invalidations(self) -> int:
        return len(self._pending)

    def describe(self) -> dict[str, Any]:
        return {"soort": "redis", **describe(self.guard.health()), **self.stats.describe()}

    async def reachable(self) -> bool:
        """One PING within the guard's budget (the readiness probe); False while Redis is left alone."""
        try:
            await self.guard.call(lambda redis: redis.ping())
        except RedisUnavailable:
            return False
        return True

    async def aclose(self) -> None:
        await self.guard.aclose()


async def _invalidate(redis: Redis, subject_key: str) -> int:
    index = f"dgkb:subject:{subject_key}"
    keys = await redis.smembers(index)
    if keys:
        await redis.delete(*keys, index)
    return len(keys)
