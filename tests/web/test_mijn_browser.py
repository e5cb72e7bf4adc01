"""Mijn omgeving in a real browser (issue 14, "done when"): DigiD at each level and eHerkenning at the
test broker, every page of the menu checked by axe (WCAG 2.1 A+AA) on a phone (375×667) and on a
laptop (1366×768), no CSP violations, no identifiers in URLs, keyboard-only login."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.api.conftest import Stack, running_stack
from tests.web.conftest import Console, new_console
from tests.web.mijn_helpers import BSN, KVK

pytestmark = pytest.mark.xdist_group("mijn-browser")

PHONE = {"width": 375, "height": 667}
LAPTOP = {"width": 1366, "height": 768}


async def broker_login(
    c: Console, *, bsn: str | None = None, kvk: str | None = None, niveau: str, naam: str = ""
) -> None:
    """The test broker's page: choose the test customer and level, submit."""
    page = c.page
    await page.wait_for_url(re.compile(r"/test-broker/authorize"))
    if kvk is not None:
        await page.get_by_label("Bedrijf (eHerkenning)").check()
        await page.locator("#kvkNummer").fill(kvk)
        await page.locator("#naam").fill(naam)
    else:
        await page.locator("#bsn").fill(bsn or BSN)
    await page.locator('select[name="niveau"]').select_option(niveau)
    await page.get_by_role("button", name="Inloggen (test)").click()
    await page.wait_for_url(re.compile(r"/mijn$"))


async def open_menu(c: Console) -> None:
    """On a phone the menu is folded behind "Menu": open it (on a laptop there is no such button)."""
    await c.page.wait_for_load_state("domcontentloaded")  # mijn.js (deferred) has folded the menu
    button = c.page.get_by_role("button", name=re.compile(r"^Menu"))
    if await button.is_visible():
        await expect(button).to_have_attribute("aria-expanded", "false")
        await button.click()
        await expect(button).to_have_attribute("aria-expanded", "true")


async def every_menu_page(c: Console, label: str, *, axe: bool = True) -> list[str]:
    """Visit each page of the menu (and run axe on it); the pages' paths."""
    page = c.page
    await open_menu(c)
    links = page.get_by_role("navigation", name="Mijn omgeving").get_by_role("link")
    paths = [str(await link.get_attribute("href")) for link in await links.all()]
    assert paths, "no menu"
    for path in paths:
        response = await page.goto(path)
        assert response is not None
        assert response.status == 200, path
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        if axe:
            await c.axe(f"mijn{path.replace('/', '-')}-{label}")
    return paths


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["375x667", "1366x768"])
async def test_digid_login_and_every_page_is_accessible(
    browser: Browser, stack: Stack, viewport: dict[str, int]
) -> None:
    c = await new_console(browser, stack, viewport=viewport)
    try:
        page = c.page
        await page.goto("/mijn")
        await page.wait_for_url(re.compile(r"/mijn/inloggen$"))
        await c.axe(f"mijn-inloggen-{viewport['width']}")
        await page.get_by_role("link", name="Inloggen met DigiD").click()
        await broker_login(c, bsn=BSN, niveau="digid-midden")
        await expect(page.get_by_role("heading", name="Mijn gegevens", level=1)).to_be_visible()
        await expect(page.locator('[data-categorie="klant.basis"][data-status="ok"]').first).to_be_visible()
        await c.shot(f"mijn-gegevens-{viewport['width']}")
        heading_top = await page.get_by_role("heading", name="Mijn gegevens", level=1).evaluate(
            "e => e.getBoundingClientRect().top"
        )
        assert heading_top < (250 if viewport == PHONE else 300), (
            heading_top
        )  # the menu does not push it down
        paths = await every_menu_page(c, str(viewport["width"]))
        assert "/mijn" in paths
        if viewport == PHONE:
            # nothing wider than the phone's screen
            overflow = await page.evaluate("() => document.documentElement.scrollWidth")
            assert overflow <= viewport["width"], overflow
        await page.goto("/mijn")
        await page.get_by_role("button", name="Uitloggen").click()
        await page.wait_for_url(re.compile(r"/mijn/uitgelogd$"))
        await c.axe(f"mijn-uitgelogd-{viewport['width']}")
        c.assert_clean()
    finally:
        await c.context.close()


