"""Real-time in the console: a zaak status set in the back office reaches the open klantbeeld without a
reload (Zaken → Notificaties routing component → DGKB → SSE → the page), marked "bijgewerkt"; and a
contact registered by one agent appears at once in a colleague's open view of the same customer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
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
