"""Mijn gegevens: the six information types about the customer, per organisation, each item with
its source and freshness, and what is not shown and why. Read through the customer's own contacts,
so every read is decided by the PDP and logged like an employee's (as "uzelf")."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

import dgkb.web.klantbeeld_view as klantbeeld_view
from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, KlantbeeldDep
from dgkb.contacts.service import ContactService
from dgkb.domain.context import Trace
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.web.deps import TraceDep
from dgkb.web.klantbeeld_view import KlantbeeldView
from dgkb.web.mijn.deps import Mijn, MijnDep, OwnContact, own_context, own_contexts, render_mijn

router = APIRouter(include_in_schema=False)


async def read_own(
    mijn: Mijn, own: OwnContact, contacts: ContactService, klantbeeld: KlantbeeldService, trace: Trace
) -> KlantbeeldView:
    """The customer's klantbeeld at one organisation (its own-view purpose), as the console builds it.
    A contact that ended or expired means the portal session is over."""
    return klantbeeld_view.build(await klantbeeld.read(await own_context(mijn, own, contacts, trace)))


def view_helpers() -> dict[str, object]:
    """What the shared klantbeeld macros (partials/klantbeeld.html) expect in their context."""
    return {
        "label": klantbeeld_view.label,
        "status": klantbeeld_view.STATUS,
        "as_list": klantbeeld_view.as_list,
    }


@router.get("/mijn", name="mijn_gegevens")
async def gegevens(
    request: Request, mijn: MijnDep, contacts: ContactsDep, klantbeeld: KlantbeeldDep, trace: TraceDep
) -> Response:
    try:
        views = await asyncio.gather(
            *(read_own(mijn, own, contacts, klantbeeld, trace) for own in mijn.contacts)
        )
    except AuditUnavailable:
        return render_mijn(
            request,
            "mijn/fout.html",
            {
                "titel": "Uw gegevens kunnen nu niet worden getoond",
                "tekst": "Wij leggen vast wie uw gegevens bekijkt. Dat lukt nu niet, daarom tonen wij "
                "niets. Probeer het over een paar minuten opnieuw.",
            },
            status=503,
        )
    return render_mijn(
        request,
        "mijn/gegevens.html",
        {
            "active": "/mijn",
            "organisaties": list(zip(mijn.contacts, views, strict=True)),
            "geweigerd": mijn.session.data.get("geweigerd", []),
            **view_helpers(),
        },
    )


@router.get("/mijn/sessie", name="mijn_session_touch")
async def touch(mijn: MijnDep, contacts: ContactsDep, trace: TraceDep) -> Response:
    """'Ingelogd blijven': loading the session counts as activity, and so does reading the context
    of each own contact (the contacts expire after the same idle time)."""
    await own_contexts(mijn, contacts, trace)
    return Response(status_code=204)
