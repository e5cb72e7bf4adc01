"""ReisdocumentenAdapter against the Reisdocumenten simulator on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators import reisdocumenten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import REFERENCE_DATE, World
from dgkb.sources.base import FetchRequest, SourceAdapter, SubjectNotFound
from dgkb.sources.config import ApiKeyAuth
from dgkb.sources.reisdocumenten import ReisdocumentenAdapter

from .conftest import HEADERS, SimControl, source_config

BASIS = "klant.basis"


@pytest.fixture(scope="module")
async def reisdocumenten_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(reisdocumenten.create_app(world, api_key="sleutel")) as (_, url):
        yield url


@pytest.fixture
async def adapter(reisdocumenten_url: str) -> AsyncIterator[ReisdocumentenAdapter]:
    config = source_config(
        "brp-reisdocumenten",
        f"{reisdocumenten_url}{reisdocumenten.BASE_PATH}",
        (BASIS,),
        deadline=0.5,
        auth=ApiKeyAuth(type="api-key", header="X-Api-Key", value="sleutel"),
    )
    a = ReisdocumentenAdapter(config)
    yield a
    await a.aclose()


def test_fits_the_port(adapter: ReisdocumentenAdapter) -> None:
    assert isinstance(adapter, SourceAdapter)


async def test_documents_with_expiry_skipping_lost_and_surrendered(
    adapter: ReisdocumentenAdapter,
    reisdocumenten_url: str,
    sim: Callable[[str], Awaitable[SimControl]],
    world: World,
) -> None:
    control = await sim(reisdocumenten_url)
    bsn = world.special["passport_expires_soon"]
    request = FetchRequest(
        Subject.person(bsn), {BASIS: ("naam", "verblijfplaats", "reisdocumenten")}, HEADERS
    )
    result = await adapter.fetch(request)
    basis: Any = result[BASIS]
    docs = basis["reisdocumenten"]
    person = world.person(bsn)
    assert person is not None
    usable = [d for d in person.reisdocumenten if not d.is_ingetrokken]
    assert [d["reisdocumentnummer"] for d in docs] == [d.reisdocumentnummer for d in usable]
    assert set(docs[0]) == {"reisdocumentnummer", "soort", "datumEindeGeldigheid"}
    assert (
        docs[0]["datumEindeGeldigheid"]["datum"]
        < (REFERENCE_DATE.replace(year=REFERENCE_DATE.year + 1)).isoformat()
    )
    # the BRP fields of klant.basis are not ours: only the Reisdocument paths (plus the filters) were asked
    sent = (await control.requests())[-1]
    assert sent["body"] == {
        "type": "ZoekMetBurgerservicenummer",
        "burgerservicenummer": bsn,
        "fields": [
            "reisdocumentnummer",
            "soort",
            "datumEindeGeldigheid",
            "inhoudingOfVermissing.aanduiding",
            "houder.burgerservicenummer",
        ],
    }
    assert sent["headers"]["x-doelbinding"] == HEADERS["X-Doelbinding"]
    assert sent["headers"]["traceparent"] == HEADERS["traceparent"]
    assert sent["headers"]["x-api-key"] == "sleutel"


async def test_single_paths_only(adapter: ReisdocumentenAdapter, world: World) -> None:
    bsn = world.special["passport_expires_soon"]
    result = await adapter.fetch(
        FetchRequest(Subject.person(bsn), {BASIS: ("reisdocumenten.datumEindeGeldigheid",)}, HEADERS)
    )
    basis: Any = result[BASIS]
    docs = basis["reisdocumenten"]
    assert docs
    assert all(set(d) == {"datumEindeGeldigheid"} for d in docs)


async def test_no_call_without_own_fields(
    adapter: ReisdocumentenAdapter, reisdocumenten_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(reisdocumenten_url)
    assert await adapter.fetch(FetchRequest(Subject.person("999993653"), {BASIS: ("naam",)}, HEADERS)) == {}
    assert await control.requests() == []


async def test_unknown_person_has_no_documents_and_business_is_not_found(
    adapter: ReisdocumentenAdapter,
) -> None:
    result = await adapter.fetch(
        FetchRequest(Subject.person("999999990"), {BASIS: ("reisdocumenten",)}, HEADERS)
    )
    assert result == {BASIS: {"reisdocumenten": []}}
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.business("69599084"), {BASIS: ("reisdocumenten",)}, HEADERS))
