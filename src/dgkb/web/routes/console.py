"""The agent's screen: start a contact, find and verify the customer, choose the purpose, klantbeeld."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

import dgkb.web.klantbeeld_view as klantbeeld_view
from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import (
    ConfirmationsDep,
    ConsentDep,
    ContactsDep,
    DatabaseDep,
    DocumentsDep,
    HubDep,
    IdentificationDep,
    KlantbeeldDep,
    PseudonymizerDep,
    RegisterDep,
    SearchDep,
)
from dgkb.composition.live_view import live_view_response
from dgkb.consent.service import ConsentOffer, ConsentService
from dgkb.contacts.confirmation import ConfirmationService
from dgkb.contacts.documents import DocumentKind, document_number
from dgkb.contacts.service import ContactService, ContactView
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.klantbeeld.schemas import Klantbeeld
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.search.query import InvalidSearch, QueryKind, SearchQuery, parse_query
from dgkb.search.service import SearchScope
from dgkb.sources.base import SourceError
from dgkb.store.db import Database
from dgkb.web.deps import (
    AMSTERDAM,
    CheckedDep,
    SessionDep,
    TraceDep,
    actor_of,
    is_htmx,
    render,
    web_state,
)
from dgkb.web.session import WebSession

router = APIRouter(include_in_schema=False)

KANALEN: tuple[tuple[str, str], ...] = (
    (Kanaal.TELEFOON.value, "Telefoon"),
    (Kanaal.BALIE.value, "Balie"),
    (Kanaal.EMAIL.value, "E-mail"),
    (Kanaal.CHAT.value, "Chat"),
    (Kanaal.WEBFORMULIER.value, "Webformulier"),
    (Kanaal.BRIEF.value, "Brief"),
    (Kanaal.SOCIAL_MEDIA.value, "Sociale media"),
)
KANAAL_LABELS = dict(KANALEN) | {Kanaal.BACKOFFICE.value: "Behandeling zaak"}
# channels where the customer is logged in with DigiD / eHerkenning on our side
DIGITAL = frozenset({Kanaal.CHAT.value, Kanaal.WEBFORMULIER.value, Kanaal.EMAIL.value})
_ERROR_TEXT = {
    AuditUnavailable: "Het toegangslog kan nu niet worden geschreven; daarom wordt niets getoond.",
}


def alert(request: Request, message: str, *, status: int = 400) -> Response:
    """An error shown in the page's message area (htmx) or as a page."""
    if is_htmx(request):
        response = render(request, "partials/melding.html", {"melding": message, "soort": "error"})
        response.headers["HX-Retarget"] = "#meldingen"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "fout.html", {"titel": "Dat lukte niet", "tekst": message}, status=status)


def error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, AuditUnavailable):
        return _ERROR_TEXT[AuditUnavailable]
    if isinstance(exc, SourceError):
        return str(exc) or "Een bron is nu niet bereikbaar."
    return "Er ging iets mis."


FAILURES = (DomainError, SourceError, AuditUnavailable)


def purposes_for(register: Register, actor: Actor) -> list[Verwerkingsactiviteit]:
    """The register's purposes this employee may choose for a contact (not identification itself)."""
    return [
        va
        for va in register.for_organisation(actor.organisation)
        if actor.role in va.rollen and not va.identificatie
    ]


def _klant(session: WebSession, contact_id: str) -> dict[str, Any]:
    klant: dict[str, Any] = session.data.get("contacten", {}).get(contact_id, {})
    return klant


async def _remember(
    request: Request, database: Database, session: WebSession, contact_id: str, **values: Any
) -> None:
    contacten = session.data.setdefault("contacten", {})
    # keep only a handful of contacts' display state per browser session
    if contact_id not in contacten and len(contacten) >= 20:
        contacten.pop(next(iter(contacten)))
    contacten.setdefault(contact_id, {}).update(values)
    await web_state(request).sessions.save_data(database, session)


