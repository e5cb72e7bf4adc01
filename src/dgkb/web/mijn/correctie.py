"""Klopt er iets niet? (issue 14, part 9): a correction request from the item itself on Mijn gegevens.

The link on each shown section names the organisation, the category and the source (no personal
data); the form offers the items of that section as the customer sees it now, read through the
customer's own contact (PDP + access log), and the post is checked against a fresh read: only what
the customer was shown can be the subject of a request. `CorrectionService` keeps the request and
routes it to the source's owner (a Klantinteracties interne taak for the configured team, or a zaak
where so configured); the customer follows its status here (the list, and one page per request), the
KCC agent sees the task among the open contactverzoeken of the klantbeeld, or the zaak among the
customer's zaken and the request in the contact history.

When the owner asks the customer something (`CorrectionService.follow`: a zaak suspended for the
customer, or the organisation's follow-up klantcontact of an open task), the request says "Wacht op
uw antwoord" with the question, here and on Mijn taken, and its page has a form for the answer. The
answer is checked against a fresh read of the customer's own requests: only a request of this
customer that waits for an answer, and only to the question it waits on now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

import dgkb.web.klantbeeld_view as klantbeeld_view
from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, KlantbeeldDep, RegisterDep
from dgkb.composition.root import Services
from dgkb.contacts.correction import (
    MAX_ANTWOORD,
    MAX_TEXT,
    CorrectionInvalid,
    CorrectionNotSent,
    CorrectionService,
    CorrectionStatus,
    CorrectionView,
)
from dgkb.contacts.service import ContactService
from dgkb.domain.context import RequestContext, Trace
from dgkb.domain.register import Register
from dgkb.klantbeeld.schemas import Sectie
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import Mijn, MijnCheckedDep, MijnDep, OwnContact, own_context, render_mijn

router = APIRouter(include_in_schema=False)

_LOPEND, _ZAKEN_HISTORIE = "dienst.zaken-lopend", "dienst.zaken-historie"
# Field names of the sources as the customer reads them (B1); others are shown as they are.
FIELD_LABELS = {
    "burgerservicenummer": "Burgerservicenummer",
    "naam": "Naam",
    "geboorte": "Geboortedatum en -plaats",
    "geslacht": "Geslacht",
    "verblijfplaats": "Adres",
    "adressering": "Adres op brieven",
    "kvkNummer": "KVK-nummer",
    "vestigingsnummer": "Vestigingsnummer",
    "handelsnamen": "Handelsnamen",
    "adressen": "Adressen",
    "reisdocumenten": "Reisdocumenten",
    "emailadressen": "E-mailadressen",
    "telefoonnummers": "Telefoonnummers",
    "voorkeursDigitaalAdres": "Voorkeursadres",
    "voorkeurstaal": "Voorkeurstaal",
    "voorkeurskanaal": "Voorkeurskanaal",
    "partners": "Partner",
    "kinderen": "Kinderen",
    "ouders": "Ouders",
}
_ITEM_KEYS = ("identificatie", "nummer", "omschrijving", "onderwerp", "naam", "soort")
_STATUS = {
    CorrectionStatus.ONTVANGEN: "Ontvangen",
    CorrectionStatus.DOORGESTUURD: "In behandeling",
    CorrectionStatus.AFGEHANDELD: "Afgehandeld",
}


def correction_service(services: Services) -> CorrectionService:
    return CorrectionService(
        database=services.database,
        pseudonymizer=services.pseudonymizer,
        gateway=services.gateway,
        audit=services.audit,
        changes=services.changes,
        sources=services.sources.all_configs,
    )


def items_of(section: Sectie) -> list[str]:
    """What in this section a request can be about, as the customer reads it: a field, or an item."""
    data = section.gegevens
    if isinstance(data, dict):
        return [FIELD_LABELS.get(str(k), str(k)) for k, v in data.items() if v not in (None, "", [], {})]
    found: list[str] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        parts = [str(item[k]) for k in _ITEM_KEYS if item.get(k) not in (None, "", [], {})][:2]
        if parts:
            found.append(" – ".join(parts)[:200])
    return list(dict.fromkeys(found)) or [klantbeeld_view.label(section.categorie)]


def _own(mijn: Mijn, organisation: str) -> OwnContact | None:
    return next((o for o in mijn.contacts if o.organisation == organisation), None)


async def _section(
    mijn: Mijn,
    own: OwnContact,
    categorie: str,
    bron: str,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    trace: Trace,
) -> Sectie | None:
    """The shown section (status ok) of this category from this source, read afresh (that category
    alone)."""
    context = await own_context(mijn, own, contacts, trace)
    secties = (await klantbeeld.read(context, only=(categorie,))).secties
    return next(
        (s for s in secties if s.categorie == categorie and s.bron_id == bron and s.status == "ok"),
        None,
    )


def _unavailable(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Dit kan nu niet",
            "tekst": "Wij leggen vast wie uw gegevens bekijkt of wijzigt. Dat lukt nu niet. "
            "Probeer het over een paar minuten opnieuw.",
        },
        status=503,
    )


def _not_found(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Dit gegeven kunnen wij niet vinden",
            "tekst": "Ga naar Mijn gegevens en kies bij het gegeven dat niet klopt 'Klopt er iets niet?'.",
        },
        status=404,
    )


def _form(
    request: Request,
    own: OwnContact,
    section: Sectie,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    route_team: str | None = None,
    status: int = 200,
) -> Response:
    return render_mijn(
        request,
        "mijn/correctie_form.html",
        {
            "active": "/mijn/correctie",
            "own": own,
            "sectie": section,
            "sectie_label": klantbeeld_view.label(section.categorie),
            "onderdelen": items_of(section),
            "values": values or {},
            "errors": errors or {},
            "team": route_team,
            "max_text": MAX_TEXT,
        },
        status=status,
    )


@router.get("/mijn/correctie", name="mijn_correctie")
async def correctie(
    request: Request,
    mijn: MijnDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
    organisatie: str = "",
    categorie: str = "",
    bron: str = "",
    verstuurd: str = "",
) -> Response:
    corrections = correction_service(request.app.state.services)
    try:
        if organisatie or categorie or bron:
            own = _own(mijn, organisatie)
            if own is None:
                return _not_found(request)
            section = await _section(mijn, own, categorie, bron, contacts, klantbeeld, trace)
            if section is None:
                return _not_found(request)
            route = corrections.route(bron)
            return _form(request, own, section, route_team=route.team if route else None)
        requests = await _list(mijn, register, corrections, contacts, klantbeeld, trace)
    except AuditUnavailable:
        return _unavailable(request)
    return render_mijn(
        request,
        "mijn/correctie.html",
        {
            "active": "/mijn/correctie",
            "verzoeken": requests,
            "verstuurd": verstuurd[:40] if verstuurd.startswith("CV-") else None,
            "status_labels": _STATUS,
            "label": klantbeeld_view.label,
        },
    )


async def followed(
    context: RequestContext,
    corrections: CorrectionService,
    klantbeeld: KlantbeeldService,
    purpose_categories: Sequence[str],
    organisation: str,
    *,
    open_zaken: Sequence[dict[str, Any]] | None = None,
) -> list[CorrectionView]:
    """The customer's requests at one organisation as the owners' sources show them now (handled,
    waiting for an answer). Zaken the page did not read yet (`open_zaken` None) are read here, open
    and closed in one read of the Zaken source, only when a request went there as a zaak."""
    rows = await corrections.list_for(context, [organisation])
    closed: list[dict[str, Any]] | None = None
    wants_zaken = any(r.zaak_identificatie and r.status == CorrectionStatus.DOORGESTUURD for r in rows)
    if wants_zaken and open_zaken is None:
        only = tuple(c for c in (_LOPEND, _ZAKEN_HISTORIE) if c in purpose_categories)
        if only:
            read = await klantbeeld.read(context, only=only)
            open_zaken = _ok_items(read.secties, _LOPEND)
            closed = _ok_items(read.secties, _ZAKEN_HISTORIE)
    return await corrections.follow(context, rows, open_zaken=open_zaken, closed_zaken=closed)


def _ok_items(secties: Sequence[Sectie], categorie: str) -> list[dict[str, Any]] | None:
    """The items of a category's sections, None unless every one of them was read (status ok)."""
    found = [s for s in secties if s.categorie == categorie]
    if not found or any(s.status not in ("ok", "niet-gevonden") for s in found):
        return None
    return [i for s in found if isinstance(s.gegevens, list) for i in s.gegevens if isinstance(i, dict)]


