"""Values as a Dutch reader expects them: phone numbers, numbers with a decimal comma, ISO 8601
durations in words ("P1Y" → "1 jaar"). Jinja filters of the console and Mijn omgeving (web/deps.py)."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

_DURATION = re.compile(
    r"^P(?:(?P<jaar>\d+)Y)?(?:(?P<maand>\d+)M)?(?:(?P<week>\d+)W)?(?:(?P<dag>\d+)D)?"
    r"(?:T(?:(?P<uur>\d+)H)?(?:(?P<minuut>\d+)M)?(?:(?P<seconde>\d+)S)?)?$"
)
_UNITS = (
    ("jaar", "jaar", "jaar"),
    ("maand", "maand", "maanden"),
    ("week", "week", "weken"),
    ("dag", "dag", "dagen"),
    ("uur", "uur", "uur"),
    ("minuut", "minuut", "minuten"),
    ("seconde", "seconde", "seconden"),
)


# a catalogue category id in brackets, as the policy's explanations name it for administrators:
# "belastingen en boetes (dossier.financieel)" → the agent reads "belastingen en boetes"
_CATEGORY_IDS = re.compile(r"\s*\((?:[a-z]+\.[a-z][a-z-]*)(?:,\s*[a-z]+\.[a-z][a-z-]*)*\)")


def zonder_ids(value: Any) -> str:
    """A Dutch explanation without the category ids in brackets (they are technical detail)."""
    return _CATEGORY_IDS.sub("", str(value or ""))


def telefoon(value: Any) -> str:
    """A phone number as Dutch people write it (libphonenumber's national format: "06 45408799",
    "010 123 4567"); a foreign one internationally ("+32 10 12 34 56"); anything unreadable as given."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 31
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def getal(value: Any, decimals: int = 0) -> str:
    """A number with a decimal comma and a thousands point ("1.234,5"); anything else as given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def duur(value: Any) -> str:
    """An ISO 8601 duration in words ("P1Y" → "1 jaar", "P1Y6M" → "1 jaar en 6 maanden",
    "PT15M" → "15 minuten"); anything it cannot read as given."""
    text = str(value or "").strip()
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        return text
    parts = [
        f"{int(n)} {one if int(n) == 1 else many}"
        for key, one, many in _UNITS
        if (n := match[key]) is not None
    ]
    if not parts:
        return text
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


__all__ = ["duur", "getal", "telefoon", "zonder_ids"]
