"""The klantbeeld as the console shows it: six cards (one per information type) of sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dgkb.klantbeeld.schemas import Klantbeeld, Sectie

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


@dataclass
class Card:
    type: str
    titel: str
    secties: list[Sectie] = field(default_factory=list)
    niet_voor_doel: list[str] = field(default_factory=list)  # labels of categories outside the purpose


@dataclass
class KlantbeeldView:
    klantbeeld: Klantbeeld
    cards: list[Card]
    afgeschermd: bool
    zaken: list[str]  # zaak identificaties visible in this view (to link a contact to)
    problemen: int  # sections whose source failed


def label(categorie: str) -> str:
    return LABELS.get(categorie, categorie)


def build(klantbeeld: Klantbeeld) -> KlantbeeldView:
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
    problemen = sum(1 for s in klantbeeld.secties if s.status in SOURCE_PROBLEMS)
    return KlantbeeldView(
        klantbeeld, list(cards.values()), afgeschermd, list(dict.fromkeys(zaken)), problemen
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
