"""The live stream of one open view: which permitted categories of its customer changed.

Shared by the API (`GET /api/v1/contacten/{id}/gebeurtenissen`) and the console, which differ only
in how they authenticate. The caller supplies two checks, so this module needs no upper layer:
`current(ctx)` → the contact's context now (its purpose may have changed) or None once it ended;
`permitted(ctx)` → the categories the current decision permits. An event never carries a
category the viewer's purpose does not allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from dgkb.domain.context import RequestContext
from dgkb.events.bus import ChangeEvent
from dgkb.events.history import parse_position, sse_id
from dgkb.events.hub import ChangeHub
from dgkb.telemetry.metrics import SSE_STREAMS
from dgkb.throttled_log import ThrottledLog

HEARTBEAT_SECONDS = 15.0
FIRST_CHECK = (0.1, 1.0)  # the first quiet-period check, as fractions of the heartbeat
LATER_CHECKS = (0.8, 1.0)  # each later one
HELD_EVENTS = 32  # events kept for a view while its checks fail
_rng = random.Random()
_failures = ThrottledLog(logging.getLogger("dgkb.events"))
Current = Callable[[RequestContext], Awaitable[RequestContext | None]]
Permitted = Callable[[RequestContext], Awaitable[frozenset[str]]]

# Streams of the same contact (several tabs) share the per-event check of contact state + decision.
_checks: dict[tuple[str, str, str], asyncio.Task[tuple[RequestContext | None, frozenset[str]]]] = {}


# The last frame of a stream this node ends because it stops (SIGTERM, dgkb.app.begin_shutdown): reconnect
# soon (EventSource does so by itself once the stream ends), which the load balancer sends to another
# node; the client's Last-Event-ID there replays what it missed (events.history).
RECONNECT_MS = 500
RECONNECT = (
    f"retry: {RECONNECT_MS}\nevent: herverbinden\n"
    'data: {"reden":"SERVER_STOPT","toelichting":"Deze server stopt; verbind opnieuw."}\n\n'
).encode()


def frame(event: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return (head + f"data: {json.dumps(data, separators=(',', ':'))}\n\n").encode()


def check_delays(heartbeat: float, rng: random.Random | None = None) -> Iterator[float]:
    """The waits of one stream between its quiet-period checks (contact still open? + heartbeat).
    The first falls at a random point of the interval, each later one a random bit short of it:
    streams opened together (every agent's view after a restart) do not all check in the same
    instant, and streams one event lined up drift apart again. Never longer than `heartbeat`, so
    proxies still see traffic as often as before."""
    draw = rng or _rng
    yield heartbeat * draw.uniform(*FIRST_CHECK)
    while True:
        yield heartbeat * draw.uniform(*LATER_CHECKS)


@contextlib.asynccontextmanager
async def _counted_open() -> AsyncIterator[None]:
    """An open stream, in `dgkb_sse_streams_open` for as long as it is open."""
    SSE_STREAMS.inc()
    try:
        yield
    finally:
        SSE_STREAMS.dec()


async def view_updates(
    hub: ChangeHub,
    subject_key: str,
    context: RequestContext,
    *,
    current: Current,
    permitted: Permitted,
    heartbeat: float = HEARTBEAT_SECONDS,
    rng: random.Random | None = None,
    last_event_id: str | None = None,
) -> AsyncIterator[bytes]:
    """Server-Sent Events frames: `bijgewerkt` {categorieen, bron, op} with an id (`sse_id`),
    `beeindigd`, heartbeats; when the hub closes (this node stops), `herverbinden` with a short
    `retry:` (RECONNECT), and the stream ends.

    A check that fails (the database unreachable) ends nothing: it is logged once per interval by
    type, the stream stays open with heartbeats, and an event that could not be checked is held
    (bounded) until a check succeeds — fail closed, and nothing lost once the database is back.

    `last_event_id` (the client's `Last-Event-ID` on a reconnect, maybe to another node): the events
    of this subject after it are replayed first (events.history), filtered like live ones by the
    contact's decision now — a category the purpose no longer allows is not replayed. The view
    subscribes before it asks for the replay, so an event is never lost in between; one both
    replayed and delivered live is shown once. An id that names nothing usable starts live."""

    async def check(ctx: RequestContext) -> tuple[RequestContext | None, frozenset[str]]:
        now = await current(ctx)
        return (None, frozenset()) if now is None else (now, await permitted(now))

    async def shared_check(
        ctx: RequestContext, event_id: str
    ) -> tuple[RequestContext | None, frozenset[str]]:
        key = (ctx.actor.id, ctx.contact_id or "", event_id)
        task = _checks.get(key)
        if task is None:
            task = asyncio.create_task(check(ctx))
            _checks[key] = task
            task.add_done_callback(lambda _: _checks.pop(key, None))
        return await asyncio.shield(task)

    ctx = context
    delays = check_delays(heartbeat, rng)
    held: deque[ChangeEvent] = deque(maxlen=HELD_EVENTS)  # arrived while checks failed
    # What the view may show, as of the last check: a category that drops out (consent withdrawn or
    # expired, an objection, a purpose change) is announced once, without data, so the client
    # re-reads it and shows the denial instead of what it showed before.
    previous: frozenset[str] | None = None
    async with hub.subscribe(subject_key, context=context) as events, _counted_open():
        yield b"retry: 3000\n: verbonden\n\n"
        with contextlib.suppress(Exception):  # unknown until a check works; then nothing is revoked
            previous = await permitted(ctx)
        position = parse_position(last_event_id)
        replayed: set[str] = set()
        if position is not None:
            missed = await hub.replay(position, subject_key)
            replayed = {e.id for e in missed}
            if missed:
                try:
                    now, allowed = await check(ctx)
                except Exception as exc:  # as below: hold what could not be checked
                    kind = type(exc).__name__
                    _failures.warning(kind, "event stream: check failed (%s); holding events", kind)
                    held.extend(missed)
                else:
                    if now is None:
                        yield frame("beeindigd", {"reden": "CONTACT_BEEINDIGD"})
                        return
                    ctx = now
                    events.context = ctx
                    for change in missed:
                        shown = _shown(change, allowed)
                        if shown is not None:
                            yield shown
        while True:
            try:
                event: ChangeEvent | None = await events.next(next(delays))
            except StopAsyncIteration:  # the hub closed: this node stops
                yield RECONNECT
                return
            if event is not None and event.id in replayed:
                continue  # replayed already: it came live as well
            allowed = frozenset()
            try:
                if event is not None:  # the contact's state and decision now: never leak a category
                    now, allowed = await shared_check(ctx, event.id)
                elif held:  # quiet, with events waiting for a check that works
                    now, allowed = await check(ctx)
                else:  # quiet: is the contact still open? then a heartbeat
                    now = await current(ctx)
            except Exception as exc:  # the database (or the policy) cannot answer now
                kind = type(exc).__name__
                _failures.warning(kind, "event stream: check failed (%s); holding events", kind)
                if event is not None:
                    held.append(event)
                yield b": hartslag\n\n"
                continue
            if now is None:
                yield frame("beeindigd", {"reden": "CONTACT_BEEINDIGD"})
                return
            ctx = now
            events.context = ctx
            pending = [*held, *([event] if event is not None else [])]
            held.clear()
            if not pending:
                yield b": hartslag\n\n"
                continue
            revoked = sorted(previous - allowed) if previous is not None else []
            previous = allowed
            if revoked:
                yield frame(
                    "bijgewerkt", {"categorieen": revoked, "bron": "dgkb", "reden": "niet-meer-toegestaan"}
                )
            for change in pending:
                shown = _shown(change, allowed)
                if shown is not None:
                    yield shown


def _shown(change: ChangeEvent, allowed: frozenset[str]) -> bytes | None:
    """The `bijgewerkt` frame of the event's permitted categories; None when none is permitted."""
    shown = [c for c in change.categories if c in allowed]
    if not shown:
        return None
    return frame(
        "bijgewerkt",
        {"categorieen": shown, "bron": change.source, "op": change.at.isoformat()},
        sse_id(change),
    )
