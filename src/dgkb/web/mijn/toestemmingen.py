"""Toestemmingen: the customer's consents per organisation and purpose, with their expiry; give and
withdraw them online. The rules are ConsentService's, the same as when an employee records consent
in a contact (and audited the same way); the customer acts in their own contact of each
organisation, so the subject is the logged-in one and a consent of someone else is not found.
A withdrawal takes effect at the next decision, for anyone who reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ChangesDep, ConsentDep, ContactsDep, RegisterDep
from dgkb.consent.service import Consent, ConsentForbidden, ConsentNotFound, ConsentService
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.web.deps import AMSTERDAM, TraceDep
from dgkb.web.klantbeeld_view import label
from dgkb.web.mijn.deps import Mijn, MijnCheckedDep, MijnDep, OwnContact, own_contexts, render_mijn

router = APIRouter(include_in_schema=False)

PATH = "/mijn/toestemmingen"
FIELD_LABELS = {
    "categorieen": "Gegevens",
    "vervaltOp": "Geldig tot en met",
    "geldig_tot": "Geldig tot en met",
    "verwerkingsactiviteit": "Doel",
    "organisatie": "Organisatie",
    "id": "Toestemming",
    "zekerheid": "Inloggen",
}
MELDINGEN = {
    "gegeven": "Uw toestemming is vastgelegd. Vanaf nu mogen medewerkers deze gegevens voor dit doel zien.",
    "ingetrokken": "Uw toestemming is ingetrokken. Vanaf nu zien medewerkers deze gegevens niet meer.",
}


@dataclass(frozen=True)
class ConsentRow:
    id: str
    doel: str
    gegevens: list[str]
    gegeven_op: datetime
    verloopt_op: datetime | None
    ingetrokken_op: datetime | None
    actief: bool


@dataclass(frozen=True)
class Offer:
    doel_id: str
    doel: str
    omschrijving: str
    categorieen: list[tuple[str, str]]  # (id, label)


@dataclass(frozen=True)
class Organisation:
    own: OwnContact
    actief: list[ConsentRow]
    eerder: list[ConsentRow]
    aanbod: list[Offer]


def _row(c: Consent, register: Register, now: datetime) -> ConsentRow:
    purpose = register.get(c.processing_activity_id)
    return ConsentRow(
        id=c.id,
        doel=purpose.naam if purpose else c.processing_activity_id,
        gegevens=[label(cat) for cat in c.categories],
        gegeven_op=c.given_at,
        verloopt_op=c.expires_at,
        ingetrokken_op=c.withdrawn_at,
        actief=c.active_at(now),
    )


def _offer(purpose: Verwerkingsactiviteit, categories: tuple[str, ...]) -> Offer:
    return Offer(
        doel_id=purpose.id,
        doel=purpose.naam,
        omschrijving=purpose.omschrijving,
        categorieen=[(c, label(c)) for c in categories],
    )


async def _organisations(
    contexts: list[RequestContext], mijn: Mijn, consent: ConsentService, register: Register
) -> list[Organisation]:
    now = datetime.now(UTC)
    found = []
    for own, context in zip(mijn.contacts, contexts, strict=True):
        rows = [_row(c, register, now) for c in await consent.list_for(context)]
        found.append(
            Organisation(
                own=own,
                actief=[r for r in rows if r.actief],
                eerder=[r for r in rows if not r.actief],
                aanbod=[_offer(p, cats) for p, cats in consent.offer_own(context)],
            )
        )
    return found


async def _page(
    request: Request,
    mijn: Mijn,
    contexts: list[RequestContext],
    consent: ConsentService,
    register: Register,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    return render_mijn(
        request,
        "mijn/toestemmingen.html",
        {
            "active": PATH,
            "organisaties": await _organisations(contexts, mijn, consent, register),
            "melding": MELDINGEN.get(request.query_params.get("melding", "")),
            **extra,
        },
        status=status,
    )


def _message(exc: DomainError) -> str:
    """The message for the customer, naming the field it is about."""
    name = FIELD_LABELS.get(exc.field or "")
    return f"{name}: {exc.message}" if name else exc.message[:1].upper() + exc.message[1:]


def _unavailable(request: Request) -> Response:
    return render_mijn(
        request,
        "mijn/fout.html",
        {
            "titel": "Dat lukt nu niet",
            "tekst": "Wij leggen alles vast wat met uw toestemmingen gebeurt. Dat lukt nu niet, daarom is "
            "er niets veranderd. Probeer het over een paar minuten opnieuw.",
        },
        status=503,
    )


@router.get(PATH, name="mijn_toestemmingen")
async def toestemmingen(
    request: Request,
    mijn: MijnDep,
    contacts: ContactsDep,
    consent: ConsentDep,
    changes: ChangesDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    contexts = await own_contexts(mijn, contacts, trace)
    return await _page(request, mijn, contexts, consent, register)


def _expiry(text: str) -> datetime | None:
    """ "Geldig tot en met" a day: the consent ends when that day (in the Netherlands) is over."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2999:
        raise DomainError("dit is geen geldige datum. Gebruik de vorm jjjj-mm-dd.", field="geldig_tot")
    if day < datetime.now(AMSTERDAM).date():
        raise DomainError("deze datum is al voorbij. Kies vandaag of later.", field="geldig_tot")
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=AMSTERDAM).astimezone(UTC)


