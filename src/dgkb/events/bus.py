"""The internal event bus: ChangeEvents from wherever a change is learnt to every DGKB process.

In process by default (one node). With `DGKB_NATS_URL` it is NATS JetStream: every process publishes
to the subject `dgkb.changes` (stream `DGKB_CHANGES`, created if missing, kept in memory for a short
while) and reads it with its own ephemeral ordered consumer that delivers only new messages, so
several processes behind a load balancer all see every event. Nothing personal travels: an event
names the subject by its keyed pseudonym only, plus category ids, a source id and a time.

The NATS bus outlives a NATS restart (issue 13 §2): the stream and the consumer are made again on
reconnect and whenever a publish finds no stream; while the bus is down an event still reaches this
process's open views at once and the others once the bus is back (NatsBus).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from dgkb.throttled_log import ThrottledLog

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from nats.js.api import StreamInfo
    from nats.js.client import JetStreamContext

log = logging.getLogger("dgkb.events")

NATS_SUBJECT = "dgkb.changes"
NATS_STREAM = "DGKB_CHANGES"
STREAM_MAX_AGE = 15 * 60.0  # seconds a change stays in the stream (only live delivery matters)
DUPLICATE_WINDOW = 120.0  # seconds JetStream drops a re-published event id
PUBLISH_TIMEOUT = 1.0  # seconds to wait for JetStream's acknowledgement before deferring an event
MAX_PENDING = 10_000  # events kept for the other processes while the bus is down
SEEN_IDS = 10_000  # event ids remembered to drop echoes and replays
FLUSH_INTERVAL = 1.0  # seconds between two attempts to publish deferred events
STREAM_CHECK_INTERVAL = 5.0  # seconds between two checks that the stream read is still there
REPLAY_TIMEOUT = 2.0  # seconds one replay from the stream may take (a reconnecting SSE client waits)
REPLAY_BATCH = 512


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
    duplicate window is dropped by the server), consume with an ephemeral ordered push consumer,
    one per process.

    The bus survives its server: a restart without persistence loses the stream and every consumer,
    so after each reconnect, and whenever a publish finds no stream, the stream is created again and
    this process subscribes anew — from the message after the last one it saw when the stream is
    the same, from the start when it is a new one (nothing in it was seen here). While the bus is
    down (or a publish fails), `publish` does not fail: the event is delivered to this process's
    handler at once (its open views) and kept, in order and bounded, to be published for the other
    processes when the bus is back; its echo from the bus is then dropped here, as is any event
    seen twice."""

    def __init__(
        self,
        url: str,
        *,
        subject: str = NATS_SUBJECT,
        stream: str = NATS_STREAM,
        publish_timeout: float = PUBLISH_TIMEOUT,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._url = url
        self._subject = subject
        self._stream = stream
        self._publish_timeout = publish_timeout
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._handler: Handler | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        self._subscribing = asyncio.Lock()
        self._stream_created: datetime | None = None  # which incarnation of the stream we read
        self._last_seq = 0  # stream sequence of the last message received
        self._pending: deque[ChangeEvent] = deque()
        self._max_pending = max_pending
        self._seen: OrderedDict[str, None] = OrderedDict()  # ids handled here: drop echoes, replays
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = ThrottledLog(log)
        self.counters = BusCounters()

    async def start(self, handler: Handler) -> None:
        import nats

        self._handler = handler
        self._nc = await nats.connect(
            self._url,
            name="dgkb",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            reconnected_cb=self._on_reconnected,
            disconnected_cb=self._on_disconnected,
            error_cb=self._on_error,
        )
        self._js = self._nc.jetstream()
        await self._subscribe()
        self._spawn(self._maintain())

    @property
    def connected(self) -> bool:
        """Connected to NATS now (the readiness probe: down means degraded, not unready)."""
        return self._nc is not None and self._nc.is_connected

    @property
    def pending(self) -> int:
        """Events accepted while the bus was down, not yet published for the other processes."""
        return len(self._pending)

    # --- the stream and this process's consumer -----------------------------------------------
    async def _ensure_stream(self) -> StreamInfo:
        from nats.js.api import StorageType
        from nats.js.errors import NotFoundError

        assert self._js is not None
        try:
            return await self._js.stream_info(self._stream)
        except NotFoundError:
            with contextlib.suppress(Exception):  # another process may create it at the same moment
                await self._js.add_stream(
                    name=self._stream,
                    subjects=[self._subject],
                    storage=StorageType.MEMORY,
                    max_age=STREAM_MAX_AGE,
                    duplicate_window=DUPLICATE_WINDOW,
                )
            return await self._js.stream_info(self._stream)

    async def _subscribe(self) -> None:
        """(Re)create the stream if it is missing and replace this process's consumer."""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        assert self._js is not None
        async with self._subscribing:
            info = await self._ensure_stream()
            old, self._sub = self._sub, None
            if old is not None:
                with contextlib.suppress(Exception):  # its consumer may be gone with the server
                    await old.unsubscribe()
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
            if self._stream_created is None:  # the first subscription: what the stream holds is past
                self._last_seq = info.state.last_seq
            else:  # a resubscription: read on where we were
                same = info.created == self._stream_created
                if same and info.state.first_seq <= self._last_seq + 1:
                    config = ConsumerConfig(
                        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self._last_seq + 1
                    )
                else:  # a new stream (or we fell behind its retention): all it holds is news here
                    config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
                    self._last_seq = 0
                self.counters.resubscribed += 1
            self._stream_created = info.created
            self._sub = await self._js.subscribe(
                self._subject,
                stream=self._stream,
                cb=self._on_message,
                ordered_consumer=True,
                config=config,
            )

    async def _resubscribe(self) -> None:
        """After a reconnect: subscribe again until it works (JetStream may need a moment)."""
        delay = 0.1
        while self._nc is not None and not self._nc.is_closed:
            try:
                await self._subscribe()
            except Exception as exc:
                self._problem("resubscribe", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("bus: subscribed again to %s", self._stream)
            self._wake.set()
            return

    async def _on_reconnected(self) -> None:
        self._spawn(self._resubscribe())

    async def _on_disconnected(self) -> None:
        self._log.warning("disconnected", "bus: disconnected from NATS; reconnecting")

    async def _on_error(self, exc: Exception) -> None:
        self._problem("client", exc)

    def _problem(self, where: str, exc: BaseException) -> None:
        kind = type(exc).__name__
        self._log.warning(f"{where}:{kind}", "bus: %s failed (%s)", where, kind)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- receiving ----------------------------------------------------------------------------
    async def _on_message(self, msg: Msg) -> None:
        with contextlib.suppress(Exception):
            self._last_seq = max(self._last_seq, msg.metadata.sequence.stream)
        try:
            event = ChangeEvent.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.warning("bus: unreadable change event dropped")
            return
        if not self._first_time(event.id):
            return
        await self._handle(event)

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return True

    async def _handle(self, event: ChangeEvent) -> None:
        if self._handler is not None:
            try:
                await self._handler(event)
            except Exception as exc:  # one bad delivery must not stop the consumer
                log.warning("bus: handler failed: %s", type(exc).__name__)

    # --- replay ------------------------------------------------------------------------------
    async def recent(self, since: datetime, *, limit: int) -> list[ChangeEvent]:
        """The events the stream stored since `since`, in stream order, at most `limit` (the first):
        what a reconnecting SSE client missed (events.history). A pull consumer of its own, read to
        the end the stream had when it was made, then deleted. Raises when the bus cannot answer
        (down, timed out): the caller falls back to what this process remembers."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        if self._js is None or self._nc is None or not self._nc.is_connected:
            raise RuntimeError("the bus is not connected")
        js = self._js
        events: list[ChangeEvent] = []
        async with asyncio.timeout(REPLAY_TIMEOUT):
            sub = await js.pull_subscribe(
                self._subject,
                stream=self._stream,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_TIME,
                    opt_start_time=since.astimezone(UTC),
                    ack_policy=AckPolicy.NONE,
                    inactive_threshold=30.0,  # gone by itself if this process dies while reading
                ),
            )
            try:
                remaining = min((await sub.consumer_info()).num_pending or 0, limit)
                while remaining > 0:
                    batch = await sub.fetch(min(REPLAY_BATCH, remaining), timeout=REPLAY_TIMEOUT)
                    if not batch:
                        break
                    remaining -= len(batch)
                    for msg in batch:
                        with contextlib.suppress(ValueError, KeyError, TypeError):
                            events.append(ChangeEvent.from_json(msg.data))
            finally:
                with contextlib.suppress(Exception):
                    info = await sub.consumer_info()
                    await js.delete_consumer(self._stream, info.name)
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        return events

    # --- publishing ---------------------------------------------------------------------------
    async def publish(self, event: ChangeEvent) -> None:
        if self._js is None or self._nc is None:
            raise RuntimeError("NatsBus.publish before start")
        if self._pending or not self._nc.is_connected:  # keep the order of what waits
            await self._defer(event, None)
            return
        try:
            await self._publish_or_recreate(event)
        except Exception as exc:
            await self._defer(event, exc)
            return
        self.counters.published += 1

    async def _publish_or_recreate(self, event: ChangeEvent) -> None:
        from nats.js.errors import NoStreamResponseError

        assert self._js is not None
        try:
            await self._js.publish(
                self._subject,
                event.to_json(),
                timeout=self._publish_timeout,
                headers={"Nats-Msg-Id": event.id},
            )
        except NoStreamResponseError:  # the stream is gone (a restart without persistence)
            await self._subscribe()
            await self._js.publish(
                self._subject,
                event.to_json(),
                timeout=self._publish_timeout,
                headers={"Nats-Msg-Id": event.id},
            )

    async def _defer(self, event: ChangeEvent, exc: Exception | None) -> None:
        """The bus cannot take the event now: this process's views get it at once, the others when
        the bus is back."""
        if exc is not None:
            self._problem("publish", exc)
        self.counters.deferred += 1
        self._pending.append(event)
        while len(self._pending) > self._max_pending:
            self._pending.popleft()
            self.counters.dropped += 1
        self._wake.set()
        if self._first_time(event.id):
            await self._handle(event)

    async def _maintain(self) -> None:
        """Publish what waits, in order, whenever the bus takes it (woken on a reconnect, a new
        deferral, and every second); every few seconds check that the stream this process reads is
        still there — deleted or replaced without a reconnect, its consumer is gone too."""
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL)
            self._wake.clear()
            if loop.time() - checked >= STREAM_CHECK_INTERVAL:
                checked = loop.time()
                await self._check_stream()
            await self._flush_pending()

    async def _check_stream(self) -> None:
        from nats.js.errors import NotFoundError

        if self._js is None or self._nc is None or not self._nc.is_connected:
            return
        try:
            try:
                info = await self._js.stream_info(self._stream)
                replaced = info.created != self._stream_created
            except NotFoundError:
                replaced = True
            if replaced:
                await self._subscribe()
        except Exception as exc:
            self._problem("stream check", exc)

    async def _flush_pending(self) -> None:
        while self._pending and self._nc is not None and self._nc.is_connected:
            event = self._pending[0]
            try:
                await self._publish_or_recreate(event)
            except Exception as exc:
                self._problem("publish", exc)
                return  # try again on the next wake-up
            if self._pending and self._pending[0] is event:
                self._pending.popleft()
            self.counters.published += 1
            self.counters.published_late += 1

    async def aclose(self) -> None:
        self._handler = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pending:
            log.warning("bus: %d events not published to the other processes at shutdown", len(self._pending))
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.drain(), timeout=2)
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None


@dataclass(slots=True)
class BusCounters:
    """Counts since start-up, for health and metrics."""

    published: int = 0  # events the bus took (at once or later)
    deferred: int = 0  # events accepted while the bus was down (delivered here at once)
    published_late: int = 0  # deferred events published once the bus was back
    dropped: int = 0  # deferred events dropped because too many waited (the oldest go)
    resubscribed: int = 0  # consumers replaced after a reconnect or a lost stream


def build_bus(nats_url: str) -> EventBus:
    return NatsBus(nats_url) if nats_url else InProcessBus()


__all__ = ["BusCounters", "ChangeEvent", "EventBus", "Handler", "InProcessBus", "NatsBus", "build_bus"]
