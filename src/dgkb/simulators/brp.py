"""Haal Centraal BRP Personen bevragen 2.x simulator: `POST /haalcentraal/api/brp/personen`.

Only `RaadpleegMetBurgerservicenummer` is served. Like the real API it requires `fields`, rejects unknown
or automatically delivered field paths with 400, returns only the requested fields (dotted paths
included), adds `geheimhoudingPersoonsgegevens` on its own when it applies, and answers an unknown BSN
with an empty `personen` list.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.domain.identifiers import passes_elfproef
from dgkb.simulators.common import Behaviour, SimulatorMiddleware, problem, sim_routes
from dgkb.simulators.world import Person, World

__all__ = ["BASE_PATH", "SUPPORTED_FIELDS", "create_app"]

BASE_PATH = "/haalcentraal/api/brp"

# The `fields` paths this simulator serves: a subset of fields-filtered-Persoon.csv (BRP API 2.7.0).
SUPPORTED_FIELDS: frozenset[str] = frozenset(
    {
        "burgerservicenummer",
        "naam",
        "naam.voornamen",
        "naam.voorvoegsel",
        "naam.geslachtsnaam",
        "naam.voorletters",
        "naam.volledigeNaam",
        "naam.aanduidingNaamgebruik",
        "geboorte",
        "geboorte.datum",
        "geboorte.plaats",
        "geboorte.land",
        "geslacht",
        "leeftijd",
        "verblijfplaats",
        "verblijfplaats.datumVan",
        "verblijfplaats.functieAdres",
        "verblijfplaats.verblijfadres",
        "verblijfplaats.verblijfadres.officieleStraatnaam",
        "verblijfplaats.verblijfadres.korteStraatnaam",
        "verblijfplaats.verblijfadres.huisnummer",
        "verblijfplaats.verblijfadres.postcode",
        "verblijfplaats.verblijfadres.woonplaats",
        "adressering",
        "adressering.adresregel1",
        "adressering.adresregel2",
        "adressering.aanhef",
        "adressering.aanschrijfwijze",
        "adressering.aanschrijfwijze.naam",
        "adressering.gebruikInLopendeTekst",
        "overlijden",
        "overlijden.datum",
        "gemeenteVanInschrijving",
        "datumInschrijvingInGemeente",
        "partners",
        "partners.burgerservicenummer",
        "partners.naam",
        "partners.naam.voornamen",
        "partners.naam.voorvoegsel",
        "partners.naam.geslachtsnaam",
        "partners.naam.voorletters",
        "partners.geboorte",
        "partners.geboorte.datum",
        "partners.geslacht",
        "partners.soortVerbintenis",
        "partners.aangaanHuwelijkPartnerschap",
        "partners.aangaanHuwelijkPartnerschap.datum",
        "kinderen",
        "kinderen.burgerservicenummer",
        "kinderen.naam",
        "kinderen.naam.voornamen",
        "kinderen.naam.voorvoegsel",
        "kinderen.naam.geslachtsnaam",
        "kinderen.naam.voorletters",
        "kinderen.geboorte",
        "kinderen.geboorte.datum",
        "ouders",
        "ouders.burgerservicenummer",
        "ouders.naam",
        "ouders.naam.voornamen",
        "ouders.naam.voorvoegsel",
        "ouders.naam.geslachtsnaam",
        "ouders.naam.voorletters",
        "ouders.geboorte",
        "ouders.geboorte.datum",
        "ouders.geslacht",
        "ouders.ouderAanduiding",
        "ouders.datumIngangFamilierechtelijkeBetrekking",
    }
)
# Delivered automatically when they apply; asking for them is a 400 at the real API.
AUTOMATIC_FIELDS = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
)
_FIELD_PATTERN = re.compile(r"^[a-zA-Z0-9._]{1,200}$")
_BSN_PATTERN = re.compile(r"^[0-9]{9}$")
_MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_GESLACHT = {"M": "man", "V": "vrouw"}
_NEDERLAND = {"code": "6030", "omschrijving": "Nederland"}


def _datum(d: date) -> dict[str, Any]:
    return {
        "type": "Datum",
        "datum": d.isoformat(),
        "langFormaat": f"{d.day} {_MAANDEN[d.month - 1]} {d.year}",
    }


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _naam_gerelateerde(p: Person) -> dict[str, Any]:
    naam: dict[str, Any] = {
        "voornamen": p.voornamen,
        "geslachtsnaam": p.geslachtsnaam,
        "voorletters": p.voorletters,
    }
    if p.voorvoegsel:
        naam["voorvoegsel"] = p.voorvoegsel
    return naam


def _geboorte(p: Person) -> dict[str, Any]:
    return {
        "datum": _datum(p.geboortedatum),
        "plaats": {"code": p.address.gemeente_code, "omschrijving": p.address.gemeente_naam},
        "land": _NEDERLAND,
    }


def _achternaam(p: Person, *, capital: bool) -> str:
    prefix = p.voorvoegsel[:1].upper() + p.voorvoegsel[1:] if capital and p.voorvoegsel else p.voorvoegsel
    return " ".join(x for x in (prefix, p.geslachtsnaam) if x)


def persoon_document(world: World, p: Person, today: date) -> dict[str, Any]:
    """Every field this simulator supports, in the shapes of the BRP API 2.x spec."""
    a = p.address
    aanspreek = "mevrouw" if p.geslacht == "V" else "meneer"
    doc: dict[str, Any] = {
        "burgerservicenummer": p.bsn,
        "naam": {
            **_naam_gerelateerde(p),
            "volledigeNaam": p.volledige_naam,
            "aanduidingNaamgebruik": {"code": "E", "omschrijving": "eigen geslachtsnaam"},
        },
        "geboorte": _geboorte(p),
        "geslacht": {"code": p.geslacht, "omschrijving": _GESLACHT[p.geslacht]},
        "leeftijd": _age(p.geboortedatum, today),
        "verblijfplaats": {
            "type": "Adres",
            "datumVan": _datum(p.datum_inschrijving_in_gemeente),
            "functieAdres": {"code": "W", "omschrijving": "woonadres"},
            "verblijfadres": {
                "officieleStraatnaam": a.straat,
                "korteStraatnaam": a.straat[:24],
                "huisnummer": a.huisnummer,
                "postcode": a.postcode.replace(" ", ""),
                "woonplaats": a.woonplaats,
            },
        },
        "adressering": {
            "adresregel1": f"{a.straat} {a.huisnummer}",
            "adresregel2": f"{a.postcode}  {a.woonplaats.upper()}",
            "aanhef": f"Geachte {aanspreek} {_achternaam(p, capital=True)}",
            "aanschrijfwijze": {"naam": f"{p.voorletters} {_achternaam(p, capital=False)}"},
            "gebruikInLopendeTekst": f"{aanspreek} {_achternaam(p, capital=True)}",
        },
        "gemeenteVanInschrijving": {"code": a.gemeente_code, "omschrijving": a.gemeente_naam},
        "datumInschrijvingInGemeente": _datum(p.datum_inschrijving_in_gemeente),
    }
    partner = world.person(p.partner_bsn) if p.partner_bsn else None
    if partner is not None:
        entry: dict[str, Any] = {
            "burgerservicenummer": partner.bsn,
            "naam": _naam_gerelateerde(partner),
            "geboorte": _geboorte(partner),
            "geslacht": {"code": partner.geslacht, "omschrijving": _GESLACHT[partner.geslacht]},
            "soortVerbintenis": {"code": "H", "omschrijving": "huwelijk"},
        }
        if p.partner_sinds is not None:
            entry["aangaanHuwelijkPartnerschap"] = {"datum": _datum(p.partner_sinds)}
        doc["partners"] = [entry]
    kinderen = [k for k in (world.person(b) for b in p.kinderen_bsns) if k is not None]
    if kinderen:
        doc["kinderen"] = [
            {"burgerservicenummer": k.bsn, "naam": _naam_gerelateerde(k), "geboorte": _geboorte(k)}
            for k in kinderen
        ]
    ouders = [o for o in (world.person(b) for b in p.ouders_bsns) if o is not None]
    if ouders:
        doc["ouders"] = [
            {
                "burgerservicenummer": o.bsn,
                "naam": _naam_gerelateerde(o),
                "geboorte": _geboorte(o),
                "geslacht": {"code": o.geslacht, "omschrijving": _GESLACHT[o.geslacht]},
                "ouderAanduiding": str(i + 1),
                "datumIngangFamilierechtelijkeBetrekking": _datum(p.geboortedatum),
            }
            for i, o in enumerate(ouders)
        ]
    return doc


def project(value: Any, paths: list[str]) -> Any:
    """Keep only the dotted `paths` of a JSON value; lists are projected item by item. An object with a
    `type` discriminator keeps it, as the real API does."""
    if isinstance(value, list):
        return [project(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    wanted: dict[str, list[str] | None] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if not rest or wanted.get(head, []) is None:
            wanted[head] = None  # the whole value
        else:
            wanted.setdefault(head, []).append(rest)  # type: ignore[union-attr]
    result: dict[str, Any] = {}
    if "type" in value:
        result["type"] = value["type"]
    for key, sub in wanted.items():
        if key in value:
            result[key] = value[key] if sub is None else project(value[key], sub)
    return result


def _bad_request(detail: str, name: str, code: str, reason: str, instance: str) -> Response:
    return problem(
        400,
        "Een of meerdere parameters zijn niet correct.",
        detail,
        code="paramsValidation",
        instance=instance,
        invalid_params=[{"name": name, "code": code, "reason": reason}],
    )


def create_app(world: World, *, latency_ms: int = 0, today: date | None = None) -> Starlette:
    """The BRP Personen simulator over `world`; `today` fixes `leeftijd` (default: the real date)."""
    behaviour = Behaviour(latency_ms=latency_ms)

    async def personen(request: Request) -> Response:
        instance = str(request.url.path)
        try:
            body = await request.json()
        except ValueError:
            return _bad_request("Body is geen geldige JSON.", "body", "json", "Geen geldige JSON.", instance)
        if not isinstance(body, dict):
            return _bad_request("Body moet een object zijn.", "body", "object", "Geen object.", instance)
        kind = body.get("type")
        if kind != "RaadpleegMetBurgerservicenummer":
            return _bad_request(
                "Onbekend type.", "type", "value", "Waarde is geen geldig zoek type.", instance
            )
        fields = body.get("fields")
        if not isinstance(fields, list) or not fields:
            return _bad_request(
                "Parameter fields is verplicht.", "fields", "required", "Parameter is verplicht.", instance
            )
        if len(fields) > 130:
            return _bad_request(
                "Te veel fields.", "fields", "maxItems", "Array bevat meer dan 130 items.", instance
            )
        for i, path in enumerate(fields):
            if not isinstance(path, str) or not _FIELD_PATTERN.match(path):
                return _bad_request(
                    "Ongeldig veldpad.",
                    f"fields.{i}",
                    "pattern",
                    "Waarde voldoet niet aan patroon.",
                    instance,
                )
            if path.split(".")[0] in AUTOMATIC_FIELDS or path not in SUPPORTED_FIELDS:
                return _bad_request(
                    "Onbekend of automatisch geleverd veld.",
                    f"fields.{i}",
                    "field",
                    "Parameter bevat een niet bestaande veldnaam.",
                    instance,
                )
        bsns = body.get("burgerservicenummer")
        if not isinstance(bsns, list) or not bsns:
            return _bad_request(
                "Parameter burgerservicenummer is verplicht.",
                "burgerservicenummer",
                "required",
                "Parameter is verplicht.",
                instance,
            )
        if len(bsns) > 20:
            return _bad_request(
                "Te veel burgerservicenummers.",
                "burgerservicenummer",
                "maxItems",
                "Array bevat meer dan 20 items.",
                instance,
            )
        for i, bsn in enumerate(bsns):
            if not isinstance(bsn, str) or not _BSN_PATTERN.match(bsn) or not passes_elfproef(bsn):
                return _bad_request(
                    "Ongeldig burgerservicenummer.",
                    f"burgerservicenummer.{i}",
                    "pattern",
                    "Waarde is geen geldig burgerservicenummer.",
                    instance,
                )
        now = today or date.today()
        result = []
        for bsn in dict.fromkeys(bsns):
            person = world.person(bsn)
            if person is None:
                continue
            persoon = project(persoon_document(world, person, now), fields)
            if person.geheimhouding > 0:
                persoon["geheimhoudingPersoonsgegevens"] = True
            result.append(persoon)
        return JSONResponse({"type": kind, "personen": result})

    return Starlette(
        routes=[*sim_routes(behaviour), Route(f"{BASE_PATH}/personen", personen, methods=["POST"])],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )
