"""Haal Centraal BRP Reisdocumenten bevragen 2.0 adapter: the travel documents in `klant.basis`.

Serves one catalogue field of `klant.basis`: `reisdocumenten` (number, soort, datumEindeGeldigheid), or
single parts as `reisdocumenten.<path>` (e.g. `reisdocumenten.datumEindeGeldigheid`). Every other
field of `klant.basis` belongs to another source's vocabulary (BRP Personen, KVK) and is ignored; when
none of its own fields is asked the adapter makes no call and returns nothing.

One `POST /reisdocumenten` with `type: ZoekMetBurgerservicenummer` and `fields` = the asked paths plus
`inhoudingOfVermissing.aanduiding` and `houder.burgerservicenummer`: the first to skip surrendered,
lapsed and lost documents (they are no longer travel documents), the second to drop any document of
another holder (a source that ignores its filter must not leak). Both are removed from the answer
unless asked. Documents are returned soonest-expiring first; a person without documents gets `[]`.

`lookup_document(number)` (DocumentLookup, for checking a document shown at the counter): one
`RaadpleegMetReisdocumentnummer` for exactly that number, returning soort, end of validity,
inhouding/vermissing and holder BSN as a `TravelDocument` (None when the registry does not know the
number). A partially known end date counts as its earliest possible day; an unknown one as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from dgkb.domain.identifiers import SubjectKind
from dgkb.sources.base import (
    CategoryData,
    FetchRequest,
    ProbeResult,
    SourceError,
    SubjectNotFound,
    TravelDocument,
)
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["ReisdocumentenAdapter"]

BASIS = "klant.basis"
FIELD = "reisdocumenten"
_DEFAULT_PATHS = ("reisdocumentnummer", "soort", "datumEindeGeldigheid")
_FILTER_PATHS = ("inhoudingOfVermissing.aanduiding", "houder.burgerservicenummer")
_CHECK_PATHS = (
    "reisdocumentnummer",
    "soort.code",
    "datumEindeGeldigheid",
    "inhoudingOfVermissing.aanduiding.code",
    "houder.burgerservicenummer",
)
Json = dict[str, Any]


def _expiry(doc: Json) -> str:
    datum = doc.get("datumEindeGeldigheid")
    value = datum.get("datum") if isinstance(datum, dict) else None
    return value if isinstance(value, str) else "9999-12-31"


def _object(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _earliest_day(value: Any) -> date | None:
    """An AbstractDatum as its earliest possible day (Datum, JaarMaandDatum, JaarDatum); None when
    unknown or malformed, so that a document whose validity cannot be established is not valid."""
    if not isinstance(value, dict):
        return None
    try:
        if value.get("type") == "Datum" or "datum" in value:
            return date.fromisoformat(str(value.get("datum")))
        if value.get("type") == "JaarMaandDatum":
            return date(int(value["jaar"]), int(value["maand"]), 1)
        if value.get("type") == "JaarDatum":
            return date(int(value["jaar"]), 1, 1)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _strip(doc: Json, paths: list[str]) -> Json:
    """Remove the helper paths that were not asked for (and the objects they leave empty)."""
    asked_tops = {p.split(".")[0] for p in paths}
    result = dict(doc)
    for top in ("inhoudingOfVermissing", "houder"):
        if top not in asked_tops:
            result.pop(top, None)
    return result


class ReisdocumentenAdapter:
    """Reisdocumenten adapter. `options.path` overrides the endpoint path (default `/reisdocumenten`)."""

    subject_kinds = frozenset({SubjectKind.BSN})
    # category -> the catalogue fields of that category this adapter serves (the rest is ignored)
    vocabulary: Mapping[str, frozenset[str]] = {BASIS: frozenset({FIELD})}

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self._http = SourceHttpClient(config)
        self._path = str(config.options.get("path", "/reisdocumenten"))

    @staticmethod
    def api_paths(fields: tuple[str, ...]) -> list[str]:
        """The Reisdocument `fields` paths for the asked catalogue fields ([] when none is ours)."""
        paths: list[str] = []
        for f in fields:
            if f == FIELD:
                paths.extend(_DEFAULT_PATHS)
            elif f.startswith(f"{FIELD}."):
                paths.append(f.removeprefix(f"{FIELD}."))
        return list(dict.fromkeys(paths))

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        asked = request.fields.get(BASIS) if BASIS in self.categories else None
        paths = self.api_paths(asked or ())
        if not paths:
            return {}
        if request.subject.kind is not SubjectKind.BSN:
            raise SubjectNotFound(f"{self.id}: alleen personen (BSN)")
        bsn = request.subject.value
        body = {
            "type": "ZoekMetBurgerservicenummer",
            "burgerservicenummer": bsn,
            "fields": list(dict.fromkeys([*paths, *_FILTER_PATHS])),
        }
        answer = await self._http.request("POST", self._path, headers=request.headers, json=body)
        docs = answer.get("reisdocumenten") if isinstance(answer, dict) else None
        if not isinstance(docs, list):
            raise SourceError(f"{self.id}: antwoord zonder reisdocumenten")
        kept = [
            _strip(d, paths)
            for d in docs
            if isinstance(d, dict)
            and not d.get("inhoudingOfVermissing")
            and (d.get("houder") or {}).get("burgerservicenummer") == bsn
        ]
        kept.sort(key=_expiry)
        return {BASIS: {FIELD: kept}}

    async def lookup_document(self, number: str, headers: Mapping[str, str]) -> TravelDocument | None:
        body = {
            "type": "RaadpleegMetReisdocumentnummer",
            "reisdocumentnummer": [number],
            "fields": list(_CHECK_PATHS),
        }
        answer = await self._http.request("POST", self._path, headers=headers, json=body)
        docs = answer.get("reisdocumenten") if isinstance(answer, dict) else None
        if not isinstance(docs, list):
            raise SourceError(f"{self.id}: antwoord zonder reisdocumenten")
        # only the asked number counts: a source that ignores its filter must not decide for another
        found = [d for d in docs if isinstance(d, dict) and d.get("reisdocumentnummer") == number]
        if not found:
            return None
        doc = found[0]
        soort = _object(doc.get("soort"))
        houder = _object(doc.get("houder"))
        withdrawn = doc.get("inhoudingOfVermissing")
        aanduiding = withdrawn.get("aanduiding") if isinstance(withdrawn, dict) else None
        code = aanduiding.get("code") if isinstance(aanduiding, dict) else None
        bsn = houder.get("burgerservicenummer")
        return TravelDocument(
            number=number,
            kind=str(soort["code"]) if soort.get("code") else None,
            valid_until=_earliest_day(doc.get("datumEindeGeldigheid")),
            holder_bsn=bsn if isinstance(bsn, str) else None,
            # any inhouding or vermissing, even one without a readable code, withdraws the document
            withdrawn=(str(code) if code else "?") if withdrawn else None,
            holder_shielded=houder.get("geheimhoudingPersoonsgegevens") is True,
        )

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: a raadpleeg request for no document number (names no person); 400 comes
        only after the credentials were accepted."""
        body = {
            "type": "RaadpleegMetReisdocumentnummer",
            "reisdocumentnummer": [],
            "fields": ["reisdocumentnummer"],
        }
        return await self._http.probe(
            "POST", self._path, headers=headers, json=body, authenticated=frozenset({200, 400})
        )

    async def aclose(self) -> None:
        await self._http.aclose()
