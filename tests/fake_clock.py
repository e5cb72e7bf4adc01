"""A clock a test moves by hand (seconds since the epoch), for what is injected with `clock=`: minutes
pass at once instead of being waited for."""

from __future__ import annotations

import time


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
