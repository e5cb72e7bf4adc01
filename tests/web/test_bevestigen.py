""" "Bevestig met DigiD" in a real browser (issue 9 §3): on the phone, the water-board tax question needs
DigiD midden; the agent starts a confirmation, the caller (a second browser context) opens the link from
the NotifyNL simulator's outbox or types the read-out code, logs in at the test broker and reads the
code back; the tax section appears without a reload. A login with another BSN raises nothing."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

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

BSN, OTHER_BSN = "999993653", "999990639"
FINANCIEEL_OK = 'article[data-categorie="dossier.financieel"][data-status="ok"]'


async def phone_call_at_the_water_board(c: Console) -> None:
    await c.login("kcm-wim")
    await start_contact(c, "Telefoon")
    await find_and_pick(c, BSN, "Berg")
    await identify_with_questions(c)
    await choose_purpose(c, "waterschapsbelasting")
    await expect(section(c, "dossier.financieel").first).to_contain_text("Alleen met DigiD-inlog")
    await c.page.evaluate("window.__dgkbMarker = 'no-reload'")


async def caller_logs_in(
    browser: Browser, stack: Stack, *, link: str | None, code: str | None, bsn: str
) -> str:
    """The caller's own browser: the confirmation page, DigiD at the test broker, the result page's text."""
    caller = await new_console(browser, stack)
    try:
        page = caller.page
        if link is not None:
            await page.goto(link)
        else:
            assert code is not None
            await page.goto("/bevestig")
            await page.get_by_role("textbox", name="Code").fill(code)
            await page.get_by_role("button", name="Verder").click()
        await expect(page.get_by_text("Belt u op dit moment níet met")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Waterschap")
        await caller.axe("bevestigen-klant")
        await page.get_by_role("button", name="Inloggen met DigiD").click()
        await page.wait_for_url(re.compile(r"/test-broker/authorize"))
        await page.locator("#bsn").fill(bsn)
        await page.locator('select[name="niveau"]').select_option("digid-midden")
        await page.locator('form button[type="submit"]').last.click()
        await page.wait_for_url(re.compile(r"/bevestigen/terugkeer"))
        text = await page.locator("main").inner_text()
        caller.assert_clean()
        return text
    finally:
        await caller.context.close()


async def test_the_tax_question_succeeds_after_bevestig_met_digid(
    browser: Browser, stack: Stack, console: Console
) -> None:
    c, page = console, console.page
    async with httpx.AsyncClient(base_url=stack.simulators["notifynl"]) as sim:
        await sim.delete("/_sim/outbox")
        await phone_call_at_the_water_board(c)
        panel = page.locator("#bevestigen")
        await panel.get_by_label(re.compile("Sms naar")).check()
        await panel.get_by_role("button", name="Bevestig met DigiD").click()
        await expect(page.locator("#bevestigen")).to_contain_text("verstuurd per sms")
        await c.axe("bevestigen-wacht")
        outbox = (await sim.get("/_sim/outbox")).json()
        assert len(outbox) == 1
        link = outbox[0]["personalisation"]["link"]
    text = await caller_logs_in(browser, stack, link=link, code=None, bsn=BSN)
    assert "Lees deze code voor aan de medewerker" in text
    found = re.search(r"\b(\d{3} \d{3})\b", text)
    assert found is not None, text
    # the agent's panel notices the login by itself (polling), then takes the read-back code
    code_input = page.get_by_label("Code die de klant voorleest")
    await code_input.fill(found.group(1))
    await page.get_by_role("button", name="Code controleren").click()
    await expect(page.locator(FINANCIEEL_OK).first).to_be_visible()
    await expect(section(c, "dossier.financieel").first).not_to_contain_text("Alleen met DigiD-inlog")
    assert await page.evaluate("window.__dgkbMarker") == "no-reload"
    await c.shot("bevestigen-gelukt")
    await c.axe("bevestigen-gelukt")
    c.assert_clean()


async def test_a_mismatched_bsn_raises_nothing(browser: Browser, stack: Stack, console: Console) -> None:
    c, page = console, console.page
    await phone_call_at_the_water_board(c)
    panel = page.locator("#bevestigen")
    await panel.get_by_label(re.compile("Code voorlezen")).check()
    await panel.get_by_role("button", name="Bevestig met DigiD").click()
    code = await page.locator("[data-bevestigcode]").inner_text()
    text = await caller_logs_in(browser, stack, link=None, code=code, bsn=OTHER_BSN)
    assert "niet gelukt" in text
    assert not re.search(r"\b\d{3} \d{3}\b", text)
    await expect(page.locator("#bevestigen")).to_contain_text("mislukt")
    assert await page.locator(FINANCIEEL_OK).count() == 0
    await expect(section(c, "dossier.financieel").first).to_contain_text("Alleen met DigiD-inlog")
    assert await page.evaluate("window.__dgkbMarker") == "no-reload"
    c.assert_clean()
