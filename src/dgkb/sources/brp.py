"""Haal Centraal BRP Personen bevragen 2.x adapter: `klant.basis` and `klant.familie`.

One `POST /personen` per fetch, with `fields` = the union of the permitted fields of the requested
categories (catalogue field names are BRP `fields` paths, dotted paths pass through), then the answer is
split back per category. Also the subject verifier of the identification step, and the person search
of customer search (`search` with one of the `PersonQuery` variants; answers are PersoonBeperkt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import (
    CategoryData,
    FetchRequest,
    ProbeResult,
    SourceError,
    SubjectFacts,
    SubjectNotFound,
)
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient
from dgkb.sources.queries import (
    InvalidPersonQuery,
    NaamGeboortedatumQuery,
    NaamGemeenteQuery,
    PersonQuery,
    PostcodeHuisnummerQuery,
)

__all__ = [
    "BrpPersonenAdapter",
    "InvalidPersonQuery",
    "NaamGeboortedatumQuery",
    "NaamGemeenteQuery",
    "PersonQuery",
    "PostcodeHuisnummerQuery",
]

BASIS = "klant.basis"
FAMILIE = "klant.familie"
_LIST_FIELDS = frozenset({"partners", "kinderen", "ouders"})
# The catalogue fields of klant.basis that are BRP Personen fields (others belong to KVK and
# Reisdocumenten); dotted sub-paths of these are BRP's too.
_BASIS_FIELDS = frozenset(
    {
        "burgerservicenummer",
        "naam",
        "geboorte",
        "geslacht",
        "leeftijd",
        "verblijfplaats",
        "adressering",
        "overlijden",
        "datumInschrijvingInGemeente",
        "gemeenteVanInschrijving",
    }
)
VOCABULARY: Mapping[str, frozenset[str]] = {BASIS: _BASIS_FIELDS, FAMILIE: _LIST_FIELDS}
_VERIFY_FIELDS = ("burgerservicenummer", "naam.volledigeNaam")


def _union(paths: list[str]) -> list[str]:
    """Deduplicate, and drop a path whose parent is asked for as a whole (the parent covers it)."""
    unique = list(dict.fromkeys(paths))
    whole = set(unique)
    return [p for p in unique if not any(p.startswith(f"{q}.") for q in whole)]


class BrpPersonenAdapter:
    """BRP Personen adapter. `options.path` overrides the endpoint path (default `/personen`)."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self.subject_kinds = frozenset({SubjectKind.BSN})
        self.vocabulary: Mapping[str, frozenset[str]] = VOCABULARY
        self._http = SourceHttpClient(config)
        self._path = str(config.options.get("path", "/personen"))

    async def _personen(
        self, bsn: str, fields: list[str], headers: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        body = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn], "fields": fields}
        answer = await self._http.request("POST", self._path, headers=headers, json=body)
        personen = answer.get("personen") if isinstance(answer, dict) else None
        if not isinstance(personen, list):
            raise SourceError(f"{self.id}: antwoord zonder personen")
        return [p for p in personen if isinstance(p, dict)]

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        wanted = {c: f for c, f in request.fields.items() if c in self.categories}
        if not wanted:
            return {}
        if not request.subject.is_person:
            raise SubjectNotFound(f"{self.id}: alleen personen (BSN)")
        fields = _union([f for cat_fields in wanted.values() for f in cat_fields])
        personen = await self._personen(request.subject.value, fields, request.headers)
        if not personen:
            raise SubjectNotFound(f"{self.id}: persoon niet gevonden")
        persoon = personen[0]
        result: dict[str, CategoryData | None] = {}
        for category, cat_fields in wanted.items():
            tops = list(dict.fromkeys(f.split(".")[0] for f in cat_fields))
            if category == FAMILIE:
                result[category] = {
                    t: persoon.get(t, []) if t in _LIST_FIELDS else persoon.get(t) for t in tops
                }
            else:
                result[category] = {t: persoon[t] for t in tops if t in persoon}
        return result

    async def lookup(
        self, bsn: str, fields: Sequence[str], headers: Mapping[str, str]
    ) -> dict[str, Any] | None:
        """One person by BSN for the customer search: `fields` plus the secrecy indication (False when
        the BRP left it out), like `search` results; None when the BRP does not know the BSN."""
        personen = await self._personen(bsn, _union(list(fields)), headers)
        if not personen:
            return None
        persoon = personen[0]
        return {
            **persoon,
            "geheimhoudingPersoonsgegevens": bool(persoon.get("geheimhoudingPersoonsgegevens")),
        }

    async def search(
        self, query: PersonQuery, fields: Sequence[str], headers: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """The persons matching `query` (PersoonBeperkt, only `fields`). Every result carries
        `geheimhoudingPersoonsgegevens` (False when the BRP left it out), so a caller cannot miss it."""
        if not fields:
            raise InvalidPersonQuery("fields", "minstens 1 veld")
        body = {"type": query.type, **query.params(), "fields": _union(list(fields))}
        answer = await self._http.request(
            "POST", self._path, headers=headers, json=body, not_found_is_subject=False
        )
        personen = answer.get("personen") if isinstance(answer, dict) else None
        if not isinstance(personen, list):
            raise SourceError(f"{self.id}: antwoord zonder personen")
        return [
            {**p, "geheimhoudingPersoonsgegevens": bool(p.get("geheimhoudingPersoonsgegevens"))}
            for p in personen
            if isinstance(p, dict)
        ]

    async def verify_subject(self, subject: Subject, headers: Mapping[str, str]) -> SubjectFacts:
        """Does the person exist, is it shielded (geheimhouding, delivered automatically), and its name."""
        if not subject.is_person:
            raise SubjectNotFound(f"{self.id}: alleen personen (BSN)")
        personen = await self._personen(subject.value, list(_VERIFY_FIELDS), headers)
        if not personen:
            return SubjectFacts(exists=False)
        persoon = personen[0]
        naam = persoon.get("naam")
        display = naam.get("volledigeNaam") if isinstance(naam, dict) else None
        return SubjectFacts(
            exists=True,
            shielded=bool(persoon.get("geheimhoudingPersoonsgegevens")),
            display_name=display if isinstance(display, str) else None,
        )

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: a raadpleeg request for no BSN at all. It names no person; the API refuses
        it (400) only after accepting the credentials, so 400 means reachable and authenticated."""
        body = {
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": [],
            "fields": ["burgerservicenummer"],
        }
        return await self._http.probe(
            "POST", self._path, headers=headers, json=body, authenticated=frozenset({200, 400})
        )

    async def aclose(self) -> None:
        await self._http.aclose()
