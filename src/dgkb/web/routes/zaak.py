"""Case worker: open the klantbeeld of a zaak's initiator, for the purpose of that zaak type.

The page lists the case worker's open zaken ("mijn zaken", from the Zaken source by the behandelaar
rol) with an Openen button each, and also opens a zaak by its identificatie.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from dgkb.composition.deps import ContactsDep
from dgkb.domain.roles import Role
from dgkb.web.deps import CheckedDep, SessionDep, TraceDep, actor_of, is_htmx, render, roles
from dgkb.web.routes.console import FAILURES, alert, error_text

router = APIRouter(include_in_schema=False)


@router.get("/zaken", name="zaken", dependencies=[roles(Role.BEHANDELAAR)])
async def zaken_page(
    request: Request, session: SessionDep, contacts: ContactsDep, trace: TraceDep
) -> Response:
    mijn_zaken: list[dict[str, Any]] | None = None
    fout: str | None = None
    try:
        mijn_zaken = await contacts.zaken_van_behandelaar(actor_of(session), trace=trace)
    except FAILURES as exc:
        fout = error_text(exc)
    return render(request, "zaken.html", {"mijn_zaken": mijn_zaken, "mijn_zaken_fout": fout})


@router.post("/zaken", name="open_zaak", dependencies=[roles(Role.BEHANDELAAR)])
async def open_zaak(
    request: Request,
    session: CheckedDep,
    contacts: ContactsDep,
    trace: TraceDep,
    zaak: str = Form(..., max_length=100),
) -> Response:
    try:
        view = await contacts.start_for_zaak(actor_of(session), zaak_identificatie=zaak.strip(), trace=trace)
    except FAILURES as exc:
        return alert(request, error_text(exc))
    target = f"/contacten/{view.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
