"""The BRP simulator against the official BRP Personen 2.x spec (RaadpleegMetBurgerservicenummer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dgkb.simulators.brp import SUPPORTED_FIELDS
from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "brp-personen/openapi.yaml"
ALL_FIELDS = [
    "burgerservicenummer",
    "naam",
    "geboorte",
    "geslacht",
    "leeftijd",
    "verblijfplaats",
    "adressering",
    "gemeenteVanInschrijving",
    "datumInschrijvingInGemeente",
    "partners",
    "kinderen",
    "ouders",
]


async def ask(client: httpx.AsyncClient, url: str, body: dict[str, object]) -> httpx.Response:
    return await client.post(f"{url}/haalcentraal/api/brp/personen", json=body)


async def test_full_person_validates_against_spec(
    client: httpx.AsyncClient, brp_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    bsns = ["999993653", "999990639", "999991425", world.shielded_bsn]
    body = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns, "fields": ALL_FIELDS}
    resp = await ask(client, brp_url, body)
    assert resp.status_code == 200
    data = resp.json()
    assert openapi(SPEC).errors(data, "RaadpleegMetBurgerservicenummerResponse") == []
    assert [p["burgerservicenummer"] for p in data["personen"]] == bsns
    main = data["personen"][0]
    assert main["verblijfplaats"]["type"] == "Adres"
    assert main["geboorte"]["datum"]["type"] == "Datum"
    assert main["partners"][0]["burgerservicenummer"] == "999990639"
    assert "geheimhoudingPersoonsgegevens" not in main
    assert data["personen"][3]["geheimhoudingPersoonsgegevens"] is True


async def test_only_requested_fields_come_back(client: httpx.AsyncClient, brp_url: str) -> None:
    fields = ["naam.voornamen", "verblijfplaats.verblijfadres.postcode", "adressering.adresregel1"]
    body = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": fields}
    persoon = (await ask(client, brp_url, body)).json()["personen"][0]
    assert set(persoon) == {"naam", "verblijfplaats", "adressering"}
    assert set(persoon["naam"]) == {"voornamen"}
    assert persoon["verblijfplaats"] == {
        "type": "Adres",
        "verblijfadres": {"postcode": persoon["verblijfplaats"]["verblijfadres"]["postcode"]},
    }
    assert set(persoon["adressering"]) == {"adresregel1"}


async def test_unknown_bsn_gives_empty_personen(client: httpx.AsyncClient, brp_url: str) -> None:
    body = {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999999990"],
        "fields": ["naam"],
    }
    resp = await ask(client, brp_url, body)
    assert resp.status_code == 200
    assert resp.json() == {"type": "RaadpleegMetBurgerservicenummer", "personen": []}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}, "fields"),
        (
            {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": []},
            "fields",
        ),
        (
            {
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": ["999993653"],
                "fields": ["naam.bestaatniet"],
            },
            "fields.0",
        ),
        (
            {
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": ["999993653"],
                "fields": ["geheimhoudingPersoonsgegevens"],
            },
            "fields.0",
        ),
        (
            {
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": ["123456789"],
                "fields": ["naam"],
            },
            "burgerservicenummer.0",
        ),
        ({"type": "ZoekMetIets", "burgerservicenummer": ["999993653"], "fields": ["naam"]}, "type"),
    ],
)
async def test_bad_requests_are_problems(
    client: httpx.AsyncClient,
    brp_url: str,
    openapi: Callable[[str], OpenApi],
    body: dict[str, object],
    param: str,
) -> None:
    resp = await ask(client, brp_url, body)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["status"] == 400
    assert problem["invalidParams"][0]["name"] == param
    assert openapi(SPEC).errors(problem, "BadRequestFoutbericht") == []


def test_supported_fields_are_official_field_paths(shared_reference: Path) -> None:
    csv = (shared_reference / "brp-personen" / "fields-filtered-Persoon.csv").read_text(encoding="utf-8")
    official = {line.split(",")[0].strip() for line in csv.splitlines()[1:] if line.strip()}
    assert official >= SUPPORTED_FIELDS, sorted(SUPPORTED_FIELDS - official)