@pytest.mark.parametrize("niveau", ["digid-basis", "digid-substantieel", "digid-hoog"])
async def test_each_digid_level_logs_in(browser: Browser, stack: Stack, niveau: str) -> None:
    c = await new_console(browser, stack, viewport=PHONE)
    try:
        await c.page.goto("/mijn/inloggen/digid")
        await broker_login(c, bsn=BSN, niveau=niveau)
        financieel = c.page.locator('[data-categorie="dossier.financieel"]').first
        if niveau == "digid-basis":
            await expect(financieel).to_have_attribute("data-status", "niet-toegestaan")
            await expect(
                c.page.get_by_role("link", name="Opnieuw inloggen met een hoger niveau").first
            ).to_be_visible()
        else:
            await expect(financieel).to_have_attribute("data-status", "ok")
        assert len(await every_menu_page(c, niveau, axe=False)) >= 11  # every part works at this level
        c.assert_clean()
    finally:
        await c.context.close()


async def test_eherkenning_for_a_business(browser: Browser, stack: Stack) -> None:
    c = await new_console(browser, stack, viewport=LAPTOP)
    try:
        await c.page.goto("/mijn/inloggen")
        await c.page.get_by_role("link", name="Inloggen met eHerkenning").click()
        await broker_login(c, kvk=KVK, niveau="eherkenning-eh3", naam="Test Handelend Persoon")
        await expect(
            c.page.get_by_text("Ingelogd met eHerkenning als Test Handelend Persoon")
        ).to_be_visible()
        await expect(c.page.locator('[data-categorie="klant.basis"][data-status="ok"]').first).to_be_visible()
        await c.axe("mijn-eherkenning")
        await every_menu_page(c, "eherkenning")
        c.assert_clean()
    finally:
        await c.context.close()


async def test_keyboard_only_login(browser: Browser, stack: Stack) -> None:
    c = await new_console(browser, stack, viewport=PHONE)
    try:
        page = c.page
        await page.goto("/mijn/inloggen")
        await page.keyboard.press("Tab")  # skip link
        await page.keyboard.press("Tab")  # brand
        for _ in range(6):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(
                "() => document.activeElement && document.activeElement.textContent"
            )
            if focused and "Inloggen met DigiD" in focused:
                break
        else:
            pytest.fail("'Inloggen met DigiD' is not reachable with Tab")
        await page.keyboard.press("Enter")
        await broker_login(c, bsn=BSN, niveau="digid-midden")
        c.assert_clean()
    finally:
        await c.context.close()


async def test_the_idle_warning_keeps_the_session_or_logs_out(
    browser: Browser, database_url: str, simulators: dict[str, str]
) -> None:
    """With a 10 s idle time the warning comes after 5 s; "Ingelogd blijven" keeps the session and
    the contacts alive past the original expiry; ignored, the page goes to the login."""
    async with running_stack(database_url, simulators, session_idle_seconds=10) as short:
        c = await new_console(browser, short, viewport=PHONE)
        try:
            page = c.page
            await page.goto("/mijn/inloggen/digid")
            await broker_login(c, bsn=BSN, niveau="digid-midden")
            dialog = page.get_by_role("dialog", name="U wordt bijna uitgelogd")
            await expect(dialog).to_be_visible(timeout=15_000)
            await dialog.get_by_role("button", name="Ingelogd blijven").click()
            await expect(dialog).to_be_hidden()
            await page.wait_for_timeout(4_000)  # past the first expiry (10 s after login)
            assert (await page.request.get("/mijn/sessie")).status == 204
            await page.reload()
            await expect(page.get_by_role("heading", name="Mijn gegevens", level=1)).to_be_visible()
            await page.wait_for_url(re.compile(r"/mijn/inloggen$"), timeout=20_000)
        finally:
            await c.context.close()
