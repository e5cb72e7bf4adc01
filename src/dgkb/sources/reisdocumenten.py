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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dgkb.domain.identifiers import SubjectKind
from dgkb.sources.base import CategoryData, FetchRequest, SourceError, SubjectNotFound
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["ReisdocumentenAdapter"]

BASIS = "klant.basis"
FIELD = "reisdocumenten"
_DEFAULT_PATHS = ("reisdocumentnummer", "soort", "datumEindeGeldigheid")
_FILTER_PATHS = ("inhoudingOfVermissing.aanduiding", "houder.burgerservicenummer")
Json = dict[str, Any]


def _expiry(doc: Json) -> str:
    datum = doc.get("datumEindeGeldigheid")
    value = datum.get("datum") if isinstance(datum, dict) else None
    return value if isinstance(value, str) else "9999-12-31"


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

    async def aclose(self) -> None:
        await self._http.aclose()
