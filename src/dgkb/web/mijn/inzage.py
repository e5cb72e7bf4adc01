"""Wie heeft mijn gegevens bekeken: every processing of the customer's data at the organisations of
their own contacts — when, which organisation, for which purpose, over which channel, which
information, and in which role — from the access log, never the employee's name or id (art. 15 AVG
without exposing staff). The subject is the one of the customer's own contacts (the session's
verified assertion); no request parameter can name another. Reading the history is itself logged,
under the own-view purpose with no categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.access_log import OWN_ACCESS_READ
from dgkb.audit.query import InvalidCursor, OwnAccessEntry
from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import AccessLogDep, ContactsDep, RegisterDep
from dgkb.domain.errors import DomainError
from dgkb.domain.register import Register
from dgkb.domain.representation import Vertegenwoordiging
from dgkb.messages.service import OWN_MESSAGES_READ
from dgkb.web.deps import AMSTERDAM, TraceDep
from dgkb.web.klantbeeld_view import label
from dgkb.web.mijn.deps import MijnDep, own_contexts, render_mijn

router = APIRouter(include_in_schema=False)

PATH = "/mijn/inzage"
PAGE_SIZE = 25

# Who acted, in role terms only: never the person.
WHO: dict[str, str] = {
    "kcm": "een medewerker van het klantcontactcentrum",
    "behandelaar": "een behandelaar",
    "klachtbehandelaar": "een medewerker die klachten behandelt",
    "privacy": "de privacyfunctionaris",
    "beheerder": "een beheerder",
    "burger": "uzelf, in Mijn omgeving",
    "systeem": "automatisch door het systeem",
    "pep": "een gekoppeld systeem",
}
CHANNEL: dict[str, str] = {
    "telefoon": "telefoon",
    "balie": "aan de balie",
    "e-mail": "e-mail",
    "chat": "chat",
    "brief": "brief",
    "webformulier": "webformulier",
    "social-media": "sociale media",
    "backoffice": "bij het behandelen van een zaak (zonder contact met u)",
    "mijn-omgeving": "Mijn omgeving",
}
# What was done, in plain words, by the log record's name (without its technical details in
# parentheses, such as how identity was established); other names are shown as they are.
WHAT: dict[str, str] = {
    "klantbeeld raadplegen": "Gegevens bekeken",
    "open klantbeeld actualiseren": "Gegevens van een open scherm bijgewerkt",
    OWN_ACCESS_READ: "Bekeken wie uw gegevens bekeek",
    OWN_MESSAGES_READ: "Uw berichten gelezen",
    "klant identificeren": "Vastgesteld wie u bent",
    "controlevragen opvragen": "Controlevragen opgevraagd",
    "identiteitsbewijs controleren": "Identiteitsbewijs gecontroleerd",
}


@dataclass(frozen=True)
class Row:
    """One line of the history, in plain words."""

    moment: datetime
    organisatie: str
    wie: str
    doel: str
    kanaal: str
    wat: str
    gegevens: list[str]
    mislukt: bool


def _who(entry: OwnAccessEntry) -> str:
    if entry.on_behalf is not None:
        try:
            return f"uw vertegenwoordiger ({Vertegenwoordiging(entry.on_behalf).label}), in Mijn omgeving"
        except ValueError:
            return "uw vertegenwoordiger, in Mijn omgeving"
    if entry.channel == "mijn-omgeving":
        return WHO["burger"]
    return WHO.get(entry.actor_role, "een medewerker")


def _what(name: str | None) -> str:
    if not name:
        return "Gegevens verwerkt"
    name = name.split(" (", 1)[0]
    return WHAT.get(name, name[:1].upper() + name[1:])


def _row(entry: OwnAccessEntry, register: Register) -> Row:
    purpose = register.get(entry.processing_activity_id)
    return Row(
        moment=entry.occurred_at,
        organisatie=register.organisation_name(entry.organisation) or "een andere organisatie",
        wie=_who(entry),
        doel=purpose.naam if purpose is not None else "een doel dat niet meer in het register staat",
        kanaal=CHANNEL.get(entry.channel, entry.channel),
        wat=_what(entry.name),
        gegevens=[label(c) for c in entry.categories_delivered],
        mislukt=entry.outcome == "error",
    )


def _day(text: str, field: str, label_text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2999:
        raise DomainError(
            f"{label_text}: dit is geen geldige datum. Gebruik de vorm jjjj-mm-dd.", field=field
        )
    return day


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM).astimezone(UTC)


@router.get(PATH, name="mijn_inzage")
async def inzage(
    request: Request,
    mijn: MijnDep,
    contacts: ContactsDep,
    access_log: AccessLogDep,
    register: RegisterDep,
    trace: TraceDep,
    organisatie: str = "",
    vanaf: str = "",
    tot: str = "",
    cursor: str = "",
) -> Response:
    form = {"organisatie": organisatie[:40], "vanaf": vanaf[:20], "tot": tot[:20]}
    base = {"active": PATH, "form": form, "organisaties": mijn.contacts}
    try:
        owns = mijn.contacts
        if organisatie:
            owns = tuple(o for o in mijn.contacts if o.organisation == organisatie)
            if not owns:
                raise DomainError("Organisatie: kies een organisatie uit de lijst.", field="organisatie")
        since_day = _day(vanaf, "vanaf", "Vanaf")
        until_day = _day(tot, "tot", "Tot en met")
        if since_day and until_day and until_day < since_day:
            raise DomainError("Tot en met: deze datum ligt voor de datum bij Vanaf.", field="tot")
        contexts = await own_contexts(mijn, contacts, trace, owns)
        page = await access_log.own_access(
            contexts,
            since=_start_of(since_day) if since_day else None,
            until=_start_of(until_day + timedelta(days=1)) if until_day else None,
            limit=PAGE_SIZE,
            cursor=cursor or None,
        )
    except InvalidCursor:
        return render_mijn(
            request,
            "mijn/inzage.html",
            {
                **base,
                "fout": "Deze pagina bestaat niet (meer). Begin bij de eerste pagina.",
                "veld": "cursor",
            },
            status=400,
        )
    except AuditUnavailable:
        return render_mijn(
            request,
            "mijn/fout.html",
            {
                "titel": "Dit overzicht kan nu niet worden getoond",
                "tekst": "Wij leggen vast wie dit overzicht bekijkt. Dat lukt nu niet, daarom tonen wij "
                "niets. Probeer het over een paar minuten opnieuw.",
            },
            status=503,
        )
    except DomainError as exc:
        return render_mijn(
            request, "mijn/inzage.html", {**base, "fout": exc.message, "veld": exc.field}, status=400
        )
    filters = {k: v for k, v in form.items() if v}
    return render_mijn(
        request,
        "mijn/inzage.html",
        {
            **base,
            "rijen": [_row(e, register) for e in page.items],
            "volgende": f"{PATH}?{urlencode({**filters, 'cursor': page.next_cursor})}"
            if page.next_cursor
            else None,
            "eerste": f"{PATH}?{urlencode(filters)}" if cursor else None,
        },
    )
