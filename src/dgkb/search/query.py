"""Understanding what an agent typed in the one search box (pure, no I/O).

"999993653" is a BSN, "68750110" a KVK-nummer, "3011 AB 12" a postcode with house number,
"Jansen 01-02-1980" a surname with birth date, "06-12345678" a phone number, "x@y.nl" an e-mail
address; anything else is a company name. Ambiguous input is never guessed into a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Bsn, KvkNummer, Vestigingsnummer, passes_elfproef


class QueryKind(StrEnum):
    BSN = "bsn"
    KVK = "kvkNummer"
    VESTIGING = "vestigingsnummer"
    NAAM_GEBOORTEDATUM = "naamGeboortedatum"
    POSTCODE_HUISNUMMER = "postcodeHuisnummer"
    TELEFOON = "telefoonnummer"
    EMAIL = "emailadres"
    BEDRIJFSNAAM = "bedrijfsnaam"


class InvalidSearch(DomainError):
    code = "search.invalid"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    kind: QueryKind
    value: str = ""
    geslachtsnaam: str | None = None
    geboortedatum: date | None = None
    postcode: str | None = None
    huisnummer: int | None = None


_POSTCODE = re.compile(r"^(\d{4})\s?([A-Za-z]{2})\s*[-,]?\s*(\d{1,5})\s*([A-Za-z]?)$")
_NAME_DATE = re.compile(r"^(.+?)\s+(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_PHONE = re.compile(r"^(\+|00)?[\d\s\-().]{8,20}$")


def parse_query(text: str) -> SearchQuery:
    """One search box → one structured query, or InvalidSearch naming `zoekterm`."""
    raw = " ".join(text.split())
    if not raw:
        raise InvalidSearch(
            "typ een BSN, naam en geboortedatum, postcode en huisnummer, KVK-nummer, "
            "telefoonnummer of e-mailadres",
            field="zoekterm",
        )
    digits = raw.replace(" ", "")
    if digits.isascii() and digits.isdigit():
        if len(digits) == 9 and passes_elfproef(digits):
            return SearchQuery(QueryKind.BSN, str(Bsn.parse(digits, field="zoekterm")))
        if len(digits) == 8:
            return SearchQuery(QueryKind.KVK, str(KvkNummer.parse(digits, field="zoekterm")))
        if len(digits) == 12:
            return SearchQuery(QueryKind.VESTIGING, str(Vestigingsnummer.parse(digits, field="zoekterm")))
    if "@" in raw:
        return SearchQuery(QueryKind.EMAIL, raw)
    if m := _POSTCODE.match(raw):
        return SearchQuery(
            QueryKind.POSTCODE_HUISNUMMER, raw, postcode=(m[1] + m[2]).upper(), huisnummer=int(m[3])
        )
    if m := _NAME_DATE.match(raw):
        try:
            born = date(int(m[4]), int(m[3]), int(m[2]))
        except ValueError:
            raise InvalidSearch(
                f"'{m[2]}-{m[3]}-{m[4]}' is geen geldige datum (dd-mm-jjjj)", field="zoekterm"
            ) from None
        return SearchQuery(QueryKind.NAAM_GEBOORTEDATUM, raw, geslachtsnaam=m[1].strip(), geboortedatum=born)
    if _PHONE.match(raw) and sum(c.isdigit() for c in raw) >= 9:
        return SearchQuery(QueryKind.TELEFOON, raw)
    if digits.isascii() and digits.isdigit():
        raise InvalidSearch(
            f"{len(digits)} cijfers: geen BSN (9, 11-proef), KVK-nummer (8) of vestigingsnummer (12)",
            field="zoekterm",
        )
    if len(raw) < 3:
        raise InvalidSearch("typ minstens 3 tekens van de naam", field="zoekterm")
    return SearchQuery(QueryKind.BEDRIJFSNAAM, raw)
