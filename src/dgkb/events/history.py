"""Where an event stream left off, and the events a view missed since (SSE `Last-Event-ID` replay).

Every `bijgewerkt` frame of a view's stream carries an id naming its event and the moment it
happened (`sse_id`). A client that reconnects (its node died, the network dropped) sends the last id
it saw as `Last-Event-ID`, perhaps to another node; that node replays what the view missed:

- with NATS, from the JetStream stream DGKB_CHANGES (NatsBus.replay): every node reads the same
  stream, so an id of one node is found by another;
- without NATS (one process), from `RecentEvents`, a bounded ring of the events this process
  delivered; it is also the fallback when JetStream cannot answer.

The events after the one named are replayed, in order; when it is not found (too old, or never
published) those that happened after its moment. Replayed events go through the same check as live
ones (the contact's current decision): a replay never shows a category the purpose no longer allows.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from dgkb.events.bus import ChangeEvent

RING_SIZE = 4096  # events this process remembers for replay without NATS
MAX_REPLAYED = 256  # events one reconnect replays at most (the newest: each says "re-read")
MAX_ID_LENGTH = 128
_ID = re.compile(r"^(?P<id>[A-Za-z0-9_]{1,96})-(?P<ms>[0-9]{1,15})$")


@dataclass(frozen=True, slots=True)
class EventPosition:
    """The last event a client saw: its id and when it happened (to the millisecond)."""

    event_id: str
    at: datetime


def sse_id(event: ChangeEvent) -> str:
    """The SSE id of the event's frame: `<event id>-<milliseconds since the epoch>`."""
    return f"{event.id}-{int(event.at.timestamp() * 1000)}"


def parse_position(value: str | None) -> EventPosition | None:
    """The position a `Last-Event-ID` names, or None for anything else (absent, garbage, too long):
    a stream with an unusable id starts live, as a new one does."""
    if not value or len(value) > MAX_ID_LENGTH:
        return None
    match = _ID.match(value.strip())
    if match is None:
        return None
    try:
        at = datetime.fromtimestamp(int(match["ms"]) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return EventPosition(event_id=match["id"], at=at)


def missed(events: Iterable[ChangeEvent], after: EventPosition, subject_key: str) -> list[ChangeEvent]:
    """Of `events` (in delivery order), those of the subject after the one `after` names; when it is
    not among them, those that happened after its moment. At most MAX_REPLAYED, the newest."""
    listed = list(events)
    found = next((i for i, e in enumerate(listed) if e.id == after.event_id), None)
    if found is not None:
        later = listed[found + 1 :]
    else:
        moment = after.at + timedelta(milliseconds=1)  # the id keeps milliseconds only
        later = [e for e in listed if e.at >= moment]
    return [e for e in later if e.subject_key == subject_key and e.id != after.event_id][-MAX_REPLAYED:]


class EventArchive(Protocol):
    """What a shared bus keeps (NatsBus): its events stored since a moment, in order, at most
    `limit`; raises when it cannot answer now."""

    async def recent(self, since: datetime, *, limit: int) -> list[ChangeEvent]: ...


class RecentEvents:
    """The last `size` events this process delivered, for replay without a shared bus."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self._events: deque[ChangeEvent] = deque(maxlen=size)

    def record(self, event: ChangeEvent) -> None:
        self._events.append(event)

    def since(self, after: EventPosition, subject_key: str) -> list[ChangeEvent]:
        return missed(self._events, after, subject_key)

    def __len__(self) -> int:
        return len(self._events)


__all__ = [
    "MAX_REPLAYED",
    "EventArchive",
    "EventPosition",
    "RecentEvents",
    "missed",
    "parse_position",
    "sse_id",
]
