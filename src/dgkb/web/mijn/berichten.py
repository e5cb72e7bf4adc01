"""Mijn berichten: the notices the organisations sent the customer (a zaak's new status, an answer
to a contactverzoek), newest first, read and unread. Formal decisions are not here but in the
MijnOverheid Berichtenbox (linked). Only the customer's own messages: the subject is the session's,
and another customer's message id is a 404 like an unknown one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.composition.deps import MessagesDep
from dgkb.web.mijn.deps import MijnCheckedDep, MijnDep, own_subject, render_mijn

router = APIRouter(include_in_schema=False)

PATH = "/mijn/berichten"
BERICHTENBOX = "https://mijn.overheid.nl/berichtenbox/inbox/"


def _not_found(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {"titel": "Bericht niet gevonden", "tekst": "Dit bericht bestaat niet (meer)."},
        status=404,
    )


@router.get(PATH, name="mijn_berichten")
async def berichten(request: Request, mijn: MijnDep, messages: MessagesDep) -> Response:
    found = await messages.list(await own_subject(request, mijn))
    return render_mijn(
        request,
        "mijn/berichten.html",
        {"active": PATH, "berichten": found, "berichtenbox": BERICHTENBOX},
    )


@router.get(PATH + "/{message_id}", name="mijn_bericht")
async def bericht(request: Request, message_id: str, mijn: MijnDep, messages: MessagesDep) -> Response:
    """One message; opening it does not mark it read (a GET changes nothing): the page offers that."""
    found = await messages.get(await own_subject(request, mijn), message_id)
    if found is None:
        return _not_found(request)
    return render_mijn(
        request, "mijn/bericht.html", {"active": PATH, "bericht": found, "berichtenbox": BERICHTENBOX}
    )


@router.post(PATH + "/{message_id}/gelezen", name="mijn_bericht_gelezen")
async def gelezen(request: Request, message_id: str, mijn: MijnCheckedDep, messages: MessagesDep) -> Response:
    form = await request.form()
    read = form.get("gelezen", "ja") != "nee"
    if not await messages.mark_read(await own_subject(request, mijn), message_id, read=read):
        return _not_found(request)
    return RedirectResponse(PATH, status_code=303)
