"""The whole stack on real sockets: simulators, DGKB (uvicorn), an HTTP client, a real database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dgkb.app import create_app
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.clients import http_client

GEMEENTE = "https://register.voorbeeldstad.nl/verwerkingen/"
WATERSCHAP = "https://register.voorbeeldwaarden.nl/verwerkingen/"


@dataclass
class Stack:
    api: str
    simulators: dict[str, str]
    settings: Settings
    client: httpx.AsyncClient
    app: FastAPI

    async def token(self, user: str) -> str:
        resp = await self.client.post("/dev-issuer/token", json={"gebruiker": user})
        resp.raise_for_status()
        return str(resp.json()["access_token"])

    async def as_user(self, user: str) -> httpx.AsyncClient:
        token = await self.token(user)
        return http_client(base_url=self.api, headers={"Authorization": f"Bearer {token}"})

    async def sim_behaviour(self, source: str, **behaviour: Any) -> None:
        async with http_client() as c:
            (await c.post(f"{self.simulators[source]}/_sim/behaviour", json=behaviour)).raise_for_status()


StackFactory = Callable[..., Awaitable[Stack]]


@contextlib.asynccontextmanager
async def running_stack(
    database_url: str, simulators: dict[str, str], **overrides: Any
) -> AsyncIterator[Stack]:
    """DGKB of its own (a fresh database) over the session's simulators, on a real socket;
    `overrides` are settings (e.g. a longer source deadline, a Redis URL)."""
    settings = Settings(
        **{
            "env": Environment.TEST,
            "database_url": database_url,
            "port": 0,
            "source_deadline_seconds": 1.0,
            "notify_base_url": simulators.get("notifynl", ""),  # outbound messages to the NotifyNL simulator
            **overrides,
        }
    )
    app = create_app(settings, source_overrides=rebase_sources(settings, simulators))
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app, settings.port) as (_, api),  # port 0 (default): a free one
        http_client(base_url=api) as client,
    ):
        yield Stack(api=api, simulators=simulators, settings=settings, client=client, app=app)


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """DGKB of its own (a fresh database) over the session's simulators, reset for this test."""
    async with running_stack(database_url, simulators) as running:
        yield running


async def open_contact(
    client: httpx.AsyncClient,
    purpose: str,
    bsn: str = "999993653",
    zekerheid: str = "controlevragen",
    kanaal: str = "telefoon",
) -> str:
    resp = await client.post("/api/v1/contacten", json={"kanaal": kanaal, "verwerkingsactiviteit": purpose})
    assert resp.status_code == 201, resp.text
    contact_id = str(resp.json()["id"])
    await identify(client, contact_id, {"bsn": bsn}, zekerheid)
    return contact_id


LOGIN_LEVELS = ("digid-", "eherkenning-")


async def login_token(
    client: httpx.AsyncClient, subject: dict[str, str], niveau: str = "digid-midden", **extra: str
) -> dict[str, str]:
    """The customer logs in at the test broker (its shortcut for tests): an ID token and its nonce,
    as the chat/web-form platform would receive them. `extra`: handelendPersoon, aud, acr, nonce."""
    resp = await client.post("/test-broker/id-token", json={**subject, "niveau": niveau, **extra})
    assert resp.status_code == 200, resp.text
    return {"idToken": resp.json()["idToken"], "nonce": resp.json()["nonce"]}


async def identify_with_login(
    client: httpx.AsyncClient,
    contact_id: str,
    subject: dict[str, str],
    niveau: str = "digid-midden",
    **extra: str,
) -> dict[str, Any]:
    """Identify with the customer's own login: the platform passes the broker's ID token to DGKB,
    which verifies it; the level comes from its acr."""
    token = await login_token(client, subject, niveau, **extra)
    resp = await client.post(f"/api/v1/contacten/{contact_id}/identificatie", json={**subject, **token})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def identify(
    client: httpx.AsyncClient, contact_id: str, subject: dict[str, str], zekerheid: str = "controlevragen"
) -> dict[str, Any]:
    """Identify the contact's customer the way an agent must: control questions are attested only
    after their answers were shown; a DigiD/eHerkenning level only from a login (test broker)."""
    if zekerheid.startswith(LOGIN_LEVELS):
        return await identify_with_login(client, contact_id, subject, zekerheid)
    if zekerheid == "controlevragen":
        shown = await client.post(f"/api/v1/contacten/{contact_id}/controlevragen", json=subject)
        assert shown.status_code == 200, shown.text
    resp = await client.post(
        f"/api/v1/contacten/{contact_id}/identificatie", json={**subject, "zekerheid": zekerheid}
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def sections(klantbeeld: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in klantbeeld["secties"]:
        out.setdefault(s["categorie"], []).append(s)
    return out