@router.post(PATH, name="mijn_toestemming_geven")
async def give(
    request: Request,
    mijn: MijnCheckedDep,
    contacts: ContactsDep,
    consent: ConsentDep,
    changes: ChangesDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    form = await request.form()
    organisatie = str(form.get("organisatie", ""))
    doel = str(form.get("doel", ""))
    categories = [str(v) for v in form.getlist("categorie")][:20]
    contexts = await own_contexts(mijn, contacts, trace)
    try:
        chosen = [
            c for own, c in zip(mijn.contacts, contexts, strict=True) if own.organisation == organisatie
        ]
        if not chosen:
            raise DomainError("kies een organisatie uit de lijst.", field="organisatie")
        if not categories:
            raise DomainError("kies de gegevens waarvoor u toestemming geeft.", field="categorieen")
        await consent.give(
            chosen[0],
            categories=categories,
            expires_at=_expiry(str(form.get("geldig_tot", ""))),
            purpose_id=doel,
        )
        await changes.publish_change(chosen[0].subject, categories, "dgkb")
    except AuditUnavailable:
        return _unavailable(request)
    except DomainError as exc:
        status = int(getattr(exc, "status", 400))
        return await _page(
            request, mijn, contexts, consent, register, status=status, fout=_message(exc), veld=exc.field
        )
    return RedirectResponse(f"{PATH}?melding=gegeven", status_code=303)


@router.post(PATH + "/{toestemming_id}/intrekken", name="mijn_toestemming_intrekken")
async def withdraw(
    request: Request,
    toestemming_id: str,
    mijn: MijnCheckedDep,
    contacts: ContactsDep,
    consent: ConsentDep,
    changes: ChangesDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    contexts = await own_contexts(mijn, contacts, trace)
    try:
        for context in contexts:  # the consent belongs to a purpose of one of the organisations
            try:
                withdrawn = await consent.withdraw(context, toestemming_id[:64])
                # open views of this customer (an agent's) re-read now: the section disappears
                await changes.publish_change(context.subject, withdrawn.categories, "dgkb")
                break
            except ConsentForbidden as exc:
                if exc.reason != "CONSENT_OTHER_ORGANISATION":
                    raise
        else:
            raise ConsentNotFound("deze toestemming hebben wij niet van u.", field="id")
    except AuditUnavailable:
        return _unavailable(request)
    except ConsentNotFound as exc:
        exc.message = "deze toestemming hebben wij niet van u."
        return await _page(
            request, mijn, contexts, consent, register, status=404, fout=_message(exc), veld="id"
        )
    except DomainError as exc:
        status = int(getattr(exc, "status", 400))
        return await _page(
            request, mijn, contexts, consent, register, status=status, fout=_message(exc), veld=exc.field
        )
    return RedirectResponse(f"{PATH}?melding=ingetrokken", status_code=303)