async def _list(
    mijn: Mijn,
    register: Register,
    corrections: CorrectionService,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    trace: Trace,
) -> list[dict[str, Any]]:
    """The customer's requests of every organisation, newest first, each with its organisation."""
    found: list[dict[str, Any]] = []
    for own in mijn.contacts:
        context = await own_context(mijn, own, contacts, trace)
        purpose = register.get(own.purpose_id)
        views = await followed(
            context, corrections, klantbeeld, tuple(purpose.categorieen) if purpose else (), own.organisation
        )
        found.extend({"organisatie": own.organisation_name, "own": own, "verzoek": v} for v in views)
    found.sort(key=lambda f: f["verzoek"].ingediend_op, reverse=True)
    return found


def _detail(
    request: Request,
    item: dict[str, Any],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    melding: str | None = None,
    beantwoord: bool = False,
    status: int = 200,
) -> Response:
    return render_mijn(
        request,
        "mijn/correctie_verzoek.html",
        {
            "active": "/mijn/correctie",
            "item": item,
            "v": item["verzoek"],
            "status_labels": _STATUS,
            "label": klantbeeld_view.label,
            "values": values or {},
            "errors": errors or {},
            "melding": melding,
            "beantwoord": beantwoord,
            "max_antwoord": MAX_ANTWOORD,
        },
        status=status,
    )


