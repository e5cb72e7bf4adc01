"""ProductenAdapter against the Open Producten simulator on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dgkb.domain.identifiers import Subject
from dgkb.simulators import producten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World
from dgkb.sources.base import FetchRequest, SourceAdapter, SubjectNotFound
from dgkb.sources.config import ApiKeyAuth
from dgkb.sources.producten import ProductenAdapter

from .conftest import HEADERS, SimControl, source_config

CATEGORY = "dossier.rechten-en-plichten"
ALL = ("naam", "soort", "status", "startdatum", "einddatum")


@pytest.fixture(scope="module")
async def producten_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(producten.create_app(world, token="geheim")) as (_, url):
        yield url


@pytest.fixture
async def adapter(producten_url: str) -> AsyncIterator[ProductenAdapter]:
    config = source_config(
        "open-producten",
        f"{producten_url}{producten.BASE_PATH}",
        (CATEGORY,),
        deadline=0.5,
        auth=ApiKeyAuth(type="api-key", header="Authorization", value="Token geheim"),
    )
    a = ProductenAdapter(config)
    yield a
    await a.aclose()


def test_fits_the_port(adapter: ProductenAdapter) -> None:
    assert isinstance(adapter, SourceAdapter)


async def test_products_of_a_person_with_permitted_fields_only(
    adapter: ProductenAdapter, producten_url: str, sim: Callable[[str], Awaitable[SimControl]], world: World
) -> None:
    control = await sim(producten_url)
    result = await adapter.fetch(
        FetchRequest(Subject.person("999993653"), {CATEGORY: ("naam", "status")}, HEADERS)
    )
    items: Any = result[CATEGORY]
    person = world.person("999993653")
    assert person is not None
    assert len(items) == len(person.producten)
    assert all(set(i) == {"naam", "status"} for i in items)
    assert {"naam": "Parkeervergunning bewoners", "status": "actief"} in items
    sent = (await control.requests())[-1]
    assert "eigenaren__bsn=999993653" in sent["query"]
    assert sent["headers"]["authorization"] == "Token geheim"
    assert sent["headers"]["x-verwerking"] == HEADERS["X-Verwerking"]


async def test_products_of_a_company(adapter: ProductenAdapter, world: World) -> None:
    company = next(c for c in world.companies if len(c.producten) >= 2)
    result = await adapter.fetch(FetchRequest(Subject.business(company.kvk_nummer), {CATEGORY: ALL}, HEADERS))
    items: Any = result[CATEGORY]
    assert {i["naam"] for i in items} == {p.producttype.naam for p in company.producten}
    assert all(i["soort"] in {"vergunning", "subsidie", "pas", "regeling"} for i in items)


async def test_unknown_subject_is_an_empty_list_and_vestiging_is_not_served(
    adapter: ProductenAdapter,
) -> None:
    result = await adapter.fetch(FetchRequest(Subject.person("999999990"), {CATEGORY: ALL}, HEADERS))
    assert result == {CATEGORY: []}
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.establishment("000012345678"), {CATEGORY: ALL}, HEADERS))


async def test_a_source_ignoring_the_owner_filter_does_not_leak(world: World) -> None:
    own = next(p for p in world.producten() if p.eigenaar_bsn == "999993653")
    other = next(p for p in world.producten() if p.eigenaar_bsn not in (None, "999993653"))

    async def ignoring_filters(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        results = [producten.product_json(base, p) for p in (other, own)]
        return JSONResponse({"count": 2, "next": None, "previous": None, "results": results})

    app = Starlette(routes=[Route("/producten/", ignoring_filters)])
    async with serve_in_background(app) as (_, url):
        leaky = ProductenAdapter(source_config("open-producten", url, (CATEGORY,)))
        try:
            result = await leaky.fetch(
                FetchRequest(Subject.person("999993653"), {CATEGORY: ("naam",)}, HEADERS)
            )
        finally:
            await leaky.aclose()
    assert result == {CATEGORY: [{"naam": own.producttype.naam}]}
