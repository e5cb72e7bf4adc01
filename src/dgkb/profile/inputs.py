"""What a customer types into Mijn profiel, checked before anything is sent: an e-mail address, a
Dutch mobile number (06…, +316…, 00316…), a language. Errors are Dutch and name the field."""

from __future__ import annotations

import re

from dgkb.domain.errors import DomainError
from dgkb.sources.normalise import normalise_phone

__all__ = ["LANGUAGES", "ProfileInputError", "parse_email", "parse_language", "parse_mobile"]

# Languages a customer can choose, as the Klantinteracties spec writes them (`voorkeurstaal`, three
# letters; its example is `nld`).
LANGUAGES: dict[str, str] = {"nld": "Nederlands", "eng": "Engels"}

# A practical e-mail syntax: a dot-atom local part and a domain of at least two labels (the
# Klantinteracties spec checks with Django's EmailValidator, which this follows closely).
_EMAIL = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL = 80  # Klantinteracties `adres` maxLength
# Dutch mobile numbers: 06 followed by 1-5 or 8 and seven digits (no 066 pagers): what NotifyNL
# can send a text message to.
_MOBILE = re.compile(r"^\+316[1-58][0-9]{7}$")


class ProfileInputError(DomainError):
    """Bad input in a profile form; `field` is the form field, `message` Dutch and names it."""

    code = "profile.invalid"
    status = 400


def parse_email(text: str, *, field: str = "email") -> str:
    address = text.strip()
    if not address:
        raise ProfileInputError("Vul bij E-mailadres een e-mailadres in.", field=field)
    if len(address) > MAX_EMAIL:
        raise ProfileInputError(f"Het e-mailadres mag niet langer zijn dan {MAX_EMAIL} tekens.", field=field)
    if not _EMAIL.match(address):
        raise ProfileInputError("Het e-mailadres klopt niet. Schrijf het zo: naam@voorbeeld.nl.", field=field)
    return address.lower()


def parse_mobile(text: str, *, field: str = "telefoon") -> str:
    """A Dutch mobile number in E.164 (+316xxxxxxxx); spaces and hyphens are fine."""
    raw = text.strip()
    if not raw:
        raise ProfileInputError("Vul bij Mobiel nummer een telefoonnummer in.", field=field)
    try:
        number = normalise_phone(raw)
    except ValueError:
        raise ProfileInputError(
            "Het mobiele nummer klopt niet. Schrijf het zo: 06 12345678 of +31 6 12345678.", field=field
        ) from None
    if not _MOBILE.match(number):
        raise ProfileInputError(
            "Vul bij Mobiel nummer een Nederlands mobiel nummer in (06…). Wij sturen er een code "
            "naartoe; dat kan niet naar een vast nummer.",
            field=field,
        )
    return number


def parse_language(text: str, *, field: str = "taal") -> str:
    code = text.strip().lower()
    if code not in LANGUAGES:
        raise ProfileInputError("Kies bij Taal een van de talen uit de lijst.", field=field)
    return code
