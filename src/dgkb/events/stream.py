"""The live stream of one open view: which permitted categories of its customer changed.

Shared by the API (`GET /api/v1/contacten/{id}/gebeurtenissen`) and the console, which differ only
in how they authenticate. The caller supplies two checks, so this module needs no upper layer:
`current(ctx)` → the contact's context now (its purpose may have changed) or None once it ended;
`permitted(ctx)` → the categories the current decision permits. An event never carries a
category the viewer's purpose does not allow.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from dgkb.domain.context import RequestContext
from dgkb.events.bus import ChangeEvent
from dgkb.events.hub import ChangeHub

HEARTBEAT_SECONDS = 15.0
Current = Callable[[RequestContext], Awaitable[RequestContext | None]]
Permitted = Callable[[RequestContext], Awaitable[frozenset[str]]]

# Streams of the same contact (several tabs) share the per-event check of contact state + decision.
_checks: dict[tuple[str, str, str], asyncio.Task[tuple[RequestContext | None, frozenset[str]]]] = {}


def frame(event: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return (head + f"data: {json.dumps(data, separators=(',', ':'))}\n\n").encode()


async def view_updates(
    hub: ChangeHub,
    subject_key: str,
    context: RequestContext,
    *,
    current: Current,
    permitted: Permitted,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """Server-Sent Events frames: `bijgewerkt` {categorieen, bron, op}, `beeindigd`, heartbeats."""

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
    async with hub.subscribe(subject_key, context=context) as events:
        yield b"retry: 3000\n: verbonden\n\n"
        while True:
            try:
                event: ChangeEvent | None = await events.next(heartbeat)
            except StopAsyncIteration:
                return
            if event is None:  # quiet: is the contact still open? then a heartbeat
                now = await current(ctx)
                allowed: frozenset[str] = frozenset()
            else:  # the contact's state and decision now: an event never leaks a category
                now, allowed = await shared_check(ctx, event.id)
            if now is None:
                yield frame("beeindigd", {"reden": "CONTACT_BEEINDIGD"})
                return
            ctx = now
            events.context = ctx
            if event is None:
                yield b": hartslag\n\n"
                continue
            shown = [c for c in event.categories if c in allowed]
            if shown:
                yield frame(
                    "bijgewerkt",
                    {"categorieen": shown, "bron": event.source, "op": event.at.isoformat()},
                    event.id,
                )
