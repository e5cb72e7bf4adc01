"""Validation of writes as Open Klant's serializers do it: required fields, JSON types, the spec's max
lengths and enums, field errors as `invalidParams` (read-only and unknown fields are ignored)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from dgkb.simulators.klantinteracties.serialise import Obj

ACTOR_REQUIRED = "`toegewezen_aan_actor` of `toegewezen_aan_actoren` is required (mag niet beiden gebruiken)."
ACTOR_BOTH = "`toegewezen_aan_actor` en `toegewezen_aan_actoren` mag niet beiden gebruikt worden."


@dataclass(frozen=True, slots=True)
class Rule:
    """Validation of one writable field: JSON type, max length, required, nullable, enum."""

    kind: type | tuple[type, ...]
    max_length: int | None = None
    required: bool = False
    nullable: bool = False
    enum: tuple[str, ...] = ()


WRITE_RULES: dict[str, dict[str, Rule]] = {
    "klantcontacten": {
        "nummer": Rule(str, 10, nullable=True),
        "referentienummer": Rule(str, 10, nullable=True),
        "kanaal": Rule(str, 50, required=True),
        "onderwerp": Rule(str, 200, required=True),
        "inhoud": Rule(str, 1000),
        "reactie": Rule(str, 4000),
        "indicatieContactGelukt": Rule(bool, nullable=True),
        "hoofdOnderwerpType": Rule(str, 200),
        "verdereActieOndernomen": Rule(bool),
        "taal": Rule(str, 3, required=True),
        "vertrouwelijk": Rule(bool, required=True),
        "plaatsgevondenOp": Rule(str, 40),
    },
    "betrokkenen": {
        "wasPartij": Rule(dict, nullable=True),
        "hadKlantcontact": Rule(dict, required=True),
        "bezoekadres": Rule(dict, nullable=True),
        "correspondentieadres": Rule(dict, nullable=True),
        "contactnaam": Rule(dict, nullable=True),
        "rol": Rule(str, required=True, enum=("vertegenwoordiger", "klant")),
        "organisatienaam": Rule(str, 200),
        "initiator": Rule(bool, required=True),
    },
    "onderwerpobjecten": {
        "klantcontact": Rule(dict, nullable=True),
        "wasKlantcontact": Rule(dict, nullable=True),
        "onderwerpobjectidentificator": Rule(dict, nullable=True),
    },
    "internetaken": {
        "nummer": Rule(str, 10, nullable=True),
        "referentienummer": Rule(str, 10, nullable=True),
        "gevraagdeHandeling": Rule(str, 200, required=True),
        "aanleidinggevendKlantcontact": Rule(dict, required=True),
        "toegewezenAanActor": Rule(dict),
        "toegewezenAanActoren": Rule(list),
        "toelichting": Rule(str, 1000),
        "status": Rule(str, required=True, enum=("te_verwerken", "verwerkt")),
        "afgehandeldOp": Rule(str, 40, nullable=True),
    },
    "digitaleadressen": {
        # Open Klant, not the spec: both links must be present (each may be null); see the package
        # docstring. The spec lists neither under `required`.
        "verstrektDoorBetrokkene": Rule(dict, required=True, nullable=True),
        "verstrektDoorPartij": Rule(dict, required=True, nullable=True),
        "adres": Rule(str, 80, required=True),
        "soortDigitaalAdres": Rule(str, required=True, enum=("email", "telefoonnummer", "overig")),
        "isStandaardAdres": Rule(bool),
        "omschrijving": Rule(str, 40),
        "referentie": Rule(str, 50),
        "verificatieDatum": Rule(str, nullable=True),
    },
    "partijen": {  # PATCH only
        "nummer": Rule(str, 10),
        "interneNotitie": Rule(str, 1000),
        "voorkeursDigitaalAdres": Rule(dict, nullable=True),
        "voorkeurstaal": Rule(str, 3),
        "indicatieActief": Rule(bool),
        "indicatieGeheimhouding": Rule(bool, nullable=True),
        "soortPartij": Rule(str, enum=("persoon", "organisatie", "contactpersoon")),
    },
}
NESTED_MAX: dict[str, dict[str, int]] = {
    "onderwerpobjectidentificator": {
        "objectId": 200,
        "codeObjecttype": 200,
        "codeRegister": 200,
        "codeSoortObjectId": 200,
    },
    "contactnaam": {"voorletters": 10, "voornaam": 200, "voorvoegselAchternaam": 10, "achternaam": 200},
}


def validate(resource: str, body: Any, *, partial: bool = False) -> list[Obj]:
    """The errors of a create / full update (`partial`: a PATCH, where nothing is required)."""
    if not isinstance(body, dict):
        return [
            {"name": "nonFieldErrors", "code": "invalid", "reason": "Ongeldige data. Verwacht een object."}
        ]
    errors = []
    for name, rule in WRITE_RULES[resource].items():
        if name not in body:
            if rule.required and not partial:
                errors.append({"name": name, "code": "required", "reason": "Dit veld is vereist."})
            continue
        value = body[name]
        if value is None:
            if not rule.nullable:
                errors.append({"name": name, "code": "null", "reason": "Dit veld mag niet leeg zijn."})
            continue
        if not isinstance(value, rule.kind) or (rule.kind is not bool and isinstance(value, bool)):
            errors.append({"name": name, "code": "invalid", "reason": "Ongeldig type."})
            continue
        if rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length:
            errors.append(
                {
                    "name": name,
                    "code": "max_length",
                    "reason": f"Zorg ervoor dat dit veld niet meer dan {rule.max_length} karakters bevat.",
                }
            )
        if rule.enum and value not in rule.enum:
            errors.append(
                {"name": name, "code": "invalid_choice", "reason": f"'{value}' is geen geldige keuze."}
            )
        if rule.kind is dict and name in NESTED_MAX:
            for sub, limit in NESTED_MAX[name].items():
                sub_value = value.get(sub)
                if sub_value is not None and (not isinstance(sub_value, str) or len(sub_value) > limit):
                    errors.append(
                        {
                            "name": f"{name}.{sub}",
                            "code": "max_length",
                            "reason": f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat.",
                        }
                    )
    return errors  # read-only and unknown fields are ignored, as Django REST framework does


# The spec's (0.9.0) validation of `adres` per `soortDigitaalAdres`: Django's EmailValidator for an
# e-mail address; for a phone number `^(0[1-9][0-9]{8}|\+[0-9]{9,15}|00[0-9]{7,13})$`, but not 0800,
# 0900, 1400 or 140xx numbers. Django's EmailValidator is approximated by this pattern (a dot-atom
# local part, a domain of labels with a TLD of letters).
_EMAIL = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+)(?:[A-Za-z0-9-]{2,63}(?<!-))$"
)
_PHONE = re.compile(r"^(0[1-9][0-9]{8}|\+[0-9]{9,15}|00[0-9]{7,13})$")
_SERVICE_NUMBER = re.compile(r"^(0800|0900|1400|140[0-9]{2})")
_REFERENTIE = re.compile(r"^[-a-zA-Z0-9_]+$")
EMAIL_INVALID = "Voer een geldig e-mailadres in."
PHONE_INVALID = "Het opgegeven telefoonnummer is ongeldig."


def validate_digitaal_adres(body: Obj, current: Obj | None = None) -> list[Obj]:
    """What Open Klant checks of a digitaal adres beyond the field rules: the `adres` against its
    `soortDigitaalAdres` (of the body, else of `current` on a PATCH), the `referentie` pattern, the
    `verificatieDatum` as a date, and `isStandaardAdres` only for an address of a partij."""
    merged = {**(current or {}), **body}
    errors: list[Obj] = []
    adres, soort = merged.get("adres"), merged.get("soortDigitaalAdres")
    if isinstance(adres, str) and ("adres" in body or "soortDigitaalAdres" in body):
        if soort == "email" and not _EMAIL.match(adres):
            errors.append({"name": "adres", "code": "invalid", "reason": EMAIL_INVALID})
        if soort == "telefoonnummer" and (not _PHONE.match(adres) or _SERVICE_NUMBER.match(adres)):
            errors.append({"name": "adres", "code": "invalid", "reason": PHONE_INVALID})
    referentie = body.get("referentie")
    if isinstance(referentie, str) and referentie and not _REFERENTIE.match(referentie):
        errors.append({"name": "referentie", "code": "invalid", "reason": "Voer een geldige waarde in."})
    datum = body.get("verificatieDatum")
    if isinstance(datum, str):
        try:
            date.fromisoformat(datum)
        except ValueError:
            errors.append(
                {
                    "name": "verificatieDatum",
                    "code": "invalid",
                    "reason": "Datum heeft het verkeerde formaat. Gebruik 1 van deze formaten: YYYY-MM-DD.",
                }
            )
    if merged.get("isStandaardAdres") and not merged.get("verstrektDoorPartij"):
        errors.append(
            {
                "name": "isStandaardAdres",
                "code": "invalid",
                "reason": "`is_standaard_adres` kan alleen gezet worden als `verstrekt_door_partij` "
                "niet leeg is.",
            }
        )
    return errors


def writable(resource: str, body: Obj) -> Obj:
    """The fields of `body` a write of `resource` takes."""
    return {k: v for k, v in body.items() if k in WRITE_RULES[resource]}
