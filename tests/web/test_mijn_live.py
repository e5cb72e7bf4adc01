"""A consent the customer withdraws in Mijn omgeving disappears from an agent's OPEN view at once
(issue 14, "done when"): the portal announces the change, the agent's live stream says which section
is no longer permitted (its name only, no data), and the view re-reads it as a denial."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.api.conftest import GEMEENTE, Stack, open_contact
from tests.events.conftest import SseClient
from tests.web.conftest import new_console
from tests.web.mijn_helpers import BSN, OTHER_BSN, csrf, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-live")

WMO = GEMEENTE + "wmo-aanvraag"
FINANCIEEL = "dossier.financieel"


async def _consented_view(stack: Stack, bram: Any) -> tuple[str, str]:
    contact = await open_contact(bram, WMO, zekerheid="digid-midden")
    given = await bram.post("/api/v1/toestemmingen", json={"contactId": contact, "categorieen": [FINANCIEEL]})
    assert given.status_code == 201, given.text
    return contact, str(given.json()["id"])


async def _withdraw_in_portal(stack: Stack, consent_id: str, bsn: str = BSN) -> int:
    async with portal_client(stack) as client:
        await login(client, bsn=bsn)
        page = await client.get("/mijn/toestemmingen")
        done = await client.post(
            f"/mijn/toestemmingen/{consent_id}/intrekken", data={"csrf_token": csrf(page)}
        )
        return done.status_code


async def _next_frame(sse: SseClient, kind: str) -> Any:
    async with asyncio.timeout(15):
        while True:
            got, data = await sse.frames.get()
            if got == kind:
                return data


async def test_the_open_view_is_told_the_withdrawn_section_is_no_longer_permitted(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact, consent_id = await _consented_view(stack, bram)
        async with SseClient(bram, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert await _withdraw_in_portal(stack, consent_id) == 303
            data = await _next_frame(sse, "bijgewerkt")
        assert data["categorieen"] == [FINANCIEEL]
        assert data["reden"] == "niet-meer-toegestaan"
        assert "gegevens" not in data  # a name to re-read, never data
        view = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert {s["status"] for s in view["secties"] if s["categorie"] == FINANCIEEL} == {"niet-toegestaan"}


async def test_another_customers_portal_cannot_touch_the_consent(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact, consent_id = await _consented_view(stack, bram)
        assert await _withdraw_in_portal(stack, consent_id, bsn=OTHER_BSN) == 404
        view = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    statuses = {s["status"] for s in view["secties"] if s["categorie"] == FINANCIEEL}
    assert statuses
    assert "niet-toegestaan" not in statuses


async def test_the_section_goes_from_the_agents_open_screen(browser: Browser, stack: Stack) -> None:
    """The console, open on the contact, re-renders without a reload when the customer withdraws."""
    async with await stack.as_user("behandelaar-bram") as bram:
        contact, consent_id = await _consented_view(stack, bram)
    c = await new_console(browser, stack)
    try:
        page = c.page
        await c.login("behandelaar-bram")
        await page.goto(f"/contacten/{contact}")
        financieel = page.locator(f'article[data-categorie="{FINANCIEEL}"]').first
        await expect(financieel).to_have_attribute("data-status", re.compile(r"^(ok|niet-gevonden)$"))
        await page.evaluate("window.__dgkbMarker = 'no-reload'")
        await page.wait_for_timeout(500)  # the live stream connects after the view settles
        assert await _withdraw_in_portal(stack, consent_id) == 303
        await expect(financieel).to_have_attribute("data-status", "niet-toegestaan", timeout=15_000)
        assert await page.evaluate("window.__dgkbMarker") == "no-reload"
        c.assert_clean()
    finally:
        await c.context.close()
