"""The klantbeeld as the console shows it: six cards (one per information type) of sections.

The console (`build(..., today=...)`) puts what a call is usually about above the fold: who the
customer is, why they probably call (dgkb.klantbeeld.signals), their open zaken, last contacts and
open contactverzoeken; the other sections follow in their cards, and the cards with nothing for
this purpose are named in one line. Mijn omgeving uses the cards alone (`build(klantbeeld)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dgkb.domain.assurance import Assurance
from dgkb.klantbeeld import signals as signal_rules
from dgkb.klantbeeld.schemas import Klantbeeld, Sectie
from dgkb.web.formatting import telefoon

CARDS: tuple[tuple[str, str], ...] = (
    ("klantdata", "Klant"),
    ("dienstdata", "Diensten en zaken"),
    ("contactdata", "Contacten"),
    ("dossierdata", "Dossier"),
    ("belevingsdata", "Beleving"),
    ("feedbackdata", "Feedback"),
)
LABELS: dict[str, str] = {
    "klant.basis": "Basisgegevens",
    "klant.contactgegevens": "Contactgegevens",
    "klant.voorkeurskanaal": "Voorkeurskanaal",
    "klant.familie": "Familie",
    "klant.werk-en-inkomen": "Werk en inkomen",
    "dienst.zaken-lopend": "Lopende zaken",
    "dienst.zaken-historie": "Afgesloten zaken",
    "contact.historie": "Contacthistorie",
    "contact.open-verzoeken": "Open contactverzoeken",
    "dossier.rechten-en-plichten": "Rechten, vergunningen en producten",
    "dossier.financieel": "Belastingen, boetes en betalingen",
    "beleving.oordeel": "Beoordelingen",
    "feedback.klachten": "Klachten",
    "feedback.meldingen": "Meldingen openbare ruimte",
}
# (badge text, badge modifier) per section status
STATUS: dict[str, tuple[str, str]] = {
    "ok": ("Actueel", "success"),
    "niet-gevonden": ("Geen gegevens", "neutral"),
    "timeout": ("Bron te traag", "warning"),
    "onbereikbaar": ("Bron niet bereikbaar", "danger"),
    "niet-geautoriseerd": ("Niet geautoriseerd bij de bron", "danger"),
    "fout": ("Bronfout", "danger"),
    "niet-toegestaan": ("Niet toegestaan", "inactive"),
    "niet-geconfigureerd": ("Geen bron aangesloten", "neutral"),
}
# statuses where the source failed this section (counted in the alert above the cards)
SOURCE_PROBLEMS = frozenset({"timeout", "onbereikbaar", "niet-geautoriseerd", "fout"})
# denial reasons that simply mean "not part of this purpose": summarised in one line per card
_QUIET = frozenset({"CATEGORY_NOT_IN_PURPOSE", "SUBJECT_KIND_NOT_APPLICABLE", "ROLE_NOT_ALLOWED"})
# above the fold in the console, in this order, with the title of their column
FOLD: tuple[tuple[str, str], ...] = (
    ("dienst.zaken-lopend", "Lopende zaken"),
    ("contact.historie", "Laatste contacten"),
    ("contact.open-verzoeken", "Open contactverzoeken"),
)
FOLD_CONTACTS = 3  # the last contacts shown above the fold; the rest fold open on request


@dataclass
class Card:
    type: str
    titel: str
    secties: list[Sectie] = field(default_factory=list)
    niet_voor_doel: list[str] = field(default_factory=list)  # labels of categories outside the purpose


@dataclass
class Column:
    """One column above the fold: the sections of one category."""

    categorie: str
    titel: str
    secties: list[Sectie]


@dataclass
class Who:
    """Who the customer is, from the sections this purpose shows (nothing else)."""

    naam: str | None
    zekerheid: str  # the identification level in words
    feiten: list[tuple[str, str]] = field(default_factory=list)  # (label, value), already formatted


@dataclass
class KlantbeeldView:
    klantbeeld: Klantbeeld
    cards: list[Card]
    afgeschermd: bool
    zaken: list[str]  # zaak identificaties visible in this view (to link a contact to)
    problemen: int  # sections whose source failed
    # the console's fold (build with `today`); empty for Mijn omgeving
    signalen: list[signal_rules.Signal] = field(default_factory=list)
    kolommen: list[Column] = field(default_factory=list)
    meer: list[Card] = field(default_factory=list)  # the cards of the sections below the fold
    niet_nodig: list[str] = field(default_factory=list)  # cards with nothing for this purpose
    ook_niet_nodig: list[str] = field(default_factory=list)  # single categories of shown cards
    wie: Who | None = None
    bezig: int = 0  # sections whose source is still answering (they fill in by themselves)


def label(categorie: str) -> str:
    return LABELS.get(categorie, categorie)


def build(klantbeeld: Klantbeeld, *, today: date | None = None, naam: str | None = None) -> KlantbeeldView:
    """The cards of the klantbeeld; with `today` (the console) also its fold: signals, columns, the
    cards below and the one line of what this purpose does not need. `naam`: the customer's name
    as the contact knows it, when no section shows one."""
    cards = {t: Card(t, titel) for t, titel in CARDS}
    zaken: list[str] = []
    for s in klantbeeld.secties:
        card = cards.setdefault(s.informatietype, Card(s.informatietype, s.informatietype))
        if s.status == "niet-toegestaan" and s.reden in _QUIET:
            if label(s.categorie) not in card.niet_voor_doel:
                card.niet_voor_doel.append(label(s.categorie))
            continue
        card.secties.append(s)
        if s.categorie.startswith("dienst.zaken") and isinstance(s.gegevens, list):
            zaken.extend(str(z.get("identificatie")) for z in s.gegevens if isinstance(z, dict))
    afgeschermd = any(
        s.reden == "SUBJECT_SHIELDED" or "SUBJECT_SHIELDED" in s.redenen for s in klantbeeld.secties
    )
    problemen = sum(1 for s in klantbeeld.secties if s.status in SOURCE_PROBLEMS and not s.nog_bezig)
    view = KlantbeeldView(
        klantbeeld, list(cards.values()), afgeschermd, list(dict.fromkeys(zaken)), problemen
    )
    if today is not None:
        _fold(view, today, naam)
    return view


def _fold(view: KlantbeeldView, today: date, naam: str | None) -> None:
    """Split the cards into what goes above the fold and below it (the console)."""
    folded = dict(FOLD)
    columns = {cat: Column(cat, titel, []) for cat, titel in FOLD}
    for card in view.cards:
        rest = Card(card.type, card.titel, niet_voor_doel=card.niet_voor_doel)
        for s in card.secties:
            (columns[s.categorie].secties if s.categorie in folded else rest.secties).append(s)
        if rest.secties:
            view.meer.append(rest)
            view.ook_niet_nodig.extend(card.niet_voor_doel)
        elif not card.secties:
            view.niet_nodig.append(card.titel)
    view.kolommen = [c for c in columns.values() if c.secties]
    shown = [s for s in view.klantbeeld.secties if s.status != "niet-toegestaan"]
    view.signalen = signal_rules.evaluate(shown, today)
    view.wie = _who(view.klantbeeld, naam)
    view.bezig = sum(1 for s in view.klantbeeld.secties if s.nog_bezig)


def _first_ok(klantbeeld: Klantbeeld, categorie: str) -> Any:
    for s in klantbeeld.secties:
        if s.categorie == categorie and s.status == "ok" and s.gegevens:
            return s.gegevens
    return None


def _who(klantbeeld: Klantbeeld, naam: str | None) -> Who:
    """Name, identification level and a few facts, read only from sections shown ("ok")."""
    try:
        zekerheid = Assurance(klantbeeld.zekerheid).label
    except ValueError:
        zekerheid = klantbeeld.zekerheid
    who = Who(naam=naam, zekerheid=zekerheid)
    basis = _first_ok(klantbeeld, "klant.basis")
    if isinstance(basis, dict):
        _basis_facts(who, basis)
    contact = _first_ok(klantbeeld, "klant.contactgegevens")
    if isinstance(contact, dict):
        nummers = [a.get("adres") for a in as_list(contact.get("telefoonnummers")) if isinstance(a, dict)]
        if nummers and nummers[0]:
            who.feiten.append(("Telefoon", telefoon(nummers[0])))
        mails = [a.get("adres") for a in as_list(contact.get("emailadressen")) if isinstance(a, dict)]
        if mails and mails[0]:
            who.feiten.append(("E-mail", str(mails[0])))
    voorkeur = _first_ok(klantbeeld, "klant.voorkeurskanaal")
    if isinstance(voorkeur, dict) and voorkeur.get("voorkeurskanaal"):
        who.feiten.append(("Voorkeur", str(voorkeur["voorkeurskanaal"])))
    return who


def _basis_facts(who: Who, g: dict[str, Any]) -> None:
    naam = g.get("naam")
    if isinstance(naam, str):  # a business (KVK)
        who.naam = naam
        if g.get("kvkNummer"):
            who.feiten.append(("KVK", str(g["kvkNummer"])))
        adres = next((a for a in as_list(g.get("adressen")) if isinstance(a, dict)), None)
        if adres and adres.get("volledigAdres"):
            who.feiten.append(("Adres", str(adres["volledigAdres"])))
        return
    if isinstance(naam, dict) and naam.get("volledigeNaam"):
        who.naam = str(naam["volledigeNaam"])
    geboorte = g.get("geboorte")
    if isinstance(geboorte, dict) and isinstance(geboorte.get("datum"), dict):
        born = geboorte["datum"].get("datum")
        if isinstance(born, str):
            who.feiten.append(("Geboren", _dmy(born)))
    adressering = g.get("adressering")
    verblijf = g.get("verblijfplaats")
    if isinstance(adressering, dict) and adressering.get("adresregel1"):
        regels = [adressering.get("adresregel1"), adressering.get("adresregel2")]
        who.feiten.append(("Adres", ", ".join(str(r) for r in regels if r)))
    elif isinstance(verblijf, dict) and isinstance(verblijf.get("verblijfadres"), dict):
        a = verblijf["verblijfadres"]
        straat = f"{a.get('officieleStraatnaam') or ''} {a.get('huisnummer') or ''}".strip()
        who.feiten.append(("Adres", ", ".join(p for p in (straat, str(a.get("woonplaats") or "")) if p)))


def _dmy(iso: str) -> str:
    try:
        return date.fromisoformat(iso[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return iso


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def by_due_date(zaken: list[Any]) -> list[Any]:
    """Zaken by their uiterlijke einddatum (the first due first; without one last), then number."""

    def key(z: Any) -> tuple[str, str]:
        if not isinstance(z, dict):
            return ("9", "")
        due = z.get("uiterlijkeEinddatumAfdoening")
        return (due if isinstance(due, str) and due else "9", str(z.get("identificatie") or ""))

    return sorted(zaken, key=key)