def contact_context(register: Register, session: WebSession, view: ContactView) -> dict[str, Any]:
    actor = actor_of(session)
    purpose = register.get(view.verwerkingsactiviteit) if view.verwerkingsactiviteit else None
    step = "klantbeeld" if view.geidentificeerd and purpose else "doel" if view.geidentificeerd else "zoeken"
    return {
        "contact": view,
        "klant": _klant(session, view.id),
        "doel": purpose,
        "stap": step,
        "kanaal_label": KANAAL_LABELS.get(view.kanaal, view.kanaal),
        "zekerheid_label": Assurance(view.zekerheid).label if view.zekerheid else None,
        "doelen": purposes_for(register, actor),
        "digitaal": view.kanaal in DIGITAL,
    }


# --- pages ------------------------------------------------------------------------------------------


@router.get("/", name="home")
async def home(request: Request, session: SessionDep) -> Response:
    actor = actor_of(session)
    if actor.role is Role.PRIVACY:
        return RedirectResponse("/privacy", status_code=303)
    if actor.role is Role.BEHEERDER:
        return RedirectResponse("/beheer", status_code=303)
    if actor.role is Role.TEAMLEIDER:
        return RedirectResponse("/dashboard", status_code=303)
    return render(request, "start.html", {"kanalen": KANALEN})


@router.post("/contacten", name="start_contact")
async def start_contact(
    request: Request,
    session: CheckedDep,
    contacts: ContactsDep,
    kanaal: str = Form(...),
    reden: str = Form(""),
) -> Response:
    try:
        view = await contacts.start(
            actor_of(session), kanaal=Kanaal(kanaal), reden=reden.strip()[:500] or None
        )
    except ValueError:
        return alert(request, "Kies een kanaal uit de lijst.")
    except FAILURES as exc:
        return alert(request, error_text(exc))
    target = f"/contacten/{view.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/contacten/{contact_id}", name="contact")
async def contact_page(
    request: Request, contact_id: str, session: SessionDep, contacts: ContactsDep, register: RegisterDep
) -> Response:
    try:
        view = await contacts.get(actor_of(session), contact_id)
    except FAILURES as exc:
        return alert(request, error_text(exc), status=int(getattr(exc, "status", 400)))
    return render(request, "contact.html", contact_context(register, session, view))


# --- find the customer ------------------------------------------------------------------------------


def _explicit_query(form: dict[str, str]) -> SearchQuery | None:
    """The explicit search form: exactly one way filled in."""
    naam, geboren = form.get("geslachtsnaam", "").strip(), form.get("geboortedatum", "").strip()
    postcode, huisnummer = (
        form.get("postcode", "").replace(" ", "").upper(),
        form.get("huisnummer", "").strip(),
    )
    if naam or geboren:
        if not (naam and geboren):
            raise InvalidSearch("vul achternaam én geboortedatum in", field="geslachtsnaam")
        try:
            born = date.fromisoformat(geboren)
        except ValueError:
            raise InvalidSearch("geboortedatum is geen geldige datum", field="geboortedatum") from None
        return SearchQuery(QueryKind.NAAM_GEBOORTEDATUM, naam, geslachtsnaam=naam, geboortedatum=born)
    if postcode or huisnummer:
        if not (postcode and huisnummer.isdigit()):
            raise InvalidSearch("vul postcode én huisnummer in", field="postcode")
        return SearchQuery(
            QueryKind.POSTCODE_HUISNUMMER, postcode, postcode=postcode, huisnummer=int(huisnummer)
        )
    for name in ("kvk", "telefoon", "email", "bedrijfsnaam"):
        value = form.get(name, "").strip()
        if value:
            return (
                parse_query(value) if name != "bedrijfsnaam" else SearchQuery(QueryKind.BEDRIJFSNAAM, value)
            )
    return None


@router.post("/contacten/{contact_id}/zoeken", name="search")
async def search(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    contacts: ContactsDep,
    customers: SearchDep,
    trace: TraceDep,
) -> Response:
    actor = actor_of(session)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        zoekterm = form.get("zoekterm", "").strip()
        query = parse_query(zoekterm) if zoekterm else _explicit_query(form)
        if query is None:
            raise InvalidSearch("typ een zoekterm of vul het zoekformulier in", field="zoekterm")
        decided = await contacts.identification_scope(actor, contact_id)
        result = await customers.search(
            SearchScope(
                actor=actor,
                channel=decided.channel,
                purpose_id=decided.purpose_id,
                trace=trace,
                contact_id=contact_id,
                subject_kinds=decided.subject_kinds,
            ),
            query,
        )
    except FAILURES as exc:
        return alert(request, error_text(exc))
    return render(
        request,
        "partials/zoekresultaten.html",
        {"result": result, "contact_id": contact_id, "begrepen": _understood(result.query.kind)},
    )


