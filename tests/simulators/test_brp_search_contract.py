"""The BRP simulator's searches (PersoonBeperkt) against the official BRP Personen 2.7 spec."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dgkb.simulators.brp import BEPERKT_FIELDS
from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "brp-personen/openapi.yaml"
BEPERKT = ["burgerservicenummer", "naam", "geboorte", "geslacht", "leeftijd", "adressering"]


async def ask(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{url}/haalcentraal/api/brp/personen", json=body)


def variant(openapi: Callable[[str], OpenApi], data: dict[str, Any]) -> list[str]:
    """Validate against the response schema named by `type` (generic validators accept too much)."""
    return openapi(SPEC).errors(data, f"{data['type']}Response")


async def test_geslachtsnaam_en_geboortedatum(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = world.person("999993653")
    assert person is not None
    body = {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": person.geslachtsnaam.upper(),
        "geboortedatum": person.geboortedatum.isoformat(),
        "fields": BEPERKT,
    }
    resp = await ask(client, brp_url, body)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert variant(openapi, data) == []
    assert [p["burgerservicenummer"] for p in data["personen"]] == ["999993653"]
    found = data["personen"][0]
    assert set(found) == set(BEPERKT)  # PersoonBeperkt: no verblijfplaats, no family
    assert found["adressering"]["adresregel1"] == f"{person.address.straat} {person.address.huisnummer}"


async def test_wildcard_prefix_is_case_insensitive(
    client: httpx.AsyncClient, brp_url: str, world: World
) -> None:
    person = world.person("999993653")
    assert person is not None
    body = {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": person.geslachtsnaam[:3].lower() + "*",
        "geboortedatum": person.geboortedatum.isoformat(),
        "fields": ["burgerservicenummer"],
    }
    data = (await ask(client, brp_url, body)).json()
    assert "999993653" in [p["burgerservicenummer"] for p in data["personen"]]


async def test_postcode_en_huisnummer_finds_the_household(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = world.person("999993653")
    assert person is not None
    a = person.address
    body = {
        "type": "ZoekMetPostcodeEnHuisnummer",
        "postcode": a.postcode.replace(" ", "").lower(),
        "huisnummer": a.huisnummer,
        "fields": BEPERKT,
    }
    data = (await ask(client, brp_url, body)).json()
    assert variant(openapi, data) == []
    expected = {p.bsn for p in world.persons if p.address == a}
    assert {p["burgerservicenummer"] for p in data["personen"]} == expected
    assert len(expected) > 1  # the first household is a family
    body["huisletter"] = "A"
    assert (await ask(client, brp_url, body)).json()["personen"] == []


async def test_naam_en_gemeente_van_inschrijving(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = world.person("999990639")
    assert person is not None
    body = {
        "type": "ZoekMetNaamEnGemeenteVanInschrijving",
        "geslachtsnaam": person.geslachtsnaam,
        "voornamen": person.voornamen[:3] + "*",
        "gemeenteVanInschrijving": person.address.gemeente_code,
        "fields": ["burgerservicenummer", "naam.volledigeNaam"],
    }
    data = (await ask(client, brp_url, body)).json()
    assert variant(openapi, data) == []
    assert person.bsn in [p["burgerservicenummer"] for p in data["personen"]]
    body["gemeenteVanInschrijving"] = "0363"
    assert (await ask(client, brp_url, body)).json()["personen"] == []


async def test_shielded_person_carries_geheimhouding_in_search(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = world.person(world.shielded_bsn)
    assert person is not None
    body = {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": person.geslachtsnaam,
        "geboortedatum": person.geboortedatum.isoformat(),
        "fields": ["naam.volledigeNaam"],
    }
    data = (await ask(client, brp_url, body)).json()
    assert variant(openapi, data) == []
    assert data["personen"] == [
        {"naam": {"volledigeNaam": person.volledige_naam}, "geheimhoudingPersoonsgegevens": True}
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # wildcard after fewer than 3 letters
            {
                "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
                "geslachtsnaam": "Ja*",
                "geboortedatum": "1960-01-01",
            },
            {"geslachtsnaam": "pattern"},
        ),
        (  # wildcard not at the end
            {
                "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
                "geslachtsnaam": "*sen",
                "geboortedatum": "1960-01-01",
            },
            {"geslachtsnaam": "pattern"},
        ),
        (  # both required parameters missing, reported together
            {"type": "ZoekMetGeslachtsnaamEnGeboortedatum"},
            {"geslachtsnaam": "required", "geboortedatum": "required"},
        ),
        (
            {
                "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
                "geslachtsnaam": "Jansen",
                "geboortedatum": "1960-02-30",
            },
            {"geboortedatum": "date"},
        ),
        (  # a parameter of another search type
            {
                "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
                "geslachtsnaam": "Jansen",
                "geboortedatum": "1960-01-01",
                "postcode": "3011AA",
            },
            {"postcode": "unknownParam"},
        ),
        (
            {"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "0123AB", "huisnummer": "12"},
            {"postcode": "pattern", "huisnummer": "integer"},
        ),
        (
            {"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "3011AB", "huisnummer": 100000},
            {"huisnummer": "maximum"},
        ),
        (  # voornamen are required here, and their wildcard needs 3 letters too
            {
                "type": "ZoekMetNaamEnGemeenteVanInschrijving",
                "geslachtsnaam": "Jansen",
                "voornamen": "J*",
                "gemeenteVanInschrijving": "599",
            },
            {"voornamen": "pattern", "gemeenteVanInschrijving": "pattern"},
        ),
        (
            {"type": "ZoekMetNaamEnGemeenteVanInschrijving", "geslachtsnaam": "Jansen", "voornamen": "Jan"},
            {"gemeenteVanInschrijving": "required"},
        ),
    ],
)
async def test_bad_searches_are_problems_naming_every_parameter(
    client: httpx.AsyncClient,
    brp_url: str,
    openapi: Callable[[str], OpenApi],
    body: dict[str, Any],
    expected: dict[str, str],
) -> None:
    resp = await ask(client, brp_url, {**body, "fields": ["burgerservicenummer"]})
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert {p["name"]: p["code"] for p in problem["invalidParams"]} == expected
    assert openapi(SPEC).errors(problem, "BadRequestFoutbericht") == []


async def test_search_rejects_fields_outside_persoon_beperkt(client: httpx.AsyncClient, brp_url: str) -> None:
    body = {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": "Jansen",
        "geboortedatum": "1960-01-01",
        "fields": ["naam", "verblijfplaats", "partners"],
    }
    resp = await ask(client, brp_url, body)
    assert resp.status_code == 400
    assert [p["name"] for p in resp.json()["invalidParams"]] == ["fields.1", "fields.2"]


def test_beperkt_fields_are_official_field_paths(shared_reference: Path) -> None:
    csv = (shared_reference / "brp-personen" / "fields-filtered-PersoonBeperkt.csv").read_text(
        encoding="utf-8"
    )
    official = {line.split(",")[0].strip() for line in csv.splitlines()[1:] if line.strip()}
    assert official >= BEPERKT_FIELDS, sorted(BEPERKT_FIELDS - official)


async def test_deceased_only_with_inclusief_overleden_personen(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = world.person(world.special["deceased"])
    assert person is not None
    assert person.overlijdensdatum is not None
    body: dict[str, Any] = {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": person.geslachtsnaam,
        "geboortedatum": person.geboortedatum.isoformat(),
        "fields": ["burgerservicenummer"],
    }
    assert (await ask(client, brp_url, body)).json()["personen"] == []
    body["inclusiefOverledenPersonen"] = True
    data = (await ask(client, brp_url, body)).json()
    assert [p["burgerservicenummer"] for p in data["personen"]] == [person.bsn]
    raadpleeg = {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [person.bsn],
        "fields": ["overlijden"],
    }
    full = (await ask(client, brp_url, raadpleeg)).json()
    assert openapi(SPEC).errors(full, "RaadpleegMetBurgerservicenummerResponse") == []
    assert full["personen"][0]["overlijden"]["datum"]["datum"] == person.overlijdensdatum.isoformat()
