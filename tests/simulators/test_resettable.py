"""A resettable simulator (dgkb.simulators.resettable): `POST /_sim/reset` gives a pristine app without
a server restart, restarting its lifespan; the tests' shared simulators rely on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dgkb.runner import reset_simulators
from dgkb.simulators.resettable import Resettable
from dgkb.simulators.serve import serve_in_background


class Counter:
    """A factory of tiny apps that count requests and log their lifespans."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.built = 0
        self.releases: dict[int, asyncio.Event] = {}

    def __call__(self) -> Starlette:
        self.built += 1
        number = self.built
        state = {"count": 0}
        release = self.releases[number] = asyncio.Event()

        async def count(request: Request) -> JSONResponse:
            state["count"] += 1
            return JSONResponse({"app": number, "count": state["count"]})

        async def slow(request: Request) -> JSONResponse:
            self.events.append(f"slow {number}")
            await release.wait()
            return JSONResponse({"app": number})

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.events.append(f"start {number}")
            yield
            self.events.append(f"stop {number}")

        return Starlette(
            routes=[
                Route("/count", count, methods=["POST"]),
                Route("/slow", slow),
            ],
            lifespan=lifespan,
        )


async def test_a_reset_builds_a_fresh_app_and_restarts_its_lifespan() -> None:
    factory = Counter()
    async with (
        serve_in_background(Resettable(factory), lifespan="on") as (_, url),
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        assert factory.events == ["start 1"]
        assert (await client.post("/_sim/reset")).json() == {"reset": False}  # nothing served yet
        assert factory.built == 1
        await client.post("/count")
        assert (await client.post("/count")).json() == {"app": 1, "count": 2}
        assert (await client.post("/_sim/reset")).json() == {"reset": True}
        assert factory.events == ["start 1", "stop 1", "start 2"]
        assert (await client.post("/count")).json() == {"app": 2, "count": 1}
    assert factory.events == ["start 1", "stop 1", "start 2", "stop 2"]


async def test_a_request_in_flight_finishes_on_the_app_it_started_on() -> None:
    factory = Counter()
    async with (
        serve_in_background(Resettable(factory), lifespan="on") as (_, url),
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        slow = asyncio.create_task(client.get("/slow"))
        while "slow 1" not in factory.events:  # noqa: ASYNC110 (the handler has no event to offer)
            await asyncio.sleep(0.01)
        assert (await client.post("/_sim/reset")).json() == {"reset": True}
        assert (await client.post("/count")).json() == {"app": 2, "count": 1}
        assert not slow.done()
        factory.releases[1].set()
        assert (await slow).json() == {"app": 1}


async def test_every_simulator_is_back_in_its_demo_state(simulators: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        brp = simulators["brp"]
        (await client.post(f"{brp}/_sim/behaviour", json={"fail": "503", "latencyMs": 5})).raise_for_status()
        assert (await client.get(f"{brp}/_sim/requests")).json() == []
        await client.post(f"{brp}/haalcentraal/api/brp/personen", json={})
        assert len((await client.get(f"{brp}/_sim/requests")).json()) == 1
        await reset_simulators(simulators)
        assert (await client.get(f"{brp}/_sim/behaviour")).json() == {
            "latencyMs": 0,
            "fail": "none",
            "failureRate": 0.0,
        }
        assert (await client.get(f"{brp}/_sim/requests")).json() == []
