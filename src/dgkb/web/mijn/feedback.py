"""Feedback en klachten (issue 14, part 12): after a contact or a closed zaak the customer gives a
rating (1–5), answers the NPS question (0–10) and may add a text, stored in DGKB's feedback store
and linked to that contact or zaak; and a complaint form (klacht, Awb chapter 9) whose status the
customer follows.

Only the customer's own contacts and zaken can be rated: the choices come from the customer's own
klantbeeld (through the PDP and the access log, like Mijn gegevens), and a posted choice is checked
against a fresh read of it — a crafted id of someone else's contact or zaak is refused (400). Which
organisations take ratings or complaints here is the register's: an own-view purpose that includes
`beleving.oordeel` (ratings) or `feedback.klachten` (complaints, and the list of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, FeedbackDep, KlantbeeldDep, RegisterDep
from dgkb.contacts.service import ContactService
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import RequestContext, Trace
from dgkb.domain.register import Register
from dgkb.feedback.service import FeedbackInvalid, FeedbackService, FeedbackSoort
from dgkb.klantbeeld.schemas import Sectie
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import Mijn, MijnCheckedDep, MijnDep, OwnContact, own_context, render_mijn

router = APIRouter(include_in_schema=False)

RATING = "beleving.oordeel"
COMPLAINTS = "feedback.klachten"
_READ = ("contact.historie", "dienst.zaken-historie", COMPLAINTS)
MAX_TOELICHTING = 1000  # the ratings store's column (and the API's maxLength)
MAX_ONDERWERP = 200
MAX_OMSCHRIJVING = 10_000
_WRITTEN = {"e-mail": Kanaal.EMAIL, "brief": Kanaal.BRIEF}
_STATUS_LABELS = {
    "ontvangen": "Ontvangen",
    "in-behandeling": "In behandeling",
    "hoorzitting": "U wordt gehoord",
    "afgehandeld": "Afgehandeld",
    "ingetrokken": "Ingetrokken",
}


@dataclass
class _Choice:
    value: str  # "<oin>|klantcontact|<nummer>" or "<oin>|zaak|<identificatie>"
    label: str


@dataclass
class _Page:
    rating_orgs: list[OwnContact] = field(default_factory=list)
    complaint_orgs: list[OwnContact] = field(default_factory=list)
    choices: list[_Choice] = field(default_factory=list)
    klachten: list[dict[str, Any]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # organisations whose data could not be read


def _has(register: Register, own: OwnContact, category: str) -> bool:
    purpose = register.get(own.purpose_id)
    return purpose is not None and category in purpose.categorieen


def _sections(secties: list[Sectie], category: str) -> list[Sectie]:
    return [s for s in secties if s.categorie == category]


def _choices(own: OwnContact, secties: list[Sectie]) -> list[_Choice]:
    """The customer's own contacts and closed zaken at this organisation, as the klantbeeld shows them."""
    found: list[_Choice] = []
    for s in _sections(secties, "contact.historie"):
        for c in s.gegevens if s.status == "ok" and isinstance(s.gegevens, list) else []:
            if isinstance(c, dict) and c.get("nummer"):
                when = str(c.get("plaatsgevondenOp") or "")[:10]
                found.append(
                    _Choice(
                        f"{own.organisation}|klantcontact|{c['nummer']}",
                        f"Contact {when} via {c.get('kanaal') or 'onbekend'}: {c.get('onderwerp') or ''}",
                    )
                )
    for s in _sections(secties, "dienst.zaken-historie"):
        for z in s.gegevens if s.status == "ok" and isinstance(s.gegevens, list) else []:
            if isinstance(z, dict) and z.get("identificatie"):
                found.append(
                    _Choice(
                        f"{own.organisation}|zaak|{z['identificatie']}",
                        f"Zaak {z['identificatie']}: {z.get('omschrijving') or ''}",
                    )
                )
    return found


