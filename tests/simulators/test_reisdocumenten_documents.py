"""The document special cases of the world (issue 9 §4) as the Reisdocumenten simulator serves them,
read through the adapter's `lookup_document` (RaadpleegMetReisdocumentnummer), and the request that
adapter sends checked against the spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from dgkb.simulators import reisdocumenten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import REFERENCE_DATE, World
from dgkb.sources.config import SourceConfig
from dgkb.sources.reisdocumenten import ReisdocumentenAdapter

from .conftest import OpenApi

SPEC = "brp-reisdocumenten/openapi.yaml"


@pytest.fixture(scope="module")
async def served(world: World) -> AsyncIterator[str]:
    app = reisdocumenten.create_app(world, api_key="sleutel")
    async with serve_in_background(app) as (_, base):
        yield base


@pytest.fixture(scope="module")
async def adapter(served: str) -> AsyncIterator[ReisdocumentenAdapter]:
    config = SourceConfig.model_validate(
        {
            "id": "reisdocumenten",
            "kind": "brp-reisdocumenten",
            "name": "BRP Reisdocumenten",
            "organisation": "00000001001234567000",
            "baseUrl": f"{served}{reisdocumenten.BASE_PATH}",
            "categories": ["klant.basis"],
            "auth": {"type": "api-key", "header": "X-Api-Key", "value": "sleutel"},
        }
    )
    adapter = ReisdocumentenAdapter(config)
    yield adapter
    await adapter.aclose()


async def test_document_special_cases_are_served_as_the_world_says(
    adapter: ReisdocumentenAdapter, world: World
) -> None:
    lost = world.document("lost_document")
    found = await adapter.lookup_document(lost.reisdocumentnummer, {})
    assert found is not None
    assert found.withdrawn == "V"
    assert found.holder_bsn == world.special["lost_document"]

    expired = world.document("expired_document")
    found = await adapter.lookup_document(expired.reisdocumentnummer, {})
    assert found is not None
    assert found.valid_until is not None
    assert found.withdrawn is None
    assert found.valid_until < REFERENCE_DATE
    assert found.holder_bsn == world.special["expired_document"] != world.shielded_bsn
    holder = world.person(world.special["expired_document"])
    assert holder is not None
    assert holder.overlijdensdatum is None

    valid = world.document("valid_document")
    found = await adapter.lookup_document(valid.reisdocumentnummer, {})
    assert found is not None
    assert found.valid_until is not None
    assert (found.kind, found.withdrawn, found.holder_bsn) == ("PN", None, world.special["valid_document"])
    # valid for years after "today", so tests using it keep passing on the real clock
    assert (found.valid_until - REFERENCE_DATE).days > 5 * 365

    assert await adapter.lookup_document("XX0000000", {}) is None


async def test_the_document_lookup_request_is_valid_per_spec(
    adapter: ReisdocumentenAdapter, served: str, world: World, openapi: Callable[[str], OpenApi]
) -> None:
    await adapter.lookup_document(world.document("valid_document").reisdocumentnummer, {})
    async with httpx.AsyncClient() as client:
        last = (await client.get(f"{served}/_sim/last-request")).json()
    spec = openapi(SPEC)
    assert last["body"]["type"] == "RaadpleegMetReisdocumentnummer"
    assert spec.errors(last["body"], "RaadpleegMetReisdocumentnummer") == []
    assert last["response"]["status"] == 200
    assert spec.errors(last["response"]["body"], "RaadpleegMetReisdocumentnummerResponse") == []
