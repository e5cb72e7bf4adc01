"""Haal Centraal BRP Personen bevragen 2.x simulator: `POST /haalcentraal/api/brp/personen`.

Serves `RaadpleegMetBurgerservicenummer` (Persoon) and the searches `ZoekMetGeslachtsnaamEnGeboortedatum`,
`ZoekMetNaamEnGemeenteVanInschrijving` and `ZoekMetPostcodeEnHuisnummer` (PersoonBeperkt). Like the real
API it requires `fields`, rejects unknown or automatically delivered field paths, unknown parameters,
missing required parameters and values outside the spec's patterns (wildcard `*` only at the end, after
at least 3 letters) with one 400 listing every error in `invalidParams`; searches text case- and
diacritic-insensitively; leaves deceased persons out unless `inclusiefOverledenPersonen`; returns only
the requested fields; adds `geheimhoudingPersoonsgegevens` on its own when it applies; and answers
"nobody" with an empty `personen` list.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.domain.identifiers import passes_elfproef
from dgkb.simulators.common import Behaviour, SimulatorMiddleware, sim_routes
from dgkb.simulators.haalcentraal import Invalid, bad_request, check_fields, datum, invalid, project
from dgkb.simulators.world import Person, World

__all__ = ["BASE_PATH", "BEPERKT_FIELDS", "SEARCH_TYPES", "SUPPORTED_FIELDS", "create_app"]

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
_GESLACHT = {"M": "man", "V": "vrouw", "O": "onbekend"}  # O: imported GBA persons
_NEDERLAND = {"code": "6030", "omschrijving": "Nederland"}


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
        "datum": datum(p.geboortedatum),
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
            "datumVan": datum(p.datum_inschrijving_in_gemeente),
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
        "datumInschrijvingInGemeente": datum(p.datum_inschrijving_in_gemeente),
    }
    if p.overlijdensdatum is not None:
        doc["overlijden"] = {"datum": datum(p.overlijdensdatum)}
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
            entry["aangaanHuwelijkPartnerschap"] = {"datum": datum(p.partner_sinds)}
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
                "datumIngangFamilierechtelijkeBetrekking": datum(p.geboortedatum),
            }
            for i, o in enumerate(ouders)
        ]
    return doc


# --- requests: validation like the real API -------------------------------------------------------

# `fields` paths of PersoonBeperkt (the search answers): fields-filtered-PersoonBeperkt.csv of 2.7.0,
# without `adresseringBinnenland` (not in the 2.7.0 schema).
BEPERKT_FIELDS: frozenset[str] = frozenset(
    {
        "adressering",
        "adressering.adresregel1",
        "adressering.adresregel2",
        "adressering.adresregel3",
        "adressering.land",
        "burgerservicenummer",
        "geboorte",
        "geboorte.datum",
        "geslacht",
        "leeftijd",
        "naam",
        "naam.adellijkeTitelPredicaat",
        "naam.geslachtsnaam",
        "naam.volledigeNaam",
        "naam.voorletters",
        "naam.voornamen",
        "naam.voorvoegsel",
    }
)

# The spec's filter patterns (BRP API 2.7.0, components/schemas/*Filter): a `*` wildcard is allowed
# only as the last character, after at least 3 letters (geslachtsnaam, verplichte voornamen) or 1
# (optionele voornamen).
_GESLACHTSNAAM = re.compile(r"^[a-zA-Z0-9À-ž \.\-\']{1,200}$|^[a-zA-Z0-9À-ž \.\-\']{3,199}\*{1}$")
_VOORNAMEN_VERPLICHT = _GESLACHTSNAAM
_VOORNAMEN_OPTIONEEL = re.compile(r"^[a-zA-Z0-9À-ž \.\-\']{1,199}\*{0,1}$")
_VOORVOEGSEL = re.compile(r"^[a-zA-Z \']{1,10}$")
_GESLACHT_FILTER = re.compile(r"^([Mm]|[Vv]|[Oo])$")
_POSTCODE = re.compile(r"^[1-9]{1}[0-9]{3}[ ]?[A-Za-z]{2}$")
_HUISLETTER = re.compile(r"^[a-zA-Z]{1}$")
_TOEVOEGING = re.compile(r"^[a-zA-Z0-9 \-]{1,4}$")
_GEMEENTE = re.compile(r"^[0-9]{4}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

_COMMON = ("type", "fields", "gemeenteVanInschrijving")
_SEARCH_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type -> (required, optional) parameters besides type/fields/gemeenteVanInschrijving
    "RaadpleegMetBurgerservicenummer": (("burgerservicenummer",), ()),
    "ZoekMetGeslachtsnaamEnGeboortedatum": (
        ("geslachtsnaam", "geboortedatum"),
        ("inclusiefOverledenPersonen", "geslacht", "voorvoegsel", "voornamen"),
    ),
    "ZoekMetNaamEnGemeenteVanInschrijving": (
        ("geslachtsnaam", "voornamen", "gemeenteVanInschrijving"),
        ("inclusiefOverledenPersonen", "geslacht", "voorvoegsel"),
    ),
    "ZoekMetPostcodeEnHuisnummer": (
        ("postcode", "huisnummer"),
        (
            "inclusiefOverledenPersonen",
            "huisletter",
            "huisnummertoevoeging",
            "geboortedatum",
            "geslachtsnaam",
        ),
    ),
}
SEARCH_TYPES: frozenset[str] = frozenset(_SEARCH_PARAMS) - {"RaadpleegMetBurgerservicenummer"}
_PATTERNS: dict[str, re.Pattern[str]] = {
    "geslachtsnaam": _GESLACHTSNAAM,
    "voorvoegsel": _VOORVOEGSEL,
    "geslacht": _GESLACHT_FILTER,
    "postcode": _POSTCODE,
    "huisletter": _HUISLETTER,
    "huisnummertoevoeging": _TOEVOEGING,
    "gemeenteVanInschrijving": _GEMEENTE,
}


def _check_fields(fields: Any, allowed: frozenset[str]) -> list[Invalid]:
    return check_fields(
        fields,
        allowed=allowed,
        automatic=lambda path: path.split(".")[0] in AUTOMATIC_FIELDS,
        pattern=_FIELD_PATTERN,
        max_items=130,
    )


def _check_param(name: str, value: Any, kind: str) -> list[Invalid]:
    """One search parameter against its spec schema."""
    if name == "huisnummer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [invalid(name, "integer", "Waarde is geen geldig getal.")]
        if value < 1:
            return [invalid(name, "minimum", "Waarde is lager dan minimum 1.")]
        if value > 99999:
            return [invalid(name, "maximum", "Waarde is hoger dan maximum 99999.")]
        return []
    if name == "inclusiefOverledenPersonen":
        return [] if isinstance(value, bool) else [invalid(name, "boolean", "Waarde is geen boolean.")]
    if not isinstance(value, str):
        return [invalid(name, "string", "Waarde is geen tekst.")]
    if name == "geboortedatum":
        try:
            if not _DATE.match(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            return [invalid(name, "date", "Waarde is geen geldige datum.")]
        return []
    if name == "voornamen":
        pattern = (
            _VOORNAMEN_VERPLICHT if kind == "ZoekMetNaamEnGemeenteVanInschrijving" else _VOORNAMEN_OPTIONEEL
        )
    else:
        pattern = _PATTERNS[name]
    return [] if pattern.match(value) else [invalid(name, "pattern", "Waarde voldoet niet aan patroon.")]


def validate_request(body: Any) -> list[Invalid]:
    """Every error in one request, as the real API reports them (all at once, each once)."""
    if not isinstance(body, dict):
        return [invalid("body", "object", "Body is geen object.")]
    kind = body.get("type")
    if kind is None:
        return [invalid("type", "required", "Parameter is verplicht.")]
    if kind not in _SEARCH_PARAMS:
        return [invalid("type", "value", "Waarde is geen geldig zoek type.")]
    required, optional = _SEARCH_PARAMS[kind]
    allowed = BEPERKT_FIELDS if kind in SEARCH_TYPES else SUPPORTED_FIELDS
    errors = _check_fields(body.get("fields"), allowed)
    for name in required:
        if body.get(name) is None:
            errors.append(invalid(name, "required", "Parameter is verplicht."))
    for name in body:
        if name not in (*_COMMON, *required, *optional):
            errors.append(invalid(name, "unknownParam", "Parameter is niet verwacht."))
    if kind == "RaadpleegMetBurgerservicenummer":
        errors.extend(_check_bsns(body.get("burgerservicenummer")))
    for name in (*required, *optional, "gemeenteVanInschrijving"):
        value = body.get(name)
        if value is not None and name != "burgerservicenummer":
            errors.extend(_check_param(name, value, kind))
    return errors


def _check_bsns(bsns: Any) -> list[Invalid]:
    if bsns is None:
        return []  # reported as required
    if not isinstance(bsns, list):
        return [invalid("burgerservicenummer", "array", "Parameter is geen array.")]
    if not bsns:
        return [invalid("burgerservicenummer", "minItems", "Array bevat minder dan 1 items.")]
    if len(bsns) > 20:
        return [invalid("burgerservicenummer", "maxItems", "Array bevat meer dan 20 items.")]
    return [
        invalid(f"burgerservicenummer.{i}", "pattern", "Waarde is geen geldig burgerservicenummer.")
        for i, bsn in enumerate(bsns)
        if not isinstance(bsn, str) or not _BSN_PATTERN.match(bsn) or not passes_elfproef(bsn)
    ]


# --- search semantics -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case- and diacritic-insensitive form: the BRP API searches text fields this way."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _text_matches(wanted: str, actual: str) -> bool:
    """Exact (folded) match, or a prefix match when `wanted` ends with the `*` wildcard."""
    if wanted.endswith("*"):
        return _fold(actual).startswith(_fold(wanted[:-1]))
    return _fold(actual) == _fold(wanted)


def _overleden(p: Person) -> bool:
    return p.overlijdensdatum is not None


def matches(body: dict[str, Any], p: Person) -> bool:
    """Does person `p` answer the (validated) search `body`?"""
    if not body.get("inclusiefOverledenPersonen") and _overleden(p):
        return False
    checks: list[bool] = []
    if (naam := body.get("geslachtsnaam")) is not None:
        checks.append(_text_matches(naam, p.geslachtsnaam))
    if (voornamen := body.get("voornamen")) is not None:
        checks.append(_text_matches(voornamen, p.voornamen))
    if (voorvoegsel := body.get("voorvoegsel")) is not None:
        checks.append(_fold(voorvoegsel) == _fold(p.voorvoegsel))
    if (geslacht := body.get("geslacht")) is not None:
        checks.append(geslacht.upper() == p.geslacht)
    if (geboortedatum := body.get("geboortedatum")) is not None:
        checks.append(geboortedatum == p.geboortedatum.isoformat())
    if (gemeente := body.get("gemeenteVanInschrijving")) is not None:
        checks.append(gemeente == p.address.gemeente_code)
    if (postcode := body.get("postcode")) is not None:
        checks.append(postcode.replace(" ", "").upper() == p.address.postcode.replace(" ", "").upper())
    if (huisnummer := body.get("huisnummer")) is not None:
        checks.append(huisnummer == p.address.huisnummer)
    # the world's addresses have no huisletter or toevoeging: asking for one finds nobody
    checks.extend(body.get(name) is None for name in ("huisletter", "huisnummertoevoeging"))
    return all(checks)


def persoon_beperkt(world: World, p: Person, today: date) -> dict[str, Any]:
    """A PersoonBeperkt (search answer): name, birth, sex, age and address lines only."""
    full = persoon_document(world, p, today)
    return {
        "burgerservicenummer": full["burgerservicenummer"],
        "naam": {k: v for k, v in full["naam"].items() if k != "aanduidingNaamgebruik"},
        "geboorte": {"datum": full["geboorte"]["datum"]},
        "geslacht": full["geslacht"],
        "leeftijd": full["leeftijd"],
        "adressering": {
            "adresregel1": full["adressering"]["adresregel1"],
            "adresregel2": full["adressering"]["adresregel2"],
            "land": _NEDERLAND,
        },
    }


def create_app(world: World, *, latency_ms: int = 0, today: date | None = None) -> Starlette:
    """The BRP Personen simulator over `world`; `today` fixes `leeftijd` (default: the real date)."""
    behaviour = Behaviour(latency_ms=latency_ms)

    async def personen(request: Request) -> Response:
        instance = str(request.url.path)
        try:
            body = await request.json()
        except ValueError:
            return bad_request([invalid("body", "json", "Body is geen geldige JSON.")], instance)
        errors = validate_request(body)
        if errors:
            return bad_request(errors, instance)
        kind, fields = body["type"], body["fields"]
        now = today or date.today()
        result = []
        if kind == "RaadpleegMetBurgerservicenummer":
            found = [world.person(bsn) for bsn in dict.fromkeys(body["burgerservicenummer"])]
            gemeente = body.get("gemeenteVanInschrijving")
            for person in found:
                if person is None or (gemeente is not None and person.address.gemeente_code != gemeente):
                    continue
                result.append(_shield(person, project(persoon_document(world, person, now), fields)))
        else:
            hits = sorted(
                (p for p in world.persons if matches(body, p)),
                key=lambda p: (_fold(p.geslachtsnaam), _fold(p.voornamen), p.geboortedatum, p.bsn),
            )
            result = [_shield(p, project(persoon_beperkt(world, p, now), fields)) for p in hits]
        return JSONResponse({"type": kind, "personen": result})

    return Starlette(
        routes=[*sim_routes(behaviour), Route(f"{BASE_PATH}/personen", personen, methods=["POST"])],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )


def _shield(p: Person, persoon: dict[str, Any]) -> dict[str, Any]:
    """geheimhoudingPersoonsgegevens is delivered automatically whenever it applies."""
    if p.geheimhouding > 0:
        persoon["geheimhoudingPersoonsgegevens"] = True
    return persoon
