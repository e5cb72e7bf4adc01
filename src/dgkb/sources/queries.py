"""The person queries of Haal Centraal BRP Personen bevragen 2.x (`POST /personen` search types),
validated against the API's request patterns before any call. Part of the port: the customer search
builds them, the BRP adapter sends them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

__all__ = [
    "InvalidPersonQuery",
    "NaamGeboortedatumQuery",
    "NaamGemeenteQuery",
    "PersonQuery",
    "PostcodeHuisnummerQuery",
]


# The request patterns of BRP API 2.7.0 (components/schemas/*Filter): the wildcard `*` may only end a
# geslachtsnaam or verplichte voornamen after at least 3 letters.
_NAAM = re.compile(r"^[a-zA-Z0-9À-ž \.\-\']{1,200}$|^[a-zA-Z0-9À-ž \.\-\']{3,199}\*{1}$")
_VOORNAMEN_OPTIONEEL = re.compile(r"^[a-zA-Z0-9À-ž \.\-\']{1,199}\*{0,1}$")
_VOORVOEGSEL = re.compile(r"^[a-zA-Z \']{1,10}$")
_GESLACHT = re.compile(r"^[MmVvOo]$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
_HUISLETTER = re.compile(r"^[a-zA-Z]$")
_TOEVOEGING = re.compile(r"^[a-zA-Z0-9 \-]{1,4}$")
_GEMEENTE = re.compile(r"^[0-9]{4}$")


class InvalidPersonQuery(ValueError):
    """A search parameter the BRP API would reject; raised before any call, naming the parameter."""

    code = "source.invalid_query"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _need(field: str, value: str | None, pattern: re.Pattern[str], reason: str) -> None:
    if value is not None and not pattern.match(value):
        raise InvalidPersonQuery(field, reason)


_WILDCARD = "wildcard * alleen aan het eind en na minstens 3 letters; geen cijfers of leestekens"


@dataclass(frozen=True, slots=True)
class NaamGeboortedatumQuery:
    """`ZoekMetGeslachtsnaamEnGeboortedatum`: surname (voorvoegsel split off) and full birth date."""

    type: ClassVar[str] = "ZoekMetGeslachtsnaamEnGeboortedatum"
    geslachtsnaam: str
    geboortedatum: date
    voornamen: str | None = None
    voorvoegsel: str | None = None
    geslacht: str | None = None
    inclusief_overleden: bool = False

    def __post_init__(self) -> None:
        _need("geslachtsnaam", self.geslachtsnaam, _NAAM, _WILDCARD)
        _need("voornamen", self.voornamen, _VOORNAMEN_OPTIONEEL, "ongeldige voornamen")
        _need("voorvoegsel", self.voorvoegsel, _VOORVOEGSEL, "ongeldig voorvoegsel")
        _need("geslacht", self.geslacht, _GESLACHT, "geslacht is M, V of O")

    def params(self) -> dict[str, Any]:
        return _params(
            geslachtsnaam=self.geslachtsnaam,
            geboortedatum=self.geboortedatum.isoformat(),
            voornamen=self.voornamen,
            voorvoegsel=self.voorvoegsel,
            geslacht=self.geslacht,
            inclusiefOverledenPersonen=self.inclusief_overleden or None,
        )


@dataclass(frozen=True, slots=True)
class NaamGemeenteQuery:
    """`ZoekMetNaamEnGemeenteVanInschrijving`: surname, first names and the municipality code."""

    type: ClassVar[str] = "ZoekMetNaamEnGemeenteVanInschrijving"
    geslachtsnaam: str
    voornamen: str
    gemeente_van_inschrijving: str  # 4-digit CBS code, e.g. "0599"
    voorvoegsel: str | None = None
    geslacht: str | None = None
    inclusief_overleden: bool = False

    def __post_init__(self) -> None:
        _need("geslachtsnaam", self.geslachtsnaam, _NAAM, _WILDCARD)
        _need("voornamen", self.voornamen, _NAAM, _WILDCARD)
        _need(
            "gemeenteVanInschrijving", self.gemeente_van_inschrijving, _GEMEENTE, "gemeentecode is 4 cijfers"
        )
        _need("voorvoegsel", self.voorvoegsel, _VOORVOEGSEL, "ongeldig voorvoegsel")
        _need("geslacht", self.geslacht, _GESLACHT, "geslacht is M, V of O")

    def params(self) -> dict[str, Any]:
        return _params(
            geslachtsnaam=self.geslachtsnaam,
            voornamen=self.voornamen,
            gemeenteVanInschrijving=self.gemeente_van_inschrijving,
            voorvoegsel=self.voorvoegsel,
            geslacht=self.geslacht,
            inclusiefOverledenPersonen=self.inclusief_overleden or None,
        )


@dataclass(frozen=True, slots=True)
class PostcodeHuisnummerQuery:
    """`ZoekMetPostcodeEnHuisnummer`: everyone registered at an address."""

    type: ClassVar[str] = "ZoekMetPostcodeEnHuisnummer"
    postcode: str
    huisnummer: int
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    geslachtsnaam: str | None = None
    geboortedatum: date | None = None
    inclusief_overleden: bool = False

    def __post_init__(self) -> None:
        _need("postcode", self.postcode, _POSTCODE, "postcode is 4 cijfers en 2 letters")
        if isinstance(self.huisnummer, bool) or not 1 <= self.huisnummer <= 99999:
            raise InvalidPersonQuery("huisnummer", "huisnummer is 1 tot en met 99999")
        _need("huisletter", self.huisletter, _HUISLETTER, "huisletter is 1 letter")
        _need("huisnummertoevoeging", self.huisnummertoevoeging, _TOEVOEGING, "ongeldige toevoeging")
        _need("geslachtsnaam", self.geslachtsnaam, _NAAM, _WILDCARD)

    def params(self) -> dict[str, Any]:
        return _params(
            postcode=self.postcode,
            huisnummer=self.huisnummer,
            huisletter=self.huisletter,
            huisnummertoevoeging=self.huisnummertoevoeging,
            geslachtsnaam=self.geslachtsnaam,
            geboortedatum=self.geboortedatum.isoformat() if self.geboortedatum else None,
            inclusiefOverledenPersonen=self.inclusief_overleden or None,
        )


PersonQuery = NaamGeboortedatumQuery | NaamGemeenteQuery | PostcodeHuisnummerQuery


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
