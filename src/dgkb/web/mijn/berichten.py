"""Mijn berichten: the notices the organisations sent the customer (a zaak's new status, an answer
to a contactverzoek), newest first, read and unread. Formal decisions are not here but in the
MijnOverheid Berichtenbox (linked). Only the customer's own messages: the subject is the session's,
and another customer's message id is a 404 like an unknown one. Reading them is logged as the
customer's own read (MessageService.read_own), before they are shown."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, MessagesDep
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import MijnCheckedDep, MijnDep, own_contexts, own_subject, render_mijn

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


def _unavailable(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Uw berichten kunnen nu niet worden getoond",
            "tekst": "Wij leggen vast wie uw gegevens bekijkt. Dat lukt nu niet, daarom tonen wij "
            "niets. Probeer het over een paar minuten opnieuw.",
        },
        status=503,
    )


@router.get(PATH, name="mijn_berichten")
async def berichten(
    request: Request, mijn: MijnDep, contacts: ContactsDep, messages: MessagesDep, trace: TraceDep
) -> Response:
    try:
        found = await messages.read_own(await own_contexts(mijn, contacts, trace))
    except AuditUnavailable:
        return _unavailable(request)
    return render_mijn(
        request,
        "mijn/berichten.html",
        {"active": PATH, "berichten": found, "berichtenbox": BERICHTENBOX},
    )


@router.get(PATH + "/{message_id}", name="mijn_bericht")
async def bericht(
    request: Request,
    message_id: str,
    mijn: MijnDep,
    contacts: ContactsDep,
    messages: MessagesDep,
    trace: TraceDep,
) -> Response:
    """One message; opening it does not mark it read (a GET changes nothing): the page offers that."""
    try:
        found = await messages.read_own_one(await own_contexts(mijn, contacts, trace), message_id)
    except AuditUnavailable:
        return _unavailable(request)
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
