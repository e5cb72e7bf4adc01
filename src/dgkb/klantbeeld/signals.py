"""Why the customer is probably calling: signals over the klantbeeld's sections and today's date.

Pure (no I/O, no clock): `evaluate(sections, today)` → the signals, most urgent first. Each rule
declares the categories it reads (`Rule.needs`) and is given only those, only from sections the
purpose permitted and the source delivered ("ok"): a rule never sees what the view does not show,
so a signal cannot leak hidden data (a purpose without zaken has no zaak signal). The facts a rule
reads are plain JSON-like data (`Facts.activation()`), so the same rules can later run in the
proactive-service rule engine (DESIGN.md §5: CEL over such an activation) — a rule there is its
`needs` plus an expression over the facts; the ones here are the first, written in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

ZAKEN_LOPEND = "dienst.zaken-lopend"
CONTACTEN = "contact.historie"
VERZOEKEN = "contact.open-verzoeken"


class SectionLike(Protocol):
    """What a rule input needs of a klantbeeld section (dgkb.klantbeeld.schemas.Sectie)."""

    @property
    def categorie(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def gegevens(self) -> Any: ...


class SignalKind(StrEnum):
    """Stable ids of the signals (for a rule engine, metrics and tests; never shown as such)."""

    ZAAK_OVER_TERMIJN = "zaak-over-termijn"
    OPEN_CONTACTVERZOEK = "open-contactverzoek"
    HERHAALD_CONTACT = "herhaald-contact"
    RECENT_CONTACT = "recent-contact"


class Urgency(StrEnum):
    HOOG = "hoog"
    MIDDEN = "midden"
    INFO = "info"


_ORDER = {Urgency.HOOG: 0, Urgency.MIDDEN: 1, Urgency.INFO: 2}


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason the customer may be calling, in words for the agent and as data for machines."""

    kind: SignalKind
    urgency: Urgency
    titel: str  # Dutch, one line
    toelichting: str  # Dutch, what it is based on
    categories: tuple[str, ...]  # what it was derived from (all permitted by the purpose)
    refs: tuple[str, ...] = ()  # zaak identificaties, contact or verzoek numbers
    sinds: date | None = None
    aantal: int = 1


@dataclass(frozen=True, slots=True)
class Settings:
    """The rules' parameters; the organisation may tune them (the issue calls the window configurable)."""

    repeat_window_days: int = 30  # contacts this recent count towards a repeat
    repeat_minimum: int = 2  # this many contacts about one onderwerp or zaak make a repeat
    recent_days: int = 7  # the last contact this recent is a "recent contact"
    max_per_kind: int = 3  # signals of one kind at most (the sections below list them all)


@dataclass(frozen=True, slots=True)
class Facts:
    """What one rule may read: the data of its own categories (lists merged over sources) and today."""

    today: date
    data: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    def items(self, category: str) -> tuple[Mapping[str, Any], ...]:
        if category not in self.data:
            raise KeyError(f"rule reads {category!r} without declaring it in `needs`")
        return self.data[category]

    def activation(self) -> dict[str, Any]:
        """The facts as plain data (a CEL activation): {"vandaag": "2026-11-01", category: [...]}."""
        return {"vandaag": self.today.isoformat(), **{c: [dict(i) for i in v] for c, v in self.data.items()}}


