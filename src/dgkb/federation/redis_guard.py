"""Redis as an optimisation: a client that never makes DGKB wait for a Redis that is down or hung.

The source cache and notification de-duplication use Redis to share state between nodes, but both
work without it (a miss; this node's memory). So every Redis call here has short socket timeouts
(tens of milliseconds, configurable) and no retries; a failure raises `RedisUnavailable` for the
caller to turn into its fallback, is counted (`RedisCounters`, for health and metrics) and logged
once per interval with the exception type only. After `failures` failures in a row Redis is left
alone for `retry_after` seconds (calls fail at once, counted as bypassed), so an outage costs each
request nothing instead of a timeout; a single timeout (a busy event loop also makes one) costs one
miss, not a second without the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import TimeoutError as RedisTimeoutError

from dgkb.telemetry.metrics import REDIS_FAILURES
from dgkb.throttled_log import ThrottledLog

log = logging.getLogger("dgkb.redis")

_T = TypeVar("_T")

DEFAULT_CONNECT_TIMEOUT = 0.05  # seconds
DEFAULT_TIMEOUT = 0.05  # seconds, per read
DEFAULT_RETRY_AFTER = 1.0  # seconds without Redis after `DEFAULT_FAILURES` failures in a row
DEFAULT_FAILURES = 3
DEFAULT_LOG_INTERVAL = 60.0  # seconds between two log lines about the same failure


class RedisUnavailable(Exception):
    """Redis did not answer (refused, timed out, failed) or is being left alone after a failure."""


@dataclass(slots=True)
class RedisCounters:
    """Counts since start-up; never reset (a metrics exporter reads them as counters)."""

    calls: int = 0  # calls that reached Redis and were answered
    errors: int = 0  # refused, reset, protocol or server errors
    timeouts: int = 0  # connect or read timeouts
    bypassed: int = 0  # calls not made: Redis failed less than `retry_after` ago


@dataclass(frozen=True, slots=True)
class RedisHealth:
    available: bool  # the last call succeeded (or none was made yet)
    counters: RedisCounters


class RedisGuard:
    """One Redis client (and connection pool) used as an optimisation, named for the logs."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
        failures: int = DEFAULT_FAILURES,
        log_interval: float = DEFAULT_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default: a slow failure
            retry_on_error=[],
        )
        # a hung Redis accepts the connection (the kernel does) and never answers: the socket
        # timeouts end each read; this bounds a whole call of several reads as well
        self._budget = connect_timeout + 3 * timeout
        self._retry_after = retry_after
        self._threshold = max(1, failures)
        self._clock = clock
        self._in_a_row = 0  # failures since the last success
        self._failed_at: float | None = None  # when Redis was last left alone
        self.counters = RedisCounters()
        self._log = ThrottledLog(log, log_interval)
        # `name` is one of a few fixed client names ("cache", "dedup"): a bounded label
        self._errors = REDIS_FAILURES.labels(name, "error")
        self._timeouts = REDIS_FAILURES.labels(name, "timeout")
        self._bypassed = REDIS_FAILURES.labels(name, "bypassed")

    def health(self) -> RedisHealth:
        return RedisHealth(available=self._in_a_row == 0, counters=self.counters)

    async def call(self, operation: Callable[[Redis], Awaitable[_T]]) -> _T:
        """`operation(redis)` within the time budget; RedisUnavailable when it cannot be had."""
        if self._failed_at is not None and self._clock() - self._failed_at < self._retry_after:
            self.counters.bypassed += 1
            self._bypassed.inc()
            raise RedisUnavailable(self.name)
        try:
            async with asyncio.timeout(self._budget):
                result = await operation(self.redis)
        except (TimeoutError, RedisTimeoutError) as exc:
            self._failed(exc, timeout=True)
            raise RedisUnavailable(self.name) from None
        except Exception as exc:  # refused, reset, an error reply: all of it means "no Redis now"
            self._failed(exc, timeout=False)
            raise RedisUnavailable(self.name) from None
        self.counters.calls += 1
        if self._in_a_row:
            if self._failed_at is not None:
                log.info("%s: redis answers again", self.name)
            self._in_a_row = 0
            self._failed_at = None
        return result

    def _failed(self, exc: BaseException, *, timeout: bool) -> None:
        if timeout:
            self.counters.timeouts += 1
            self._timeouts.inc()
        else:
            self.counters.errors += 1
            self._errors.inc()
        self._in_a_row += 1
        if self._in_a_row >= self._threshold:
            self._failed_at = self._clock()
        kind = type(exc).__name__
        self._log.warning(kind, "%s: redis unavailable (%s); going on without it", self.name, kind)

    async def aclose(self) -> None:
        try:
            await self.redis.aclose()
        except Exception as exc:  # closing a dead connection may fail; nothing to keep
            log.debug("%s: closing redis failed (%s)", self.name, type(exc).__name__)


def describe(health: RedisHealth) -> dict[str, Any]:
    """The health as JSON for status pages (counts only, nothing personal)."""
    c = health.counters
    return {
        "beschikbaar": health.available,
        "aanroepen": c.calls,
        "fouten": c.errors,
        "timeouts": c.timeouts,
        "overgeslagen": c.bypassed,
    }


__all__ = [
    "RedisCounters",
    "RedisGuard",
    "RedisHealth",
    "RedisUnavailable",
    "describe",
]