def _understood(kind: QueryKind) -> str:
    return {
        QueryKind.BSN: "BSN",
        QueryKind.KVK: "KVK-nummer",
        QueryKind.VESTIGING: "vestigingsnummer",
        QueryKind.NAAM_GEBOORTEDATUM: "achternaam en geboortedatum",
        QueryKind.POSTCODE_HUISNUMMER: "postcode en huisnummer",
        QueryKind.TELEFOON: "telefoonnummer",
        QueryKind.EMAIL: "e-mailadres",
        QueryKind.BEDRIJFSNAAM: "bedrijfsnaam",
    }[kind]


_MAKERS = {
    SubjectKind.BSN: Subject.person,
    SubjectKind.KVK: Subject.business,
    SubjectKind.VESTIGING: Subject.establishment,
}


def _subject(soort: str, waarde: str) -> Subject:
    """A subject from the picked search result (validated: 11-proef, lengths)."""
    return _MAKERS[SubjectKind(soort)](waarde.strip())


@router.post("/contacten/{contact_id}/kies", name="choose_customer")
async def choose_customer(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    contacts: ContactsDep,
    identification: IdentificationDep,
    soort: str = Form(...),
    waarde: str = Form(...),
    naam: str = Form(""),
    afgeschermd: str = Form(""),
) -> Response:
    actor = actor_of(session)
    try:
        kind = SubjectKind(soort)
        view = await contacts.get(actor, contact_id)
        vragen = await identification.questions(actor, contact_id, kind)
    except ValueError:
        return alert(request, "Onbekende soort klant.")
    except FAILURES as exc:
        return alert(request, error_text(exc))
    return render(
        request,
        "partials/identificeren.html",
        {
            "contact_id": contact_id,
            "soort": kind.value,
            "waarde": waarde,
            "naam": naam[:200],
            "afgeschermd": afgeschermd == "ja",
            "vragen": vragen,
            "digitaal": view.kanaal in DIGITAL,
            "inlog": "DigiD" if kind is SubjectKind.BSN else "eHerkenning",
            # a passport or identity card can be checked in BRP Reisdocumenten only in person
            "balie": view.kanaal == Kanaal.BALIE.value and kind is SubjectKind.BSN,
        },
    )


@router.post("/contacten/{contact_id}/controlevragen", name="control_answers")
async def control_answers(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    identification: IdentificationDep,
    trace: TraceDep,
    soort: str = Form(...),
    waarde: str = Form(...),
    naam: str = Form(""),
    digitaal: str = Form(""),
) -> Response:
    try:
        subject = _subject(soort, waarde)
        vragen = await identification.answers(actor_of(session), contact_id, subject, trace=trace)
    except ValueError:
        return alert(request, "Onbekende soort klant.")
    except FAILURES as exc:
        return alert(request, error_text(exc))
    return render(
        request,
        "partials/controle_antwoorden.html",
        {
            "vragen": vragen,
            "contact_id": contact_id,
            "soort": subject.kind.value,
            "waarde": subject.value,
            "naam": naam[:200],
            "digitaal": digitaal == "ja",
        },
    )


@router.post("/contacten/{contact_id}/identificatie", name="identify")
async def identify(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    contacts: ContactsDep,
    register: RegisterDep,
    database: DatabaseDep,
    trace: TraceDep,
    soort: str = Form(...),
    waarde: str = Form(...),
    zekerheid: str = Form(...),
    naam: str = Form(""),
) -> Response:
    actor = actor_of(session)
    try:
        subject = _subject(soort, waarde)
        view = await contacts.identify(
            actor, contact_id, subject=subject, assurance=Assurance(zekerheid), trace=trace
        )
    except ValueError:
        return alert(request, "Onbekende soort klant of zekerheid.")
    except FAILURES as exc:
        return alert(request, error_text(exc))
    await _remember(
        request,
        database,
        session,
        contact_id,
        naam=view.weergavenaam or naam[:200] or None,
        soort="persoon" if subject.kind is SubjectKind.BSN else "bedrijf",
    )
    return render(request, "partials/zijbalk.html", contact_context(register, session, view))


