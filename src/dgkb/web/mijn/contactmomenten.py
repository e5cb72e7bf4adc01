"""Mijn contactmomenten: every contact of the customer with an organisation, across channels, with
its outcome (contact.historie), and the open contactverzoeken with when to expect an answer
(contact.open-verzoeken: registered at `toegewezenOp`, answered within ANTWOORD_WERKDAGEN working
days). Read through the customer's own contact (PDP, gateway, access log); a source that is down is
"tijdelijk niet beschikbaar" for its part only. The employee's name is never shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, KlantbeeldDep
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.delen import read_parts
from dgkb.web.mijn.deps import MijnDep, render_mijn
from dgkb.web.mijn.tijdlijn import ANTWOORD_WERKDAGEN, verzoek
from dgkb.web.mijn.zaken import audit_unavailable

router = APIRouter(include_in_schema=False)

HISTORIE, VERZOEKEN = "contact.historie", "contact.open-verzoeken"
KANALEN = {
    "telefoon": "Telefoon",
    "e-mail": "E-mail",
    "balie": "Balie",
    "chat": "Chat",
    "brief": "Brief",
    "webformulier": "Webformulier",
    "mijn-omgeving": "Mijn omgeving",
}


@router.get("/mijn/contactmomenten", name="mijn_contactmomenten")
async def contactmomenten(
    request: Request, mijn: MijnDep, contacts: ContactsDep, klantbeeld: KlantbeeldDep, trace: TraceDep
) -> Response:
    try:
        read = await asyncio.gather(
            *(
                read_parts(mijn, own, contacts, klantbeeld, trace, (VERZOEKEN, HISTORIE))
                for own in mijn.contacts
            )
        )
    except AuditUnavailable:
        return audit_unavailable(request)
    today = datetime.now(UTC).date()
    organisaties = [
        (org, [verzoek(v, today=today) for v in org.delen[VERZOEKEN].gegevens])
        for _, org in read
        if org.zichtbaar
    ]
    return render_mijn(
        request,
        "mijn/contactmomenten.html",
        {
            "active": "/mijn/contactmomenten",
            "organisaties": organisaties,
            "HISTORIE": HISTORIE,
            "VERZOEKEN": VERZOEKEN,
            "kanalen": KANALEN,
            "werkdagen": ANTWOORD_WERKDAGEN,
        },
    )
