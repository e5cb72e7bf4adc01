"""The agent's side of "bevestig met DigiD" in the console (issue 9 §3): start a confirmation, follow
its status, enter the read-back code. When the code is accepted the klantbeeld re-renders in place
with the newly permitted sections (and every other open view follows through the change published by
the confirmation service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from dgkb.composition.deps import ConfirmationsDep, ConsentDep, ContactsDep, KlantbeeldDep, RegisterDep
from dgkb.contacts.confirmation import Confirmation, Via
from dgkb.identity.broker_client import PublicLogin
from dgkb.web.deps import CheckedDep, SessionDep, TraceDep, actor_of, render
from dgkb.web.routes.console import FAILURES, alert, error_text, show_klantbeeld

router = APIRouter(include_in_schema=False)


def _panel(
    request: Request, contact_id: str, bevestiging: Confirmation | None, fout: str | None = None
) -> Response:
    ctx: dict[str, Any] = {"contact_id": contact_id, "bevestiging": bevestiging, "fout": fout}
    return render(request, "partials/bevestigen_paneel.html", ctx)


@router.post("/contacten/{contact_id}/bevestigingen", name="confirm_start")
async def start(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    confirmations: ConfirmationsDep,
    trace: TraceDep,
    via: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        chosen = Via(via)
    except ValueError:
        return _panel(request, contact_id, None, "Kies sms, e-mail of code.")
    login: PublicLogin = request.app.state.public_login
    try:
        created = await confirmations.create(
            actor_of(session),
            contact_id,
            via=chosen,
            public_base=login.base(str(request.base_url)),
            trace=trace,
        )
    except FAILURES as exc:
        return _panel(request, contact_id, None, error_text(exc))
    return _panel(request, contact_id, created)


@router.get("/contacten/{contact_id}/bevestigingen/{bevestiging_id}", name="confirm_status")
async def status(
    request: Request,
    contact_id: str,
    bevestiging_id: str,
    session: SessionDep,
    confirmations: ConfirmationsDep,
    was: str = "",
) -> Response:
    """The panel; 204 (htmx keeps what it shows) while the status is still `was`."""
    try:
        found = await confirmations.get(actor_of(session), contact_id, bevestiging_id)
    except FAILURES as exc:
        return alert(request, error_text(exc))
    if was and found.status == was:
        return Response(status_code=204)
    return _panel(request, contact_id, found)


@router.post("/contacten/{contact_id}/bevestigingen/{bevestiging_id}/annulering", name="confirm_cancel")
async def cancel(
    request: Request,
    contact_id: str,
    bevestiging_id: str,
    session: CheckedDep,
    confirmations: ConfirmationsDep,
    trace: TraceDep,
) -> Response:
    try:
        done = await confirmations.cancel(actor_of(session), contact_id, bevestiging_id, trace=trace)
    except FAILURES as exc:
        return _panel(request, contact_id, None, error_text(exc))
    return _panel(request, contact_id, done)


@router.post("/contacten/{contact_id}/bevestigingen/{bevestiging_id}/terugleescode", name="confirm_read_back")
async def read_back(
    request: Request,
    contact_id: str,
    bevestiging_id: str,
    session: CheckedDep,
    confirmations: ConfirmationsDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    consent: ConsentDep,
    register: RegisterDep,
    trace: TraceDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    actor = actor_of(session)
    try:
        await confirmations.read_back(actor, contact_id, bevestiging_id, code, trace=trace)
    except FAILURES as exc:
        try:
            now = await confirmations.get(actor, contact_id, bevestiging_id)
        except FAILURES:
            now = None
        return _panel(request, contact_id, now, error_text(exc))
    # the level rose: the whole klantbeeld re-renders with the newly permitted sections
    response = await show_klantbeeld(
        request,
        contact_id,
        session,
        trace,
        contacts=contacts,
        klantbeeld=klantbeeld,
        consent=consent,
        confirmations=confirmations,
        register=register,
    )
    response.headers["HX-Retarget"] = "#klantbeeld"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
