"""Mijn taken: what the customer still has to do, each with a deep link to the page where it is done.
Pure over what the page already read (no I/O, no clock: `today` is passed in), so it is tested alone.

- an open assessment or fine to pay: an item of dossier.financieel with `openstaand` > 0;
- a document a zaak waits for: an open zaak whose `opschorting` is set (Zaken API: the treatment is
  suspended, Awb art. 4:15 — "Wacht op aanvulling: <document>"); the link is the zaak's page;
- a consent about to expire: active, expiring within CONSENT_WARNING_DAYS;
- a correction request awaiting the customer's answer: `correctieverzoeken_wachtend`, over the
  requests as `CorrectionService.follow` found them (the owner's question, in the source's own terms);
  the zaak of such a request is not also a "send us" task (its opschorting is the question).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import quote

from dgkb.web.mijn.tijdlijn import overzicht, parse_date

__all__ = [
    "CONSENT_WARNING_DAYS",
    "ConsentFact",
    "Taak",
    "WachtendVerzoek",
    "correctieverzoeken_wachtend",
    "taken",
]

CONSENT_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Taak:
    soort: str  # betalen | aanvullen | toestemming | correctie
    titel: str
    tekst: str
    link: str  # a path of Mijn omgeving where the task is done
    linktekst: str
    organisatie: str  # the organisation's name
    termijn: date | None = None  # before when
    te_laat: bool = False


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """What the task list needs of a consent (dgkb.consent.service.Consent and the purpose's name)."""

    doel: str  # the purpose's name
    expires_at: datetime | None
    withdrawn_at: datetime | None


class WachtendVerzoek(Protocol):
    """What the task list needs of a correction request (dgkb.contacts.correction.CorrectionView)."""

    @property
    def id(self) -> str: ...
    @property
    def nummer(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def vraag(self) -> Any: ...  # Vraag | None: `tekst`, `gesteld_op`


def correctieverzoeken_wachtend(organisatie: str, verzoeken: Iterable[WachtendVerzoek]) -> list[Taak]:
    """One task per correction request of this organisation (`organisatie`: its name) that waits for
    the customer's answer to the owner's question, linking to the request's page with the form."""
    found = []
    for v in verzoeken:
        if v.vraag is None:
            continue
        found.append(
            Taak(
                soort="correctie",
                titel=f"Wacht op uw antwoord: verzoek {v.nummer}",
                tekst=f"{v.team or organisatie} vraagt: {v.vraag.tekst}",
                link=f"/mijn/correctie/{quote(v.id, safe='')}",
                linktekst=f"Beantwoord de vraag over verzoek {v.nummer}",
                organisatie=organisatie,
            )
        )
    return found


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _euro(value: Decimal) -> str:
    whole, _, cents = f"{value:.2f}".partition(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def betalen(
    financieel: Iterable[dict[str, Any]], organisatie: str, *, today: date, link: str = "/mijn"
) -> list[Taak]:
    found = []
    for item in financieel:
        openstaand = _amount(item.get("openstaand"))
        if openstaand <= 0:
            continue
        termijn = parse_date(item.get("vervaldatum"))
        omschrijving = str(item.get("omschrijving") or item.get("soort") or "Aanslag")
        regeling = item.get("betalingsregeling")
        tekst = f"Nog te betalen: {_euro(openstaand)}."
        if regeling:
            tekst += " U betaalt dit met een betalingsregeling."
        found.append(
            Taak(
                soort="betalen",
                titel=f"Betaal: {omschrijving}",
                tekst=tekst,
                link=link,
                linktekst="Bekijk wat u nog moet betalen",
                organisatie=organisatie,
                termijn=termijn,
                te_laat=termijn is not None and termijn < today and not regeling,
            )
        )
    return found


def aanvullen(
    zaken: Iterable[dict[str, Any]], organisatie: str, *, today: date, behalve: Collection[str] = ()
) -> list[Taak]:
    """A task per open zaak that waits for the customer, but the zaken in `behalve` (a correction
    request's zaak: its question is a task of its own)."""
    found = []
    for zaak in zaken:
        z = overzicht(zaak, today=today)
        if not z.open or z.wacht_op is None or not z.identificatie or z.identificatie in behalve:
            continue
        wat = z.wacht_op.removeprefix("Wacht op aanvulling: ")
        found.append(
            Taak(
                soort="aanvullen",
                titel=f"Stuur ons: {wat}",
                tekst=f"Uw zaak '{z.omschrijving}' wacht hierop. Zonder dit kunnen wij niet verder.",
                link=f"/mijn/zaken/{quote(z.identificatie, safe='')}",
                linktekst=f"Naar zaak {z.identificatie}",
                organisatie=organisatie,
            )
        )
    return found


def toestemming(consents: Iterable[ConsentFact], organisatie: str, *, now: datetime) -> list[Taak]:
    found = []
    horizon = now + timedelta(days=CONSENT_WARNING_DAYS)
    for c in consents:
        if c.withdrawn_at is not None or c.expires_at is None:
            continue
        if not now < c.expires_at <= horizon:
            continue
        found.append(
            Taak(
                soort="toestemming",
                titel=f"Uw toestemming voor '{c.doel}' loopt bijna af",
                tekst="Wilt u dat wij deze gegevens blijven gebruiken? Geef dan opnieuw toestemming.",
                link="/mijn/toestemmingen",
                linktekst="Naar mijn toestemmingen",
                organisatie=organisatie,
                termijn=c.expires_at.date(),
            )
        )
    return found


def taken(
    organisatie: str,
    *,
    financieel: Sequence[dict[str, Any]] = (),
    zaken: Sequence[dict[str, Any]] = (),
    consents: Sequence[ConsentFact] = (),
    correcties: Sequence[Taak] = (),
    correctie_zaken: Collection[str] = (),
    now: datetime,
    betaal_link: str = "/mijn",
) -> list[Taak]:
    """Every task of one organisation, the most urgent first (overdue, then by deadline; tasks
    without a deadline last). `correctie_zaken`: the identificaties of the zaken correction requests
    went to (not also an "aanvullen" task)."""
    today = now.date()
    found = [
        *betalen(financieel, organisatie, today=today, link=betaal_link),
        *aanvullen(zaken, organisatie, today=today, behalve=correctie_zaken),
        *toestemming(consents, organisatie, now=now),
        *correcties,
    ]
    return sorted(found, key=lambda t: (not t.te_laat, t.termijn is None, t.termijn or date.max))
