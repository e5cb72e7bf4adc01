"""`failureRate` in /_sim/behaviour: a deterministic share of requests answers 503."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dgkb.simulators import producten
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World


@pytest.fixture(scope="module")
async def url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(producten.create_app(world)) as (_, base):
        yield base


async def _statuses(client: httpx.AsyncClient, url: str, n: int) -> list[int]:
    return [
        (await client.get(f"{url}/producten/api/v0/producten/?page_size=1")).status_code for _ in range(n)
    ]


async def test_failure_rate_is_deterministic(url: str, client: httpx.AsyncClient) -> None:
    try:
        resp = await client.post(f"{url}/_sim/behaviour", json={"failureRate": 0.5})
        assert resp.json()["failureRate"] == 0.5
        first = await _statuses(client, url, 40)
        await client.post(f"{url}/_sim/behaviour", json={"failureRate": 0.5})
        second = await _statuses(client, url, 40)
        assert first == second
        assert set(first) == {200, 503}
        assert 8 <= first.count(503) <= 32
        state = (await client.get(f"{url}/_sim/behaviour")).json()
        assert state == {"latencyMs": 0, "fail": "none", "failureRate": 0.5}
    finally:
        await client.post(f"{url}/_sim/behaviour", json={"failureRate": 0})
    assert set(await _statuses(client, url, 10)) == {200}


@pytest.mark.parametrize("rate", [-0.1, 1.5, "half", True])
async def test_bad_failure_rate_is_rejected(url: str, client: httpx.AsyncClient, rate: object) -> None:
    resp = await client.post(f"{url}/_sim/behaviour", json={"failureRate": rate})
    assert resp.status_code == 400
    assert resp.json()["invalidParams"][0]["name"] == "failureRate"
