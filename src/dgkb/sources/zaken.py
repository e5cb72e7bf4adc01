"""ZGW Zaken API adapter: `dienst.zaken-lopend` (no einddatum) and `dienst.zaken-historie` (closed).

Lists the zaken of the subject by a betrokkene filter (following `next`, `pageSize` up to 500, at most
`options.maxPages` pages, same origin only):

    person (BSN)              rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn
    business (KVK-nummer)     rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId
                              (Zaken 1.5.1 and 1.7 have no kvkNummer filter; `options.kvkFilter`
                              names another parameter for a source that has one)
    vestiging                 rol__betrokkeneIdentificatie__vestiging__vestigingsNummer

Leak guard: a source that ignores the filter would hand over other customers' zaken (it happened in
the field), so every zaak must show the subject among its rollen — taken from `expand=rollen`
(Zaken 1.5), or, when the source does not expand, from `/rollen?zaak=…` per zaak, concurrently. A zaak
without such a rol is dropped, counted in `dropped_zaken` and logged (without identifiers); it is
never returned. Then it fetches concurrently only what the permitted fields need: the zaaktype (cached
in-process: catalogue data, not personal), the current status, the status history, the resultaat.
Returns per category a list of dicts holding exactly the permitted fields.

Fields beyond the zaak's own: `statushistorie` (every status, oldest first), `statustypen` (the steps
of the zaaktype in volgnummer order, with `isEindstatus`: catalogue data, cached like the names, so a
customer can see the next expected step), `opschorting` ({"indicatie", "reden"} as served: the zaak
waits, e.g. "Wacht op aanvulling: …"). `documenten` (the titles of the zaak's zaakinformatieobjecten)
is never part of a list read: Zaken 1.5.1 cannot expand a zaak's zaakinformatieobjecten (1.7 can), so
it would cost a request per zaak; `zaak_documenten` fetches them for one zaak the caller already holds
(one request, the zaak detail page). The adapter's vocabulary therefore leaves `documenten` out.

Writes (`ZaakCreator`, a correction request routed as a zaak): `create_zaak` looks the zaaktype up in
the Catalogi API (`options.catalogiPath`, default `/catalogi/api/v1`; by URL on this source's origin
only, or by `identificatie`, a published one) with its roltype of omschrijvingGeneriek `initiator`,
then POSTs the zaak (bronorganisatie, zaaktype, verantwoordelijkeOrganisatie, startdatum today,
omschrijving, toelichting) and the subject's initiator rol (natuurlijk_persoon `inpBsn`,
niet_natuurlijk_persoon `innNnpId` = the KVK-nummer, as the read side expects, or vestiging
`vestigingsNummer`). Too long a text is a SourceValidationError before anything is sent; a refused
request (400) SourceRejected, one outside DGKB's autorisaties (403) SourceUnauthorized; a zaak stored
without its rol a PartialWriteError carrying the zaak.

`zaken_of_medewerker` lists a case worker's open zaken
(`rol__betrokkeneIdentificatie__medewerker__identificatie`), with the same leak guard: a zaak without
that medewerker as behandelaar is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from typing import Any

from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import (
    ALL_SUBJECT_KINDS,
    CategoryData,
    FetchRequest,
    InvalidParam,
    PartialWriteError,
    ProbeResult,
    SourceError,
    SourceRejected,
    SourceValidationError,
    SubjectNotFound,
    ZaakFacts,
)
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["ZakenAdapter"]

LOPEND = "dienst.zaken-lopend"
HISTORIE = "dienst.zaken-historie"
# Zaken 1.5.1 declares both headers required on GET /zaken (Content-Crs too, though a GET has no body)
_CRS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}
_BSN_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"
_KVK_FILTER = "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId"
_VESTIGING_FILTER = "rol__betrokkeneIdentificatie__vestiging__vestigingsNummer"
_MEDEWERKER_FILTER = "rol__betrokkeneIdentificatie__medewerker__identificatie"
_log = logging.getLogger(__name__)
# Zaken 1.5 `expand` names that answer a catalogue field inline, saving a call per zaak
IDENTITY_TTL = 600.0  # seconds a subject's zaak URLs are remembered (see ZakenAdapter._known_zaken)
IDENTITY_MAX = 10_000  # subjects remembered at most
_EXPAND_FOR = {
    "zaaktype": ("zaaktype",),
    "statustypen": ("zaaktype",),
    "status": ("status", "status.statustype"),
    "resultaat": ("resultaat", "resultaat.resultaattype"),
}


def _expanded(resource: Json) -> Json:
    inline = resource.get("_expand")
    return inline if isinstance(inline, dict) else {}


_PLAIN = (
    "identificatie",
    "omschrijving",
    "startdatum",
    "einddatum",
    "uiterlijkeEinddatumAfdoening",
    "url",
    "opschorting",
)
# what a list read can deliver (see the module docstring: `documenten` only by `zaak_documenten`)
LIST_FIELDS = frozenset((*_PLAIN, "zaaktype", "status", "statushistorie", "statustypen", "resultaat"))
Json = dict[str, Any]


def rol_is_subject(rol: Json, subject: Subject) -> bool:
    """Does this rol name the subject as betrokkene? A KVK-nummer may sit in a niet-natuurlijk
    persoon's `innNnpId` (or `kvkNummer`, newer APIs) or in a vestiging's `kvkNummer`."""
    ident = rol.get("betrokkeneIdentificatie")
    if not isinstance(ident, dict):
        return False
    soort = rol.get("betrokkeneType")
    value = subject.value
    if subject.kind is SubjectKind.BSN:
        return soort == "natuurlijk_persoon" and ident.get("inpBsn") == value
    if subject.kind is SubjectKind.KVK:
        if soort == "niet_natuurlijk_persoon":
            return value in (ident.get("innNnpId"), ident.get("kvkNummer"))
        return soort == "vestiging" and ident.get("kvkNummer") == value
    return soort == "vestiging" and ident.get("vestigingsNummer") == value


def rol_is_behandelaar(rol: Json, identificatie: str) -> bool:
    """Does this rol name the medewerker `identificatie` as behandelaar of the zaak?"""
    ident = rol.get("betrokkeneIdentificatie")
    return (
        rol.get("betrokkeneType") == "medewerker"
        and rol.get("omschrijvingGeneriek") == "behandelaar"
        and isinstance(ident, dict)
        and ident.get("identificatie") == identificatie
    )


def _behandelaars(rollen: list[Json], betrokkene_type: str) -> tuple[str, ...]:
    """The identificaties of the medewerkers (or teams) in the zaak's behandelaar rollen."""
    found: list[str] = []
    for rol in rollen:
        ident = rol.get("betrokkeneIdentificatie")
        if (
            rol.get("omschrijvingGeneriek") == "behandelaar"
            and rol.get("betrokkeneType") == betrokkene_type
            and isinstance(ident, dict)
            and isinstance(ident.get("identificatie"), str)
        ):
            found.append(ident["identificatie"])
    return tuple(found)


