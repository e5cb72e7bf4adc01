"""Log a failure that repeats on every request once per interval, not once per request.

During an outage (the database, the cache, the bus) every request meets the same error; a line per
request buries everything else and fills the disk (issue 13: 45 MB in 22 s). `ThrottledLog` writes
the first occurrence of a key at once and then at most one line per key per interval, saying how
many it left out. Callers pass only what is safe to log: an exception's type, never its message
(messages may hold personal data).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 1000


@dataclass(slots=True)
class _Seen:
    logged_at: float
    suppressed: int = 0


class ThrottledLog:
    """At most one line per key per `interval` seconds on `logger`."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    def warning(self, key: str, msg: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, msg, *args)

    def error(self, key: str, msg: str, *args: object) -> bool:
        return self.log(logging.ERROR, key, msg, *args)

    def log(self, level: int, key: str, msg: str, *args: object) -> bool:
        """Log `msg % args` unless `key` was logged less than `interval` ago; True when it was."""
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.logged_at < self.interval:
            seen.suppressed += 1
            return False
        suppressed = seen.suppressed if seen is not None else 0
        self._seen[key] = _Seen(now)
        self._seen.move_to_end(key)
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        if suppressed:
            msg += " (%d more since the last report)"
            args = (*args, suppressed)
        self.logger.log(level, msg, *args)
        return True


__all__ = ["ThrottledLog"]
