"""Real-time in the console: a zaak status set in the back office reaches the open klantbeeld without a
reload (Zaken → Notificaties routing component → DGKB → SSE → the page), marked "bijgewerkt"; and a
contact registered by one agent appears at once in a colleague's open view of the same customer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from dgkb.contacts.moment import Uitkomst, Vraag
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role
from dgkb.events.notificaties import abonneer
from dgkb.events.service import inbound_token
from dgkb.simulators.notificaties import API_PATH
from tests.api.conftest import Stack
from tests.conftest import PG_URL, fresh_database_url
from tests.events.conftest import NATS_URL, deliver_round, dgkb_node, open_zaak_of, set_status, settings_for
from tests.events.conftest import TOKEN as EVENTS_TOKEN
from tests.web.conftest import (
    Console,
    choose_purpose,
    find_and_pick,
    identify_with_questions,
    new_console,
    section,
    start_contact,
)

CRS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}


async def _until_following(services: Any) -> None:
    """Wait until the open page's EventSource is connected (the hub has its subscription)."""
    for _ in range(100):
        if services.hub.count():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the console did not open its live-update stream")


async def _open_view(browser: Browser, stack: Stack, user: str, purpose: str) -> Console:
    console = await new_console(browser, stack)
    await console.login(user)
    await start_contact(console)
    await find_and_pick(console, "999993653")
    await identify_with_questions(console)
    await choose_purpose(console, purpose)
    return console


async def test_zaak_status_change_appears_without_reload(browser: Browser, stack: Stack) -> None:
    await abonneer(
        f"{stack.simulators['notificaties']}{API_PATH}",
        callback_url=f"{stack.api}/api/v1/notificaties",
        callback_auth=f"Bearer {inbound_token(stack.settings)}",
    )
    console = await _open_view(browser, stack, "kcm-anna", "vraag-lopende-zaak")
    page = console.page
    lopend = section(console, "dienst.zaken-lopend")
    await expect(lopend).to_contain_text("Bewonersvergunning Bergweg")
    await page.evaluate("window.__dgkbMarker = 'no-reload'")
    await _until_following(stack.app.state.services)
    async with httpx.AsyncClient(timeout=10) as c:
        zaken = stack.simulators["zaken"]
        zaak = (
            await c.get(
                f"{zaken}/zaken/api/v1/zaken",
                params={"identificatie": "ZAAK-2026-0000001"},
                headers=CRS,
            )
        ).json()["results"][0]
        zaaktype = (await c.get(zaak["zaaktype"])).json()
        statustypen = [(await c.get(u)).json() for u in zaaktype["statustypen"]]
        nieuw = next(s for s in statustypen if s["omschrijving"] == "In behandeling")
        resp = await c.post(f"{zaken}/_sim/zaken/{zaak['uuid']}/status", json={"statustype": nieuw["url"]})
        assert resp.status_code == 201, resp.text
    # the routing component's next scheduler round (Open Notificaties delivers every few seconds)
    await deliver_round(stack.simulators["notificaties"])
    await expect(lopend).to_contain_text("In behandeling", timeout=5000)
    await expect(lopend.locator(".dgkb-bijgewerkt")).to_have_text("bijgewerkt")
    assert await page.evaluate("window.__dgkbMarker") == "no-reload"
    await console.shot("18-live-bijgewerkt")
    await console.axe("live bijgewerkt")
    console.assert_clean()
    await console.context.close()


async def test_a_colleague_s_registration_appears_in_my_open_view(browser: Browser, stack: Stack) -> None:
    watcher = await _open_view(browser, stack, "kcm-anna", "kcc-algemene-vraag")
    historie = section(watcher, "contact.historie")
    await expect(historie).to_be_visible()
    services = stack.app.state.services
    await _until_following(services)
    # a colleague at the counter, same customer, registers a contact moment (the same service the
    # console's registration form uses)
    colleague = Actor(id="kcm-balie", role=Role.KCM, organisation="00000001001234567000")
    trace = Trace()
    contact = await services.contacts.start(
        colleague,
        kanaal=Kanaal.BALIE,
        purpose_id="https://register.voorbeeldstad.nl/verwerkingen/kcc-algemene-vraag",
    )
    # control questions are attested only after their answers were read (and logged), as at the console
    await services.identification.answers(colleague, contact.id, Subject.person("999993653"), trace=trace)
    await services.contacts.identify(
        colleague,
        contact.id,
        subject=Subject.person("999993653"),
        assurance=Assurance.CONTROLEVRAGEN,
        trace=trace,
    )
    vraag = Vraag(
        onderwerp="afval",
        vraag="Wanneer wordt de container geleegd?",
        antwoord="Donderdag",
        uitkomst=Uitkomst("afgehandeld"),
    )
    await services.moments.register(colleague, contact.id, vragen=[vraag], trace=trace)
    await expect(historie.locator(".dgkb-bijgewerkt")).to_have_text("bijgewerkt", timeout=5000)
    await expect(historie).to_contain_text("Afval en containers")
    await watcher.context.close()


@pytest.mark.xdist_group("nats")  # with the other tests of processes sharing NATS (tests/events)
@pytest.mark.skipif(not NATS_URL, reason="DGKB_TEST_NATS_URL is not set (CI: nats://127.0.0.1:4222)")
@pytest.mark.skipif(not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set: two processes share PostgreSQL")
async def test_two_processes_console_at_a_notification_at_b(
    browser: Browser, tmp_path: Path, simulators: dict[str, str]
) -> None:
    """Behind a load balancer: the agent's browser is on process A, the routing component delivers the
    notification to process B; NATS carries the change to A, whose open page updates."""
    database_url = await fresh_database_url("postgresql", tmp_path)
    settings = settings_for(database_url, nats_url=NATS_URL)
    async with dgkb_node(settings, simulators) as a, dgkb_node(settings, simulators) as b:
        await abonneer(
            f"{simulators['notificaties']}{API_PATH}",
            callback_url=f"{b.api}/api/v1/notificaties",
            callback_auth=f"Bearer {EVENTS_TOKEN}",
        )
        stack_a = Stack(api=a.api, simulators=simulators, settings=settings, client=a.client, app=a.app)
        console = await _open_view(browser, stack_a, "kcm-anna", "vraag-lopende-zaak")
        lopend = section(console, "dienst.zaken-lopend")
        await expect(lopend).to_contain_text("Bewonersvergunning Bergweg")
        await _until_following(a.app.state.services)
        zaak, statustypen = await open_zaak_of(simulators["zaken"])
        nieuw = next(s for s in statustypen if s["omschrijving"] == "In behandeling")
        await set_status(simulators["zaken"], zaak, nieuw["url"])
        await deliver_round(simulators["notificaties"])
        await expect(lopend).to_contain_text("In behandeling", timeout=5000)
        await expect(lopend.locator(".dgkb-bijgewerkt")).to_have_text("bijgewerkt")
        async with httpx.AsyncClient() as c:
            deliveries = (await c.get(f"{simulators['notificaties']}/_sim/deliveries")).json()
        assert [d["callbackUrl"] for d in deliveries] == [f"{b.api}/api/v1/notificaties"]
        await console.context.close()
