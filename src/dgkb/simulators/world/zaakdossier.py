"""The documents of a zaak's dossier (ZAAK-INFORMATIEOBJECTEN: titles only, there is no Documenten API
in the demo) and whether the zaak waits for something of the customer (Zaken API `opschorting`).

Derived from the zaak alone (its uuid, zaaktype and statussen), never from the builder's random
stream: the built world stays byte for byte the same (test_world_digest), and every world gives the
same zaak the same dossier.

- Every zaak has the document it started with (an aanvraag, a melding, a bezwaarschrift), registered
  at its first status; some zaaktypen add one at their second status (a verslag, a taxatieverslag);
  a closed zaak has the decision, registered at its eindstatus.
- "Wacht op aanvulling": an open zaak of a zaaktype that asks for documents (parkeervergunning, Wmo,
  exploitatievergunning) is suspended (`opschorting.indicatie`, Awb art. 4:15) with the reason naming
  the document the customer still has to send, for about one in three of them (by a hash of the
  uuid), and always the newest open zaak of the first README BSN (the demo customer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from dgkb.simulators.world.draws import stable_uuid
from dgkb.simulators.world.model import Zaak, Zaaktype

# zaaktype identificatie -> (first document, document at the second status or None,
#                            document the zaak may wait for or None, the decision at the end)
_DOSSIER: dict[str, tuple[str, str | None, str | None, str]] = {
    "PARKEERVERGUNNING": (
        "Aanvraagformulier parkeervergunning",
        None,
        "Kopie van het kentekenbewijs",
        "Besluit op uw aanvraag parkeervergunning",
    ),
    "MELDING-OR": ("Melding openbare ruimte", "Foto van de melding", None, "Afhandelbericht melding"),
    "WMO-VOORZIENING": (
        "Aanvraag Wmo-voorziening",
        "Verslag keukentafelgesprek",
        "Medische verklaring van de huisarts",
        "Beschikking Wmo-voorziening",
    ),
    "BEZWAAR-WOZ": ("Bezwaarschrift WOZ-waarde", "Taxatieverslag", None, "Uitspraak op bezwaar"),
    "EXPLOITATIEVERGUNNING": (
        "Aanvraagformulier exploitatievergunning",
        "Bibob-vragenlijst",
        "Verklaring omtrent het gedrag leidinggevende",
        "Besluit op uw aanvraag exploitatievergunning",
    ),
}
AANVULLING_PREFIX = "Wacht op aanvulling: "


@dataclass(frozen=True, slots=True)
class ZaakDocument:
    """One ZAAK-INFORMATIEOBJECT: the relation of a zaak to a document in a Documenten API."""

    uuid: str  # of the relation (zaakinformatieobject)
    informatieobject_uuid: str  # of the document (enkelvoudiginformatieobject) it points to
    titel: str
    beschrijving: str
    registratiedatum: datetime
    status_index: int  # the zaak's status (index into zaak.statussen) it belongs to


def _hash(zaak: Zaak, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}/{zaak.uuid}".encode()).digest()[:4], "big")


def zaak_documenten(zaak: Zaak, zaaktype: Zaaktype) -> tuple[ZaakDocument, ...]:
    """The documents of the zaak's dossier, oldest first (see the module docstring)."""
    dossier = _DOSSIER.get(zaaktype.identificatie)
    if dossier is None or not zaak.statussen:
        return ()
    first, second, _, decision = dossier
    planned: list[tuple[str, str, int]] = [(first, "Ingediend door de aanvrager", 0)]
    if second is not None and len(zaak.statussen) >= 2:
        planned.append((second, "Toegevoegd tijdens de behandeling", 1))
    if not zaak.is_open:
        planned.append((decision, "Het besluit of de afhandeling", len(zaak.statussen) - 1))
    result = []
    for n, (titel, beschrijving, index) in enumerate(planned):
        moment = zaak.statussen[index].datum_status_gezet + timedelta(minutes=10)
        result.append(
            ZaakDocument(
                uuid=stable_uuid("zaakinformatieobject", zaak.uuid, n),
                informatieobject_uuid=stable_uuid("informatieobject", zaak.uuid, n),
                titel=titel,
                beschrijving=beschrijving,
                registratiedatum=moment,
                status_index=index,
            )
        )
    return tuple(result)


def wacht_op_aanvulling(zaak: Zaak, zaaktype: Zaaktype, *, demo: bool = False) -> str | None:
    """The reason of the zaak's opschorting ("Wacht op aanvulling: <document>") or None when the zaak
    is not suspended. `demo`: the zaak is the demo customer's newest open zaak (always suspended)."""
    dossier = _DOSSIER.get(zaaktype.identificatie)
    if not zaak.is_open or dossier is None or dossier[2] is None:
        return None
    if demo or _hash(zaak, "aanvulling") % 3 == 0:
        return f"{AANVULLING_PREFIX}{dossier[2]}"
    return None
