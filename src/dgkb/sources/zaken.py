"""ZGW Zaken API adapter: `dienst.zaken-lopend` (no einddatum) and `dienst.zaken-historie` (closed).

Lists the zaken of the person by the initiator's BSN (following `next`, at most `options.maxPages`
pages, same origin only), then fetches concurrently only what the permitted fields need: the zaaktype
(cached in-process: catalogue data, not personal), the current status, the status history, the
resultaat. Returns per category a list of dicts holding exactly the permitted fields.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject
from dgkb.sources.base import CategoryData, FetchRequest, SourceError, SubjectNotFound, ZaakFacts
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["ZakenAdapter"]

LOPEND = "dienst.zaken-lopend"
HISTORIE = "dienst.zaken-historie"
_CRS = {"Accept-Crs": "EPSG:4326"}
_PLAIN = ("identificatie", "omschrijving", "startdatum", "einddatum", "uiterlijkeEinddatumAfdoening", "url")
Json = dict[str, Any]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class ZakenAdapter:
    """Zaken + Catalogi adapter. `options.zakenPath` (default `/zaken/api/v1`), `options.maxPages`."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self._http = SourceHttpClient(config)
        self._zaken_path = str(config.options.get("zakenPath", "/zaken/api/v1")).rstrip("/")
        self._max_pages = int(config.options.get("maxPages", 10))
        self._names: dict[str, asyncio.Future[str | None]] = {}  # catalogi URL -> omschrijving

    async def _get(
        self, url: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Json:
        answer = await self._http.request(
            "GET", url, headers=headers, params=params, not_found_is_subject=False
        )
        if not isinstance(answer, dict):
            raise SourceError(f"{self.id}: antwoord is geen object")
        return answer

    async def _list(self, path: str, params: Mapping[str, str], headers: Mapping[str, str]) -> list[Json]:
        """All results of a paginated list, following `next` within the same origin and page limit."""
        origin = _origin(self._http.base_url)
        url: str | None = f"{self._zaken_path}{path}"
        query: Mapping[str, str] | None = params
        seen: set[str] = set()
        results: list[Json] = []
        for _ in range(self._max_pages):
            if url is None:
                break
            page = await self._get(url, headers, query)
            results.extend(r for r in page.get("results", []) if isinstance(r, dict))
            nxt = page.get("next")
            if not isinstance(nxt, str) or nxt in seen or _origin(nxt) != origin:
                break
            seen.add(nxt)
            url, query = nxt, None
        return results

    async def _name(self, url: str | None, headers: Mapping[str, str]) -> str | None:
        """The omschrijving of a catalogi object (zaaktype, statustype, resultaattype), cached per URL."""
        if not url:
            return None
        future = self._names.get(url)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._names[url] = future
            try:
                data = await self._get(url, headers)
                omschrijving = data.get("omschrijving")
                future.set_result(omschrijving if isinstance(omschrijving, str) else None)
            except BaseException as exc:
                del self._names[url]
                future.set_exception(exc)
                future.exception()  # mark retrieved: the caller below re-raises it
                raise
        return await asyncio.shield(future)

    async def _status(self, url: str | None, headers: Mapping[str, str]) -> Json | None:
        if not url:
            return None
        status = await self._get(url, headers)
        return {
            "omschrijving": await self._name(status.get("statustype"), headers),
            "datumStatusGezet": status.get("datumStatusGezet"),
        }

    async def _history(self, zaak_url: str, headers: Mapping[str, str]) -> list[Json]:
        statussen = await self._list("/statussen", {"zaak": zaak_url}, headers)
        names = await asyncio.gather(*(self._name(s.get("statustype"), headers) for s in statussen))
        history = [
            {"omschrijving": n, "datumStatusGezet": s.get("datumStatusGezet")}
            for s, n in zip(statussen, names, strict=True)
        ]
        return sorted(history, key=lambda h: str(h["datumStatusGezet"] or ""))

    async def _resultaat(self, url: str | None, headers: Mapping[str, str]) -> str | None:
        if not url:
            return None
        resultaat = await self._get(url, headers)
        return await self._name(resultaat.get("resultaattype"), headers)

    async def _project(self, zaak: Json, fields: tuple[str, ...], headers: Mapping[str, str]) -> Json:
        item: Json = {f: zaak.get(f) for f in fields if f in _PLAIN}
        lookups: dict[str, Callable[[], Awaitable[Any]]] = {
            "zaaktype": lambda: self._name(zaak.get("zaaktype"), headers),
            "status": lambda: self._status(zaak.get("status"), headers),
            "statushistorie": lambda: self._history(str(zaak.get("url")), headers),
            "resultaat": lambda: self._resultaat(zaak.get("resultaat"), headers),
        }
        wanted = [f for f in fields if f in lookups]
        values = await asyncio.gather(*(lookups[f]() for f in wanted))
        item.update(zip(wanted, values, strict=True))
        return {f: item.get(f) for f in fields}

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        wanted = {c: f for c, f in request.fields.items() if c in (LOPEND, HISTORIE) and c in self.categories}
        if not wanted:
            return {}
        if not request.subject.is_person:
            raise SubjectNotFound(f"{self.id}: alleen personen (BSN)")
        headers = {**request.headers, **_CRS}
        params = {"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": request.subject.value}
        if len(wanted) == 1:  # ask only for the open or only for the closed zaken
            params["einddatum__isnull"] = "true" if LOPEND in wanted else "false"
        zaken = await self._list("/zaken", params, headers)
        groups = {
            LOPEND: sorted(
                (z for z in zaken if not z.get("einddatum")),
                key=lambda z: str(z.get("startdatum") or ""),
                reverse=True,
            ),
            HISTORIE: sorted(
                (z for z in zaken if z.get("einddatum")),
                key=lambda z: str(z.get("einddatum") or ""),
                reverse=True,
            ),
        }
        result: dict[str, CategoryData | None] = {}
        for category, fields in wanted.items():
            result[category] = list(
                await asyncio.gather(*(self._project(z, fields, headers) for z in groups[category]))
            )
        return result

    async def zaak_facts(self, identificatie: str, headers: Mapping[str, str]) -> ZaakFacts:
        """The zaaktype and initiator of the zaak with this identificatie (SubjectNotFound if unknown)."""
        all_headers = {**headers, **_CRS}
        zaken = await self._list("/zaken", {"identificatie": identificatie}, all_headers)
        if not zaken:
            raise SubjectNotFound(f"{self.id}: zaak niet gevonden")
        zaak = zaken[0]
        url = str(zaak.get("url"))
        rollen, omschrijving = await asyncio.gather(
            self._list("/rollen", {"zaak": url, "omschrijvingGeneriek": "initiator"}, headers),
            self._name(zaak.get("zaaktype"), headers),
        )
        initiator: Subject | None = None
        for rol in rollen:
            if rol.get("omschrijvingGeneriek") != "initiator":
                continue
            bsn = (rol.get("betrokkeneIdentificatie") or {}).get("inpBsn")
            try:
                initiator = Subject.person(bsn)
            except InvalidIdentifier:
                continue
            break
        return ZaakFacts(
            url=url,
            identificatie=str(zaak.get("identificatie")),
            zaaktype=str(zaak.get("zaaktype")),
            zaaktype_omschrijving=omschrijving,
            initiator=initiator,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
