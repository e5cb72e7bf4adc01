"""Issue 11 §8: DGKB subscribes; it never creates the kanalen of other components unless asked.

A kanaal belongs to the component that publishes on it: Open Klant registers `klantcontacten`,
`partijen` and `internetaken` itself, with their filters (its kenmerken) and documentation
(notifications-api-common `register_kanalen`). A kanaal DGKB created first would stand there bare —
no filters, no documentation — and its creator's own registration is refused (the naam is unique)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dgkb.events.notificaties import DEFAULT_KANALEN, KanalenOntbreken, abonneer
from dgkb.simulators import notificaties
from dgkb.simulators.notificaties import API_PATH
from dgkb.simulators.serve import serve_in_background

OPEN_KLANT = ("klantcontacten", "partijen", "internetaken")


@pytest.fixture
async def callback() -> AsyncIterator[str]:
    async def ok(request: Request) -> Response:
        return Response(status_code=204)

    async with serve_in_background(Starlette(routes=[Route("/cb", ok, methods=["POST"])])) as (_, url):
        yield f"{url}/cb"


@contextlib.asynccontextmanager
async def routing_component(*kanalen: str) -> AsyncIterator[str]:
    """A Notificaties simulator where only `kanalen` have been registered (by their components)."""
    app = notificaties.create_app(
        kanalen={k: notificaties.DEFAULT_KANALEN[k] for k in kanalen}, interval_seconds=0
    )
    async with serve_in_background(app, lifespan="on") as (_, url):
        yield f"{url}{API_PATH}"


async def _kanalen(api: str) -> dict[str, list[str]]:
    async with httpx.AsyncClient() as c:
        return {k["naam"]: k["filters"] for k in (await c.get(f"{api}/kanaal")).json()}


async def test_abonneer_subscribes_to_existing_kanalen_and_creates_none(callback: str) -> None:
    async with routing_component("zaken") as api:  # Open Klant has not registered its kanalen yet
        first = await abonneer(api, callback_url=callback, callback_auth="Bearer geheim")
        assert [k["naam"] for k in first["kanalen"]] == ["zaken"]
        assert await _kanalen(api) == {"zaken": list(notificaties.DEFAULT_KANALEN["zaken"])}
        # Open Klant registers its own kanalen, with its kenmerken as filters: nothing is in the way
        async with httpx.AsyncClient() as c:
            for naam in OPEN_KLANT:
                body = {"naam": naam, "filters": list(notificaties.DEFAULT_KANALEN[naam])}
                resp = await c.post(f"{api}/kanaal", json=body)
                assert resp.status_code == 201, resp.text
        # DGKB's next subscription (at its next start, or `dgkb notificaties abonneer`) covers them,
        # replacing its abonnement rather than adding one
        again = await abonneer(api, callback_url=callback, callback_auth="Bearer geheim")
        assert again["url"] == first["url"]
        assert [k["naam"] for k in again["kanalen"]] == list(DEFAULT_KANALEN)
        assert (await _kanalen(api))["partijen"] == ["nummer", "interne_notitie", "soort_partij"]
        async with httpx.AsyncClient() as c:
            assert len((await c.get(f"{api}/abonnement")).json()) == 1


async def test_abonneer_creates_a_missing_kanaal_only_when_asked(callback: str) -> None:
    async with routing_component("zaken") as api:
        result = await abonneer(
            api,
            callback_url=callback,
            callback_auth="Bearer geheim",
            kanalen=("zaken", "eigen"),
            create_missing=True,
        )
        assert [k["naam"] for k in result["kanalen"]] == ["zaken", "eigen"]
        assert set(await _kanalen(api)) == {"zaken", "eigen"}


async def test_abonneer_without_any_existing_kanaal_says_so(callback: str) -> None:
    async with routing_component() as api:
        with pytest.raises(KanalenOntbreken):
            await abonneer(api, callback_url=callback, callback_auth="Bearer geheim")
        assert await _kanalen(api) == {}
        async with httpx.AsyncClient() as c:
            assert (await c.get(f"{api}/abonnement")).json() == []
