"""Open Producten adapter: the products of a person or company -> `dossier.rechten-en-plichten`.

Lists `GET {path}/producten/?eigenaren__bsn=…` (or `eigenaren__kvk_nummer=…`), following `next` within
the same origin and `options.maxPages`, keeps only products whose `eigenaren` really include the
subject (a source that ignores the filter must not leak another customer's products), and returns per
product exactly the permitted fields of the catalogue:

    naam        product_type.naam, else product_type.uniforme_product_naam
    soort       the first of product_type.keywords (vergunning, subsidie, pas, regeling, …)
    status      status
    startdatum  start_datum
    einddatum   eind_datum

The API has no field selection, so answers are projected at once. Vestigingsnummer subjects are not
served (the 0.0.x API has no such owner filter): SubjectNotFound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import CategoryData, FetchRequest, ProbeResult, SourceError, SubjectNotFound
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["ProductenAdapter"]

CATEGORY = "dossier.rechten-en-plichten"
Json = dict[str, Any]
_OWNER_FILTER = {
    SubjectKind.BSN: ("eigenaren__bsn", "bsn"),
    SubjectKind.KVK: ("eigenaren__kvk_nummer", "kvk_nummer"),
}


def _naam(p: Json) -> Any:
    t = p.get("product_type") or {}
    return t.get("naam") or t.get("uniforme_product_naam")


def _soort(p: Json) -> Any:
    keywords = (p.get("product_type") or {}).get("keywords")
    return keywords[0] if isinstance(keywords, list) and keywords else None


_FIELDS: dict[str, Callable[[Json], Any]] = {
    "naam": _naam,
    "soort": _soort,
    "status": lambda p: p.get("status"),
    "startdatum": lambda p: p.get("start_datum"),
    "einddatum": lambda p: p.get("eind_datum"),
}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _owned_by(product: Json, subject: Subject) -> bool:
    key = _OWNER_FILTER[subject.kind][1]
    eigenaren = product.get("eigenaren")
    return isinstance(eigenaren, list) and any(
        isinstance(e, dict) and e.get(key) == subject.value for e in eigenaren
    )


class ProductenAdapter:
    """Open Producten adapter. `options.path` (default `/producten/`), `options.maxPages` (10)."""

    subject_kinds = frozenset(_OWNER_FILTER)
    vocabulary: Mapping[str, frozenset[str]] = {CATEGORY: frozenset(_FIELDS)}

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self._http = SourceHttpClient(config)
        self._path = str(config.options.get("path", "/producten/"))
        self._max_pages = int(config.options.get("maxPages", 10))

    async def _list(self, params: Mapping[str, str], headers: Mapping[str, str]) -> list[Json]:
        origin = _origin(self._http.base_url)
        url: str | None = self._path
        query: Mapping[str, str] | None = params
        seen: set[str] = set()
        results: list[Json] = []
        for _ in range(self._max_pages):
            if url is None:
                break
            page = await self._http.request(
                "GET", url, headers=headers, params=query, not_found_is_subject=False
            )
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise SourceError(f"{self.id}: antwoord is geen productenlijst")
            results.extend(r for r in page["results"] if isinstance(r, dict))
            nxt = page.get("next")
            if not isinstance(nxt, str) or nxt in seen or _origin(nxt) != origin:
                break
            seen.add(nxt)
            url, query = nxt, None
        return results

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        asked = request.fields.get(CATEGORY) if CATEGORY in self.categories else None
        fields = [f for f in asked or () if f in _FIELDS]
        if not fields:
            return {}
        subject = request.subject
        if subject.kind not in _OWNER_FILTER:
            raise SubjectNotFound(f"{self.id}: alleen BSN of KVK-nummer")
        param = _OWNER_FILTER[subject.kind][0]
        products = await self._list({param: subject.value, "page_size": "100"}, request.headers)
        own = [p for p in products if _owned_by(p, subject)]
        own.sort(key=lambda p: str(p.get("start_datum") or p.get("aanmaak_datum") or ""), reverse=True)
        return {CATEGORY: [{f: _FIELDS[f](p) for f in fields} for p in own]}

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: products that ended before 1900 — none, so no owner is read."""
        return await self._http.probe(
            "GET", self._path, headers=headers, params={"eind_datum__lte": "1900-01-01", "page_size": "1"}
        )

    async def aclose(self) -> None:
        await self._http.aclose()
