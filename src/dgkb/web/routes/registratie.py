"""Registering the contact moment: one or more questions, optionally a contactverzoek."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.composition.deps import MomentsDep
from dgkb.contacts.moment import MAX_VRAGEN, ContactMomentService, Contactverzoek, Uitkomst, Vraag
from dgkb.web.deps import CheckedDep, SessionDep, TraceDep, actor_of, render
from dgkb.web.routes.console import FAILURES, alert, error_text

router = APIRouter(include_in_schema=False)
_FIELD = re.compile(r"^vragen-(\d{1,2})-(onderwerp|vraag|antwoord|uitkomst|doorverwezen|zaken)$")


def _form_context(
    moments: ContactMomentService, session: Any, contact_id: str, vragen: list[dict[str, str]]
) -> dict[str, Any]:
    options = moments.options
    return {
        "contact_id": contact_id,
        "onderwerpen": options.onderwerpen_for(actor_of(session).organisation),
        "afdelingen": options.afdelingen,
        "doorverwijzen": options.doorverwijzen,
        "uitkomsten": list(Uitkomst),
        "vragen": vragen or [{}],
        "max_vragen": MAX_VRAGEN,
    }


@router.get("/contacten/{contact_id}/registratie", name="registration_form")
async def registration_form(
    request: Request, contact_id: str, session: SessionDep, moments: MomentsDep
) -> Response:
    return render(request, "partials/registratie.html", _form_context(moments, session, contact_id, []))


def _parse(form: dict[str, str]) -> tuple[list[dict[str, str]], list[Vraag], Contactverzoek | None]:
    raw: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        if m := _FIELD.match(key):
            raw.setdefault(int(m[1]), {})[m[2]] = value
    filled = [raw[i] for i in sorted(raw) if any(v.strip() for k, v in raw[i].items() if k != "uitkomst")]
    vragen = []
    for item in filled:
        try:
            uitkomst = Uitkomst(item.get("uitkomst", "afgehandeld"))
        except ValueError:
            uitkomst = Uitkomst.AFGEHANDELD
        zaken = tuple(z for z in re.split(r"[\s,;]+", item.get("zaken", "")) if z)
        vragen.append(
            Vraag(
                onderwerp=item.get("onderwerp", ""),
                vraag=item.get("vraag", ""),
                antwoord=item.get("antwoord", ""),
                uitkomst=uitkomst,
                doorverwezen_naar=item.get("doorverwezen") or None,
                zaken=zaken,
            )
        )
    verzoek = None
    if form.get("verzoek") == "ja":
        deadline = None
        if form.get("verzoek-deadline"):
            try:
                deadline = date.fromisoformat(form["verzoek-deadline"])
            except ValueError:
                deadline = None
        verzoek = Contactverzoek(
            afdeling=form.get("verzoek-afdeling", ""),
            gevraagde_handeling=form.get("verzoek-handeling", ""),
            toelichting=form.get("verzoek-toelichting", ""),
            medewerker=form.get("verzoek-medewerker") or None,
            deadline=deadline,
        )
    return filled, vragen, verzoek


@router.post("/contacten/{contact_id}/registratie", name="register_contact")
async def register(
    request: Request, contact_id: str, session: CheckedDep, moments: MomentsDep, trace: TraceDep
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    filled, vragen, verzoek = _parse(form)
    try:
        result = await moments.register(
            actor_of(session), contact_id, vragen=vragen, contactverzoek=verzoek, trace=trace
        )
    except FAILURES as exc:
        return alert(request, error_text(exc))
    retry = [filled[i] for i in result.mislukt]
    ctx = _form_context(moments, session, contact_id, retry)
    ctx.update({"resultaat": result, "opnieuw": bool(retry)})
    response = render(request, "partials/registratie.html", ctx)
    response.headers["HX-Trigger"] = "klantbeeld-vernieuwen"
    return response
