"""Real-time end to end on real sockets: simulators (Zaken and Klantinteracties publishing to the
Notificaties routing component), DGKB (one or two processes), SSE clients.

The routing component delivers in scheduler rounds, as Open Notificaties does; here it runs a round
only when a test asks (`deliver_round`), so what reaches DGKB, and when, is deterministic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dgkb.app import create_app
from dgkb.composition.root import Services
from dgkb.events.notificaties import abonneer
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.simulators.notificaties import API_PATH
from dgkb.simulators.serve import serve_in_background
from tests.clients import http_client

TOKEN = "test-notificaties-geheim-van-minstens-32-tekens"
NATS_URL = os.environ.get("DGKB_TEST_NATS_URL", "")
GEMEENTE = "https://register.voorbeeldstad.nl/verwerkingen/"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BSN = "999993653"
CRS = {"Accept-Crs": "EPSG:4326"}


@dataclass
class Node:
    """One DGKB process (an app with its own lifespan, bus connection, hub and cache)."""

    api: str
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def as_user(self, user: str) -> httpx.AsyncClient:
        resp = await self.client.post("/dev-issuer/token", json={"gebruiker": user})
        resp.raise_for_status()
        token = resp.json()["access_token"]
        return http_client(base_url=self.api, headers={"Authorization": f"Bearer {token}"})

    async def notify(self, message: dict[str, Any], token: str = TOKEN) -> httpx.Response:
        return await self.client.post(
            "/api/v1/notificaties", json=message, headers={"Authorization": f"Bearer {token}"}
        )


@dataclass
class World:
    simulators: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    @property
    def routing_component(self) -> str:
        return f"{self.simulators['notificaties']}{API_PATH}"

    async def subscribe(self, node: Node) -> dict[str, Any]:
        async with http_client() as client:
            return await abonneer(
                self.routing_component,
                callback_url=f"{node.api}/api/v1/notificaties",
                callback_auth=f"Bearer {TOKEN}",
                client=client,
            )

    async def deliver(self, waiting: int = 1) -> list[dict[str, Any]]:
        return await deliver_round(self.simulators["notificaties"], waiting=waiting)


async def deliver_round(notificaties: str, *, waiting: int = 1) -> list[dict[str, Any]]:
    """Wait until `waiting` messages are scheduled at the Notificaties simulator (sources publish in
    the background after their write), then run one scheduler round, as Open Notificaties' beat would;
    the deliveries that round made."""
    async with http_client() as c:
        for _ in range(250):
            pending = (await c.get(f"{notificaties}/_sim/scheduled")).json()
            if len(pending) >= waiting:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"fewer than {waiting} messages scheduled: {pending}")
        delivered: list[dict[str, Any]] = (await c.post(f"{notificaties}/_sim/scheduler")).json()
        return delivered


def settings_for(database_url: str, **kw: Any) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        port=0,
        source_deadline_seconds=2.0,
        notificaties_token=TOKEN,
        reconcile_seconds=0,
        **kw,
    )


@contextlib.asynccontextmanager
async def dgkb_node(settings: Settings, sims: dict[str, str]) -> AsyncIterator[Node]:
    app = create_app(settings, source_overrides=rebase_sources(settings, sims))
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app) as (_, api),
        http_client(base_url=api) as client,
    ):
        yield Node(api=api, app=app, client=client)


@pytest.fixture
async def world(database_url: str, simulators: dict[str, str]) -> AsyncIterator[World]:
    """One DGKB process subscribed at the session's Notificaties simulator, reset for this test (it
    delivers on `deliver_round`)."""
    async with dgkb_node(settings_for(database_url), simulators) as node:
        w = World(simulators=simulators, nodes=[node])
        await w.subscribe(node)
        yield w


class SseClient:
    """Reads a text/event-stream in the background; `frames` holds (event, data) pairs; comments
    are recorded as ("comment", text)."""

    def __init__(
        self, client: httpx.AsyncClient, path: str, *, headers: dict[str, str] | None = None
    ) -> None:
        self._client = client
        self._path = path
        self._headers = headers or {}
        self.last_event_id: str | None = None  # the id of the last frame that had one, as a browser keeps it
        self.frames: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.status: int | None = None
        self.headers: httpx.Headers | None = None
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def __aenter__(self) -> SseClient:
        self._task = asyncio.create_task(self._run())
        kind, text = await asyncio.wait_for(self.frames.get(), 10)
        assert (kind, text) == ("comment", "verbonden"), (kind, text)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        try:
            async with self._client.stream("GET", self._path, timeout=None, headers=self._headers) as resp:
                self.status = resp.status_code
                self.headers = resp.headers
                if resp.status_code != 200:
                    await resp.aread()
                    await self.frames.put(("http", resp.status_code))
                    return
                event, data, event_id = "message", [], None
                async for line in resp.aiter_lines():
                    if line.startswith(":"):
                        await self.frames.put(("comment", line[1:].strip()))
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        if event_id is not None:
                            self.last_event_id = event_id
                        await self.frames.put((event, json.loads("\n".join(data))))
                        event, data, event_id = "message", [], None
        except httpx.TransportError as exc:  # the server (or its node) went away mid-stream
            await self.frames.put(("broken", type(exc).__name__))
        finally:
            self.closed.set()

    async def next(self, wait: float = 5.0, *, skip_comments: bool = True) -> tuple[str, Any]:
        while True:
            kind, data = await asyncio.wait_for(self.frames.get(), wait)
            if kind != "comment" or not skip_comments:
                return kind, data


async def open_contact(client: httpx.AsyncClient, purpose: str, bsn: str = BSN) -> str:
    resp = await client.post(
        "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": purpose}
    )
    assert resp.status_code == 201, resp.text
    contact = str(resp.json()["id"])
    # control questions are attested only after their answers were shown
    shown = await client.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": bsn})
    assert shown.status_code == 200, shown.text
    resp = await client.post(
        f"/api/v1/contacten/{contact}/identificatie", json={"bsn": bsn, "zekerheid": "controlevragen"}
    )
    assert resp.status_code == 200, resp.text
    return contact


async def open_zaak_of(zaken_url: str, bsn: str = BSN) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An open zaak of the person and the statustypen of its zaaktype."""
    async with http_client() as c:
        page = (
            await c.get(
                f"{zaken_url}/zaken/api/v1/zaken",
                params={
                    "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": bsn,
                    "einddatum__isnull": "true",
                },
                headers=CRS,
            )
        ).json()
        assert page["results"], "the demo world gives this person an open zaak"
        zaak = page["results"][0]
        zaaktype = (await c.get(zaak["zaaktype"])).json()
        statustypen = [(await c.get(u)).json() for u in zaaktype["statustypen"]]
    return zaak, statustypen


async def set_status(zaken_url: str, zaak: dict[str, Any], statustype_url: str) -> dict[str, Any]:
    async with http_client() as c:
        resp = await c.post(
            f"{zaken_url}/_sim/zaken/{zaak['uuid']}/status", json={"statustype": statustype_url}
        )
        assert resp.status_code == 201, resp.text
        result: dict[str, Any] = resp.json()
        return result


def zaak_message(zaak: dict[str, Any], resource_url: str, aanmaakdatum: str) -> dict[str, Any]:
    return {
        "kanaal": "zaken",
        "hoofdObject": zaak["url"],
        "resource": "status",
        "resourceUrl": resource_url,
        "actie": "create",
        "aanmaakdatum": aanmaakdatum,
        "kenmerken": {"bronorganisatie": "123456782", "zaaktype": zaak["zaaktype"]},
    }
