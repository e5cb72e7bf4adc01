"""Mijn profiel and Mijn berichten in Debian's chromium: a keyboard-free walk (fill, click) through a
new e-mail address with its code and a message marked read, axe (WCAG 2.1/2.2 A+AA) at 375×667 and
1366×768 on every page, no CSP violations and no BSN in any URL."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from dgkb.domain.identifiers import Subject
from tests.api.conftest import Stack
from tests.web.conftest import nav_click, new_console
from tests.web.mijn_helpers import BSN
from tests.web.test_mijn_profiel import code_of, outbox

pytestmark = pytest.mark.xdist_group("mijn-h3profiel")


@pytest.mark.parametrize("viewport", [(375, 667), (1366, 768)])
async def test_profile_and_messages_in_the_browser(
    browser: Browser, stack: Stack, viewport: tuple[int, int]
) -> None:
    await stack.app.state.services.messages.post(
        Subject.person(BSN),
        "00000001001234567000",
        "Antwoord op uw vraag",
        "Wij hebben uw vraag beantwoord.",
        kind="contactverzoek",
        notify=False,
    )
    c = await new_console(browser, stack, viewport={"width": viewport[0], "height": viewport[1]})
    page = c.page
    try:
        await page.goto("/mijn/inloggen/digid")
        await page.wait_for_url(re.compile(r"/test-broker/authorize"))
        await page.locator("#bsn").fill(BSN)
        await page.locator('select[name="niveau"]').select_option("digid-midden")
        await page.locator('form button[type="submit"]').last.click()
        await page.wait_for_url(re.compile(r"/mijn$"))
        # the menu shows one unread message
        await nav_click(c, re.compile(r"Mijn berichten 1 ongelezen"))
        await expect(page.get_by_role("heading", name="Mijn berichten")).to_be_visible()
        await c.axe(f"mijn-berichten-{viewport[0]}")
        await page.get_by_role("link", name="Antwoord op uw vraag").click()
        await c.axe(f"mijn-bericht-{viewport[0]}")
        await page.get_by_role("button", name="Markeer als gelezen").click()
        await expect(page.locator("[data-gelezen='ja']")).to_have_count(1)
        await expect(page.locator("[data-ongelezen]")).to_have_count(0)

        await nav_click(c, "Mijn profiel")
        await expect(page.get_by_role("heading", name="Mijn profiel", exact=True)).to_be_visible()
        await c.axe(f"mijn-profiel-{viewport[0]}")
        # a wrong e-mail address: the field is named and marked
        await page.get_by_role("textbox", name="E-mailadres").fill("geen-adres")
        await page.get_by_role("button", name="Stuur code naar dit e-mailadres").click()
        await expect(page.locator("#email-fout")).to_contain_text("e-mailadres klopt niet")
        await expect(page.get_by_role("textbox", name="E-mailadres")).to_have_attribute(
            "aria-invalid", "true"
        )
        await c.axe(f"mijn-profiel-fout-{viewport[0]}")
        await page.get_by_role("textbox", name="E-mailadres").fill("nieuw@voorbeeld.nl")
        await page.get_by_role("button", name="Stuur code naar dit e-mailadres").click()
        await expect(page.get_by_role("heading", name="Code invullen")).to_be_visible()
        await c.axe(f"mijn-profiel-code-{viewport[0]}")
        mails = [m for m in await outbox(stack) if m["templateName"] == "verificatie-mijn-profiel"]
        await page.get_by_role("textbox", name="Code").fill(code_of(mails[-1]))
        await page.get_by_role("button", name="Bevestigen").click()
        await expect(page.locator("[data-gedaan]")).to_contain_text("opgeslagen")
        await expect(page.locator("main")).to_contain_text("nieuw@voorbeeld.nl")
        await c.axe(f"mijn-profiel-klaar-{viewport[0]}")
        c.assert_clean()
    finally:
        await c.context.close()
