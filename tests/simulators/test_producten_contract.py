"""Open Producten simulator against the official spec (producten-openapi.yaml)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from dgkb.simulators import producten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "producten/producten-openapi.yaml"
AUTH = {"Authorization": "Token geheim"}


@pytest.fixture(scope="module")
async def url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(producten.create_app(world, token="geheim")) as (_, base):
        yield f"{base}{producten.BASE_PATH}/producten/"


async def test_list_pages_match_the_spec(
    url: str, client: httpx.AsyncClient, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    next_url: str | None = f"{url}?page_size=50"
    seen = 0
    while next_url:
        resp = await client.get(next_url, headers=AUTH)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert spec.errors(page, "PaginatedProductList") == []
        seen += len(page["results"])
        next_url = page["next"]
    assert seen == page["count"] > 50


async def test_owner_filters(url: str, client: httpx.AsyncClient, world: World) -> None:
    bsn = "999993653"
    data = (await client.get(url, params={"eigenaren__bsn": bsn}, headers=AUTH)).json()
    person = world.person(bsn)
    assert person is not None
    assert data["count"] == len(person.producten)
    assert all(p["eigenaren"][0]["bsn"] == bsn for p in data["results"])
    company = next(c for c in world.companies if c.producten)
    data = (await client.get(url, params={"eigenaren__kvk_nummer": company.kvk_nummer}, headers=AUTH)).json()
    assert {p["id"] for p in data["results"]} == {p.uuid for p in company.producten}
    nobody = (await client.get(url, params={"eigenaren__bsn": "999999990"}, headers=AUTH)).json()
    assert nobody == {"count": 0, "next": None, "previous": None, "results": []}


async def test_status_and_date_filters(url: str, client: httpx.AsyncClient) -> None:
    data = (
        await client.get(url, params={"status": "actief", "eind_datum__gte": "2026-11-01"}, headers=AUTH)
    ).json()
    assert data["count"] > 0
    assert all(p["status"] == "actief" and p["eind_datum"] >= "2026-11-01" for p in data["results"])


async def test_read_one_product(
    url: str, client: httpx.AsyncClient, world: World, openapi: Callable[[str], OpenApi]
) -> None:
    product = world.producten()[0]
    resp = await client.get(f"{url}{product.uuid}/", headers=AUTH)
    assert openapi(SPEC).errors(resp.json(), "Product") == []
    missing = await client.get(f"{url}00000000-0000-0000-0000-000000000000/", headers=AUTH)
    assert missing.status_code == 404
    assert openapi(SPEC).errors(missing.json(), "DetailError") == []


@pytest.mark.parametrize(
    ("param", "value"), [("status", "kwijt"), ("start_datum__gte", "1-1-2026"), ("page", "0")]
)
async def test_bad_filter_values_are_400_per_field(
    url: str, client: httpx.AsyncClient, param: str, value: str
) -> None:
    resp = await client.get(url, params={param: value}, headers=AUTH)
    assert resp.status_code == 400
    assert param in resp.json()


async def test_token_is_required(
    url: str, client: httpx.AsyncClient, openapi: Callable[[str], OpenApi]
) -> None:
    resp = await client.get(url)
    assert resp.status_code == 403
    assert openapi(SPEC).errors(resp.json(), "DetailError") == []
