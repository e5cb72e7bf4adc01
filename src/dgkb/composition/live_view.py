"""The live stream of one open view as an HTTP response, shared by the API
(`GET /api/v1/contacten/{id}/gebeurtenissen`) and the console, which differ only in how they
authenticate and what they answer when there is no open view. Every event is checked against the
contact's state and decision *now* (events.stream.view_updates)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import StreamingResponse

from dgkb.contacts.service import ContactService
from dgkb.domain.context import Actor, RequestContext
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.events.hub import ChangeHub
from dgkb.events.stream import HEARTBEAT_SECONDS, view_updates
from dgkb.klantbeeld.service import KlantbeeldService


def live_view_response(
    request: Request,
    actor: Actor,
    context: RequestContext,
    *,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    hub: ChangeHub,
    pseudonymizer: Pseudonymizer,
) -> StreamingResponse:
    async def current(ctx: RequestContext) -> RequestContext | None:
        return await contacts.still_open(actor, ctx)

    async def permitted(ctx: RequestContext) -> frozenset[str]:
        return frozenset(cd.category for cd in (await klantbeeld.decide(ctx)).permitted)

    stream = view_updates(
        hub,
        pseudonymizer.pseudonym(context.subject).value,
        context,
        current=current,
        permitted=permitted,
        heartbeat=float(getattr(request.app.state, "sse_heartbeat_seconds", HEARTBEAT_SECONDS)),
        # a reconnect: replay what was missed; a view that starts its stream after it was shown names
        # the moment it was read (`?sinds=`, the same form): what happened since is not lost
        last_event_id=request.headers.get("last-event-id") or request.query_params.get("sinds"),
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
