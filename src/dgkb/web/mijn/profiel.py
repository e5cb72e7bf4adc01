"""Mijn profiel: the customer's e-mail addresses, phone numbers, preferred channel and language,
read through their own contact (PDP, gateway, access log) and written back to Klantinteracties by
the ProfileService (a write is decided and logged too). A new address first gets a code
(dgkb.profile.service). Every form names addresses by kind and value only; the subject is the
session's, so no field can point at someone else's partij."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, KlantbeeldDep, ProfileDep, RegisterDep
from dgkb.contacts.service import ContactService
from dgkb.domain.context import RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.register import Register
from dgkb.gateway import SourceMissing, SourceUnavailable
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.profile.inputs import LANGUAGES, ProfileInputError
from dgkb.profile.service import CONTACTGEGEVENS, VOORKEURSKANAAL, ProfileService, VerificationFailed
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import Mijn, MijnCheckedDep, MijnDep, OwnContact, own_context, render_mijn

router = APIRouter(include_in_schema=False)

PATH = "/mijn/profiel"
SOORT_LABEL = {"email": "e-mailadres", "telefoonnummer": "mobiel nummer"}
DONE = {
    "adres": "Uw nieuwe adres is opgeslagen.",
    "verwijderd": "Het adres is verwijderd.",
    "voorkeur": "Uw voorkeur is opgeslagen.",
}


def _writer(mijn: Mijn, register: Register) -> OwnContact | None:
    """The customer's own contact whose purpose may write contact details back (the register's
    `schrijven`); the first such organisation's (Klantinteracties is shared by the installation)."""
    for own in mijn.contacts:
        purpose = register.get(own.purpose_id)
        if purpose is not None and purpose.may_write(CONTACTGEGEVENS):
            return own
    return None


@dataclass(frozen=True)
class _Pages:
    """What every profile page and form uses: the request, the customer and the services."""

    request: Request
    mijn: Mijn
    register: Register
    contacts: ContactService
    klantbeeld: KlantbeeldService
    profile: ProfileService
    trace: Trace


async def _pages(
    request: Request,
    mijn: MijnDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    profile: ProfileDep,
    trace: TraceDep,
) -> _Pages:
    return _Pages(request, mijn, register, contacts, klantbeeld, profile, trace)


async def _checked_pages(
    request: Request,
    mijn: MijnCheckedDep,
    register: RegisterDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    profile: ProfileDep,
    trace: TraceDep,
) -> _Pages:
    """For the forms: the session's CSRF token checked (MijnCheckedDep)."""
    return _Pages(request, mijn, register, contacts, klantbeeld, profile, trace)


PagesDep = Annotated[_Pages, Depends(_pages)]
CheckedPagesDep = Annotated[_Pages, Depends(_checked_pages)]


async def _page(
    p: _Pages,
    *,
    fout: DomainError | None = None,
    waarden: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    request, mijn, register, contacts, klantbeeld, profile, trace = (
        p.request,
        p.mijn,
        p.register,
        p.contacts,
        p.klantbeeld,
        p.profile,
        p.trace,
    )
    own = _writer(mijn, register)
    ctx: dict[str, Any] = {
        "active": PATH,
        "own": own,
        "fout": fout.message if fout else None,
        "fout_veld": fout.field if fout else None,
        "waarden": waarden or {},
        "talen": LANGUAGES,
        "soort_label": SOORT_LABEL,
        "gedaan": DONE.get(request.query_params.get("gewijzigd", "")),
    }
    if own is None:
        return render_mijn(request, "mijn/profiel.html", {**ctx, "wijzigbaar": False}, status=status)
    context = await own_context(mijn, own, contacts, trace)
    try:
        kb = await klantbeeld.read(context, only=(CONTACTGEGEVENS, VOORKEURSKANAAL))
    except AuditUnavailable:
        return render_mijn(
            request,
            "mijn/fout.html",
            {
                "titel": "Uw profiel kan nu niet worden getoond",
                "tekst": "Wij leggen vast wie uw gegevens bekijkt. Dat lukt nu niet, daarom tonen wij niets. "
                "Probeer het over een paar minuten opnieuw.",
            },
            status=503,
        )
    sections = {s.categorie: s for s in kb.secties if s.categorie in (CONTACTGEGEVENS, VOORKEURSKANAAL)}
    contact = sections.get(CONTACTGEGEVENS)
    voorkeur = sections.get(VOORKEURSKANAAL)
    gegevens = contact.gegevens if contact is not None and contact.status == "ok" else None
    voorkeuren = voorkeur.gegevens if voorkeur is not None and voorkeur.status == "ok" else None
    adressen = [
        ("email", a)
        for a in ((gegevens or {}).get("emailadressen") or [])
        if isinstance(a, dict) and a.get("adres")
    ] + [
        ("telefoonnummer", a)
        for a in ((gegevens or {}).get("telefoonnummers") or [])
        if isinstance(a, dict) and a.get("adres")
    ]
    preferred = (voorkeuren or {}).get("voorkeursDigitaalAdres") or {}
    return render_mijn(
        request,
        "mijn/profiel.html",
        {
            **ctx,
            "wijzigbaar": await profile.may_write(context, CONTACTGEGEVENS),
            "voorkeur_wijzigbaar": await profile.may_write(context, VOORKEURSKANAAL),
            "status_contact": contact.status if contact is not None else "niet-toegestaan",
            "status_voorkeur": voorkeur.status if voorkeur is not None else "niet-toegestaan",
            "adressen": adressen,
            "voorkeur_adres": preferred.get("adres"),
            "voorkeur_soort": preferred.get("soortDigitaalAdres"),
            "taal": (voorkeuren or {}).get("voorkeurstaal"),
        },
        status=status,
    )


@router.get(PATH, name="mijn_profiel")
async def profiel(p: PagesDep) -> Response:
    return await _page(p)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:200] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


