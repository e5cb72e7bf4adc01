"""Klantinteracties API adapter (Open Klant 2): contact details, preferences, contacts, open requests.

Finds the partij by its BSN partij-identificator first (no partij: every requested category is None,
"niet-gevonden"), then makes only the calls the requested categories need, concurrently:
`digitaleadressen` for contact details and the preferred address, one `klantcontacten` list (with
`expand` of onderwerpobjecten and/or interne taken) for the contact history and the open requests. The
API has no field selection, so answers are projected down to the permitted fields at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from dgkb.sources.base import CategoryData, FetchRequest, SourceError, SubjectNotFound
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["KlantinteractiesAdapter"]

CONTACTGEGEVENS = "klant.contactgegevens"
VOORKEUR = "klant.voorkeurskanaal"
HISTORIE = "contact.historie"
OPEN_VERZOEKEN = "contact.open-verzoeken"
_SERVED = (CONTACTGEGEVENS, VOORKEUR, HISTORIE, OPEN_VERZOEKEN)
_KANAAL = {"email": "e-mail", "telefoonnummer": "telefoon"}
Json = dict[str, Any]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _adres(a: Json) -> Json:
    return {
        "adres": a.get("adres"),
        "soortDigitaalAdres": a.get("soortDigitaalAdres"),
        "omschrijving": a.get("omschrijving"),
    }


class KlantinteractiesAdapter:
    """Klantinteracties adapter. `options.path` (default `/klantinteracties/api/v1`), `options.maxPages`."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self._http = SourceHttpClient(config)
        self._path = str(config.options.get("path", "/klantinteracties/api/v1")).rstrip("/")
        self._max_pages = int(config.options.get("maxPages", 10))
        self._actors: dict[str, str | None] = {}  # actor URL -> naam (an organisational unit, not a customer)

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
        origin = _origin(self._http.base_url)
        url: str | None = f"{self._path}{path}"
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

    async def _actor_name(self, fk: Any, headers: Mapping[str, str]) -> str | None:
        url = fk.get("url") if isinstance(fk, dict) else None
        if not isinstance(url, str):
            return None
        if url not in self._actors:
            actor = await self._get(url, headers)
            naam = actor.get("naam")
            self._actors[url] = naam if isinstance(naam, str) else None
        return self._actors[url]

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        wanted = {c: f for c, f in request.fields.items() if c in _SERVED and c in self.categories}
        if not wanted:
            return {}
        if not request.subject.is_person:
            raise SubjectNotFound(f"{self.id}: alleen personen (BSN)")
        headers = request.headers
        partijen = await self._list(
            "/partijen",
            {
                "partijIdentificator__codeSoortObjectId": "bsn",
                "partijIdentificator__objectId": request.subject.value,
            },
            headers,
        )
        if not partijen:
            return dict.fromkeys(wanted)
        partij = partijen[0]
        partij_uuid = str(partij.get("uuid"))

        voorkeur_fields = set(wanted.get(VOORKEUR, ()))
        need_adressen = CONTACTGEGEVENS in wanted or bool(
            voorkeur_fields & {"voorkeursDigitaalAdres", "voorkeurskanaal"}
        )
        expand = []
        if "zaken" in wanted.get(HISTORIE, ()):
            expand.append("gingOverOnderwerpobjecten")
        if OPEN_VERZOEKEN in wanted:
            expand.append("leiddeTotInterneTaken")
        need_contacten = HISTORIE in wanted or OPEN_VERZOEKEN in wanted

        async def adressen() -> list[Json]:
            if not need_adressen:
                return []
            return await self._list("/digitaleadressen", {"verstrektDoorPartij__uuid": partij_uuid}, headers)

        async def contacten() -> list[Json]:
            if not need_contacten:
                return []
            params = {"hadBetrokkene__wasPartij__uuid": partij_uuid}
            if expand:
                params["expand"] = ",".join(expand)
            return await self._list("/klantcontacten", params, headers)

        digitale_adressen, klantcontacten = await asyncio.gather(adressen(), contacten())
        result: dict[str, CategoryData | None] = {}
        if CONTACTGEGEVENS in wanted:
            soorten = {"emailadressen": "email", "telefoonnummers": "telefoonnummer"}
            result[CONTACTGEGEVENS] = {
                f: [_adres(a) for a in digitale_adressen if a.get("soortDigitaalAdres") == soorten[f]]
                for f in wanted[CONTACTGEGEVENS]
                if f in soorten
            }
        if VOORKEUR in wanted:
            result[VOORKEUR] = self._voorkeur(partij, digitale_adressen, wanted[VOORKEUR])
        if HISTORIE in wanted:
            result[HISTORIE] = [
                self._contact(c, wanted[HISTORIE]) for c in self._newest_first(klantcontacten)
            ]
        if OPEN_VERZOEKEN in wanted:
            result[OPEN_VERZOEKEN] = await self._open_verzoeken(
                klantcontacten, wanted[OPEN_VERZOEKEN], headers
            )
        return result

    @staticmethod
    def _newest_first(contacten: list[Json]) -> list[Json]:
        return sorted(contacten, key=lambda c: str(c.get("plaatsgevondenOp") or ""), reverse=True)

    @staticmethod
    def _voorkeur(partij: Json, adressen: list[Json], fields: tuple[str, ...]) -> Json:
        ref = partij.get("voorkeursDigitaalAdres")
        ref_uuid = ref.get("uuid") if isinstance(ref, dict) else None
        adres = next((a for a in adressen if ref_uuid and a.get("uuid") == ref_uuid), None)
        values: Json = {
            "voorkeursDigitaalAdres": _adres(adres) if adres else None,
            "voorkeurstaal": partij.get("voorkeurstaal") or None,
            "voorkeurskanaal": _KANAAL.get(str(adres.get("soortDigitaalAdres"))) if adres else None,
        }
        return {f: values.get(f) for f in fields}

    @staticmethod
    def _contact(contact: Json, fields: tuple[str, ...]) -> Json:
        item = {f: contact.get(f) for f in fields if f != "zaken"}
        if "zaken" in fields:
            objecten = (contact.get("_expand") or {}).get("gingOverOnderwerpobjecten") or []
            ids = [o.get("onderwerpobjectidentificator") or {} for o in objecten if isinstance(o, dict)]
            item["zaken"] = [
                i.get("objectId")
                for i in ids
                if i.get("codeObjecttype") == "zaak" or i.get("codeSoortObjectId") == "zaak"
            ]
        return {f: item.get(f) for f in fields}

    async def _open_verzoeken(
        self, contacten: list[Json], fields: tuple[str, ...], headers: Mapping[str, str]
    ) -> list[Json]:
        taken = [
            t
            for c in contacten
            for t in (c.get("_expand") or {}).get("leiddeTotInterneTaken") or []
            if isinstance(t, dict) and t.get("status") == "te_verwerken"
        ]
        taken.sort(key=lambda t: str(t.get("toegewezenOp") or ""), reverse=True)
        names: list[str | None] = [None] * len(taken)
        if "toegewezenAan" in fields:
            names = list(
                await asyncio.gather(*(self._actor_name(t.get("toegewezenAanActor"), headers) for t in taken))
            )
        result = []
        for taak, naam in zip(taken, names, strict=True):
            item = {f: taak.get(f) for f in fields if f != "toegewezenAan"}
            if "toegewezenAan" in fields:
                item["toegewezenAan"] = naam
            result.append({f: item.get(f) for f in fields})
        return result

    async def aclose(self) -> None:
        await self._http.aclose()
