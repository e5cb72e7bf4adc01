"""KVK adapter (Zoeken API v2, Basisprofiel API v1): `klant.basis` of businesses, and their verifier.

Serves only business subjects (KVK-nummer, vestigingsnummer) and only its own fields of `klant.basis`;
the BRP fields of that category (for persons) are ignored, and when none of its own fields is asked it
makes no call. Its vocabulary:

    kvkNummer, naam, handelsnamen, rechtsvorm, uitgebreideRechtsvorm, formeleRegistratiedatum (ISO),
    totaalWerkzamePersonen, sbiActiviteiten [{sbiCode, sbiOmschrijving, hoofdactiviteit}],
    adressen [{type, straatnaam, huisnummer, postcode, plaats, volledigAdres?}],
    vestigingsnummer, vestigingen [{vestigingsnummer, naam, hoofdvestiging, adres}]

Calls, only those the fields need: a vestigingsnummer subject is looked up with
`GET /api/v2/zoeken?vestigingsnummer=…` (its own address, name and KVK-nummer); the company data comes
from `GET /api/v1/basisprofielen/{kvkNummer}`, the branches from `…/{kvkNummer}/vestigingen`. The
API key goes in the `apikey` header (auth `api-key` with `header: apikey` in sources.yaml). Also the
`SubjectVerifier` for businesses (KVK has no secrecy indication: shielded is always False) and a
`search` for the customer search (by KVK-nummer, name, or postcode + huisnummer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
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

__all__ = ["KvkAdapter"]

BASIS = "klant.basis"
Json = dict[str, Any]
FIELDS = frozenset(
    {
        "kvkNummer",
        "naam",
        "handelsnamen",
        "rechtsvorm",
        "uitgebreideRechtsvorm",
        "formeleRegistratiedatum",
        "totaalWerkzamePersonen",
        "sbiActiviteiten",
        "adressen",
        "vestigingsnummer",
        "vestigingen",
    }
)
# fields a vestiging subject gets from its zoeken result alone (no basisprofiel needed)
_FROM_ZOEKEN = frozenset({"kvkNummer", "vestigingsnummer", "adressen", "naam"})


def _iso(yyyymmdd: Any) -> str | None:
    if not isinstance(yyyymmdd, str) or len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).isoformat()
    except ValueError:
        return None


def _adres(a: Json) -> Json:
    keys = ("type", "straatnaam", "huisnummer", "postcode", "plaats", "volledigAdres")
    return {k: a[k] for k in keys if k in a}


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class KvkAdapter:
    """KVK adapter. `options.zoekenPath` (default `/api/v2/zoeken`), `options.basisprofielPath`
    (default `/api/v1/basisprofielen`)."""

    subject_kinds = frozenset({SubjectKind.KVK, SubjectKind.VESTIGING})
    vocabulary: Mapping[str, frozenset[str]] = {BASIS: FIELDS}

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self._http = SourceHttpClient(config)
        self._zoeken = str(config.options.get("zoekenPath", "/api/v2/zoeken"))
        self._profielen = str(config.options.get("basisprofielPath", "/api/v1/basisprofielen")).rstrip("/")

    async def _get(
        self, path: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Json:
        """GET; a 404 (unknown number, or "geen resultaten") raises SubjectNotFound."""
        answer = await self._http.request("GET", path, headers=headers, params=params)
        if not isinstance(answer, dict):
            raise SourceError(f"{self.id}: antwoord is geen object")
        return answer

    async def _vestiging(self, vestigingsnummer: str, headers: Mapping[str, str]) -> Json:
        answer = await self._get(self._zoeken, headers, {"vestigingsnummer": vestigingsnummer})
        for item in _list(answer.get("resultaten")):
            if item.get("vestigingsnummer") == vestigingsnummer:
                return item
        raise SubjectNotFound(f"{self.id}: vestiging niet gevonden")

    async def _branches(self, kvk: str, headers: Mapping[str, str]) -> list[Json]:
        answer = await self._get(f"{self._profielen}/{kvk}/vestigingen", headers)
        return [
            {
                "vestigingsnummer": v.get("vestigingsnummer"),
                "naam": v.get("eersteHandelsnaam"),
                "hoofdvestiging": v.get("indHoofdvestiging") == "Ja",
                "adres": v.get("volledigAdres"),
            }
            for v in _list(answer.get("vestigingen"))
        ]

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        asked = request.fields.get(BASIS) if BASIS in self.categories else None
        fields = [f for f in dict.fromkeys(asked or ()) if f in FIELDS]
        if not fields:
            return {}
        subject, headers = request.subject, request.headers
        if subject.kind not in self.subject_kinds:
            raise SubjectNotFound(f"{self.id}: alleen bedrijven (KVK-nummer, vestigingsnummer)")
        result: Json = {}
        kvk = subject.value
        if subject.kind is SubjectKind.VESTIGING:
            item = await self._vestiging(subject.value, headers)
            kvk = str(item.get("kvkNummer"))
            adres = _dict(_dict(item.get("adres")).get("binnenlandsAdres"))
            result.update(
                kvkNummer=kvk,
                vestigingsnummer=item.get("vestigingsnummer"),
                naam=item.get("naam"),
                adressen=[_adres(adres)] if adres else [],
            )
            if set(fields) <= _FROM_ZOEKEN:
                return {BASIS: {f: result.get(f) for f in fields}}
        needs_profile = not set(fields) <= {"vestigingen"} | set(result)
        profile_task = self._get(f"{self._profielen}/{kvk}", headers) if needs_profile else None
        branches_task = self._branches(kvk, headers) if "vestigingen" in fields else None
        profile, branches = await asyncio.gather(profile_task or _none(), branches_task or _none())
        if isinstance(profile, dict):
            embedded = _dict(profile.get("_embedded"))
            eigenaar = _dict(embedded.get("eigenaar"))
            hoofd = _dict(embedded.get("hoofdvestiging"))
            from_profile: Json = {
                "kvkNummer": profile.get("kvkNummer"),
                "naam": profile.get("naam"),
                "handelsnamen": [h.get("naam") for h in _list(profile.get("handelsnamen"))],
                "rechtsvorm": eigenaar.get("rechtsvorm"),
                "uitgebreideRechtsvorm": eigenaar.get("uitgebreideRechtsvorm"),
                "formeleRegistratiedatum": _iso(profile.get("formeleRegistratiedatum")),
                "totaalWerkzamePersonen": profile.get("totaalWerkzamePersonen"),
                "sbiActiviteiten": [
                    {
                        "sbiCode": s.get("sbiCode"),
                        "sbiOmschrijving": s.get("sbiOmschrijving"),
                        "hoofdactiviteit": s.get("indHoofdactiviteit") == "Ja",
                    }
                    for s in _list(profile.get("sbiActiviteiten"))
                ],
                "adressen": [_adres(a) for a in _list(hoofd.get("adressen"))],
                "vestigingsnummer": hoofd.get("vestigingsnummer"),
            }
            # a vestiging subject keeps its own number, name and address
            result = {**from_profile, **result}
        if branches is not None:
            result["vestigingen"] = branches
        return {BASIS: {f: result.get(f) for f in fields}}

    async def verify_subject(self, subject: Subject, headers: Mapping[str, str]) -> SubjectFacts:
        """Does the business exist, and its name. KVK has no secrecy indication."""
        if subject.kind not in self.subject_kinds:
            raise SubjectNotFound(f"{self.id}: alleen bedrijven (KVK-nummer, vestigingsnummer)")
        try:
            if subject.kind is SubjectKind.VESTIGING:
                item = await self._vestiging(subject.value, headers)
                naam = item.get("naam")
            else:
                profile = await self._get(f"{self._profielen}/{subject.value}", headers)
                naam = profile.get("naam")
        except SubjectNotFound:
            return SubjectFacts(exists=False)
        return SubjectFacts(exists=True, shielded=False, display_name=naam if isinstance(naam, str) else None)

    async def search(
        self,
        headers: Mapping[str, str],
        *,
        kvk_nummer: str | None = None,
        vestigingsnummer: str | None = None,
        naam: str | None = None,
        postcode: str | None = None,
        huisnummer: int | None = None,
        limit: int = 20,
    ) -> list[Json]:
        """Zoeken v2 results ({kvkNummer, vestigingsnummer, naam, type, adres}); [] when nothing matches."""
        params: dict[str, str] = {"resultatenPerPagina": str(max(1, min(limit, 100)))}
        for name, value in (
            ("kvkNummer", kvk_nummer),
            ("vestigingsnummer", vestigingsnummer),
            ("naam", naam),
            ("postcode", postcode),
        ):
            if value:
                params[name] = value
        if huisnummer is not None:
            params["huisnummer"] = str(huisnummer)
        if len(params) == 1:
            raise ValueError("geef een KVK-nummer, vestigingsnummer, naam of postcode")
        try:
            answer = await self._get(self._zoeken, headers, params)
        except SubjectNotFound:
            return []
        return [
            {
                "kvkNummer": r.get("kvkNummer"),
                "vestigingsnummer": r.get("vestigingsnummer"),
                "naam": r.get("naam"),
                "type": r.get("type"),
                "adres": _adres(_dict(_dict(r.get("adres")).get("binnenlandsAdres"))),
            }
            for r in _list(answer.get("resultaten"))
        ][:limit]

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: Zoeken for KVK-nummer 00000000, which no business has: 404 "geen resultaten"
        (or 200 empty) after the API key was accepted."""
        return await self._http.probe(
            "GET",
            self._zoeken,
            headers=headers,
            params={"kvkNummer": "00000000"},
            authenticated=frozenset({200, 400, 404}),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


async def _none() -> None:
    return None
