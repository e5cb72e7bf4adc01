"""Writes to the Zaken simulator checked as Open Zaak checks them (Zaken API 1.5.1): POST /zaken and
POST /rollen. Each check returns the `invalidParams` entries of a 400 answer, every refused field
named, in Django REST framework's Dutch texts where Open Zaak answers with those ("Dit veld is
vereist.", "Zorg ervoor dat dit veld niet meer dan 80 karakters bevat.").

What is checked (from the spec's schemas and its "Er wordt gevalideerd op" lists):

- POST /zaken: `bronorganisatie`, `zaaktype`, `verantwoordelijkeOrganisatie` and `startdatum` required
  (the spec's required fields that are not readOnly); an RSIN is 9 digits passing the 11-proef; the
  zaaktype URL must resolve to a zaaktype of the catalogue that is not a concept (zrc-001);
  `startdatum` a date; the maxLengths of `omschrijving` (80), `toelichting` (1000) and `identificatie`
  (40); an `identificatie` unique within the bronorganisatie (zrc-002, `identificatie-niet-uniek`).
- POST /rollen: `zaak`, `betrokkeneType`, `roltype` and `roltoelichting` required; `betrokkeneType`
  one of the enum; the zaak must exist; the roltype must be one of the zaak's zaaktype
  (`zaaktype-mismatch`, Open Zaak's CorrectZaaktypeValidator); `betrokkene` (a URL) or
  `betrokkeneIdentificatie` given; in the identificatie the maxLengths of the spec's Rol* schemas
  and, for `inpBsn`, the 11-proef (Open Zaak's BSN validator).

Approximated: the codes and texts of an unresolvable zaaktype URL (`bad-url`) and of an invalid RSIN
(`invalid`) are close to Open Zaak's, not copied from it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from dgkb.domain.identifiers import passes_elfproef

Obj = dict[str, Any]
REQUIRED = "Dit veld is vereist."
BETROKKENE_TYPEN = (
    "natuurlijk_persoon",
    "niet_natuurlijk_persoon",
    "vestiging",
    "organisatorische_eenheid",
    "medewerker",
)
# maxLength of the string fields of each betrokkeneIdentificatie (Zaken 1.5.1 Rol* schemas)
IDENTIFICATIE_LENGTHS: dict[str, dict[str, int]] = {
    "natuurlijk_persoon": {
        "inpBsn": 9,
        "anpIdentificatie": 17,
        "inpA_nummer": 10,
        "geslachtsnaam": 200,
        "voorvoegselGeslachtsnaam": 80,
        "voorletters": 20,
        "voornamen": 200,
    },
    "niet_natuurlijk_persoon": {
        "innNnpId": 9,
        "annIdentificatie": 17,
        "statutaireNaam": 500,
        "bezoekadres": 1000,
    },
    "vestiging": {"vestigingsNummer": 24, "kvkNummer": 8},
    "organisatorische_eenheid": {"identificatie": 24, "naam": 50, "isGehuisvestIn": 24},
    "medewerker": {"identificatie": 24, "achternaam": 200, "voorletters": 20, "voorvoegselAchternaam": 10},
}
_DIGITS9 = re.compile(r"^\d{9}$")


def error(name: str, code: str, reason: str) -> Obj:
    return {"name": name, "code": code, "reason": reason}


def too_long(name: str, limit: int) -> Obj:
    return error(name, "max_length", f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat.")


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _string(
    body: Obj, name: str, errors: list[Obj], *, required: bool = False, limit: int | None = None
) -> None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            errors.append(error(name, "required", REQUIRED))
        return
    if not isinstance(value, str):
        errors.append(error(name, "invalid", "Geen geldige string."))
    elif limit is not None and len(value) > limit:
        errors.append(too_long(name, limit))


def _rsin(body: Obj, name: str, errors: list[Obj]) -> None:
    value = body.get(name)
    if value is None or value == "":
        errors.append(error(name, "required", REQUIRED))
    elif not isinstance(value, str) or not _DIGITS9.match(value):
        errors.append(error(name, "invalid", "Een RSIN bestaat uit 9 cijfers."))
    elif not passes_elfproef(value):
        errors.append(error(name, "invalid", "Onjuist RSIN: voldoet niet aan de 11-proef."))


def zaak_errors(body: Obj, zaaktype_known: bool, identificatie_taken: bool) -> list[Obj]:
    """The refused fields of a POST /zaken body; `zaaktype_known`: its zaaktype URL names a
    published zaaktype of the catalogue; `identificatie_taken`: its identificatie is in use."""
    errors: list[Obj] = []
    _rsin(body, "bronorganisatie", errors)
    _rsin(body, "verantwoordelijkeOrganisatie", errors)
    zaaktype = body.get("zaaktype")
    if zaaktype is None or zaaktype == "":
        errors.append(error("zaaktype", "required", REQUIRED))
    elif not is_url(zaaktype):
        errors.append(error("zaaktype", "invalid", "Voer een geldige URL in."))
    elif not zaaktype_known:
        errors.append(error("zaaktype", "bad-url", "De URL wijst niet naar een zaaktype van de catalogus."))
    startdatum = body.get("startdatum")
    if startdatum is None or startdatum == "":
        errors.append(error("startdatum", "required", REQUIRED))
    elif not isinstance(startdatum, str) or parse_date(startdatum) is None:
        errors.append(
            error(
                "startdatum",
                "invalid",
                "Datum heeft het verkeerde formaat. Gebruik een van deze formaten: YYYY-MM-DD.",
            )
        )
    _string(body, "omschrijving", errors, limit=80)
    _string(body, "toelichting", errors, limit=1000)
    _string(body, "identificatie", errors, limit=40)
    if identificatie_taken:
        errors.append(
            error(
                "identificatie",
                "identificatie-niet-uniek",
                "Deze identificatie bestaat al voor deze bronorganisatie",
            )
        )
    return errors


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        return None


def rol_errors(body: Obj, *, zaak_found: bool, roltype_fits: bool | None) -> list[Obj]:
    """The refused fields of a POST /rollen body; `zaak_found`: its zaak exists; `roltype_fits`:
    its roltype is one of the zaak's zaaktype (None: not to be judged, the zaak is unknown)."""
    errors: list[Obj] = []
    zaak = body.get("zaak")
    if zaak is None or zaak == "":
        errors.append(error("zaak", "required", REQUIRED))
    elif not is_url(zaak):
        errors.append(error("zaak", "invalid", "Voer een geldige URL in."))
    elif not zaak_found:
        errors.append(error("zaak", "does_not_exist", "Ongeldige hyperlink - Object bestaat niet."))
    soort = body.get("betrokkeneType")
    if soort is None or soort == "":
        errors.append(error("betrokkeneType", "required", REQUIRED))
    elif soort not in BETROKKENE_TYPEN:
        errors.append(error("betrokkeneType", "invalid_choice", f'"{soort}" is een ongeldige keuze.'))
    roltype = body.get("roltype")
    if roltype is None or roltype == "":
        errors.append(error("roltype", "required", REQUIRED))
    elif not is_url(roltype):
        errors.append(error("roltype", "invalid", "Voer een geldige URL in."))
    elif roltype_fits is False:
        errors.append(
            error("roltype", "zaaktype-mismatch", "De referentie hoort niet bij het zaaktype van de zaak.")
        )
    _string(body, "roltoelichting", errors, required=True, limit=1000)
    betrokkene = body.get("betrokkene")
    if betrokkene not in (None, "") and not is_url(betrokkene):
        errors.append(error("betrokkene", "invalid", "Voer een geldige URL in."))
    identificatie = body.get("betrokkeneIdentificatie")
    if betrokkene in (None, "") and not identificatie:
        errors.append(
            error(
                "nonFieldErrors",
                "invalid-betrokkene",
                "betrokkene of betrokkeneIdentificatie moet gegeven zijn.",
            )
        )
    if identificatie is not None and soort in IDENTIFICATIE_LENGTHS:
        errors.extend(_identificatie_errors(identificatie, soort))
    return errors


def _identificatie_errors(identificatie: Any, soort: str) -> list[Obj]:
    if not isinstance(identificatie, dict):
        return [error("betrokkeneIdentificatie", "invalid", "Geen geldig object.")]
    errors = []
    for key, limit in IDENTIFICATIE_LENGTHS[soort].items():
        value = identificatie.get(key)
        name = f"betrokkeneIdentificatie.{key}"
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors.append(error(name, "invalid", "Geen geldige string."))
        elif len(value) > limit:
            errors.append(too_long(name, limit))
    bsn = identificatie.get("inpBsn")
    if soort == "natuurlijk_persoon" and isinstance(bsn, str) and 0 < len(bsn) <= 9 and not _valid_bsn(bsn):
        errors.append(error("betrokkeneIdentificatie.inpBsn", "invalid", "Onjuist BSN."))
    return errors


def _valid_bsn(value: str) -> bool:
    return bool(_DIGITS9.match(value)) and passes_elfproef(value)