async def _change(
    p: _Pages,
    action: Callable[[RequestContext, OwnContact], Awaitable[str]],
    *,
    waarden: dict[str, str] | None = None,
) -> Response:
    """One change of the profile: only where the register lets the customer write; `action` does
    it in the customer's own contact and answers where to go next; a refusal is shown on the page."""
    own = _writer(p.mijn, p.register)
    if own is None:
        return await _page(p, status=403)
    context = await own_context(p.mijn, own, p.contacts, p.trace)
    try:
        target = await action(context, own)
    except DomainError as raised:
        error = _customer_error(raised)
        return await _page(p, fout=error, waarden=waarden, status=exc_status(error))
    return RedirectResponse(target, status_code=303)


@router.post(f"{PATH}/adres", name="mijn_profiel_adres")
async def nieuw_adres(p: CheckedPagesDep) -> Response:
    """A new e-mail address or mobile number: check it and send it a code; then ask for the code."""
    form = await _form(p.request)
    soort = form.get("soort", "")
    adres = form.get("email" if soort == "email" else "telefoon", "")

    async def start(context: RequestContext, own: OwnContact) -> str:
        pending = await p.profile.start(
            context, soort=soort, adres=adres, organisation_name=own.organisation_name
        )
        return f"{PATH}/bevestigen/{pending.id}"

    return await _change(p, start, waarden=form)


def exc_status(exc: DomainError) -> int:
    return int(getattr(exc, "status", 400))


class _Unavailable(DomainError):
    status = 503


def _customer_error(exc: DomainError) -> DomainError:
    """What the customer is told: their own input errors as they are; an outage (a source, the
    log, no source configured) as one plain sentence, without naming systems."""
    if isinstance(exc, SourceUnavailable | SourceMissing | AuditUnavailable):
        return _Unavailable("Opslaan lukt nu niet. Probeer het over een paar minuten opnieuw.")
    return exc


@router.get(PATH + "/bevestigen/{verification_id}", name="mijn_profiel_code")
async def code_page(
    request: Request,
    verification_id: str,
    mijn: MijnDep,
    register: RegisterDep,
    contacts: ContactsDep,
    profile: ProfileDep,
    trace: TraceDep,
) -> Response:
    own = _writer(mijn, register)
    if own is None:
        return RedirectResponse(PATH, status_code=303)
    pending = await profile.pending(await own_context(mijn, own, contacts, trace), verification_id)
    if pending is None:
        return render_mijn(
            request,
            "mijn/profiel_code.html",
            {
                "active": PATH,
                "pending": None,
                "fout": "Deze code is niet meer geldig. Vraag een nieuwe code aan.",
            },
            status=404,
        )
    return render_mijn(
        request, "mijn/profiel_code.html", {"active": PATH, "pending": pending, "soort_label": SOORT_LABEL}
    )


@router.post(PATH + "/bevestigen/{verification_id}", name="mijn_profiel_bevestigen")
async def bevestigen(
    request: Request,
    verification_id: str,
    mijn: MijnCheckedDep,
    register: RegisterDep,
    contacts: ContactsDep,
    profile: ProfileDep,
    trace: TraceDep,
) -> Response:
    own = _writer(mijn, register)
    if own is None:
        return RedirectResponse(PATH, status_code=303)
    form = await _form(request)
    context = await own_context(mijn, own, contacts, trace)
    try:
        await profile.confirm(context, verification_id, form.get("code", ""))
    except VerificationFailed as exc:
        pending = await profile.pending(context, verification_id)
        return render_mijn(
            request,
            "mijn/profiel_code.html",
            {"active": PATH, "pending": pending, "fout": exc.message, "soort_label": SOORT_LABEL},
            status=400,
        )
    except DomainError as exc:
        error = _customer_error(exc)
        return render_mijn(
            request,
            "mijn/profiel_code.html",
            {
                "active": PATH,
                "pending": await profile.pending(context, verification_id),
                "fout": error.message,
                "soort_label": SOORT_LABEL,
            },
            status=exc_status(error),
        )
    return RedirectResponse(f"{PATH}?gewijzigd=adres", status_code=303)


@router.post(f"{PATH}/verwijderen", name="mijn_profiel_verwijderen")
async def verwijderen(p: CheckedPagesDep) -> Response:
    form = await _form(p.request)

    async def remove(context: RequestContext, own: OwnContact) -> str:
        await p.profile.remove(context, soort=form.get("soort", ""), adres=form.get("adres", ""))
        return f"{PATH}?gewijzigd=verwijderd"

    return await _change(p, remove)


@router.post(f"{PATH}/voorkeur", name="mijn_profiel_voorkeur")
async def voorkeur(p: CheckedPagesDep) -> Response:
    """The preferred address ("soort|adres" of one of the customer's own addresses) and language."""
    form = await _form(p.request)
    soort, sep, adres = form.get("voorkeur", "").partition("|")
    preferred = (soort, adres) if sep and adres else None
    taal = form.get("taal") or None

    async def set_preferences(context: RequestContext, own: OwnContact) -> str:
        if preferred is None and taal is None:
            raise ProfileInputError("Kies bij Voorkeur een adres of bij Taal een taal.", field="voorkeur")
        await p.profile.set_preferences(context, preferred=preferred, language=taal)
        return f"{PATH}?gewijzigd=voorkeur"

    return await _change(p, set_preferences)