async def _read(
    mijn: Mijn,
    register: Register,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    trace: Trace,
) -> _Page:
    page = _Page(
        rating_orgs=[o for o in mijn.contacts if _has(register, o, RATING)],
        complaint_orgs=[
            o
            for o in mijn.contacts
            if _has(register, o, COMPLAINTS) and register.handling_purpose(o.organisation, "klacht")
        ],
    )
    wanted = list(dict.fromkeys([*page.rating_orgs, *page.complaint_orgs]))

    async def read(own: OwnContact) -> list[Sectie]:
        # only what this page shows: the contacts and closed zaken to rate, the complaints
        context = await own_context(mijn, own, contacts, trace)
        return (await klantbeeld.read(context, only=_READ)).secties

    views = await asyncio.gather(*(read(own) for own in wanted))
    for own, secties in zip(wanted, views, strict=True):
        if own in page.rating_orgs:
            page.choices.extend(_choices(own, secties))
        for s in _sections(secties, COMPLAINTS):
            if s.status == "ok" and isinstance(s.gegevens, list):
                page.klachten.extend(
                    {
                        **k,
                        "organisatie": own.organisation_name,
                        "statusLabel": _STATUS_LABELS.get(str(k.get("status"))),
                    }
                    for k in s.gegevens
                    if isinstance(k, dict)
                )
            elif s.status not in ("ok", "niet-gevonden") and own in page.complaint_orgs:
                page.unavailable.append(own.organisation_name)
    return page