@router.get("/mijn/correctie/{verzoek_id}", name="mijn_correctie_verzoek")
async def verzoek(
    request: Request,
    verzoek_id: str,
    mijn: MijnDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
    beantwoord: str = "",
) -> Response:
    """One request: its status and, when the owner asked something, the question and the answer form.
    Only among the customer's own requests (another id: not found)."""
    corrections = correction_service(request.app.state.services)
    try:
        requests = await _list(mijn, register, corrections, contacts, klantbeeld, trace)
    except AuditUnavailable:
        return _unavailable(request)
    item = next((f for f in requests if f["verzoek"].id == verzoek_id), None)
    if item is None:
        return _request_not_found(request)
    return _detail(request, item, beantwoord=beantwoord == "1")


@router.post("/mijn/correctie/{verzoek_id}/antwoord", name="mijn_correctie_antwoord")
async def antwoord(
    request: Request,
    verzoek_id: str,
    mijn: MijnCheckedDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
) -> Response:
    """The customer's answer to the question the request waits on now (read afresh): a request of
    someone else is not found (404); one that waits for no answer, or for another question than the
    form showed, is refused (409) with the page as it is now; nothing is written then."""
    form = await request.form()
    values = {"antwoord": _text(form, "antwoord"), "vraag": _text(form, "vraag")}
    corrections = correction_service(request.app.state.services)
    try:
        requests = await _list(mijn, register, corrections, contacts, klantbeeld, trace)
    except AuditUnavailable:
        return _unavailable(request)
    item = next((f for f in requests if f["verzoek"].id == verzoek_id), None)
    if item is None:
        return _request_not_found(request)
    view: CorrectionView = item["verzoek"]
    if view.vraag is None:
        return _detail(
            request, item, melding="Bij dit verzoek wachten wij niet op een antwoord van u.", status=409
        )
    if values["vraag"] != view.vraag.id:
        return _detail(
            request,
            item,
            values={"antwoord": values["antwoord"]},
            melding="De vraag is intussen veranderd. Lees de vraag hieronder en stuur uw antwoord opnieuw.",
            status=409,
        )
    errors: dict[str, str] = {}
    if not values["antwoord"]:
        errors["antwoord"] = "Uw antwoord: vul dit in."
    elif len(values["antwoord"]) > MAX_ANTWOORD:
        errors["antwoord"] = f"Uw antwoord: gebruik hoogstens {MAX_ANTWOORD} tekens."
    if errors:
        return _detail(request, item, values=values, errors=errors, status=400)
    own: OwnContact = item["own"]
    context = await own_context(mijn, own, contacts, trace)
    try:
        await corrections.answer(context, view, values["antwoord"])
    except CorrectionInvalid as exc:
        return _detail(
            request, item, values=values, errors={exc.field or "antwoord": exc.message}, status=400
        )
    except CorrectionNotSent as exc:
        return _detail(request, item, values=values, melding=exc.message, status=503)
    except AuditUnavailable:
        return _unavailable(request)
    return RedirectResponse(f"/mijn/correctie/{view.id}?beantwoord=1", status_code=303)


