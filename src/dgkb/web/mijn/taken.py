"""Mijn taken: what the customer still has to do at each organisation, each with a deep link (the
list itself: `takenlijst`, pure). Reads dossier.financieel and dienst.zaken-lopend through the
customer's own contact (PDP, gateway, access log), the customer's consents with the organisation
(ConsentService) and correction requests (CorrectionService.follow: the zaken just read tell which
zaak asks the customer something; for tasks at Klantinteracties one read of their threads, only when
there are such requests); a part that is not shown says why, a source that is down says so for its
part."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ConsentDep, ContactsDep, KlantbeeldDep, RegisterDep
from dgkb.consent.service import ConsentService
from dgkb.contacts.correction import CorrectionService, CorrectionView
from dgkb.domain.context import RequestContext
from dgkb.domain.register import Register
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.correctie import correction_service
from dgkb.web.mijn.delen import OrganisatieDelen, read_parts
from dgkb.web.mijn.deps import MijnDep, render_mijn
from dgkb.web.mijn.takenlijst import ConsentFact, Taak, correctieverzoeken_wachtend, taken
from dgkb.web.mijn.zaken import audit_unavailable

router = APIRouter(include_in_schema=False)

FINANCIEEL, LOPEND = "dossier.financieel", "dienst.zaken-lopend"


async def consent_facts(
    consent: ConsentService, register: Register, context: RequestContext
) -> list[ConsentFact]:
    found = []
    for c in await consent.list_for(context):
        purpose = register.get(c.processing_activity_id)
        found.append(
            ConsentFact(
                doel=purpose.naam if purpose is not None else "een dienst",
                expires_at=c.expires_at,
                withdrawn_at=c.withdrawn_at,
            )
        )
    return found


async def waiting(
    corrections: CorrectionService, context: RequestContext, org: OrganisatieDelen
) -> list[CorrectionView]:
    """The customer's correction requests at this organisation as their owners show them now,
    judged on the open zaken this page read (None: that part could not be read)."""
    lopend = org.delen[LOPEND]
    views = await corrections.list_for(context, [org.own.organisation])
    open_zaken = lopend.gegevens if lopend.status in ("ok", "leeg") else None
    return await corrections.follow(context, views, open_zaken=open_zaken)


@router.get("/mijn/taken", name="mijn_taken")
async def mijn_taken(
    request: Request,
    mijn: MijnDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    consent: ConsentDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    try:
        read = await asyncio.gather(
            *(
                read_parts(mijn, own, contacts, klantbeeld, trace, (FINANCIEEL, LOPEND))
                for own in mijn.contacts
            )
        )
    except AuditUnavailable:
        return audit_unavailable(request)
    consents = await asyncio.gather(*(consent_facts(consent, register, context) for context, _ in read))
    corrections = correction_service(request.app.state.services)
    try:
        verzoeken = await asyncio.gather(*(waiting(corrections, context, org) for context, org in read))
    except AuditUnavailable:
        return audit_unavailable(request)
    now = datetime.now(UTC)
    organisaties: list[tuple[object, list[Taak]]] = []
    for (_, org), facts, eigen in zip(read, consents, verzoeken, strict=True):
        name = org.own.organisation_name
        found = taken(
            name,
            financieel=org.delen[FINANCIEEL].gegevens,
            zaken=org.delen[LOPEND].gegevens,
            consents=facts,
            correcties=correctieverzoeken_wachtend(name, eigen),
            correctie_zaken={v.zaak_identificatie for v in eigen if v.zaak_identificatie},
            now=now,
            betaal_link=f"/mijn#card-{org.own.organisation}-dossierdata",
        )
        organisaties.append((org, found))
    return render_mijn(
        request,
        "mijn/taken.html",
        {
            "active": "/mijn/taken",
            "organisaties": organisaties,
            "FINANCIEEL": FINANCIEEL,
            "LOPEND": LOPEND,
            "labels": {FINANCIEEL: "Betalingen", LOPEND: "Zaken"},
        },
    )