def _render(
    request: Request,
    page: _Page,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    form: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    return render_mijn(
        request,
        "mijn/feedback.html",
        {
            "active": "/mijn/feedback",
            "page": page,
            "errors": errors or {},
            "values": values or {},
            "form": form,
            "done": done,
            "max_toelichting": MAX_TOELICHTING,
            "max_onderwerp": MAX_ONDERWERP,
            "max_omschrijving": MAX_OMSCHRIJVING,
        },
        status=status,
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


@router.get("/mijn/feedback", name="mijn_feedback")
async def feedback_page(
    request: Request,
    mijn: MijnDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    trace: TraceDep,
    over: str = "",
    verstuurd: str = "",
) -> Response:
    try:
        page = await _read(mijn, register, contacts, klantbeeld, trace)
    except AuditUnavailable:
        return _unavailable(request)
    values = {"over": over} if any(c.value == over for c in page.choices) else {}
    return _render(
        request, page, values=values, done=verstuurd if verstuurd in ("beoordeling", "klacht") else None
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, name: str, low: int, high: int, message: str, errors: dict[str, str]) -> int:
    raw = _text(form, name)
    if not raw.isdigit() or not low <= int(raw) <= high:
        errors[name] = message
        return low
    return int(raw)


@dataclass(frozen=True)
class _Posted:
    """A posted feedback form: the customer (CSRF checked), the services it needs, and its fields."""

    request: Request
    mijn: Mijn
    register: Register
    contacts: ContactService
    klantbeeld: KlantbeeldService
    feedback: FeedbackService
    trace: Trace


async def _posted(
    request: Request,
    mijn: MijnCheckedDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    feedback: FeedbackDep,
    trace: TraceDep,
) -> _Posted:
    return _Posted(request, mijn, register, contacts, klantbeeld, feedback, trace)


PostedDep = Annotated[_Posted, Depends(_posted)]


async def _open(p: _Posted, names: tuple[str, ...]) -> tuple[FormData, dict[str, str], _Page] | Response:
    """The form's fields and the page it was sent from, read afresh (its choices are the check
    against crafted ids); the 503 page when that read cannot be logged."""
    form = await p.request.form()
    values = {k: _text(form, k) for k in names}
    try:
        page = await _read(p.mijn, p.register, p.contacts, p.klantbeeld, p.trace)
    except AuditUnavailable:
        return _unavailable(p.request)
    return form, values, page


async def _send(
    p: _Posted,
    own: OwnContact,
    write: Callable[[RequestContext], Awaitable[object]],
    *,
    page: _Page,
    values: dict[str, str],
    form: str,
    field: str,
) -> Response:
    """Write the checked form under the customer's own contact with `own`'s organisation; the
    store's own refusal is shown at `field` (or the field it names)."""
    context = await own_context(p.mijn, own, p.contacts, p.trace)
    try:
        await write(context)
    except FeedbackInvalid as exc:
        errors = {exc.field or field: exc.message}
        return _render(p.request, page, errors=errors, values=values, form=form, status=400)
    except AuditUnavailable:
        return _unavailable(p.request)
    return RedirectResponse(f"/mijn/feedback?verstuurd={form}", status_code=303)


@router.post("/mijn/feedback/beoordeling", name="mijn_feedback_rating")
async def rate(p: PostedDep) -> Response:
    opened = await _open(p, ("over", "waardering", "score", "toelichting"))
    if isinstance(opened, Response):
        return opened
    form, values, page = opened
    errors: dict[str, str] = {}
    chosen = next((c for c in page.choices if c.value == values["over"]), None)
    if not values["over"]:
        errors["over"] = "Waarover gaat uw mening: kies een contact of een zaak."
    elif chosen is None:  # not one of the customer's own contacts or zaken (crafted, or gone)
        errors["over"] = "Waarover gaat uw mening: kies een contact of zaak uit de lijst."
    waardering = _number(form, "waardering", 1, 5, "Waardering: kies 1 tot en met 5 sterren.", errors)
    score = _number(form, "score", 0, 10, "Aanbevelen: kies een cijfer van 0 tot en met 10.", errors)
    if len(values["toelichting"]) > MAX_TOELICHTING:
        errors["toelichting"] = f"Toelichting: gebruik hoogstens {MAX_TOELICHTING} tekens."
    if errors or chosen is None:
        return _render(p.request, page, errors=errors, values=values, form="beoordeling", status=400)
    oin, soort, ident = chosen.value.split("|", 2)
    own = next(o for o in page.rating_orgs if o.organisation == oin)
    return await _send(
        p,
        own,
        lambda context: p.feedback.record_rating(
            context,
            score=score,
            toelichting=values["toelichting"] or None,
            onderwerp=chosen.label[:200],
            waardering=waardering,
            gekoppeld=(soort, ident),
        ),
        page=page,
        values=values,
        form="beoordeling",
        field="over",
    )


@router.post("/mijn/feedback/klacht", name="mijn_feedback_complaint")
async def complain(p: PostedDep) -> Response:
    opened = await _open(p, ("organisatie", "onderwerp", "omschrijving", "antwoord"))
    if isinstance(opened, Response):
        return opened
    _form, values, page = opened
    errors: dict[str, str] = {}
    own = next((o for o in page.complaint_orgs if o.organisation == values["organisatie"]), None)
    if own is None:
        errors["organisatie"] = "Organisatie: kies de organisatie waarover u een klacht heeft."
    if not values["onderwerp"]:
        errors["onderwerp"] = "Onderwerp: schrijf kort waarover uw klacht gaat."
    elif len(values["onderwerp"]) > MAX_ONDERWERP:
        errors["onderwerp"] = f"Onderwerp: gebruik hoogstens {MAX_ONDERWERP} tekens."
    if not values["omschrijving"]:
        errors["omschrijving"] = "Uw klacht: vertel wat er is gebeurd."
    elif len(values["omschrijving"]) > MAX_OMSCHRIJVING:
        errors["omschrijving"] = f"Uw klacht: gebruik hoogstens {MAX_OMSCHRIJVING} tekens."
    if values["antwoord"] and values["antwoord"] not in _WRITTEN:
        errors["antwoord"] = "Antwoord: kies e-mail of brief."
    if errors or own is None:
        return _render(p.request, page, errors=errors, values=values, form="klacht", status=400)
    return await _send(
        p,
        own,
        lambda context: p.feedback.submit(
            context,
            soort=FeedbackSoort.KLACHT,
            onderwerp=values["onderwerp"],
            omschrijving=values["omschrijving"],
            locatie=None,
            voorkeurskanaal=_WRITTEN.get(values["antwoord"]),
        ),
        page=page,
        values=values,
        form="klacht",
        field="omschrijving",
    )