Evaluate = Callable[[Facts, Settings], Iterable[Signal]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: SignalKind
    needs: frozenset[str]  # every one must be delivered ("ok"), or the rule does not run
    evaluate: Evaluate


# --- reading the data --------------------------------------------------------------------------------


def _day(value: Any) -> date | None:
    """An ISO date or date-time (text) as a date in the Netherlands; None when it is not one."""
    if isinstance(value, datetime):
        return value.astimezone(AMSTERDAM).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment.astimezone(AMSTERDAM).date() if moment.tzinfo else moment.date()
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _nl(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _ago(days: int) -> str:
    return "vandaag" if days <= 0 else "gisteren" if days == 1 else f"{days} dagen geleden"


# --- the rules -----------------------------------------------------------------------------------------


def zaak_over_termijn(facts: Facts, settings: Settings) -> Iterable[Signal]:
    """An open zaak whose uiterlijke einddatum afdoening has passed."""
    late = []
    for zaak in facts.items(ZAKEN_LOPEND):
        deadline = _day(zaak.get("uiterlijkeEinddatumAfdoening"))
        if deadline is None or deadline >= facts.today or zaak.get("einddatum"):
            continue
        late.append((deadline, zaak))
    for deadline, zaak in sorted(late, key=lambda pair: pair[0]):
        ident = _text(zaak.get("identificatie"))
        days = (facts.today - deadline).days
        yield Signal(
            kind=SignalKind.ZAAK_OVER_TERMIJN,
            urgency=Urgency.HOOG,
            titel=f"Zaak over de termijn: {_text(zaak.get('omschrijving')) or ident}",
            toelichting=f"Klaar uiterlijk {_nl(deadline)} ({_ago(days)})" + (f" · {ident}" if ident else ""),
            categories=(ZAKEN_LOPEND,),
            refs=(ident,) if ident else (),
            sinds=deadline,
        )


def open_contactverzoek(facts: Facts, settings: Settings) -> Iterable[Signal]:
    """A contactverzoek (interne taak) still waiting: the customer may call about it."""
    waiting = [
        (_day(v.get("toegewezenOp")), v)
        for v in facts.items(VERZOEKEN)
        if _text(v.get("status")) in ("", "te_verwerken")
    ]
    for since, verzoek in sorted(waiting, key=lambda pair: pair[0] or facts.today):
        who = _text(verzoek.get("toegewezenAan")) or "nog niet toegewezen"
        when = f"Sinds {_nl(since)} ({_ago((facts.today - since).days)})" if since else "Open"
        yield Signal(
            kind=SignalKind.OPEN_CONTACTVERZOEK,
            urgency=Urgency.MIDDEN,
            titel=f"Open contactverzoek: {_text(verzoek.get('gevraagdeHandeling')) or 'zonder omschrijving'}",
            toelichting=f"{when} · {who}",
            categories=(VERZOEKEN,),
            refs=(_text(verzoek.get("nummer")),) if verzoek.get("nummer") else (),
            sinds=since,
        )


def _recent_contacts(facts: Facts, days: int) -> list[tuple[date, Mapping[str, Any]]]:
    found = []
    for contact in facts.items(CONTACTEN):
        when = _day(contact.get("plaatsgevondenOp"))
        if when is not None and 0 <= (facts.today - when).days <= days:
            found.append((when, contact))
    return sorted(found, key=lambda pair: pair[0], reverse=True)


def herhaald_contact(facts: Facts, settings: Settings) -> Iterable[Signal]:
    """Several recent contacts about the same onderwerp or the same zaak, across all channels."""
    groups: dict[tuple[str, str], list[tuple[date, Mapping[str, Any]]]] = defaultdict(list)
    for when, contact in _recent_contacts(facts, settings.repeat_window_days):
        onderwerp = _text(contact.get("onderwerp"))
        keys = {("onderwerp", onderwerp.casefold())} if onderwerp else set()
        zaken = contact.get("zaken")
        for zaak in zaken if isinstance(zaken, list) else ():
            if isinstance(zaak, str) and zaak:
                keys.add(("zaak", zaak))
        for key in keys:
            groups[key].append((when, contact))
    # one signal per set of contacts: the onderwerp of a zaak's contacts adds nothing to the zaak's
    shown: list[frozenset[str]] = []
    for (soort, value), contacts in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(contacts) < settings.repeat_minimum:
            continue
        numbers = frozenset(_text(c.get("nummer")) or str(id(c)) for _, c in contacts)
        if any(numbers <= earlier for earlier in shown):
            continue
        shown.append(numbers)
        about = f"zaak {value}" if soort == "zaak" else _text(contacts[0][1].get("onderwerp"))
        kanalen = sorted({_text(c.get("kanaal")) for _, c in contacts if c.get("kanaal")})
        first = min(when for when, _ in contacts)
        yield Signal(
            kind=SignalKind.HERHAALD_CONTACT,
            urgency=Urgency.HOOG,
            titel=f"Neemt vaker contact op over {about}",
            toelichting=(
                f"{len(contacts)} keer sinds {_nl(first)}"
                + (f" (via {', '.join(kanalen)})" if kanalen else "")
            ),
            categories=(CONTACTEN,),
            refs=tuple(sorted(n for n in numbers if n)),
            sinds=first,
            aantal=len(contacts),
        )


def recent_contact(facts: Facts, settings: Settings) -> Iterable[Signal]:
    """The last contact was only days ago: the customer may call about it again."""
    recent = _recent_contacts(facts, settings.recent_days)
    if not recent:
        return
    when, contact = recent[0]
    kanaal = _text(contact.get("kanaal"))
    yield Signal(
        kind=SignalKind.RECENT_CONTACT,
        urgency=Urgency.INFO,
        titel=f"Recent contact: {_text(contact.get('onderwerp')) or 'zonder onderwerp'}",
        toelichting=_ago((facts.today - when).days).capitalize() + (f" via {kanaal}" if kanaal else ""),
        categories=(CONTACTEN,),
        refs=(_text(contact.get("nummer")),) if contact.get("nummer") else (),
        sinds=when,
    )


RULES: tuple[Rule, ...] = (
    Rule(SignalKind.ZAAK_OVER_TERMIJN, frozenset({ZAKEN_LOPEND}), zaak_over_termijn),
    Rule(SignalKind.HERHAALD_CONTACT, frozenset({CONTACTEN}), herhaald_contact),
    Rule(SignalKind.OPEN_CONTACTVERZOEK, frozenset({VERZOEKEN}), open_contactverzoek),
    Rule(SignalKind.RECENT_CONTACT, frozenset({CONTACTEN}), recent_contact),
)


# --- evaluating ------------------------------------------------------------------------------------------


def delivered(sections: Iterable[SectionLike]) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """category → its items, from the sections whose source answered "ok" (several sources merged).
    A section the purpose denied, or whose source failed, contributes nothing — whatever it carries."""
    found: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for s in sections:
        if s.status != "ok":
            continue
        data = s.gegevens
        items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
        found[s.categorie].extend(i for i in items if isinstance(i, Mapping))
    return {c: tuple(v) for c, v in found.items()}


def evaluate(
    sections: Iterable[SectionLike],
    today: date,
    *,
    rules: Sequence[Rule] = RULES,
    settings: Settings | None = None,
) -> list[Signal]:
    """The signals of these sections on `today`, most urgent first (stable within an urgency).
    Each rule runs only when all the categories it needs were delivered, and sees only those."""
    tuning = settings or Settings()
    available = delivered(sections)
    signals: list[Signal] = []
    for rule in rules:
        if not rule.needs <= available.keys():
            continue
        facts = Facts(today=today, data={c: available[c] for c in rule.needs})
        signals.extend(list(rule.evaluate(facts, tuning))[: tuning.max_per_kind])
    return sorted(signals, key=lambda s: _ORDER[s.urgency])


__all__ = [
    "RULES",
    "Facts",
    "Rule",
    "SectionLike",
    "Settings",
    "Signal",
    "SignalKind",
    "Urgency",
    "delivered",
    "evaluate",
]
