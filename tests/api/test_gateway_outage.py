"""A source that is down (its process stopped: connection refused) is one clear problem naming the
source, for identification, search and registering a contact moment alike — never a 500, never a
half-bound contact — and every such call shows in the source health of /api/v1/bronnen."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from dgkb.app import create_app
from dgkb.contacts.moment import Uitkomst, Vraag
from dgkb.domain.context import Trace
from dgkb.gateway import SourceUnavailable
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import GEMEENTE, Stack

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
STOPPED = ("brp", "klantinteracties")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nobody listens there


@pytest.fixture
async def stopped(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """The whole stack, with the BRP and Klantinteracties simulators not running (DGKB points at
    ports nobody listens on)."""
    settings = Settings(env=Environment.TEST, database_url=database_url, port=0, source_deadline_seconds=1.0)
    overrides = rebase_sources(settings, simulators)
    for sid in STOPPED:
        url = urlsplit(overrides[sid])
        overrides[sid] = urlunsplit((url.scheme, f"127.0.0.1:{_closed_port()}", url.path, url.query, ""))
    app = create_app(settings, source_overrides=overrides)
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app) as (_, api),
        httpx.AsyncClient(base_url=api, timeout=10) as client,
    ):
        yield Stack(api=api, simulators=simulators, settings=settings, client=client, app=app)


def _names_the_source(resp: httpx.Response, source: str, name: str) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["bron"] == source
    assert body["code"] == "source.unavailable"
    assert name in body["detail"]
    assert "niet bereikbaar" in body["detail"]


@pytest.mark.postgres
async def test_identification_search_and_registration_name_the_stopped_source(stopped: Stack) -> None:
    brp_name = stopped.app.state.services.sources.configs["brp"].name
    ki_name = stopped.app.state.services.sources.configs["klantinteracties"].name
    async with await stopped.as_user("kcm-anna") as anna:
        contact = (
            await anna.post(
                "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
            )
        ).json()["id"]
        # search by name and birth date: BRP
        resp = await anna.post(
            "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": "Berg 03-07-1960"}
        )
        _names_the_source(resp, "brp", brp_name)
        # search by phone number: Klantinteracties
        resp = await anna.post(
            "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": "06-45408799"}
        )
        _names_the_source(resp, "klantinteracties", ki_name)
        # the control questions' answers and the identification itself: BRP
        resp = await anna.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": "999993653"})
        _names_the_source(resp, "brp", brp_name)
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": "999993653", "zekerheid": "geen"}
        )
        _names_the_source(resp, "brp", brp_name)
        view = (await anna.get(f"/api/v1/contacten/{contact}")).json()
        assert view["geidentificeerd"] is False, "no half-bound contact"

    async with await stopped.as_user("beheer-bea") as bea:
        health = {s["id"]: s for s in (await bea.get("/api/v1/bronnen")).json()["resultaten"]}
    for sid in STOPPED:
        assert health[sid]["aanroepen"] >= 1, sid
        assert health[sid]["foutpercentage"] == 1.0, sid
        assert health[sid]["laatsteFout"] == "source.unavailable", sid


@pytest.mark.postgres
async def test_registering_a_contact_moment_names_the_stopped_source(stopped: Stack) -> None:
    """Klantinteracties down before anything was written: one problem naming it, nothing half
    saved. (The BRP is stopped too, so the contact's customer is a business, verified at KVK.)"""
    services = stopped.app.state.services
    async with await stopped.as_user("kcm-anna") as anna:
        created = (
            await anna.post(
                "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
            )
        ).json()
        kvk = await anna.post(
            f"/api/v1/contacten/{created['id']}/identificatie",
            json={"kvkNummer": "68750110", "zekerheid": "geen"},
        )
        assert kvk.status_code == 200, kvk.text
        actor = await stopped.app.state.validator.actor(anna.headers["Authorization"].split()[1])
    with pytest.raises(SourceUnavailable) as caught:
        await services.moments.register(
            actor,
            created["id"],
            vragen=[
                Vraag(
                    onderwerp="algemeen",
                    vraag="Openingstijden?",
                    antwoord="9-17 uur.",
                    uitkomst=Uitkomst.AFGEHANDELD,
                )
            ],
            trace=Trace(),
        )
    assert caught.value.source == "klantinteracties"
    assert services.sources.configs["klantinteracties"].name in caught.value.message
