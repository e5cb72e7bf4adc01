"""Canonical forms of telephone numbers and e-mail addresses, so a search finds a customer however the
number or address was typed or stored ("06-12345678", "+31 6 1234 5678" and "0031612345678" are one
number). Pure functions, no I/O.
"""

from __future__ import annotations

import re

__all__ = ["normalise_email", "normalise_phone", "phone_search_core"]

_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_TRUNK_IN_PARENS = re.compile(r"^(\+|00)(\d{1,3})\s*\(0\)")
_NL = "+31"


def normalise_phone(text: str) -> str:
    """E.164 form of a phone number: "06-12345678" -> "+31612345678", "010-1234567" -> "+31101234567".

    A number without country code is Dutch (national trunk prefix 0). Raises ValueError when the text
    is not a phone number (letters, no trunk or international prefix, wrong length)."""
    raw = text.strip()
    raw = _TRUNK_IN_PARENS.sub(r"\1\2", raw)  # "+31 (0)6 …": the (0) is the national trunk prefix
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    elif compact.startswith("0"):
        digits = "31" + compact[1:]
    else:
        raise ValueError("telefoonnummer moet beginnen met 0, 00 of +")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("telefoonnummer mag alleen cijfers bevatten")
    if digits.startswith("310"):  # "+31 06…": a trunk 0 after the country code is dropped
        digits = "31" + digits[3:]
    if digits.startswith("31"):
        if len(digits) != 11 or digits[2] == "0":
            raise ValueError("een Nederlands telefoonnummer heeft 9 cijfers na +31")
    elif not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise ValueError("een internationaal telefoonnummer heeft 8 tot 15 cijfers")
    return f"+{digits}"


def phone_search_core(normalised: str) -> str:
    """The digits every stored spelling of the number contains ("+31612345678" -> "612345678"): the
    Klantinteracties API stores phone numbers as 0612345678, +31612345678 or 0031612345678."""
    return normalised[len(_NL) :] if normalised.startswith(_NL) else normalised.lstrip("+")


def normalise_email(text: str) -> str:
    """Trimmed, lower-case e-mail address. Raises ValueError when it has no single '@' between a local
    part and a domain. (The local part is case-sensitive by RFC, but no mail provider treats it so and
    customers type it both ways.)"""
    address = text.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in address):
        raise ValueError("e-mailadres moet de vorm naam@domein hebben")
    return address