@router.post("/contacten/{contact_id}/identiteitsbewijs", name="identity_document")
async def identity_document(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    documents: DocumentsDep,
    register: RegisterDep,
    database: DatabaseDep,
    trace: TraceDep,
    waarde: str = Form(...),
    documentnummer: str = Form(...),
    documentsoort: str = Form(...),
    naam: str = Form(""),
) -> Response:
    """At the balie: check the shown passport or identity card in BRP Reisdocumenten and identify
    the customer at the level the register gives for documents (dgkb.contacts.documents)."""
    actor = actor_of(session)
    try:
        subject = _subject(SubjectKind.BSN.value, waarde)
        view = await documents.identify_with_document(
            actor,
            contact_id,
            subject=subject,
            documentnummer=document_number(documentnummer),
            soort=DocumentKind(documentsoort),
            trace=trace,
        )
    except ValueError:
        return alert(request, "Kies paspoort, identiteitskaart of rijbewijs.")
    except FAILURES as exc:
        return alert(request, error_text(exc))
    await _remember(
        request, database, session, contact_id, naam=view.weergavenaam or naam[:200] or None, soort="persoon"
    )
    return render(request, "partials/zijbalk.html", contact_context(register, session, view))


@router.post("/contacten/{contact_id}/doel", name="choose_purpose")
async def choose_purpose(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    consent: ConsentDep,
    register: RegisterDep,
    trace: TraceDep,
    doel: str = Form(...),
) -> Response:
    """Set the purpose and answer with the klantbeeld at once (one round trip to first paint); if
    reading it fails here, the page fetches it itself and shows why."""
    actor = actor_of(session)
    try:
        view = await contacts.set_purpose(actor, contact_id, doel, trace=trace)
    except FAILURES as exc:
        return alert(request, error_text(exc))
    ctx = contact_context(register, session, view)
    try:
        context = await contacts.context_for(actor, contact_id, trace=trace)
        started = datetime.now(UTC)
        result = await klantbeeld.read(context, fill_in_later=True)
        ctx.update(
            _klantbeeld_context(
                result,
                contact_id,
                context.subject.kind,
                consent.offer(context),
                context.channel,
                register=register,
                naam=_klant(session, contact_id).get("naam"),
                started=started,
            )
        )
    except FAILURES:
        pass
    return render(request, "partials/doel_gekozen.html", ctx)


def _today() -> date:
    """Today in the Netherlands (the signals' "over de termijn", "recent")."""
    return datetime.now(AMSTERDAM).date()


def _klantbeeld_context(
    result: Klantbeeld,
    contact_id: str,
    kind: SubjectKind,
    consent: ConsentOffer,
    channel: Kanaal | None = None,
    *,
    register: Register,
    naam: str | None = None,
    started: datetime | None = None,
) -> dict[str, Any]:
    kb_today = _today()
    kb = klantbeeld_view.build(result, today=kb_today, naam=naam)
    return {
        # "bevestig met DigiD" (issue 9 §3): a caller whose section needs a DigiD login confirms it
        # with their own login during the call (web/routes/bevestigen_console.py)
        "bevestigen": kind is SubjectKind.BSN
        and channel is not None
        and channel.value not in DIGITAL
        and channel not in (Kanaal.BALIE, Kanaal.BACKOFFICE)
        and any("ASSURANCE_TOO_LOW" in s.redenen for s in result.secties),
        "toestemming": consent,  # may consent be asked here, for which categories (consent service)
        "kb": kb,
        "doel_register": register.get(result.verwerkingsactiviteit.id),
        # a view with parts still loading follows its stream from the moment it was read: a late
        # answer that came before the stream connected is replayed (events.history), not lost
        "live_sinds": f"kb-{int(started.timestamp() * 1000)}" if started and kb.bezig else None,
        "contact_id": contact_id,
        "label": klantbeeld_view.label,
        "status": klantbeeld_view.STATUS,
        "as_list": klantbeeld_view.as_list,
        "op_termijn": klantbeeld_view.by_due_date,
        "vandaag": kb_today,
        "soort": kind.value,
    }


