"""The three simulators on real sockets for the adapter tests, reset before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from dgkb.simulators import brp, klantinteracties, zaken
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World, build_world
from dgkb.sources.config import SourceConfig, TokenAuth

OIN = "00000001234567890000"
KI_TOKEN = "ki-test-token"  # the Klantinteracties simulator's API token in these tests
KI_AUTH = TokenAuth(type="token", token=KI_TOKEN)
HEADERS = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "X-Doelbinding": "klantcontact-afhandelen",
    "X-Verwerking": "Klantcontact",
}


@pytest.fixture(scope="session")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
async def brp_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(brp.create_app(world)) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def zaken_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(zaken.create_app(world, page_size=2)) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def ki_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(klantinteracties.create_app(world, token=KI_TOKEN, page_size=2)) as (
        _,
        url,
    ):
        yield url


def source_config(kind: str, base_url: str, categories: tuple[str, ...], **extra: Any) -> SourceConfig:
    return SourceConfig(
        id=kind, kind=kind, name=kind, organisation=OIN, baseUrl=base_url, categories=categories, **extra
    )


class SimControl:
    """The `/_sim` endpoints of one simulator."""

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    async def behave(self, *, latency_ms: int = 0, fail: str = "none") -> None:
        resp = await self.client.post(
            f"{self.base_url}/_sim/behaviour", json={"latencyMs": latency_ms, "fail": fail}
        )
        resp.raise_for_status()

    async def requests(self) -> list[dict[str, Any]]:
        return list((await self.client.get(f"{self.base_url}/_sim/requests")).json())

    async def reset(self) -> None:
        await self.behave()
        await self.client.delete(f"{self.base_url}/_sim/requests")


@pytest.fixture
async def sim() -> AsyncIterator[Callable[[str], Awaitable[SimControl]]]:
    """sim(base_url) -> a reset SimControl; behaviour is reset again after the test."""
    controls: list[SimControl] = []
    async with httpx.AsyncClient(timeout=5) as client:

        async def make(base_url: str) -> SimControl:
            control = SimControl(client, base_url)
            await control.reset()
            controls.append(control)
            return control

        yield make
        for control in controls:
            await control.behave()
