"""ZGW Zaken API 1.5 subset (as served by Open Zaak) plus a minimal Catalogi API.

`/zaken/api/v1`: zaken (filter on a betrokkene: `rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn`,
`…__nietNatuurlijkPersoon__innNnpId`, `…__vestiging__vestigingsNummer`,
`…__medewerker__identificatie`; identificatie, einddatum__isnull; `expand=rollen`),
statussen, rollen, resultaten. `/catalogi/api/v1`: zaaktypen,
statustypen, resultaattypen, so names resolve. Zaken list and detail need `Accept-Crs: EPSG:4326`
(412 without) like the real API. Lists are paginated (`page`, and `pageSize` up to 500 as Open Zaak
honours it; larger values are capped, invalid ones give the default).

A company zaak has a niet-natuurlijk-persoon initiator whose `innNnpId` is the KVK-nummer (what
e-services that log in with eHerkenning write there) and, when the company has vestigingen, a
belanghebbende rol of type vestiging (`vestigingsNummer` + `kvkNummer`).

Every open Wmo zaak (zaaktype "Aanvraag Wmo-voorziening") and every fifth other open zaak also has a
behandelaar rol of type medewerker: the demo case worker `behandelaar-bram` (his "mijn zaken").

Authentication, with `zgw_auth` (as `dgkb run` starts it; without, requests need no token, as the
tests that call the simulator directly use it): a ZGW JWT of a known client, checked as Open Zaak
checks it (dgkb.simulators.common has every rule). Beyond the spec, which only asks for a JWT:
a token whose `iat` is JWT_EXPIRY (+ leeway) old is a 403 `jwt-expired` — Open Zaak's JWT_EXPIRY,
default 3600 s, and JWT_LEEWAY / TIME_LEEWAY, default 0, both configurable here (source: Open Zaak's
environment configuration reference; commonground-api-common's `check_jwt_expiry`). Deviations: no
token is a 403 `permission_denied` where the spec lists 401, as Open Zaak answers
(open-zaak/open-zaak#291); the scopes the spec names per operation (`zaken.lezen`, …) are not checked.
A status change is published with the simulator's own client token (`notificaties_auth`), as Open
Zaak authenticates at Open Notificaties with a client id of its own.

Test switches: `POST /_sim/zaken/{uuid}/status {"statustype": url|uuid, "resultaattype"?: url|uuid}`
sets a new status; `POST /_sim/behaviour {"ignoreFilters": true}` makes the zaken list ignore the
betrokkene filters and return every zaak (a misconfigured source seen in the field), `{"ignoreExpand":
true}` makes it ignore `expand` (an older source), besides the common switches.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import (
    Behaviour,
    NotificatiePublisher,
    SimulatorMiddleware,
    ZgwJwtMiddleware,
    ZgwJwtVerifier,
    problem,
    sim_routes,
)
from dgkb.simulators.world import Company, World, Zaak, Zaaktype

__all__ = ["CATALOGI_PATH", "ZAKEN_PATH", "create_app"]

ZAKEN_PATH = "/zaken/api/v1"
CATALOGI_PATH = "/catalogi/api/v1"
API_VERSION = "1.5.1"
BRONORGANISATIE = "123456782"  # fictitious RSIN (passes the 11-proef)
_GESLACHT = {"M": "m", "V": "v"}
MAX_PAGE_SIZE = 500
_BSN_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"
_NNP_FILTER = "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId"
_VESTIGING_FILTER = "rol__betrokkeneIdentificatie__vestiging__vestigingsNummer"
_MEDEWERKER_FILTER = "rol__betrokkeneIdentificatie__medewerker__identificatie"
_SUBJECT_FILTERS = (_BSN_FILTER, _NNP_FILTER, _VESTIGING_FILTER, _MEDEWERKER_FILTER)
# filter -> (betrokkeneType, key in betrokkeneIdentificatie)
_FILTERS = {
    _BSN_FILTER: ("natuurlijk_persoon", "inpBsn"),
    _NNP_FILTER: ("niet_natuurlijk_persoon", "innNnpId"),
    _VESTIGING_FILTER: ("vestiging", "vestigingsNummer"),
    _MEDEWERKER_FILTER: ("medewerker", "identificatie"),
}
# the demo case worker (his OIDC account id is the medewerker identificatie) and the zaken he handles
BEHANDELAAR = {"identificatie": "behandelaar-bram", "achternaam": "Jansen", "voorletters": "B."}
_WMO = "Aanvraag Wmo-voorziening"
_ROLTOELICHTING = {"initiator": "Aanvrager", "belanghebbende": "Vestiging", "behandelaar": "Behandelaar"}


@dataclass(frozen=True, slots=True)
class _Rol:
    """One betrokkene of a zaak: its uuid, generic role and `betrokkeneType` + identificatie."""

    uuid: str
    omschrijving_generiek: str  # "initiator" | "belanghebbende" | "behandelaar"
    betrokkene_type: str  # "natuurlijk_persoon" | "niet_natuurlijk_persoon" | "vestiging" | "medewerker"
    identificatie: dict[str, Any]


@dataclass(slots=True)
class _ZaakState:
    """The mutable part of a zaak: its statussen, einddatum and resultaat (and its fixed rollen)."""

    zaak: Zaak
    statussen: list[tuple[str, str, datetime]] = field(default_factory=list)  # uuid, statustype uuid, when
    einddatum: date | None = None
    resultaat: tuple[str, str] | None = None  # resultaat uuid, resultaattype uuid
    rollen: list[_Rol] = field(default_factory=list)

    def has_betrokkene(self, name: str, value: str) -> bool:
        """Does a rol match the `rol__betrokkeneIdentificatie__…` filter `name`?"""
        return any(_rol_matches(rol, name, value) for rol in self.rollen)


def _rol_matches(rol: _Rol, name: str, value: str) -> bool:
    kind, key = _FILTERS[name]
    return rol.betrokkene_type == kind and rol.identificatie.get(key) == value


def _last(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person_rol(world: World, z: Zaak) -> _Rol:
    person = world.person(z.initiator_bsn)
    identificatie: dict[str, Any] = {"inpBsn": z.initiator_bsn, "anpIdentificatie": ""}
    if person is not None:
        identificatie.update(
            {
                "geslachtsnaam": person.geslachtsnaam,
                "voorvoegselGeslachtsnaam": person.voorvoegsel,
                "voorletters": person.voorletters,
                "voornamen": person.voornamen,
                "geslachtsaanduiding": _GESLACHT[person.geslacht],
                "geboortedatum": person.geboortedatum.isoformat(),
                "verblijfsadres": None,
                "subVerblijfBuitenland": None,
            }
        )
    return _Rol(z.rol_uuid, "initiator", "natuurlijk_persoon", identificatie)


def _company_rollen(company: Company, z: Zaak, index: int) -> list[_Rol]:
    rollen = [
        _Rol(
            z.rol_uuid,
            "initiator",
            "niet_natuurlijk_persoon",
            {
                "innNnpId": company.kvk_nummer,
                "annIdentificatie": "",
                "statutaireNaam": company.naam,
                "innRechtsvorm": "",
                "bezoekadres": "",
                "subVerblijfBuitenland": None,
            },
        )
    ]
    if company.vestigingen:
        vestiging = company.vestigingen[index % len(company.vestigingen)]
        rollen.append(
            _Rol(
                str(uuid.uuid5(uuid.UUID(z.rol_uuid), "vestiging")),
                "belanghebbende",
                "vestiging",
                {
                    "vestigingsNummer": vestiging.vestigingsnummer,
                    "handelsnaam": [vestiging.eerste_handelsnaam],
                    "verblijfsadres": None,
                    "subVerblijfBuitenland": None,
                    "kvkNummer": company.kvk_nummer,
                },
            )
        )
    return rollen


def _behandelaar_rol(z: Zaak) -> _Rol:
    return _Rol(
        str(uuid.uuid5(uuid.UUID(z.rol_uuid), "behandelaar")), "behandelaar", "medewerker", BEHANDELAAR
    )


def _with_behandelaar(owned: list[tuple[Zaak, list[_Rol]]], zaaktypen: dict[str, Zaaktype]) -> None:
    """Add the demo behandelaar to every open Wmo zaak and to every fifth other open zaak (no new
    zaken, so what a person or company has stays the same)."""
    others = 0
    for zaak, rollen in owned:
        if not zaak.is_open:
            continue
        if zaaktypen[zaak.zaaktype_uuid].omschrijving != _WMO:
            others += 1
            if others % 5:
                continue
        rollen.append(_behandelaar_rol(zaak))


def create_app(
    world: World,
    *,
    latency_ms: int = 0,
    page_size: int = 100,
    notificaties_url: str | Callable[[], str | None] | None = None,
    notificaties_auth: str | Callable[[], str] = "",
    zgw_auth: ZgwJwtVerifier | None = None,
) -> Starlette:
    """The Zaken + Catalogi simulator over `world`; `page_size` is 100 as in Open Zaak. With
    `notificaties_url` (the base URL of a Notificaties API, …/api/v1, or a function giving it once
    known) a status set through `/_sim/zaken/{uuid}/status` is published there on kanaal `zaken`, with
    `notificaties_auth` (an Authorization value, or a function giving a fresh one per message). With
    `zgw_auth` every API request needs a ZGW JWT it accepts."""
    behaviour = Behaviour(latency_ms=latency_ms)
    publisher = NotificatiePublisher(notificaties_url, notificaties_auth)
    # ignoreFilters: the zaken list ignores the betrokkene filters; ignoreExpand: `expand` is ignored
    switches = {"ignoreFilters": False, "ignoreExpand": False}
    zaaktypen = {zt.uuid: zt for zt in world.zaaktypen}
    statustypen = {st.uuid: (st, zt) for zt in world.zaaktypen for st in zt.statustypen}
    resultaattypen = {rt.uuid: (rt, zt) for zt in world.zaaktypen for rt in zt.resultaattypen}
    states: dict[str, _ZaakState] = {}
    owned: list[tuple[Zaak, list[_Rol]]] = [(z, [_person_rol(world, z)]) for z in world.zaken()]
    owned += [(z, _company_rollen(c, z, i)) for c in world.companies for i, z in enumerate(c.zaken)]
    _with_behandelaar(owned, zaaktypen)
    for zaak, rollen in owned:
        states[zaak.uuid] = _ZaakState(
            zaak,
            [(s.uuid, s.statustype_uuid, s.datum_status_gezet) for s in zaak.statussen],
            zaak.einddatum,
            (zaak.resultaat_uuid, zaak.resultaattype_uuid)
            if zaak.resultaat_uuid and zaak.resultaattype_uuid
            else None,
            rollen,
        )
    rol_index = {rol.uuid: (st, rol) for st in states.values() for rol in st.rollen}
    status_index = {s[0]: uuid for uuid, st in states.items() for s in st.statussen}

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def ok(body: Any, *, crs: bool = False) -> JSONResponse:
        headers = {"API-version": API_VERSION}
        if crs:
            headers["Content-Crs"] = "EPSG:4326"
        return JSONResponse(body, headers=headers)

    def crs_problem(request: Request) -> Response | None:
        crs = request.headers.get("accept-crs")
        if crs is None:
            return problem(
                412,
                "Precondition failed",
                "'Accept-Crs' header ontbreekt",
                code="precondition_failed",
                instance=request.url.path,
            )
        if crs != "EPSG:4326":
            return problem(
                406,
                "CRS not acceptable",
                f"CRS '{crs}' is niet ondersteund",
                code="not_acceptable",
                instance=request.url.path,
            )
        return None

    def paginate(
        request: Request, items: list[Any], render: Callable[[Any], Any] = lambda item: item
    ) -> Response:
        """One page of `items`; `render` turns only that page's items into JSON (a source ignoring
        its filters must not serialise every zaak of the world for each page)."""
        raw = request.query_params.get("page", "1")
        if not raw.isdigit() or int(raw) < 1:
            return problem(
                404, "Niet gevonden.", "Ongeldige pagina.", code="not_found", instance=request.url.path
            )
        page = int(raw)
        size_raw = request.query_params.get("pageSize", "")
        size = min(int(size_raw), MAX_PAGE_SIZE) if size_raw.isdigit() and int(size_raw) > 0 else page_size
        pages = max(1, -(-len(items) // size))
        if page > pages:
            return problem(
                404, "Niet gevonden.", "Ongeldige pagina.", code="not_found", instance=request.url.path
            )

        def link(n: int) -> str:
            params = dict(request.query_params)
            params["page"] = str(n)
            return f"{base(request)}{request.url.path}?{urlencode(params)}"

        return ok(
            {
                "count": len(items),
                "next": link(page + 1) if page < pages else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": [render(item) for item in items[(page - 1) * size : page * size]],
            },
            crs=request.url.path.endswith("/zaken"),
        )

    def zaak_url(b: str, zaak_uuid: str) -> str:
        return f"{b}{ZAKEN_PATH}/zaken/{zaak_uuid}"

    def zaak_json(b: str, st: _ZaakState) -> dict[str, Any]:
        z = st.zaak
        url = zaak_url(b, z.uuid)
        return {
            "url": url,
            "uuid": z.uuid,
            "identificatie": z.identificatie,
            "bronorganisatie": BRONORGANISATIE,
            "omschrijving": z.omschrijving,
            "toelichting": "",
            "zaaktype": f"{b}{CATALOGI_PATH}/zaaktypen/{z.zaaktype_uuid}",
            "registratiedatum": z.startdatum.isoformat(),
            "verantwoordelijkeOrganisatie": BRONORGANISATIE,
            "startdatum": z.startdatum.isoformat(),
            "einddatum": st.einddatum.isoformat() if st.einddatum else None,
            "einddatumGepland": None,
            "uiterlijkeEinddatumAfdoening": z.uiterlijke_einddatum_afdoening.isoformat(),
            "publicatiedatum": None,
            "communicatiekanaal": "",
            "productenOfDiensten": [],
            "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
            "betalingsindicatie": "",
            "betalingsindicatieWeergave": "",
            "laatsteBetaaldatum": None,
            "zaakgeometrie": None,
            "verlenging": None,
            "opschorting": None,
            "selectielijstklasse": "",
            "hoofdzaak": None,
            "deelzaken": [],
            "relevanteAndereZaken": [],
            "eigenschappen": [],
            "rollen": [f"{b}{ZAKEN_PATH}/rollen/{r.uuid}" for r in st.rollen],
            "status": f"{b}{ZAKEN_PATH}/statussen/{st.statussen[-1][0]}" if st.statussen else None,
            "zaakinformatieobjecten": [],
            "zaakobjecten": [],
            "kenmerken": [],
            "archiefnominatie": None,
            "archiefstatus": "nog_te_archiveren",
            "archiefactiedatum": None,
            "resultaat": f"{b}{ZAKEN_PATH}/resultaten/{st.resultaat[0]}" if st.resultaat else None,
            "opdrachtgevendeOrganisatie": "",
            "processobjectaard": None,
            "startdatumBewaartermijn": None,
            "processobject": None,
        }

    def status_json(b: str, st: _ZaakState, index: int) -> dict[str, Any]:
        status_uuid, statustype_uuid, when = st.statussen[index]
        return {
            "url": f"{b}{ZAKEN_PATH}/statussen/{status_uuid}",
            "uuid": status_uuid,
            "zaak": zaak_url(b, st.zaak.uuid),
            "statustype": f"{b}{CATALOGI_PATH}/statustypen/{statustype_uuid}",
            "datumStatusGezet": _iso(when),
            "statustoelichting": "",
            "indicatieLaatstGezetteStatus": index == len(st.statussen) - 1,
            "gezetdoor": "",
            "zaakinformatieobjecten": [],
        }

    def rol_json(b: str, st: _ZaakState, rol: _Rol) -> dict[str, Any]:
        z = st.zaak
        return {
            "url": f"{b}{ZAKEN_PATH}/rollen/{rol.uuid}",
            "uuid": rol.uuid,
            "zaak": zaak_url(b, z.uuid),
            "betrokkene": "",
            "betrokkeneType": rol.betrokkene_type,
            "afwijkendeNaamBetrokkene": "",
            "roltype": f"{b}{CATALOGI_PATH}/roltypen/{z.zaaktype_uuid}",
            "omschrijving": rol.omschrijving_generiek.capitalize(),
            "omschrijvingGeneriek": rol.omschrijving_generiek,
            "roltoelichting": _ROLTOELICHTING[rol.omschrijving_generiek],
            "registratiedatum": _iso(datetime.combine(z.startdatum, datetime.min.time(), UTC)),
            "indicatieMachtiging": "",
            "contactpersoonRol": None,
            "statussen": [],
            "betrokkeneIdentificatie": rol.identificatie,
        }

    def expanded(request: Request, b: str, st: _ZaakState) -> dict[str, Any]:
        """The zaak with `_expand` for what `expand` asks (Zaken 1.5: rollen, zaaktype, status,
        status.statustype, resultaat, resultaat.resultaattype), so a client needs one call."""
        body = zaak_json(b, st)
        names = {n.strip() for n in request.query_params.get("expand", "").split(",")}
        if switches["ignoreExpand"] or not names - {""}:
            return body
        expand: dict[str, Any] = {}
        if "rollen" in names:
            expand["rollen"] = [rol_json(b, st, r) for r in st.rollen]
        if "zaaktype" in names and (zt := zaaktypen.get(st.zaak.zaaktype_uuid)) is not None:
            expand["zaaktype"] = zaaktype_json(b, zt)
        if "status" in names and st.statussen:
            status = status_json(b, st, len(st.statussen) - 1)
            if "status.statustype" in names:
                status["_expand"] = {"statustype": statustype_json(b, st.statussen[-1][1])}
            expand["status"] = status
        if "resultaat" in names and st.resultaat is not None:
            resultaat = resultaat_json(b, st)
            if "resultaat.resultaattype" in names:
                resultaat["_expand"] = {"resultaattype": resultaattype_json(b, st.resultaat[1])}
            expand["resultaat"] = resultaat
        if expand:
            body["_expand"] = expand
        return body

    def resultaat_json(b: str, st: _ZaakState) -> dict[str, Any]:
        assert st.resultaat is not None
        resultaat_uuid, resultaattype_uuid = st.resultaat
        return {
            "url": f"{b}{ZAKEN_PATH}/resultaten/{resultaat_uuid}",
            "uuid": resultaat_uuid,
            "zaak": zaak_url(b, st.zaak.uuid),
            "resultaattype": f"{b}{CATALOGI_PATH}/resultaattypen/{resultaattype_uuid}",
            "toelichting": "",
        }

    def not_found(request: Request) -> Response:
        return problem(404, "Niet gevonden.", "Niet gevonden.", code="not_found", instance=request.url.path)

    def zaak_pool(request: Request) -> list[_ZaakState]:
        """All zaken, or only the one named by `?zaak=URL`."""
        url = request.query_params.get("zaak")
        if url is None:
            return list(states.values())
        chosen = states.get(_last(url))
        return [chosen] if chosen is not None else []

    async def list_zaken(request: Request) -> Response:
        if (p := crs_problem(request)) is not None:
            return p
        q = request.query_params
        selected = list(states.values())
        if not switches["ignoreFilters"]:
            for name in _SUBJECT_FILTERS:
                if (value := q.get(name)) is not None:
                    selected = [s for s in selected if s.has_betrokkene(name, value)]
        if (ident := q.get("identificatie")) is not None:
            selected = [s for s in selected if s.zaak.identificatie == ident]
        if (isnull := q.get("einddatum__isnull")) is not None:
            want_null = isnull.lower() in ("true", "1")
            selected = [s for s in selected if (s.einddatum is None) == want_null]
        selected.sort(key=lambda s: (s.zaak.startdatum, s.zaak.identificatie), reverse=True)
        b = base(request)
        return paginate(request, selected, lambda s: expanded(request, b, s))

    async def get_zaak(request: Request) -> Response:
        if (p := crs_problem(request)) is not None:
            return p
        st = states.get(request.path_params["uuid"])
        return not_found(request) if st is None else ok(expanded(request, base(request), st), crs=True)

    async def list_statussen(request: Request) -> Response:
        pool = zaak_pool(request)
        b = base(request)
        items = [status_json(b, st, i) for st in pool for i in range(len(st.statussen))]
        if (statustype := request.query_params.get("statustype")) is not None:
            items = [s for s in items if s["statustype"] == statustype]
        return paginate(request, items)

    async def get_status(request: Request) -> Response:
        status_uuid = request.path_params["uuid"]
        zaak_uuid = status_index.get(status_uuid)
        if zaak_uuid is None:
            return not_found(request)
        st = states[zaak_uuid]
        index = next(i for i, s in enumerate(st.statussen) if s[0] == status_uuid)
        return ok(status_json(base(request), st, index))

    async def list_rollen(request: Request) -> Response:
        q = request.query_params
        pairs = [(st, rol) for st in zaak_pool(request) for rol in st.rollen]
        if (generiek := q.get("omschrijvingGeneriek")) is not None:
            pairs = [(st, rol) for st, rol in pairs if rol.omschrijving_generiek == generiek]
        if (soort := q.get("betrokkeneType")) is not None:
            pairs = [(st, rol) for st, rol in pairs if rol.betrokkene_type == soort]
        for name in _SUBJECT_FILTERS:  # on /rollen the filters lack the `rol__` prefix
            if (value := q.get(name.removeprefix("rol__"))) is not None:
                pairs = [(st, rol) for st, rol in pairs if _rol_matches(rol, name, value)]
        b = base(request)
        return paginate(request, pairs, lambda pair: rol_json(b, *pair))

    async def get_rol(request: Request) -> Response:
        found = rol_index.get(request.path_params["uuid"])
        return not_found(request) if found is None else ok(rol_json(base(request), *found))

    async def list_resultaten(request: Request) -> Response:
        pool = zaak_pool(request)
        b = base(request)
        return paginate(request, [resultaat_json(b, s) for s in pool if s.resultaat is not None])

    async def get_resultaat(request: Request) -> Response:
        wanted = request.path_params["uuid"]
        st = next((s for s in states.values() if s.resultaat and s.resultaat[0] == wanted), None)
        return not_found(request) if st is None else ok(resultaat_json(base(request), st))

    def zaaktype_json(b: str, zt: Zaaktype) -> dict[str, Any]:
        return {
            "url": f"{b}{CATALOGI_PATH}/zaaktypen/{zt.uuid}",
            "identificatie": zt.identificatie,
            "omschrijving": zt.omschrijving,
            "omschrijvingGeneriek": zt.omschrijving,
            "doorlooptijd": f"P{zt.doorlooptijd_dagen}D",
            "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
            "statustypen": [f"{b}{CATALOGI_PATH}/statustypen/{s.uuid}" for s in zt.statustypen],
            "resultaattypen": [f"{b}{CATALOGI_PATH}/resultaattypen/{r.uuid}" for r in zt.resultaattypen],
            "concept": False,
        }

    async def list_zaaktypen(request: Request) -> Response:
        b = base(request)
        return paginate(request, [zaaktype_json(b, zt) for zt in world.zaaktypen])

    async def get_zaaktype(request: Request) -> Response:
        zt = zaaktypen.get(request.path_params["uuid"])
        return not_found(request) if zt is None else ok(zaaktype_json(base(request), zt))

    def statustype_json(b: str, statustype_uuid: str) -> dict[str, Any] | None:
        found = statustypen.get(statustype_uuid)
        if found is None:
            return None
        st, zt = found
        return {
            "url": f"{b}{CATALOGI_PATH}/statustypen/{st.uuid}",
            "omschrijving": st.omschrijving,
            "omschrijvingGeneriek": st.omschrijving,
            "volgnummer": st.volgnummer,
            "isEindstatus": st.is_eindstatus,
            "zaaktype": f"{b}{CATALOGI_PATH}/zaaktypen/{zt.uuid}",
            "informeren": False,
        }

    def resultaattype_json(b: str, resultaattype_uuid: str) -> dict[str, Any] | None:
        found = resultaattypen.get(resultaattype_uuid)
        if found is None:
            return None
        rt, zt = found
        return {
            "url": f"{b}{CATALOGI_PATH}/resultaattypen/{rt.uuid}",
            "omschrijving": rt.omschrijving,
            "zaaktype": f"{b}{CATALOGI_PATH}/zaaktypen/{zt.uuid}",
        }

    async def get_statustype(request: Request) -> Response:
        body = statustype_json(base(request), request.path_params["uuid"])
        return not_found(request) if body is None else ok(body)

    async def get_resultaattype(request: Request) -> Response:
        body = resultaattype_json(base(request), request.path_params["uuid"])
        return not_found(request) if body is None else ok(body)

    async def set_status(request: Request) -> Response:
        """Test helper: give a zaak a new status (closing it when the statustype is an eindstatus)."""
        st = states.get(request.path_params["uuid"])
        if st is None:
            return not_found(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("statustype"), str):
            return problem(
                400,
                "Bad Request",
                "statustype is verplicht",
                code="invalid",
                invalid_params=[{"name": "statustype", "code": "required", "reason": "verplicht"}],
            )
        found = statustypen.get(_last(body["statustype"]))
        if found is None or found[1].uuid != st.zaak.zaaktype_uuid:
            return problem(
                400,
                "Bad Request",
                "statustype hoort niet bij het zaaktype",
                code="invalid",
                invalid_params=[{"name": "statustype", "code": "invalid", "reason": "onbekend"}],
            )
        statustype, zaaktype = found
        now = datetime.now(UTC)
        status_uuid = f"{st.zaak.uuid[:24]}{len(st.statussen):012d}"
        st.statussen.append((status_uuid, statustype.uuid, now))
        status_index[status_uuid] = st.zaak.uuid
        if statustype.is_eindstatus:
            st.einddatum = now.date()
            raw = body.get("resultaattype")
            chosen = resultaattypen.get(_last(raw)) if isinstance(raw, str) else None
            resultaattype = chosen[0] if chosen else zaaktype.resultaattypen[0]
            st.resultaat = (f"{st.zaak.uuid[:24]}{999999:012d}", resultaattype.uuid)
        else:
            st.einddatum = None
            st.resultaat = None
        created = status_json(base(request), st, len(st.statussen) - 1)
        publisher.publish(
            {
                "kanaal": "zaken",
                "hoofdObject": created["zaak"],
                "resource": "status",
                "resourceUrl": created["url"],
                "actie": "create",
                "aanmaakdatum": _iso(now),
                "kenmerken": {
                    "bronorganisatie": BRONORGANISATIE,
                    "zaaktype": f"{base(request)}{CATALOGI_PATH}/zaaktypen/{zaaktype.uuid}",
                    "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
                },
            }
        )
        return JSONResponse(created, status_code=201)

    common = {(r.path, tuple(sorted(r.methods or ()))): r.endpoint for r in sim_routes(behaviour)}
    common_set = common[("/_sim/behaviour", ("POST",))]
    common_get = common[("/_sim/behaviour", ("GET", "HEAD"))]

    async def set_behaviour(request: Request) -> Response:
        """The common switches plus `ignoreFilters`/`ignoreExpand` (Starlette caches the parsed body,
        so the common handler reads it again)."""
        try:
            data = await request.json()
        except ValueError:
            data = None
        mine = {k: v for k, v in data.items() if k in switches} if isinstance(data, dict) else {}
        if bad := [k for k, v in mine.items() if not isinstance(v, bool)]:
            return problem(
                400,
                "Bad Request",
                f"{bad[0]} moet true of false zijn",
                invalid_params=[{"name": k, "code": "invalid", "reason": "boolean"} for k in bad],
            )
        answer: Response = await common_set(request)
        if answer.status_code != 200:
            return answer
        switches.update(mine)
        return await get_behaviour(request)

    async def get_behaviour(request: Request) -> Response:
        answer: Response = await common_get(request)
        return JSONResponse({**json.loads(bytes(answer.body)), **switches})

    z, c = ZAKEN_PATH, CATALOGI_PATH
    routes = [
        Route("/_sim/behaviour", set_behaviour, methods=["POST"]),
        Route("/_sim/behaviour", get_behaviour, methods=["GET"]),
        *sim_routes(behaviour),
        Route("/_sim/zaken/{uuid}/status", set_status, methods=["POST"]),
        Route(f"{z}/zaken", list_zaken, methods=["GET"]),
        Route(f"{z}/zaken/{{uuid}}", get_zaak, methods=["GET"]),
        Route(f"{z}/statussen", list_statussen, methods=["GET"]),
        Route(f"{z}/statussen/{{uuid}}", get_status, methods=["GET"]),
        Route(f"{z}/rollen", list_rollen, methods=["GET"]),
        Route(f"{z}/rollen/{{uuid}}", get_rol, methods=["GET"]),
        Route(f"{z}/resultaten", list_resultaten, methods=["GET"]),
        Route(f"{z}/resultaten/{{uuid}}", get_resultaat, methods=["GET"]),
        Route(f"{c}/zaaktypen", list_zaaktypen, methods=["GET"]),
        Route(f"{c}/zaaktypen/{{uuid}}", get_zaaktype, methods=["GET"]),
        Route(f"{c}/statustypen/{{uuid}}", get_statustype, methods=["GET"]),
        Route(f"{c}/resultaattypen/{{uuid}}", get_resultaattype, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await publisher.aclose()

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(ZgwJwtMiddleware, verifier=zgw_auth),
        ],
        lifespan=lifespan,
    )
