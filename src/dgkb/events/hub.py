"""ChangeHub: per-subject fan-out of ChangeEvents to the open views in this process.

    async with hub.subscribe(subject_key, context=ctx) as events:
        async for event in events:          # or: await events.next(15) -> event | None
            ...

Every subscription has its own bounded queue: a slow viewer loses its oldest pending events (they
only say "re-read these sections", so the newest ones cover for them), never blocks the others.
`context` (optional) is the viewer's request context; the reconciliation job re-reads the sources of
the open views with it. The hub holds only pseudonyms and contexts of open views, in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dgkb.domain.context import RequestContext
from dgkb.events.bus import ChangeEvent
from dgkb.events.history import (
    MAX_REPLAYED,
    EventArchive,
    EventPosition,
    RecentEvents,
    missed,
)

QUEUE_SIZE = 64
REPLAY_SLACK = timedelta(seconds=5)  # read the archive from a bit before the last event's moment
REPLAY_SCAN = 20_000  # archived events read at most for one replay
# How far back a replay reads at most, whatever the Last-Event-ID says: a browser reconnects within
# seconds, and an open contact expires after 15 idle minutes. A crafted id from long ago (`0-0`) thus
# reads the last hour of the stream, not all of it.
REPLAY_HORIZON = timedelta(hours=1)

log = logging.getLogger("dgkb.events")


@dataclass(eq=False)
class Subscription:
    subject_key: str
    context: RequestContext | None = None
    _queue: asyncio.Queue[ChangeEvent | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    closed: bool = False
    wakes_at: float | None = None  # loop time at which `next` gives up waiting (None: not waiting)

    def _offer(self, event: ChangeEvent | None) -> None:
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()  # drop the oldest: the newer event supersedes it
        self._queue.put_nowait(event)

    async def next(self, wait: float | None = None) -> ChangeEvent | None:
        """The next event; None on timeout. Raises StopAsyncIteration once the hub closed."""
        if self.closed:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        self.wakes_at = None if wait is None else loop.time() + wait
        try:
            event = await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            return None
        finally:
            self.wakes_at = None
        if event is None:
            self.closed = True
            raise StopAsyncIteration
        return event

    def __aiter__(self) -> AsyncIterator[ChangeEvent]:
        return self

    async def __anext__(self) -> ChangeEvent:
        event = await self.next()
        assert event is not None
        return event


class ChangeHub:
    """`archive`: the shared bus's stream (NatsBus), which replays for any node; without one, and
    whenever it cannot answer, replay comes from the events this process delivered (`recent`)."""

    def __init__(self, *, archive: EventArchive | None = None, recent: RecentEvents | None = None) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self.delivered = 0
        self._archive = archive
        self.recent = recent if recent is not None else RecentEvents()
        self.replays = 0  # reconnects answered with a replay
        self.replay_fallbacks = 0  # of those, from this process's memory because the archive failed
        self.closed = False  # this process stops: a view that subscribes now ends at once

    async def replay(self, after: EventPosition, subject_key: str) -> list[ChangeEvent]:
        """The subject's events after `after` (SSE Last-Event-ID), in order, at most MAX_REPLAYED.
        Never raises: an archive that cannot answer falls back to this process's memory."""
        self.replays += 1
        if self._archive is not None:
            try:
                since = max(after.at - REPLAY_SLACK, datetime.now(UTC) - REPLAY_HORIZON)
                stored = await self._archive.recent(since, limit=REPLAY_SCAN)
            except Exception as exc:  # the bus is down or slow: what this process saw is the best left
                log.warning("event replay from the bus failed (%s); from memory", type(exc).__name__)
                self.replay_fallbacks += 1
            else:
                return missed(stored, after, subject_key)
        return self.recent.since(after, subject_key)[-MAX_REPLAYED:]

    @contextlib.asynccontextmanager
    async def subscribe(
        self, subject_key: str, *, context: RequestContext | None = None
    ) -> AsyncIterator[Subscription]:
        sub = Subscription(subject_key, context)
        if self.closed:  # a request that came in while the node stops: send it elsewhere too
            sub._offer(None)
        self._subs.setdefault(subject_key, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(subject_key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[subject_key]

    def deliver(self, event: ChangeEvent) -> int:
        """Hand the event to every open view of its subject in this process; how many got it."""
        self.recent.record(event)
        subs = self._subs.get(event.subject_key, ())
        for sub in subs:
            sub._offer(event)
        self.delivered += len(subs)
        return len(subs)

    def subscriptions(self) -> list[Subscription]:
        return [s for subs in self._subs.values() for s in subs]

    def subject_keys(self) -> list[str]:
        return list(self._subs)

    def count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def close(self) -> None:
        """End every open subscription, and any made from now on (shutdown)."""
        self.closed = True
        for sub in self.subscriptions():
            sub._offer(None)


__all__ = ["ChangeHub", "Subscription"]
