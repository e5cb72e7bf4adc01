"""Mijn zaken: the customer's open and closed zaken per organisation, each with its status timeline
(steps done, current, next expected, the deadline, "Later dan beloofd" when an open zaak is past it)
and, on a zaak's own page, the titles of its documents.

Every read goes through the customer's own contact (PDP, gateway, access log). The zaak page finds
the zaak among the customer's own zaken as just read: an identificatie that is not theirs is a 404,
whoever's it is. Its documents are read only where the register permits the field `documenten`, one
request for that zaak (Zaken 1.5.1 cannot expand them in the list)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, KlantbeeldDep
from dgkb.gateway.gateway import SourceMissing, SourceUnavailable
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.delen import read_parts
from dgkb.web.mijn.deps import MijnDep, render_mijn
from dgkb.web.mijn.tijdlijn import overzicht

router = APIRouter(include_in_schema=False)

LOPEND, HISTORIE = "dienst.zaken-lopend", "dienst.zaken-historie"
ZAKEN = (LOPEND, HISTORIE)
# a zaak identificatie (Zaken API: at most 40 characters); anything else is no zaak of anyone
_IDENTIFICATIE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def audit_unavailable(request: Request) -> Response:
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


def not_found(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Deze zaak vinden wij niet",
            "tekst": "Wij hebben geen zaak met dit nummer van u. Kijk in Mijn zaken welke zaken u heeft.",
        },
        status=404,
    )


@router.get("/mijn/zaken", name="mijn_zaken")
async def zaken(
    request: Request, mijn: MijnDep, contacts: ContactsDep, klantbeeld: KlantbeeldDep, trace: TraceDep
) -> Response:
    try:
        read = await asyncio.gather(
            *(read_parts(mijn, own, contacts, klantbeeld, trace, ZAKEN) for own in mijn.contacts)
        )
    except AuditUnavailable:
        return audit_unavailable(request)
    today = datetime.now(UTC).date()
    organisaties = []
    for _, org in read:
        if not org.zichtbaar:
            continue
        lijsten = {
            c: [overzicht(z, today=today) for z in org.delen[c].gegevens] for c in ZAKEN if c in org.delen
        }
        organisaties.append((org, lijsten))
    return render_mijn(
        request,
        "mijn/zaken.html",
        {"active": "/mijn/zaken", "organisaties": organisaties, "LOPEND": LOPEND, "HISTORIE": HISTORIE},
    )


@router.get("/mijn/zaken/{identificatie}", name="mijn_zaak")
async def zaak(
    request: Request,
    identificatie: str,
    mijn: MijnDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
) -> Response:
    if not _IDENTIFICATIE.fullmatch(identificatie):
        return not_found(request)
    try:
        read = await asyncio.gather(
            *(read_parts(mijn, own, contacts, klantbeeld, trace, ZAKEN) for own in mijn.contacts)
        )
    except AuditUnavailable:
        return audit_unavailable(request)
    found = None
    for context, org in read:
        for categorie in ZAKEN:
            part = org.delen.get(categorie)
            for item in part.gegevens if part is not None else []:
                if item.get("identificatie") == identificatie:
                    found = (context, org, categorie, item)
    unavailable = [
        org.own.organisation_name
        for _, org in read
        if any(d.status == "tijdelijk" for d in org.delen.values())
    ]
    if found is None:
        if unavailable:  # it may be there, we cannot tell now
            return render_mijn(
                request,
                "mijn/fout.html",
                {
                    "titel": "Deze zaak kunnen wij nu niet tonen",
                    "tekst": "Het zaaksysteem is tijdelijk niet beschikbaar. Probeer het later nog eens.",
                },
                status=503,
            )
        return not_found(request)
    context, org, categorie, item = found
    z = overzicht(item, today=datetime.now(UTC).date())
    documenten: list[dict[str, Any]] | None = None
    documenten_status = "niet-toegestaan"
    if z.url:
        try:
            documenten = await klantbeeld.zaak_documenten(context, categorie, z.url)
            documenten_status = "ok" if documenten is not None else "niet-toegestaan"
        except AuditUnavailable:
            return audit_unavailable(request)
        except (SourceUnavailable, SourceMissing):
            documenten_status = "tijdelijk"
    return render_mijn(
        request,
        "mijn/zaak.html",
        {
            "active": "/mijn/zaken",
            "zaak": z,
            "organisatie": org.own.organisation_name,
            "organisatie_oin": org.own.organisation,  # for the feedback link of a closed zaak
            "documenten": documenten or [],
            "documenten_status": documenten_status,
        },
    )
