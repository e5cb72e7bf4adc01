"""The internal event bus: ChangeEvents from wherever a change is learnt to every DGKB process.

In process by default (one node). With `DGKB_NATS_URL` it is NATS JetStream: every process publishes
to the subject `dgkb.changes` (stream `DGKB_CHANGES`, created if missing, kept in memory for a short
while) and reads it with its own ephemeral ordered consumer that delivers only new messages, so
several processes behind a load balancer all see every event. Nothing personal travels: an event
names the subject by its keyed pseudonym only, plus category ids, a source id and a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from nats.js.client import JetStreamContext

log = logging.getLogger("dgkb.events")

NATS_SUBJECT = "dgkb.changes"
NATS_STREAM = "DGKB_CHANGES"
STREAM_MAX_AGE = 15 * 60.0  # seconds a change stays in the stream (only live delivery matters)
DUPLICATE_WINDOW = 120.0  # seconds JetStream drops a re-published event id


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """Something about a subject changed in these categories, at that source, at that moment."""

    subject_key: str  # keyed pseudonym (Pseudonymizer), never the identifier itself
    categories: tuple[str, ...]
    source: str  # source id (sources.yaml), "dgkb" or "reconciliatie"
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    origin: str = ""  # the process that published it

    @classmethod
    def of(cls, subject_key: str, categories: Iterable[str], source: str, **kw: Any) -> ChangeEvent:
        return cls(subject_key=subject_key, categories=tuple(sorted(set(categories))), source=source, **kw)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "subjectKey": self.subject_key,
                "categories": list(self.categories),
                "source": self.source,
                "at": self.at.isoformat(),
                "origin": self.origin,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ChangeEvent:
        data = json.loads(raw)
        return cls(
            subject_key=str(data["subjectKey"]),
            categories=tuple(str(c) for c in data["categories"]),
            source=str(data["source"]),
            at=datetime.fromisoformat(data["at"]),
            id=str(data["id"]),
            origin=str(data.get("origin", "")),
        )


Handler = Callable[[ChangeEvent], Awaitable[None]]


class EventBus(Protocol):
    """Publish to every process; `start` registers this process's handler of every event."""

    async def start(self, handler: Handler) -> None: ...

    async def publish(self, event: ChangeEvent) -> None: ...

    async def aclose(self) -> None: ...


class InProcessBus:
    """One process: publishing is calling the handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, event: ChangeEvent) -> None:
        if self._handler is not None:
            await self._handler(event)

    async def aclose(self) -> None:
        self._handler = None


class NatsBus:
    """NATS JetStream: publish with the event id as `Nats-Msg-Id` (a re-publication within the
    duplicate window is dropped by the server), consume with an ephemeral ordered push consumer
    (DeliverPolicy NEW), one per process."""

    def __init__(self, url: str, *, subject: str = NATS_SUBJECT, stream: str = NATS_STREAM) -> None:
        self._url = url
        self._subject = subject
        self._stream = stream
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        import nats
        from nats.js.api import DeliverPolicy, StorageType
        from nats.js.errors import NotFoundError

        self._handler = handler
        self._nc = await nats.connect(
            self._url, name="dgkb", max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self._stream)
        except NotFoundError:
            with contextlib.suppress(Exception):  # another process may create it at the same moment
                await self._js.add_stream(
                    name=self._stream,
                    subjects=[self._subject],
                    storage=StorageType.MEMORY,
                    max_age=STREAM_MAX_AGE,
                    duplicate_window=DUPLICATE_WINDOW,
                )
            await self._js.stream_info(self._stream)
        await self._js.subscribe(
            self._subject,
            stream=self._stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = ChangeEvent.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.warning("bus: unreadable change event dropped")
            return
        if self._handler is not None:
            try:
                await self._handler(event)
            except Exception as exc:  # one bad delivery must not stop the consumer
                log.warning("bus: handler failed: %s", type(exc).__name__)

    async def publish(self, event: ChangeEvent) -> None:
        if self._js is None:
            raise RuntimeError("NatsBus.publish before start")
        await self._js.publish(self._subject, event.to_json(), headers={"Nats-Msg-Id": event.id})

    async def aclose(self) -> None:
        self._handler = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.drain(), timeout=2)
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None


def build_bus(nats_url: str) -> EventBus:
    return NatsBus(nats_url) if nats_url else InProcessBus()


__all__ = ["ChangeEvent", "EventBus", "Handler", "InProcessBus", "NatsBus", "build_bus"]
