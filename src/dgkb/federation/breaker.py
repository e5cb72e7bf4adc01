"""A circuit breaker per source: after consecutive failures a dead source costs microseconds, not
its timeout; after a cool-down one probe call (half-open) decides whether it is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "gesloten"  # calls flow
    OPEN = "open"  # calls are refused at once
    HALF_OPEN = "half-open"  # one probe call is let through


class CircuitBreaker:
    """`on_change(state)` is told of each move (closed → open, open → half-open when a probe goes
    out, half-open → open or closed), for the metrics; never on a call that changes nothing."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_after: float = 10.0,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False
        self.on_change = on_change

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            if self.on_change is not None:
                self.on_change(BreakerState.HALF_OPEN)
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        was_open = self._opened_at is not None
        self._opened_at = None
        self._probe_in_flight = False
        if was_open and self.on_change is not None:
            self.on_change(BreakerState.CLOSED)

    def record_failure(self) -> None:
        probing = self._probe_in_flight
        self._probe_in_flight = False
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            opening = self._opened_at is None or probing
            self._opened_at = time.monotonic()  # (re)open: a failed probe restarts the cool-down
            if opening and self.on_change is not None:
                self.on_change(BreakerState.OPEN)
