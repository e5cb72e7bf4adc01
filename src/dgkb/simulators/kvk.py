"""KVK simulator: Zoeken API v2 and Basisprofiel API v1 over the world's companies.

KVK publishes no licensed spec files; this follows the documented public fields (developers.kvk.nl):

    GET /api/v2/zoeken?kvkNummer=|rsin=|vestigingsnummer=|naam=|straatnaam=|plaats=|postcode=&huisnummer=
                      [&type=hoofdvestiging|nevenvestiging|rechtspersoon][&pagina=1][&resultatenPerPagina=10]
        -> {pagina, resultatenPerPagina, totaal, resultaten: [{kvkNummer, rsin?, vestigingsnummer?, naam,
            adres: {binnenlandsAdres: {type, straatnaam, huisnummer, postcode, plaats}}, type, actief,
            links}], links}; one result per vestiging, and one `rechtspersoon` result for a rechtspersoon
            without vestiging; nothing found -> 404 `{"fout": [{"code": "IPD5200", ...}]}` like the real API
    GET /api/v1/basisprofielen/{kvkNummer}
        -> {kvkNummer, naam, formeleRegistratiedatum (yyyymmdd), totaalWerkzamePersonen, handelsnamen,
            sbiActiviteiten: [{sbiCode, sbiOmschrijving, indHoofdactiviteit: "Ja"|"Nee"}],
            _embedded: {hoofdvestiging: {vestigingsnummer, eersteHandelsnaam, adressen}, eigenaar:
            {rsin?, rechtsvorm, uitgebreideRechtsvorm}}, links}; unknown -> 404 (IPD0005), malformed -> 400
    GET /api/v1/basisprofielen/{kvkNummer}/vestigingen -> {kvkNummer, aantal..., vestigingen: [...]}

Matching: kvkNummer/rsin/vestigingsnummer exact, naam case-insensitive on naam and handelsnamen,
postcode (with or without space) + huisnummer on the vestiging address. Every call needs the `apikey`
header when `api_key` is given (401 otherwise). Test switches as in `simulators.common`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, sim_routes
from dgkb.simulators.world import Address, Company, Vestiging, World

__all__ = ["API_KEY_HEADER", "SEARCH_PARAMS", "create_app"]

API_KEY_HEADER = "apikey"
SEARCH_PARAMS = (
    "kvkNummer",
    "rsin",
    "vestigingsnummer",
    "naam",
    "straatnaam",
    "plaats",
    "postcode",
    "huisnummer",
    "huisletter",
    "postbusnummer",
    "type",
    "InclusiefInactieveRegistraties",
    "pagina",
    "resultatenPerPagina",
)
_TYPES = ("hoofdvestiging", "nevenvestiging", "rechtspersoon")
_PATTERNS = {
    "kvkNummer": re.compile(r"^[0-9]{8}$"),
    "rsin": re.compile(r"^[0-9]{9}$"),
    "vestigingsnummer": re.compile(r"^[0-9]{12}$"),
    "postcode": re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$"),
    "huisnummer": re.compile(r"^[0-9]{1,5}$"),
    "pagina": re.compile(r"^[0-9]{1,4}$"),
    "resultatenPerPagina": re.compile(r"^[0-9]{1,3}$"),
}


def _fout(status: int, code: str, omschrijving: str) -> JSONResponse:
    return JSONResponse({"fout": [{"code": code, "omschrijving": omschrijving}]}, status_code=status)


def _ja(flag: bool) -> str:
    return "Ja" if flag else "Nee"


def _binnenlands(adres: Address) -> dict[str, Any]:
    return {
        "type": "bezoekadres",
        "straatnaam": adres.straat,
        "huisnummer": adres.huisnummer,
        "postcode": adres.postcode.replace(" ", ""),
        "plaats": adres.woonplaats,
    }


def _adressen(adres: Address) -> list[dict[str, Any]]:
    return [
        {
            "type": "bezoekadres",
            "indAfgeschermd": "Nee",
            "volledigAdres": f"{adres.straat} {adres.huisnummer} {adres.postcode} {adres.woonplaats}",
            "straatnaam": adres.straat,
            "huisnummer": adres.huisnummer,
            "postcode": adres.postcode.replace(" ", ""),
            "plaats": adres.woonplaats,
            "land": "Nederland",
        }
    ]


def _vestiging_json(base: str, c: Company, v: Vestiging) -> dict[str, Any]:
    return {
        "vestigingsnummer": v.vestigingsnummer,
        "kvkNummer": c.kvk_nummer,
        "eersteHandelsnaam": v.eerste_handelsnaam,
        "indHoofdvestiging": _ja(v.is_hoofdvestiging),
        "indCommercieleVestiging": _ja(c.rechtsvorm not in ("Stichting", "Vereniging")),
        "totaalWerkzamePersonen": v.werkzame_personen,
        "adressen": _adressen(v.adres),
        "links": [{"rel": "self", "href": f"{base}/api/v1/vestigingsprofielen/{v.vestigingsnummer}"}],
    }


def basisprofiel(base: str, c: Company) -> dict[str, Any]:
    """The Basisprofiel v1 of a company."""
    eigenaar: dict[str, Any] = {"rechtsvorm": c.rechtsvorm, "uitgebreideRechtsvorm": c.uitgebreide_rechtsvorm}
    if c.rsin:
        eigenaar["rsin"] = c.rsin
    embedded: dict[str, Any] = {"eigenaar": eigenaar}
    if c.hoofdvestiging is not None:
        embedded["hoofdvestiging"] = _vestiging_json(base, c, c.hoofdvestiging)
    return {
        "kvkNummer": c.kvk_nummer,
        "indNonMailing": "Ja",
        "naam": c.naam,
        "formeleRegistratiedatum": c.formele_registratiedatum.strftime("%Y%m%d"),
        "materieleRegistratie": {"datumAanvang": c.formele_registratiedatum.strftime("%Y%m%d")},
        "totaalWerkzamePersonen": c.totaal_werkzame_personen,
        "handelsnamen": [{"naam": n, "volgorde": i} for i, n in enumerate(c.handelsnamen)],
        "sbiActiviteiten": [
            {
                "sbiCode": s.sbi_code,
                "sbiOmschrijving": s.sbi_omschrijving,
                "indHoofdactiviteit": _ja(s.ind_hoofdactiviteit),
            }
            for s in c.sbi_activiteiten
        ],
        "links": [{"rel": "self", "href": f"{base}/api/v1/basisprofielen/{c.kvk_nummer}"}],
        "_embedded": embedded,
    }


def _results(
    base: str, companies: tuple[Company, ...]
) -> list[tuple[Company, Vestiging | None, dict[str, Any]]]:
    """Every zoeken result of the world: per vestiging, or the rechtspersoon without one."""
    out: list[tuple[Company, Vestiging | None, dict[str, Any]]] = []
    for c in companies:
        links = [{"rel": "basisprofiel", "href": f"{base}/api/v1/basisprofielen/{c.kvk_nummer}"}]
        for v in c.vestigingen:
            item: dict[str, Any] = {
                "kvkNummer": c.kvk_nummer,
                "vestigingsnummer": v.vestigingsnummer,
                "naam": v.eerste_handelsnaam,
                "adres": {"binnenlandsAdres": _binnenlands(v.adres)},
                "type": "hoofdvestiging" if v.is_hoofdvestiging else "nevenvestiging",
                "actief": "Ja",
                "links": [
                    *links,
                    {
                        "rel": "vestigingsprofiel",
                        "href": f"{base}/api/v1/vestigingsprofielen/{v.vestigingsnummer}",
                    },
                ],
            }
            if c.rsin:
                item["rsin"] = c.rsin
            out.append((c, v, item))
        if not c.vestigingen:
            item = {
                "kvkNummer": c.kvk_nummer,
                "naam": c.naam,
                "adres": {"binnenlandsAdres": _binnenlands(c.adres)},
                "type": "rechtspersoon",
                "actief": "Ja",
                "links": links,
            }
            if c.rsin:
                item["rsin"] = c.rsin
            out.append((c, None, item))
    return out


def _matches(
    c: Company, v: Vestiging | None, item: dict[str, Any], q: dict[str, str], types: set[str]
) -> bool:
    adres = v.adres if v is not None else c.adres
    if types and item["type"] not in types:
        return False
    checks: dict[str, Callable[[str], bool]] = {
        "kvkNummer": lambda x: c.kvk_nummer == x,
        "rsin": lambda x: c.rsin == x,
        "vestigingsnummer": lambda x: v is not None and v.vestigingsnummer == x,
        "naam": lambda x: any(x.casefold() in n.casefold() for n in (c.naam, *c.handelsnamen)),
        "straatnaam": lambda x: adres.straat.casefold() == x.casefold(),
        "plaats": lambda x: adres.woonplaats.casefold() == x.casefold(),
        "postcode": lambda x: adres.postcode.replace(" ", "") == x.replace(" ", "").upper(),
        "huisnummer": lambda x: str(adres.huisnummer) == x.lstrip("0"),
    }
    return all(check(q[name]) for name, check in checks.items() if name in q)


def create_app(world: World, *, latency_ms: int = 0, api_key: str | None = None) -> Starlette:
    """The KVK Zoeken v2 and Basisprofiel v1 APIs over the world's companies."""
    behaviour = Behaviour(latency_ms=latency_ms)

    def unauthorised(request: Request) -> Response | None:
        if api_key is not None and request.headers.get(API_KEY_HEADER) != api_key:
            return _fout(401, "IPD1002", "Geen of ongeldige apikey meegegeven.")
        return None

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def zoeken(request: Request) -> Response:
        if (denied := unauthorised(request)) is not None:
            return denied
        q = {k: v for k, v in request.query_params.items() if k != "type"}
        types = {t for raw in request.query_params.getlist("type") for t in raw.split(",") if t}
        unknown = sorted(set(request.query_params) - set(SEARCH_PARAMS))
        if unknown:
            return _fout(400, "IPD1999", f"Onbekende parameter(s): {', '.join(unknown)}.")
        for name, pattern in _PATTERNS.items():
            if name in q and not pattern.match(q[name]):
                return _fout(400, "IPD1999", f"Ongeldige waarde voor parameter {name}.")
        if not types <= set(_TYPES):
            return _fout(400, "IPD1999", "Ongeldige waarde voor parameter type.")
        if "huisnummer" in q and "postcode" not in q:
            return _fout(400, "IPD1999", "Parameter huisnummer alleen samen met postcode.")
        pagina = int(q.pop("pagina", "1"))
        per_pagina = int(q.pop("resultatenPerPagina", "10"))
        if not 1 <= pagina <= 1000 or not 1 <= per_pagina <= 100:
            return _fout(400, "IPD1999", "Ongeldige waarde voor pagina of resultatenPerPagina.")
        base = base_url(request)
        found = [item for c, v, item in _results(base, world.companies) if _matches(c, v, item, q, types)]
        if not found:
            return _fout(404, "IPD5200", "Geen resultaten gevonden.")
        page = found[(pagina - 1) * per_pagina : pagina * per_pagina]
        body: dict[str, Any] = {
            "pagina": pagina,
            "resultatenPerPagina": per_pagina,
            "totaal": len(found),
            "resultaten": page,
            "links": [{"rel": "self", "href": str(request.url)}],
        }
        if pagina * per_pagina < len(found):
            body["volgende"] = str(request.url.include_query_params(pagina=pagina + 1))
        if pagina > 1:
            body["vorige"] = str(request.url.include_query_params(pagina=pagina - 1))
        return JSONResponse(body)

    def company_of(request: Request) -> Company | Response:
        kvk = request.path_params["kvk_nummer"]
        if not _PATTERNS["kvkNummer"].match(kvk):
            return _fout(400, "IPD0004", "Het KVK-nummer is niet valide.")
        company = world.company(kvk)
        if company is None:
            return _fout(404, "IPD0005", "Het product is niet leverbaar.")
        return company

    async def read_basisprofiel(request: Request) -> Response:
        if (denied := unauthorised(request)) is not None:
            return denied
        company = company_of(request)
        if isinstance(company, Response):
            return company
        return JSONResponse(basisprofiel(base_url(request), company))

    async def read_vestigingen(request: Request) -> Response:
        if (denied := unauthorised(request)) is not None:
            return denied
        company = company_of(request)
        if isinstance(company, Response):
            return company
        base = base_url(request)
        vestigingen = [
            {
                "vestigingsnummer": v.vestigingsnummer,
                "eersteHandelsnaam": v.eerste_handelsnaam,
                "indHoofdvestiging": _ja(v.is_hoofdvestiging),
                "volledigAdres": _adressen(v.adres)[0]["volledigAdres"],
                "links": _vestiging_json(base, company, v)["links"],
            }
            for v in company.vestigingen
        ]
        hoofd = sum(v.is_hoofdvestiging for v in company.vestigingen)
        return JSONResponse(
            {
                "kvkNummer": company.kvk_nummer,
                "totaalAantalVestigingen": len(vestigingen),
                "aantalCommercieleVestigingen": len(vestigingen),
                "aantalNietCommercieleVestigingen": 0,
                "aantalHoofdvestigingen": hoofd,
                "vestigingen": vestigingen,
            }
        )

    return Starlette(
        routes=[
            Route("/api/v2/zoeken", zoeken, methods=["GET"]),
            Route("/api/v1/basisprofielen/{kvk_nummer}", read_basisprofiel, methods=["GET"]),
            Route("/api/v1/basisprofielen/{kvk_nummer}/vestigingen", read_vestigingen, methods=["GET"]),
            *sim_routes(behaviour),
        ],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )
