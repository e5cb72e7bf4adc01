"""Mijn zaken, contactmomenten and taken in a real browser on a phone (375×667): DigiD at the test
broker, every page and a zaak's own page with 0 axe violations, no CSP violation, no BSN in a URL,
and the pages readable without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from dgkb.simulators.world import build_world
from tests.api.conftest import Stack
from tests.web.conftest import nav_click, new_console
from tests.web.mijn_helpers import BSN

pytestmark = pytest.mark.xdist_group("mijn-h2zaken")


@pytest.mark.parametrize("javascript", [True, False])
async def test_mijn_zaken_contactmomenten_and_taken_on_a_phone(
    browser: Browser, stack: Stack, javascript: bool
) -> None:
    person = build_world().person(BSN)
    assert person is not None
    closed = next(z for z in person.zaken if not z.is_open)
    c = await new_console(
        browser, stack, viewport={"width": 375, "height": 667}, java_script_enabled=javascript
    )
    page = c.page
    try:
        await page.goto("/mijn/inloggen")
        await page.get_by_role("link", name="Inloggen met DigiD").click()
        await page.wait_for_url(re.compile(r"/test-broker/authorize"))
        await page.locator("#bsn").fill(BSN)
        await page.locator('select[name="niveau"]').select_option("digid-midden")
        await page.locator('form button[type="submit"]').last.click()
        await page.wait_for_url(re.compile(r"/mijn$"))

        await nav_click(c, "Mijn zaken")
        await page.wait_for_url(re.compile(r"/mijn/zaken$"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Mijn zaken")
        await expect(page.locator("main")).to_contain_text("Volgende stap")
        if javascript:
            await c.axe("mijn-zaken")
            await c.shot("mijn-zaken-375")

        await page.get_by_role("link", name=closed.omschrijving).first.click()
        await page.wait_for_url(re.compile(rf"/mijn/zaken/{closed.identificatie}$"))
        await expect(page.locator("[data-documenten]")).to_have_attribute("data-documenten", "ok")
        if javascript:
            await c.axe("mijn-zaak")
            await c.shot("mijn-zaak-375")

        await nav_click(c, "Mijn contactmomenten")
        await page.wait_for_url(re.compile(r"/mijn/contactmomenten$"))
        await expect(page.locator("main")).to_contain_text("Antwoord uiterlijk")
        if javascript:
            await c.axe("mijn-contactmomenten")
            await c.shot("mijn-contactmomenten-375")

        await nav_click(c, "Mijn taken")
        await page.wait_for_url(re.compile(r"/mijn/taken$"))
        await expect(page.locator("[data-taak]").first).to_be_visible()
        if javascript:
            await c.axe("mijn-taken")
            await c.shot("mijn-taken-375")
        c.assert_clean()
    finally:
        await c.context.close()