def _request_not_found(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Dit verzoek kunnen wij niet vinden",
            "tekst": "Ga naar 'Klopt er iets niet?' voor al uw verzoeken.",
        },
        status=404,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/mijn/correctie", name="mijn_correctie_submit")
async def submit(
    request: Request,
    mijn: MijnCheckedDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
) -> Response:
    form = await request.form()
    values = {
        k: _text(form, k)
        for k in ("organisatie", "categorie", "bron", "onderdeel", "watKloptNiet", "juisteGegevens")
    }
    own = _own(mijn, values["organisatie"])
    if own is None:
        return _not_found(request)
    corrections = correction_service(request.app.state.services)
    try:
        section = await _section(mijn, own, values["categorie"], values["bron"], contacts, klantbeeld, trace)
    except AuditUnavailable:
        return _unavailable(request)
    if section is None:  # not shown to this customer (crafted, or no longer there)
        return _not_found(request)
    route = corrections.route(values["bron"])
    errors: dict[str, str] = {}
    if values["onderdeel"] not in items_of(section):
        errors["onderdeel"] = "Om welk gegeven gaat het: kies een gegeven uit de lijst."
    if not values["watKloptNiet"]:
        errors["watKloptNiet"] = "Wat klopt er niet: vul dit in."
    elif len(values["watKloptNiet"]) > MAX_TEXT:
        errors["watKloptNiet"] = f"Wat klopt er niet: gebruik hoogstens {MAX_TEXT} tekens."
    if len(values["juisteGegevens"]) > MAX_TEXT:
        errors["juisteGegevens"] = f"Wat het moet zijn: gebruik hoogstens {MAX_TEXT} tekens."
    if errors:
        return _form(
            request,
            own,
            section,
            values=values,
            errors=errors,
            route_team=route.team if route else None,
            status=400,
        )
    context = await own_context(mijn, own, contacts, trace)
    try:
        saved = await corrections.submit(
            context,
            categorie=section.categorie,
            categorie_label=klantbeeld_view.label(section.categorie),
            bron_id=values["bron"],
            onderdeel=values["onderdeel"],
            wat_klopt_niet=values["watKloptNiet"],
            juiste_gegevens=values["juisteGegevens"] or None,
        )
    except CorrectionInvalid as exc:
        errors[exc.field or "watKloptNiet"] = exc.message
        return _form(
            request,
            own,
            section,
            values=values,
            errors=errors,
            route_team=route.team if route else None,
            status=400,
        )
    except AuditUnavailable:
        return _unavailable(request)
    return RedirectResponse(f"/mijn/correctie?verstuurd={saved.nummer}", status_code=303)
