"""Fan-out over sources: one call per source with the union of its permitted categories' fields,
every call in parallel under its own deadline, each failure turned into a status, never an exception.

Around each call: the cache (hit → no call), the circuit breaker (open → no call, "onbereikbaar"
in microseconds), a concurrency limit, and one jittered retry for transient unavailability when the
deadline leaves room for it. Reads are idempotent, so a retry is safe.

Late answers (`SourceCall.late`): the view waits `deadline`; a call still running then is not
cancelled but goes on for up to `late` seconds more, and its sections come back as "timeout" with
`pending`. When it ends, its outcome is kept (in this process, LATE_HOLD seconds) for the next read
of the same source, subject and fields, which takes it instead of calling again, and `on_late` is
told (the console's open view re-reads: its part fills in by itself). A read that finds the call
still running answers "pending" at once, without a second call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from dgkb.domain.identifiers import Subject
from dgkb.federation.breaker import BreakerState, CircuitBreaker
from dgkb.federation.cache import CachedAnswer, SourceCache, cache_key
from dgkb.federation.health import HealthSnapshot, IntervalSample, SourceHealth
from dgkb.sources.base import (
    CategoryData,
    FetchRequest,
    SourceAdapter,
    SourceError,
    SourceRejected,
    SourceTimeout,
    SourceUnauthorized,
    SourceUnavailable,
    SourceValidationError,
    SubjectNotFound,
)
from dgkb.telemetry.metrics import SourceMetrics
from dgkb.telemetry.tracing import TRACING
from dgkb.throttled_log import ThrottledLog

log = logging.getLogger("dgkb.federation")

RETRY_BACKOFF = (0.02, 0.06)  # seconds, jittered
BREAKER_OPEN = "source.breaker_open"
ADAPTER_FAILURE = "source.adapter_failure"
CANCELLED = "geannuleerd"  # the outcome of a call whose request went away (metrics, spans)
LATE_HOLD = 60.0  # seconds a late outcome waits for the read that shows it
LATE_MAX = 1_000  # late outcomes kept at most (the oldest go first)
_T = TypeVar("_T")
# told when a late call ended: (subject key, the call's categories, source id)
LateListener = Callable[[str, tuple[str, ...], str], Awaitable[object]]


class SectionStatus(StrEnum):
    """The status of one klantbeeld section (the JSON values are part of the API)."""

    OK = "ok"
    NIET_GEVONDEN = "niet-gevonden"
    TIMEOUT = "timeout"
    ONBEREIKBAAR = "onbereikbaar"
    NIET_GEAUTORISEERD = "niet-geautoriseerd"  # the source refuses DGKB's credentials (401/403)
    FOUT = "fout"
    NIET_TOEGESTAAN = "niet-toegestaan"
    NIET_GECONFIGUREERD = "niet-geconfigureerd"


@dataclass(frozen=True, slots=True)
class SourceCall:
    """One planned call: which source, for which categories with which fields, with which headers."""

    adapter: SourceAdapter
    fields: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    deadline: float  # seconds
    cache_ttl: float = 0.0  # seconds; 0 = do not cache
    late: float = 0.0  # seconds the call may go on after `deadline`, to fill its sections in later


@dataclass(frozen=True, slots=True)
class CategoryOutcome:
    source_id: str
    category: str
    status: SectionStatus
    data: CategoryData | None
    retrieved_at: datetime
    duration_ms: float
    error: str | None = None  # stable error code, never personal data
    cached: bool = False
    pending: bool = False  # the source is still answering (a late call): the section fills in later


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    breaker: BreakerState
    health: HealthSnapshot


def _status_of(exc: BaseException) -> SectionStatus:
    if isinstance(exc, SubjectNotFound):
        return SectionStatus.NIET_GEVONDEN
    if isinstance(exc, SourceTimeout | TimeoutError):
        return SectionStatus.TIMEOUT
    if isinstance(exc, SourceUnavailable):
        return SectionStatus.ONBEREIKBAAR
    if isinstance(exc, SourceUnauthorized):
        return SectionStatus.NIET_GEAUTORISEERD
    return SectionStatus.FOUT


class Federation:
    """Owns the per-source breakers, limits and health, and the cache; one per process."""

    def __init__(
        self,
        *,
        concurrency: Mapping[str, int],
        cache: SourceCache | None = None,
        failure_threshold: int = 5,
        reset_after: float = 10.0,
    ) -> None:
        self._cache = cache
        self._metrics = {sid: SourceMetrics(sid) for sid in concurrency}
        self._breakers = {
            sid: CircuitBreaker(
                failure_threshold=failure_threshold,
                reset_after=reset_after,
                on_change=self._metrics[sid].breaker,
            )
            for sid in concurrency
        }
        self._limits = {sid: asyncio.Semaphore(n) for sid, n in concurrency.items()}
        self._health = {sid: SourceHealth() for sid in concurrency}
        self.cache_errors = 0  # exceptions a cache raised (RedisCache raises none: it counts its own)
        self._cache_log = ThrottledLog(log)
        self._late: OrderedDict[str, tuple[float, list[CategoryOutcome]]] = OrderedDict()
        self._pending: dict[str, asyncio.Task[list[CategoryOutcome]]] = {}
        self.on_late: LateListener | None = None  # set by the composition root (dgkb.events)
        self._late_log = ThrottledLog(log)

    async def aclose(self) -> None:
        """Cancel the late calls still running (the process stops)."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._pending.clear()

    async def fetch(
        self, calls: Sequence[SourceCall], subject: Subject, subject_key: str
    ) -> list[CategoryOutcome]:
        """Run all calls concurrently; one outcome per (source, category) asked."""
        if not calls:
            return []
        results = await asyncio.gather(*(self._run(call, subject, subject_key) for call in calls))
        return [outcome for group in results for outcome in group]

    async def invalidate(self, subject_key: str) -> int:
        """Forget every cached answer about this subject (on a change notification or a write)."""
        if self._cache is None:
            return 0
        try:
            return await self._cache.invalidate_subject(subject_key)
        except Exception as exc:
            self._cache_failed(exc)
            return 0

    @property
    def cache(self) -> SourceCache | None:
        return self._cache

    def health_intervals(self) -> dict[str, IntervalSample]:
        """Per source, its calls since the previous call of this (periodic health samples)."""
        return {sid: h.take_interval() for sid, h in self._health.items()}

    def states(self) -> list[SourceState]:
        return [SourceState(sid, self._breakers[sid].state, h.snapshot()) for sid, h in self._health.items()]

    async def call(
        self,
        source_id: str,
        deadline: float,
        operation: Callable[[], Awaitable[_T]],
        *,
        idempotent: bool = True,
        traceparent: str | None = None,
    ) -> _T:
        """Run one source operation under the source's breaker, concurrency limit and `deadline`
        (seconds), with one jittered retry of transient unavailability when it is idempotent and the
        deadline leaves room; record its health. Raises the port's SourceError family: an open
        breaker is SourceUnavailable(BREAKER_OPEN) at once, a deadline SourceTimeout. "Not found" is
        an answer, not a failure of the source. A refusal (401/403: credentials, 400: the request)
        is an answer too, so it never opens the breaker — an open breaker would hide the reason
        behind "onbereikbaar" — but it counts in the source's health, 401/403 apart.

        Each call is timed in the source's metrics by outcome, and is a span (with the span id of
        `traceparent`, the header the operation sends) when traces are exported."""
        started = time.perf_counter()
        measured = self._metrics.get(source_id) or self._new_source(source_id)
        breaker = self._breakers[source_id]
        tracer = TRACING.active
        span = tracer.source(source_id, traceparent) if tracer is not None else None
        if not breaker.allow():
            measured.observe(SectionStatus.ONBEREIKBAAR, time.perf_counter() - started)
            measured.error(BREAKER_OPEN)
            if span is not None:
                span.finish(SectionStatus.ONBEREIKBAAR, BREAKER_OPEN)
            raise SourceUnavailable(BREAKER_OPEN)
        outcome: str = CANCELLED  # unless an answer or a SourceError says otherwise
        error_code: str | None = None
        try:
            result = await self._attempts(source_id, breaker, deadline, operation, idempotent, started)
        except SourceError as exc:
            outcome = _status_of(exc)
            error_code = exc.message if exc.message == ADAPTER_FAILURE else exc.code
            if outcome is not SectionStatus.NIET_GEVONDEN:
                measured.error(error_code)
            else:
                error_code = None  # an answer, not a failure
            raise
        else:
            outcome, error_code = SectionStatus.OK, None
            return result
        finally:
            measured.observe(outcome, time.perf_counter() - started)
            if span is not None:
                span.finish(outcome, error_code)

    def _new_source(self, source_id: str) -> SourceMetrics:
        """A source not configured at start (a check of one, a test): its breaker and metrics."""
        measured = self._metrics[source_id] = SourceMetrics(source_id)
        self._breakers.setdefault(source_id, CircuitBreaker(on_change=measured.breaker))
        return measured

    async def _attempts(
        self,
        source_id: str,
        breaker: CircuitBreaker,
        deadline: float,
        operation: Callable[[], Awaitable[_T]],
        idempotent: bool,
        started: float,
    ) -> _T:
        health = self._health.setdefault(source_id, SourceHealth())
        limit = self._limits.setdefault(source_id, asyncio.Semaphore(50))
        loop = asyncio.get_running_loop()
        deadline_at = loop.time() + deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                async with asyncio.timeout_at(deadline_at), limit:
                    result = await operation()
            except (SourceError, TimeoutError) as exc:
                error: SourceError = (
                    exc if isinstance(exc, SourceError) else SourceTimeout(SourceTimeout.code)
                )
                backoff = random.uniform(*RETRY_BACKOFF)
                if (
                    idempotent
                    and isinstance(error, SourceUnavailable)
                    and attempt == 1
                    and deadline_at - loop.time() > backoff + deadline / 4
                ):
                    await asyncio.sleep(backoff)
                    continue
                if isinstance(error, SubjectNotFound | SourceValidationError):
                    breaker.record_success()  # an answer (or refused before sending): the source is fine
                    health.record(_ms(started), None)
                elif isinstance(error, SourceUnauthorized | SourceRejected):
                    breaker.record_success()  # the source is up and answered: no breaker, but health
                    health.record(_ms(started), error.code)
                else:
                    breaker.record_failure()
                    health.record(_ms(started), error.code)
                raise error from (None if error is exc else exc)
            except Exception as exc:  # an adapter bug is this source's fault, never a crash upstream
                breaker.record_failure()
                health.record(_ms(started), ADAPTER_FAILURE)
                raise SourceError(ADAPTER_FAILURE) from exc
            breaker.record_success()
            health.record(_ms(started), None)
            return result

    async def _run(self, call: SourceCall, subject: Subject, subject_key: str) -> list[CategoryOutcome]:
        sid = call.adapter.id
        started = time.perf_counter()
        late_key = cache_key(sid, subject_key, call.fields) if call.late > 0 else None
        if late_key is not None:
            kept = self._take_late(late_key)
            if kept is not None:
                return kept
            if late_key in self._pending:  # asked a moment ago and still answering: no second call
                return _outcomes(call, SectionStatus.TIMEOUT, {}, started, SourceTimeout.code, pending=True)
        key = (
            cache_key(sid, subject_key, call.fields)
            if self._cache is not None and call.cache_ttl > 0
            else None
        )
        if key is not None and self._cache is not None:
            hit = await self._cache_get(key)
            if hit is not None:
                return _outcomes(call, SectionStatus.OK, hit, started, None, cached=True)
        request = FetchRequest(
            subject=subject, fields=call.fields, headers=call.headers, subject_key=subject_key
        )

        async def answer() -> list[CategoryOutcome]:
            try:
                result = await self.call(
                    sid,
                    call.deadline + call.late,
                    lambda: call.adapter.fetch(request),
                    traceparent=call.headers.get("traceparent"),
                )
            except SourceError as exc:
                code = exc.message if exc.message in (BREAKER_OPEN, ADAPTER_FAILURE) else exc.code
                return _outcomes(call, _status_of(exc), {}, started, code)
            if key is not None and self._cache is not None:
                await self._cache_set(key, subject_key, result, call.cache_ttl)
            return _outcomes(call, SectionStatus.OK, result, started, None)

        if late_key is None:
            return await answer()
        return await self._wait_or_later(call, answer, late_key, subject_key, started)

    async def _wait_or_later(
        self,
        call: SourceCall,
        answer: Callable[[], Awaitable[list[CategoryOutcome]]],
        late_key: str,
        subject_key: str,
        started: float,
    ) -> list[CategoryOutcome]:
        """Wait `call.deadline` for `answer`; when it takes longer, leave it running (up to
        `call.late` more) and answer "pending"; its outcome is kept for the next read, and
        `on_late` is told."""
        view_left = False

        async def run() -> list[CategoryOutcome]:
            outcomes = await answer()
            if view_left:  # the view answered "pending" meanwhile: keep this for its next read
                self._pending.pop(late_key, None)
                self._keep_late(late_key, outcomes)
                await self._announce(subject_key, tuple(call.fields), call.adapter.id)
            return outcomes

        task = asyncio.create_task(run())
        try:
            await asyncio.wait({task}, timeout=call.deadline)
        except asyncio.CancelledError:  # the view's request went away: so does its call
            task.cancel()
            raise
        if task.done():
            return task.result()
        view_left = True
        self._pending[late_key] = task
        return _outcomes(call, SectionStatus.TIMEOUT, {}, started, SourceTimeout.code, pending=True)

    def _take_late(self, key: str) -> list[CategoryOutcome] | None:
        """The kept outcome of a late call, once (the read that shows it takes it)."""
        entry = self._late.pop(key, None)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _keep_late(self, key: str, outcomes: list[CategoryOutcome]) -> None:
        self._late[key] = (time.monotonic() + LATE_HOLD, outcomes)
        self._late.move_to_end(key)
        while len(self._late) > LATE_MAX:
            self._late.popitem(last=False)

    async def _announce(self, subject_key: str, categories: tuple[str, ...], source_id: str) -> None:
        if self.on_late is None:
            return
        try:
            await self.on_late(subject_key, categories, source_id)
        except Exception as exc:  # the open view then shows "loading" until it is refreshed
            kind = type(exc).__name__
            self._late_log.warning(kind, "late answer not announced (%s)", kind)

    # A cache is an optimisation: whatever goes wrong in it is a miss or a skipped write, never a
    # failed section. RedisCache handles its own outages; this also covers any other cache.
    async def _cache_get(self, key: str) -> CachedAnswer | None:
        assert self._cache is not None
        try:
            return await self._cache.get(key)
        except Exception as exc:
            self._cache_failed(exc)
            return None

    async def _cache_set(self, key: str, subject_key: str, value: CachedAnswer, ttl: float) -> None:
        assert self._cache is not None
        try:
            await self._cache.set(key, subject_key, value, ttl)
        except Exception as exc:
            self._cache_failed(exc)

    def _cache_failed(self, exc: Exception) -> None:
        self.cache_errors += 1
        kind = type(exc).__name__
        self._cache_log.warning(kind, "cache failed (%s); answered from the source", kind)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _outcomes(
    call: SourceCall,
    status: SectionStatus,
    result: Mapping[str, CategoryData | None],
    started: float,
    error: str | None,
    *,
    cached: bool = False,
    pending: bool = False,
) -> list[CategoryOutcome]:
    now = datetime.now(UTC)
    ms = _ms(started)
    outcomes = []
    for category in call.fields:
        data = result.get(category) if status is SectionStatus.OK else None
        cat_status = status
        if status is SectionStatus.OK and data is None:
            cat_status = SectionStatus.NIET_GEVONDEN
        outcomes.append(
            CategoryOutcome(call.adapter.id, category, cat_status, data, now, ms, error, cached, pending)
        )
    return outcomes
