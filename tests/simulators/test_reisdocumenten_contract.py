"""BRP Reisdocumenten 2.0 simulator against the official spec (schemas of the variant named by `type`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from dgkb.simulators import reisdocumenten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "brp-reisdocumenten/openapi.yaml"
KEY = {"X-Api-Key": "sleutel"}


@pytest.fixture(scope="module")
async def url(world: World) -> AsyncIterator[str]:
    app = reisdocumenten.create_app(world, api_key="sleutel")
    async with serve_in_background(app) as (_, base):
        yield f"{base}{reisdocumenten.BASE_PATH}/reisdocumenten"


async def _post(client: httpx.AsyncClient, url: str, body: Any) -> httpx.Response:
    return await client.post(url, json=body, headers=KEY)


async def test_search_by_bsn_matches_the_spec(
    url: str, client: httpx.AsyncClient, world: World, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    fields = sorted(reisdocumenten.SUPPORTED_FIELDS)[:25]
    holders = [*[p.bsn for p in world.persons if p.reisdocumenten][:30], world.shielded_bsn]
    for bsn in holders:
        body = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": bsn, "fields": fields}
        resp = await _post(client, url, body)
        assert resp.status_code == 200, resp.text
        data = resp.json()
        assert spec.errors(data, "ZoekMetBurgerservicenummerResponse") == []
        for doc in data["reisdocumenten"]:
            assert doc["houder"]["burgerservicenummer"] == bsn


async def test_request_bodies_sent_are_valid_per_spec(openapi: Callable[[str], OpenApi]) -> None:
    spec = openapi(SPEC)
    body = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999993653", "fields": ["soort"]}
    assert spec.errors(body, "ZoekMetBurgerservicenummer") == []


async def test_only_requested_fields_and_lost_documents_are_included(
    url: str, client: httpx.AsyncClient, world: World
) -> None:
    body = {
        "type": "ZoekMetBurgerservicenummer",
        "burgerservicenummer": world.special["lost_document"],
        "fields": ["datumEindeGeldigheid", "inhoudingOfVermissing.aanduiding.code"],
    }
    docs = (await _post(client, url, body)).json()["reisdocumenten"]
    assert {k for d in docs for k in d} <= {"datumEindeGeldigheid", "inhoudingOfVermissing"}
    assert any(d.get("inhoudingOfVermissing", {}).get("aanduiding") == {"code": "V"} for d in docs)


async def test_raadpleeg_by_number_and_unknown_bsn(
    url: str, client: httpx.AsyncClient, world: World, openapi: Callable[[str], OpenApi]
) -> None:
    doc = world.reisdocumenten()[0]
    body = {
        "type": "RaadpleegMetReisdocumentnummer",
        "reisdocumentnummer": [doc.reisdocumentnummer],
        "fields": ["soort"],
    }
    data = (await _post(client, url, body)).json()
    assert openapi(SPEC).errors(data, "RaadpleegMetReisdocumentnummerResponse") == []
    assert data["reisdocumenten"] == [
        {"soort": {"code": doc.soort_code, "omschrijving": doc.soort_omschrijving}}
    ]
    body = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999999990", "fields": ["soort"]}
    assert (await _post(client, url, body)).json() == {
        "type": "ZoekMetBurgerservicenummer",
        "reisdocumenten": [],
    }


async def test_shielded_holder_gets_the_automatic_field(
    url: str, client: httpx.AsyncClient, world: World
) -> None:
    person = world.person(world.shielded_bsn)
    assert person is not None
    body = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": person.bsn, "fields": ["soort"]}
    for doc in (await _post(client, url, body)).json()["reisdocumenten"]:
        assert doc["houder"]["geheimhoudingPersoonsgegevens"] is True


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999993653"}, "fields"),
        ({"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999993653", "fields": []}, "fields"),
        (
            {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999993653", "fields": ["naam"]},
            "fields.0",
        ),
        (
            {
                "type": "ZoekMetBurgerservicenummer",
                "burgerservicenummer": "999993653",
                "fields": ["houder.geheimhoudingPersoonsgegevens"],
            },
            "fields.0",
        ),
        (
            {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["soort"]},
            "burgerservicenummer",
        ),
        ({"type": "ZoekMetBurgerservicenummer", "fields": ["soort"]}, "burgerservicenummer"),
        (
            {
                "type": "ZoekMetBurgerservicenummer",
                "burgerservicenummer": "999993653",
                "fields": ["soort"],
                "x": 1,
            },
            "x",
        ),
        ({"type": "ZoekMetIets", "fields": ["soort"]}, "type"),
        (
            {"type": "RaadpleegMetReisdocumentnummer", "reisdocumentnummer": ["abc"], "fields": ["soort"]},
            "reisdocumentnummer.0",
        ),
    ],
)
async def test_bad_requests_are_rejected_like_the_real_api(
    url: str, client: httpx.AsyncClient, openapi: Callable[[str], OpenApi], body: dict[str, Any], name: str
) -> None:
    resp = await _post(client, url, body)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert name in [p["name"] for p in problem["invalidParams"]]
    assert openapi(SPEC).errors(problem, "BadRequestFoutbericht") == []


async def test_api_key_is_required(url: str, client: httpx.AsyncClient) -> None:
    body = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": "999993653", "fields": ["soort"]}
    assert (await client.post(url, json=body)).status_code == 401
