"""Per-source health figures for operators: latency percentiles and error rate over recent calls,
and how often the source refused DGKB's credentials (401/403), counted apart."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from dgkb.sources.base import SourceUnauthorized

UNAUTHORIZED = SourceUnauthorized.code


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    calls: int
    p50_ms: float | None
    p95_ms: float | None
    error_rate: float | None
    last_error: str | None
    unauthorized: int = 0  # calls the source refused with 401/403, since the process started


@dataclass(frozen=True, slots=True)
class IntervalSample:
    """A source's calls since the previous sample: for the availability and latency over time."""

    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None


class SourceHealth:
    """A rolling window of the last `window` calls (no personal data: durations and codes only)."""

    def __init__(self, window: int = 500) -> None:
        self._durations: deque[float] = deque(maxlen=window)
        self._errors: deque[bool] = deque(maxlen=window)
        self.total = 0
        self.unauthorized = 0
        self.last_error: str | None = None
        # calls since the last `take_interval` (the dashboard's periodic samples), bounded
        self._interval: deque[float] = deque(maxlen=10_000)  # durations: a sample of the latest
        self._interval_calls = 0
        self._interval_errors = 0

    def record(self, duration_ms: float, error: str | None) -> None:
        self.total += 1
        self._interval_calls += 1
        self._interval.append(duration_ms)
        if error is not None:
            self._interval_errors += 1
        self._durations.append(duration_ms)
        self._errors.append(error is not None)
        if error is not None:
            self.last_error = error
        if error == UNAUTHORIZED:
            self.unauthorized += 1

    def take_interval(self) -> IntervalSample:
        """The calls recorded since the previous take (and start counting anew)."""
        durations, calls, errors = sorted(self._interval), self._interval_calls, self._interval_errors
        self._interval.clear()
        self._interval_calls = self._interval_errors = 0
        if not durations:
            return IntervalSample(calls, errors, None, None)
        return IntervalSample(
            calls=calls,
            errors=errors,
            p50_ms=round(_percentile(durations, 0.50), 1),
            p95_ms=round(_percentile(durations, 0.95), 1),
        )

    def snapshot(self) -> HealthSnapshot:
        if not self._durations:
            return HealthSnapshot(self.total, None, None, None, self.last_error, self.unauthorized)
        ordered = sorted(self._durations)
        return HealthSnapshot(
            calls=self.total,
            p50_ms=round(_percentile(ordered, 0.50), 1),
            p95_ms=round(_percentile(ordered, 0.95), 1),
            error_rate=round(sum(self._errors) / len(self._errors), 3),
            last_error=self.last_error,
            unauthorized=self.unauthorized,
        )


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
