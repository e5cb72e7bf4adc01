"""A short-lived cache of source answers, keyed by (source, keyed pseudonym of the subject, field set).

Never a plain identifier in a key; errors are never cached; everything of one subject can be
invalidated at once (notifications will use this). In process by default; Redis when configured,
so several DGKB nodes share it and an invalidation on one node reaches all.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from redis.asyncio import Redis

CachedAnswer = Mapping[str, Any]


def cache_key(source_id: str, subject_key: str, fields: Mapping[str, tuple[str, ...]]) -> str:
    """`subject_key` is the HMAC pseudonym; the field set is hashed so keys stay short."""
    shape = json.dumps({c: sorted(f) for c, f in sorted(fields.items())}, separators=(",", ":"))
    digest = hashlib.sha256(shape.encode()).hexdigest()[:16]
    return f"dgkb:bron:{source_id}:{subject_key}:{digest}"


class SourceCache(Protocol):
    async def get(self, key: str) -> CachedAnswer | None: ...

    async def set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None: ...

    async def invalidate_subject(self, subject_key: str) -> int: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """Bounded LRU with per-entry expiry, for a single process."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, str, CachedAnswer]] = OrderedDict()
        self._by_subject: dict[str, set[str]] = {}
        self._max = max_entries

    async def get(self, key: str) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, _, value = entry
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
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

    async def aclose(self) -> None:
        self._entries.clear()
        self._by_subject.clear()


class RedisCache:
    """Shared cache for several nodes. A set per subject lists its keys, for invalidation."""

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)

    async def get(self, key: str) -> CachedAnswer | None:
        raw = await self._redis.get(key)
        if raw is None:
            return None
        value: CachedAnswer = json.loads(raw)
        return value

    async def set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None:
        index = f"dgkb:subject:{subject_key}"
        ms = max(1, int(ttl * 1000))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(value, separators=(",", ":")), px=ms)
            pipe.sadd(index, key)
            # the index lives as long as its longest-living key
            pipe.pexpire(index, ms, nx=True)
            pipe.pexpire(index, ms, gt=True)
            await pipe.execute()

    async def invalidate_subject(self, subject_key: str) -> int:
        index = f"dgkb:subject:{subject_key}"
        keys = await self._redis.smembers(index)
        if keys:
            await self._redis.delete(*keys, index)
        return len(keys)

    async def aclose(self) -> None:
        await self._redis.aclose()