def _initiator(rol: Json) -> Subject | None:
    """The subject a rol identifies, when it is a BSN, a KVK-nummer or a vestigingsnummer."""
    ident = rol.get("betrokkeneIdentificatie")
    if not isinstance(ident, dict):
        return None
    soort = rol.get("betrokkeneType")
    try:
        if soort == "natuurlijk_persoon":
            return Subject.person(ident.get("inpBsn"))
        if soort == "niet_natuurlijk_persoon":
            return Subject.business(ident.get("kvkNummer") or ident.get("innNnpId"))
        if soort == "vestiging":
            return Subject.establishment(ident.get("vestigingsNummer"))
    except InvalidIdentifier:
        return None
    return None


class ZakenAdapter:
    """Zaken + Catalogi adapter. Options: `zakenPath` (default `/zaken/api/v1`), `maxPages` (20),
    `pageSize` (500, the most Open Zaak serves), `kvkFilter` (the zaken filter for a KVK-nummer)."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self.subject_kinds = ALL_SUBJECT_KINDS
        # every field of its categories but `documenten` (only for one zaak: `zaak_documenten`)
        self.vocabulary: Mapping[str, frozenset[str]] = {LOPEND: LIST_FIELDS, HISTORIE: LIST_FIELDS}
        self._http = SourceHttpClient(config)
        self._zaken_path = str(config.options.get("zakenPath", "/zaken/api/v1")).rstrip("/")
        self._catalogi_path = str(config.options.get("catalogiPath", "/catalogi/api/v1")).rstrip("/")
        self._max_pages = int(config.options.get("maxPages", 20))
        self._page_size = max(1, min(500, int(config.options.get("pageSize", 500))))
        self._filters = {
            SubjectKind.BSN: _BSN_FILTER,
            SubjectKind.KVK: str(config.options.get("kvkFilter", _KVK_FILTER)),
            SubjectKind.VESTIGING: _VESTIGING_FILTER,
        }
        # catalogi URL -> what DGKB uses of it (omschrijving, volgnummer, isEindstatus, statustypen)
        self._names: dict[str, asyncio.Future[Json]] = {}
        # An identity map (pseudonym -> the URLs of the subject's zaken at the last read, until
        # when): the Zaken API cannot embed a zaak's status history, so with it the /statussen calls
        # of the known zaken start together with the zaken list — one round trip instead of two.
        # Only URLs under a pseudonym, in memory, for IDENTITY_TTL seconds, at most IDENTITY_MAX.
        # Stale is harmless: histories are fetched afresh, and used only for zaken the (guarded)
        # list returns now; a zaak the map did not know yet is fetched after the list, as before.
        self._known_zaken: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        # zaken a source returned for a subject without having it as betrokkene (leak guard)
        self.dropped_zaken = 0

    async def _get(
        self, url: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Json:
        return await self._http.get_object(url, headers, params)

    async def _list(self, path: str, params: Mapping[str, str], headers: Mapping[str, str]) -> list[Json]:
        return await self._http.get_all_pages(
            f"{self._zaken_path}{path}",
            {**params, "pageSize": str(self._page_size)},
            headers,
            max_pages=self._max_pages,
        )

    async def _name(self, url: str | None, headers: Mapping[str, str]) -> str | None:
        """The omschrijving of a catalogi object (zaaktype, statustype, resultaattype), cached per URL;
        concurrent views asking for the same one share one lookup."""
        if not url:
            return None
        omschrijving = (await self._catalogue_item(url, headers)).get("omschrijving")
        return omschrijving if isinstance(omschrijving, str) else None

    async def _catalogue_item(self, url: str, headers: Mapping[str, str]) -> Json:
        """What DGKB uses of a catalogi object (see `_summary`), cached per URL (see `_name`)."""
        while True:
            future = self._names.get(url)
            if future is None:
                return await self._look_up_name(url, headers)
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                # The view that made the lookup went away (its deadline, a discarded prefetch): that
                # is not this view's cancellation, so look the name up again instead of handing its
                # CancelledError on (it escaped every handler and was a 500). This view's own
                # cancellation (`cancelling()`) still ends it.
                current = asyncio.current_task()
                if future.cancelled() and (current is None or current.cancelling() == 0):
                    continue
                raise

    async def _look_up_name(self, url: str, headers: Mapping[str, str]) -> Json:
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._names[url] = future
        try:
            data = await self._get(url, headers)
        except asyncio.CancelledError:
            self._forget_name(url, future)
            future.cancel()  # the others waiting for it look it up themselves (_name)
            raise
        except BaseException as exc:
            self._forget_name(url, future)
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller below re-raises it
            raise
        future.set_result(_summary(data))
        return future.result()

    def _forget_name(self, url: str, future: asyncio.Future[Json]) -> None:
        if self._names.get(url) is future:
            del self._names[url]

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

    async def _statustypen(self, zaak: Json, headers: Mapping[str, str]) -> list[Json]:
        """The steps of the zaak's zaaktype, in volgnummer order (catalogue data, cached)."""
        zaaktype = _expanded(zaak).get("zaaktype")
        url = zaak.get("zaaktype")
        if isinstance(zaaktype, dict) and isinstance(url, str):
            self._remember_catalogue(url, zaaktype)
        if not isinstance(url, str) or not url:
            return []
        urls = (await self._catalogue_item(url, headers)).get("statustypen") or []
        items = await asyncio.gather(*(self._catalogue_item(u, headers) for u in urls if isinstance(u, str)))
        steps = [
            {
                "omschrijving": i.get("omschrijving"),
                "volgnummer": i.get("volgnummer"),
                "isEindstatus": bool(i.get("isEindstatus")),
            }
            for i in items
        ]
        return sorted(steps, key=lambda s: s["volgnummer"] if isinstance(s["volgnummer"], int) else 0)

    def _remember_catalogue(self, url: str, data: Json) -> None:
        """An expanded catalogi object answers the cache too (no lookup needed later)."""
        if url not in self._names:
            future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
            future.set_result(_summary(data))
            self._names[url] = future

    async def _resultaat(self, url: str | None, headers: Mapping[str, str]) -> str | None:
        if not url:
            return None
        resultaat = await self._get(url, headers)
        return await self._name(resultaat.get("resultaattype"), headers)

    async def _project(
        self,
        zaak: Json,
        fields: tuple[str, ...],
        headers: Mapping[str, str],
        prefetched: dict[str, asyncio.Task[list[Json]]] | None = None,
    ) -> Json:
        prefetched = prefetched if prefetched is not None else {}
        item: Json = {f: zaak.get(f) for f in fields if f in _PLAIN}
        expanded = _expanded(zaak)
        lookups: dict[str, Callable[[], Awaitable[Any]]] = {
            "zaaktype": lambda: self._name(zaak.get("zaaktype"), headers),
            "status": lambda: self._status(zaak.get("status"), headers),
            "statushistorie": lambda: (
                prefetched.pop(str(zaak.get("url")), None) or self._history(str(zaak.get("url")), headers)
            ),
            "resultaat": lambda: self._resultaat(zaak.get("resultaat"), headers),
            "statustypen": lambda: self._statustypen(zaak, headers),
        }
        # what the source expanded inline needs no further call (a source that does not expand
        # simply leaves these out and the lookups above run)
        if isinstance(zt := expanded.get("zaaktype"), dict) and isinstance(zt.get("omschrijving"), str):
            item["zaaktype"] = zt["omschrijving"]
            lookups.pop("zaaktype")
        status = expanded.get("status")
        if isinstance(status, dict) and isinstance(name := _expanded(status).get("statustype"), dict):
            item["status"] = {
                "omschrijving": name.get("omschrijving"),
                "datumStatusGezet": status.get("datumStatusGezet"),
            }
            lookups.pop("status")
        resultaat = expanded.get("resultaat")
        if isinstance(resultaat, dict) and isinstance(rt := _expanded(resultaat).get("resultaattype"), dict):
            item["resultaat"] = rt.get("omschrijving")
            lookups.pop("resultaat")
        if zaak.get("resultaat") is None:
            lookups.pop("resultaat", None)
            item.setdefault("resultaat", None)
        if zaak.get("status") is None:
            lookups.pop("status", None)
            item.setdefault("status", None)
        wanted = [f for f in fields if f in lookups]
        values = await asyncio.gather(*(lookups[f]() for f in wanted))
        item.update(zip(wanted, values, strict=True))
        return {f: item.get(f) for f in fields}

    async def _rollen(self, zaak: Json, headers: Mapping[str, str]) -> list[Json]:
        """The rollen of a zaak: expanded ones when the source sent them, else fetched. Only rollen
        that point back at this zaak count (a source ignoring `?zaak=` must not vouch for it)."""
        expanded = zaak.get("_expand")
        rollen = expanded.get("rollen") if isinstance(expanded, dict) else None
        if not isinstance(rollen, list):
            rollen = await self._list("/rollen", {"zaak": str(zaak.get("url"))}, headers)
        return [r for r in rollen if isinstance(r, dict) and r.get("zaak") == zaak.get("url")]

    async def _guard(self, subject: Subject, zaken: list[Json], headers: Mapping[str, str]) -> list[Json]:
        """Only the zaken that really have the subject as betrokkene (see the module docstring)."""
        rollen = await asyncio.gather(*(self._rollen(z, headers) for z in zaken))
        kept = [z for z, rs in zip(zaken, rollen, strict=True) if any(rol_is_subject(r, subject) for r in rs)]
        dropped = len(zaken) - len(kept)
        if dropped:
            self.dropped_zaken += dropped
            _log.warning(
                "%s: %d zaken zonder de klant als betrokkene weggelaten (filter genegeerd?)", self.id, dropped
            )
        return kept

    async def zaken_of(
        self,
        subject: Subject,
        headers: Mapping[str, str],
        *,
        open_only: bool | None = None,
        expand: tuple[str, ...] = (),
    ) -> list[Json]:
        """The zaken (JSON as served) that have `subject` as betrokkene; `open_only` True/False asks
        only for open/closed ones. `headers` must already carry Accept-Crs."""
        params = {self._filters[subject.kind]: subject.value, "expand": ",".join(("rollen", *expand))}
        if open_only is not None:
            params["einddatum__isnull"] = "true" if open_only else "false"
        zaken = await self._list("/zaken", params, headers)
        return await self._guard(subject, zaken, headers)

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        wanted = {c: f for c, f in request.fields.items() if c in (LOPEND, HISTORIE) and c in self.categories}
        if not wanted:
            return {}
        headers = {**request.headers, **_CRS}
        open_only = (LOPEND in wanted) if len(wanted) == 1 else None  # ask only for what is needed
        asked = {f for fields in wanted.values() for f in fields}
        expand = tuple(name for field, names in _EXPAND_FOR.items() if field in asked for name in names)
        prefetched: dict[str, asyncio.Task[list[Json]]] = {}
        if "statushistorie" in asked:
            prefetched = {
                url: asyncio.create_task(self._history(url, headers))
                for url in self._known(request.subject_key)
            }
        try:
            zaken = await self.zaken_of(request.subject, headers, open_only=open_only, expand=expand)
        except BaseException:
            _discard(prefetched.values())
            raise
        self._remember(request.subject_key, [str(z.get("url")) for z in zaken])
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
        try:
            for category, fields in wanted.items():
                result[category] = list(
                    await asyncio.gather(
                        *(self._project(z, fields, headers, prefetched) for z in groups[category])
                    )
                )
        finally:
            _discard(prefetched.values())  # histories of zaken the list no longer returns
        return result

    def _known(self, subject_key: str) -> tuple[str, ...]:
        entry = self._known_zaken.get(subject_key) if subject_key else None
        if entry is None or entry[0] < time.monotonic():
            return ()
        return entry[1]

    def _remember(self, subject_key: str, urls: list[str]) -> None:
        if not subject_key:
            return
        self._known_zaken[subject_key] = (time.monotonic() + IDENTITY_TTL, tuple(urls))
        self._known_zaken.move_to_end(subject_key)
        while len(self._known_zaken) > IDENTITY_MAX:
            self._known_zaken.popitem(last=False)

    async def zaken_of_medewerker(self, identificatie: str, headers: Mapping[str, str]) -> list[Json]:
        """The open zaken that medewerker `identificatie` handles (behandelaar rol), nearest deadline first:
        identificatie, omschrijving, zaaktype and status omschrijving, startdatum and
        uiterlijkeEinddatumAfdoening. Zaak data only, nothing about the initiators."""
        params = {
            _MEDEWERKER_FILTER: identificatie,
            "einddatum__isnull": "true",
            "expand": "rollen,zaaktype,status,status.statustype",
        }
        all_headers = {**headers, **_CRS}
        zaken = await self._list("/zaken", params, all_headers)
        zaken = [z for z in zaken if not z.get("einddatum")]
        # leak guard, as for a subject: only zaken that really have this medewerker as behandelaar
        rollen = await asyncio.gather(*(self._rollen(z, all_headers) for z in zaken))
        kept = [
            z
            for z, rs in zip(zaken, rollen, strict=True)
            if any(rol_is_behandelaar(r, identificatie) for r in rs)
        ]
        if dropped := len(zaken) - len(kept):
            self.dropped_zaken += dropped
            _log.warning(
                "%s: %d zaken zonder de medewerker als behandelaar weggelaten (filter genegeerd?)",
                self.id,
                dropped,
            )
        fields = (
            "identificatie",
            "omschrijving",
            "zaaktype",
            "status",
            "startdatum",
            "uiterlijkeEinddatumAfdoening",
        )
        items = await asyncio.gather(*(self._project(z, fields, all_headers) for z in kept))
        result = [
            {
                **item,
                "status": item["status"].get("omschrijving") if isinstance(item["status"], dict) else None,
            }
            for item in items
        ]
        return sorted(
            result, key=lambda z: (str(z.get("uiterlijkeEinddatumAfdoening") or "9"), str(z["identificatie"]))
        )

    async def zaak_documenten(self, zaak_url: str, headers: Mapping[str, str]) -> list[Json]:
        """The documents of the zaak at `zaak_url` (its zaakinformatieobjecten: titel, beschrijving,
        registratiedatum), oldest first; one request. Only a zaak of this source (never a foreign
        URL: SourceError), and only relations that point back at this zaak (a source ignoring the
        filter must not add another zaak's documents). The caller holds the zaak from a guarded read
        (it has the subject as betrokkene). No download: there is no Documenten API here."""
        if not self._http.same_origin(zaak_url):
            raise SourceError(f"{self.id}: zaak van een andere bron")
        answer = await self._http.request(
            "GET",
            f"{self._zaken_path}/zaakinformatieobjecten",
            headers=headers,
            params={"zaak": zaak_url},
            not_found_is_subject=False,
        )
        if not isinstance(answer, list):
            raise SourceError(f"{self.id}: zaakinformatieobjecten is geen lijst")
        items = [
            {
                "titel": z.get("titel") or "",
                "beschrijving": z.get("beschrijving") or "",
                "registratiedatum": z.get("registratiedatum"),
            }
            for z in answer
            if isinstance(z, dict) and z.get("zaak") == zaak_url
        ]
        return sorted(items, key=lambda d: str(d["registratiedatum"] or ""))

    async def zaak_facts(self, identificatie: str, headers: Mapping[str, str]) -> ZaakFacts:
        """The zaaktype and initiator of the zaak with this identificatie (SubjectNotFound if unknown)."""
        all_headers = {**headers, **_CRS}
        zaken = await self._list("/zaken", {"identificatie": identificatie}, all_headers)
        # a source ignoring the filter must not make another zaak "the" zaak
        zaak = next((z for z in zaken if z.get("identificatie") == identificatie), None)
        if zaak is None:
            raise SubjectNotFound(f"{self.id}: zaak niet gevonden")
        url = str(zaak.get("url"))
        # every rol of the zaak in one request: the initiator and who handles it (the case-worker
        # session is only for the zaak's own behandelaar)
        rollen, omschrijving = await asyncio.gather(
            self._list("/rollen", {"zaak": url}, headers),
            self._name(zaak.get("zaaktype"), headers),
        )
        rollen = [r for r in rollen if r.get("zaak") == url]  # a source ignoring the filter
        initiator = next(
            (
                s
                for rol in rollen
                if rol.get("omschrijvingGeneriek") == "initiator"
                if (s := _initiator(rol)) is not None
            ),
            None,
        )
        return ZaakFacts(
            url=url,
            identificatie=str(zaak.get("identificatie")),
            zaaktype=str(zaak.get("zaaktype")),
            zaaktype_omschrijving=omschrijving,
            initiator=initiator,
            behandelaars=_behandelaars(rollen, "medewerker"),
            behandelteams=_behandelaars(rollen, "organisatorische_eenheid"),
            afgesloten=bool(zaak.get("einddatum")),
        )

    async def subjects_of_zaak(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None:
        """Every betrokkene of the zaak at `url` as a subject (for routing a change notification,
        which carries no BSN); None when `url` is not of this source (never follow foreign URLs)."""
        if not self._http.same_origin(url):
            return None
        rollen = await self._list("/rollen", {"zaak": url}, headers)
        found: list[Subject] = []
        for rol in rollen:
            if rol.get("zaak") != url:
                continue
            subject = _initiator(rol)
            ident = rol.get("betrokkeneIdentificatie")
            # a vestiging's rol also names its company
            kvk = ident.get("kvkNummer") if isinstance(ident, dict) and subject is not None else None
            for s in (subject, _business(kvk) if subject and subject.kind is SubjectKind.VESTIGING else None):
                if s is not None and s not in found:
                    found.append(s)
        return found

    async def zaak_identificatie(self, url: str, headers: Mapping[str, str]) -> str | None:
        """The identificatie of the zaak at `url` (for a message about it); None when `url` is not
        of this source (never follow foreign URLs) or the zaak is gone."""
        if not self._http.same_origin(url):
            return None
        try:
            zaak = await self._http.request(
                "GET", url, headers={**headers, **_CRS}, not_found_is_subject=True
            )
        except SubjectNotFound:
            return None
        ident = zaak.get("identificatie") if isinstance(zaak, dict) else None
        return ident if isinstance(ident, str) and ident else None

    # --- writes: a zaak for a correction request ------------------------------------------------

    async def find_zaaktype(self, zaaktype: str, headers: Mapping[str, str]) -> Json | None:
        """The zaaktype `zaaktype` names — its URL (on this source's origin only: DGKB's credentials
        go nowhere else), or its `identificatie` (the published one) — as {"url", "identificatie",
        "omschrijving", "concept"}; None when the catalogue has no such zaaktype."""
        if zaaktype.startswith(("http://", "https://")):
            if not self._http.same_origin(zaaktype):
                raise SourceError(f"{self.id}: zaaktype-URL van een andere bron")
            try:
                found = await self._http.request("GET", zaaktype, headers=headers, not_found_is_subject=True)
            except SubjectNotFound:
                return None
            candidates = [found] if isinstance(found, dict) else []
        else:
            candidates = await self._http.get_all_pages(
                f"{self._catalogi_path}/zaaktypen",
                {"identificatie": zaaktype, "status": "definitief"},
                headers,
                max_pages=self._max_pages,
            )
            candidates = [z for z in candidates if z.get("identificatie") == zaaktype]
        chosen = next((z for z in candidates if isinstance(z.get("url"), str)), None)
        if chosen is None:
            return None
        return {
            "url": chosen["url"],
            "identificatie": chosen.get("identificatie"),
            "omschrijving": chosen.get("omschrijving"),
            "concept": chosen.get("concept") is True,
        }

    async def _initiator_roltype(self, zaaktype_url: str, headers: Mapping[str, str]) -> str | None:
        roltypen = await self._http.get_all_pages(
            f"{self._catalogi_path}/roltypen",
            {"zaaktype": zaaktype_url, "omschrijvingGeneriek": "initiator"},
            headers,
            max_pages=self._max_pages,
        )
        return next(
            (
                str(r["url"])
                for r in roltypen
                if isinstance(r.get("url"), str)
                and r.get("zaaktype") == zaaktype_url
                and r.get("omschrijvingGeneriek") == "initiator"
            ),
            None,
        )

    async def create_zaak(
        self,
        subject: Subject,
        *,
        zaaktype: str,
        bronorganisatie: str,
        verantwoordelijke_organisatie: str,
        omschrijving: str,
        toelichting: str,
        roltoelichting: str,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """A new zaak of `zaaktype` (URL or identificatie) with the subject as initiator: {"zaak",
        "rol"} as the source stored them (see the module docstring for the failures)."""
        for name, value, limit in (
            ("omschrijving", omschrijving, 80),
            ("toelichting", toelichting, 1000),
            ("roltoelichting", roltoelichting, 1000),
        ):
            if len(value) > limit:
                raise SourceValidationError(name, limit, len(value))
        found = await self.find_zaaktype(zaaktype, headers)
        if found is None or found["concept"]:
            raise SourceRejected(
                f"{self.id}: zaaktype onbekend",
                params=[InvalidParam("zaaktype", "does_not_exist", "geen gepubliceerd zaaktype")],
            )
        roltype = await self._initiator_roltype(found["url"], headers)
        if roltype is None:
            raise SourceRejected(
                f"{self.id}: geen roltype initiator",
                params=[
                    InvalidParam("roltype", "does_not_exist", "het zaaktype heeft geen roltype initiator")
                ],
            )
        zaak = await self._http.request(
            "POST",
            f"{self._zaken_path}/zaken",
            headers={**headers, **_CRS},
            json={
                "bronorganisatie": bronorganisatie,
                "zaaktype": found["url"],
                "verantwoordelijkeOrganisatie": verantwoordelijke_organisatie,
                "startdatum": date.today().isoformat(),
                "omschrijving": omschrijving,
                "toelichting": toelichting,
            },
            not_found_is_subject=False,
        )
        if not isinstance(zaak, dict) or not isinstance(zaak.get("url"), str):
            raise SourceError(f"{self.id}: antwoord op POST zaken zonder url")
        betrokkene_type, identificatie = _betrokkene(subject)
        try:
            rol = await self._http.request(
                "POST",
                f"{self._zaken_path}/rollen",
                headers=headers,
                json={
                    "zaak": zaak["url"],
                    "betrokkeneType": betrokkene_type,
                    "roltype": roltype,
                    "roltoelichting": roltoelichting,
                    "betrokkeneIdentificatie": identificatie,
                },
                not_found_is_subject=False,
            )
        except SourceError as exc:
            raise PartialWriteError(f"{self.id}: zaak opgeslagen, initiator niet ({exc.code})", zaak) from exc
        return {"zaak": zaak, "rol": rol}

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: the zaken with an identificatie no zaak has (an empty page, no person)."""
        return await self._http.probe(
            "GET",
            f"{self._zaken_path}/zaken",
            headers={**headers, **_CRS},
            params={"identificatie": "dgkb-check-geen-zaak", "pageSize": "1"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _summary(data: Json) -> Json:
    """What DGKB keeps of a catalogi object: its omschrijving and, for a statustype, its volgnummer
    and isEindstatus, for a zaaktype its statustypen (URLs)."""
    omschrijving = data.get("omschrijving")
    volgnummer = data.get("volgnummer")
    statustypen = data.get("statustypen")
    return {
        "omschrijving": omschrijving if isinstance(omschrijving, str) else None,
        "volgnummer": volgnummer if isinstance(volgnummer, int) else None,
        "isEindstatus": data.get("isEindstatus") is True,
        "statustypen": [u for u in statustypen if isinstance(u, str)]
        if isinstance(statustypen, list)
        else [],
    }


def _discard(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel prefetches nobody will use; a finished one's error is read so it is not reported."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


def _betrokkene(subject: Subject) -> tuple[str, Json]:
    """The betrokkeneType and betrokkeneIdentificatie of an initiator rol naming `subject`."""
    if subject.kind is SubjectKind.BSN:
        return "natuurlijk_persoon", {"inpBsn": subject.value}
    if subject.kind is SubjectKind.KVK:
        return "niet_natuurlijk_persoon", {"innNnpId": subject.value}
    return "vestiging", {"vestigingsNummer": subject.value}


def _business(kvk: Any) -> Subject | None:
    try:
        return Subject.business(kvk) if isinstance(kvk, str) else None
    except InvalidIdentifier:
        return None