async def show_klantbeeld(
    request: Request,
    contact_id: str,
    session: WebSession,
    trace: Trace,
    *,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    consent: ConsentService,
    confirmations: ConfirmationService,
    register: Register,
) -> Response:
    """The klantbeeld partial: the page's own fetch, and the answer after a change that widens it."""
    try:
        context = await contacts.context_for(actor_of(session), contact_id, trace=trace)
        started = datetime.now(UTC)
        result = await klantbeeld.read(context, fill_in_later=True)
    except FAILURES as exc:
        return alert(request, error_text(exc))
    ctx = _klantbeeld_context(
        result,
        contact_id,
        context.subject.kind,
        consent.offer(context),
        context.channel,
        register=register,
        naam=_klant(session, contact_id).get("naam"),
        started=started,
    )
    if ctx["bevestigen"]:  # a confirmation in progress stays in view when the klantbeeld re-renders
        latest = await confirmations.latest(actor_of(session), contact_id)
        ctx["bevestiging"] = latest if latest is not None and latest.status in ("open", "ingelogd") else None
    return render(request, "partials/klantbeeld.html", ctx)


@router.get("/contacten/{contact_id}/klantbeeld", name="klantbeeld")
async def klantbeeld_page(
    request: Request,
    contact_id: str,
    session: SessionDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    consent: ConsentDep,
    confirmations: ConfirmationsDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    return await show_klantbeeld(
        request,
        contact_id,
        session,
        trace,
        contacts=contacts,
        klantbeeld=klantbeeld,
        consent=consent,
        confirmations=confirmations,
        register=register,
    )


@router.get("/contacten/{contact_id}/gebeurtenissen", name="changes")
async def changes(
    request: Request,
    contact_id: str,
    session: SessionDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    hub: HubDep,
    pseudonymizer: PseudonymizerDep,
    trace: TraceDep,
) -> Response:
    """Live updates of the open klantbeeld (Server-Sent Events); the page re-renders the changed
    sections. Only categories this contact's current purpose permits are ever announced."""
    actor = actor_of(session)
    try:
        context = await contacts.context_for(actor, contact_id, trace=trace)
    except FAILURES:
        return Response(status_code=204)  # no open view to follow: EventSource stops on 204

    return live_view_response(
        request,
        actor,
        context,
        contacts=contacts,
        klantbeeld=klantbeeld,
        hub=hub,
        pseudonymizer=pseudonymizer,
    )


@router.post("/contacten/{contact_id}/toestemming", name="consent")
async def give_consent(
    request: Request,
    contact_id: str,
    session: CheckedDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    consent: ConsentDep,
    confirmations: ConfirmationsDep,
    register: RegisterDep,
    trace: TraceDep,
    categorie: str = Form(...),
) -> Response:
    actor = actor_of(session)
    try:
        context = await contacts.context_for(actor, contact_id, trace=trace)
        # the same rules as the API (consent service): customer on the line, controlevragen or more
        await consent.give(context, categories=[categorie])
    except FAILURES as exc:
        return alert(request, error_text(exc), status=int(getattr(exc, "status", 400)))
    return await show_klantbeeld(
        request,
        contact_id,
        session,
        trace,
        contacts=contacts,
        klantbeeld=klantbeeld,
        consent=consent,
        confirmations=confirmations,
        register=register,
    )


@router.post("/contacten/{contact_id}/einde", name="end_contact")
async def end_contact(
    request: Request, contact_id: str, session: CheckedDep, contacts: ContactsDep, database: DatabaseDep
) -> Response:
    try:
        await contacts.end(actor_of(session), contact_id)
    except FAILURES as exc:
        return alert(request, error_text(exc))
    contacten = session.data.get("contacten", {})
    if contact_id in contacten:
        del contacten[contact_id]
        await web_state(request).sessions.save_data(database, session)
    target = "/?beeindigd=1"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
