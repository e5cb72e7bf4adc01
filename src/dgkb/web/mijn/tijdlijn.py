"""The status timeline of a zaak as the customer sees it in Mijn zaken: the steps done (the zaak's
status history), the current step, the next expected step (from the zaaktype's statustypen) and the
deadline, with an overdue marker ("Later dan beloofd") when an open zaak is past its deadline.

Pure over the zaak as the Zaken adapter delivers it (the fields the own-view purpose permits): no I/O,
no clock (`today` is passed in), so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["Stap", "Verzoek", "ZaakOverzicht", "overzicht", "parse_date", "verzoek", "werkdagen_later"]

DONE, CURRENT, NEXT, LATER = "gedaan", "huidig", "volgende", "later"


@dataclass(frozen=True, slots=True)
class Stap:
    omschrijving: str
    toestand: str  # gedaan | huidig | volgende | later
    datum: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZaakOverzicht:
    identificatie: str
    omschrijving: str
    zaaktype: str
    open: bool
    startdatum: date | None
    einddatum: date | None
    uiterlijk: date | None  # uiterlijkeEinddatumAfdoening: the promised deadline
    te_laat: bool  # open and past the deadline
    wacht_op: str | None  # what the zaak waits for (opschorting reden), if it is suspended
    resultaat: str | None
    stappen: tuple[Stap, ...]
    huidige: str | None  # the current step's omschrijving
    volgende: str | None  # the next expected step, for an open zaak
    url: str | None  # the zaak's URL at the source (for reading its documents; never shown)


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def overzicht(zaak: dict[str, Any], *, today: date) -> ZaakOverzicht:
    """The timeline of one zaak (a dict of the zaken categories' fields; missing fields are simply
    not shown)."""
    einddatum = parse_date(zaak.get("einddatum"))
    is_open = einddatum is None
    history = [h for h in zaak.get("statushistorie") or [] if isinstance(h, dict)]
    status = zaak.get("status") if isinstance(zaak.get("status"), dict) else None
    if not history and status is not None:
        history = [status]
    steps = [
        Stap(_text(h.get("omschrijving")) or "Status", DONE, _moment(h.get("datumStatusGezet")))
        for h in history
    ]
    if steps and is_open:
        steps[-1] = Stap(steps[-1].omschrijving, CURRENT, steps[-1].datum)
    current = steps[-1].omschrijving if steps else None
    planned = [t for t in zaak.get("statustypen") or [] if isinstance(t, dict)]
    nxt: str | None = None
    if is_open and planned:
        names = [_text(t.get("omschrijving")) for t in planned]
        # the steps after the current one (by its place among the zaaktype's steps); unknown: all not yet done
        done = {s.omschrijving for s in steps}
        at = max((i for i, n in enumerate(names) if n == current), default=-1)
        ahead = (
            [n for i, n in enumerate(names) if i > at and n not in done]
            if at >= 0
            else [n for n in names if n not in done]
        )
        for i, name in enumerate(ahead):
            steps.append(Stap(name, NEXT if i == 0 else LATER))
        nxt = ahead[0] if ahead else None
    uiterlijk = parse_date(zaak.get("uiterlijkeEinddatumAfdoening"))
    opschorting = zaak.get("opschorting")
    wacht_op = None
    if is_open and isinstance(opschorting, dict) and opschorting.get("indicatie") is True:
        wacht_op = _text(opschorting.get("reden")) or "Wacht op informatie van u"
    return ZaakOverzicht(
        identificatie=_text(zaak.get("identificatie")),
        omschrijving=_text(zaak.get("omschrijving")) or _text(zaak.get("identificatie")),
        zaaktype=_text(zaak.get("zaaktype")),
        open=is_open,
        startdatum=parse_date(zaak.get("startdatum")),
        einddatum=einddatum,
        uiterlijk=uiterlijk,
        te_laat=is_open and uiterlijk is not None and today > uiterlijk,
        wacht_op=wacht_op,
        resultaat=zaak.get("resultaat") if isinstance(zaak.get("resultaat"), str) else None,
        stappen=tuple(steps),
        huidige=current if is_open else None,
        volgende=nxt,
        url=zaak.get("url") if isinstance(zaak.get("url"), str) else None,
    )


# The answer a customer is promised to a contactverzoek (terugbelverzoek): within this many working
# days of its registration (the KCC's service norm; a register or setting can make it configurable).
ANTWOORD_WERKDAGEN = 2


def werkdagen_later(start: date, dagen: int) -> date:
    """The date `dagen` working days (Monday to Friday) after `start`."""
    current = start
    left = dagen
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@dataclass(frozen=True, slots=True)
class Verzoek:
    """An open contactverzoek (interne taak) as the customer sees it."""

    nummer: str
    vraag: str  # gevraagdeHandeling
    toelichting: str
    sinds: datetime | None  # toegewezenOp
    antwoord_uiterlijk: date | None
    te_laat: bool


def verzoek(item: dict[str, Any], *, today: date) -> Verzoek:
    sinds = _moment(item.get("toegewezenOp"))
    uiterlijk = werkdagen_later(sinds.date(), ANTWOORD_WERKDAGEN) if sinds is not None else None
    return Verzoek(
        nummer=_text(item.get("nummer")),
        vraag=_text(item.get("gevraagdeHandeling")) or "Contactverzoek",
        toelichting=_text(item.get("toelichting")),
        sinds=sinds,
        antwoord_uiterlijk=uiterlijk,
        te_laat=uiterlijk is not None and today > uiterlijk,
    )
