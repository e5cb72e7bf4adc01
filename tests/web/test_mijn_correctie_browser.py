"""Klopt er iets niet? in a real browser on a phone (375×667), end to end: the customer files a
correction request, the team asks a question (through the Klantinteracties simulator's own API, as
its own application would), Mijn taken shows "Wacht op uw antwoord" with the question, the customer
answers from the request's page, and sees that the answer went out; 0 axe violations on the new
pages, no CSP violation, no BSN in a URL."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.api.conftest import Stack
from tests.web.conftest import nav_click, new_console
from tests.web.mijn_helpers import BSN
from tests.web.test_mijn_correctie import _internetaken
from tests.web.test_mijn_correctie_dialoog import _klantcontacten, _team_asks

pytestmark = pytest.mark.xdist_group("mijn-correctie-dialoog")


async def test_a_question_about_a_correction_request_answered_on_a_phone(
    browser: Browser, stack: Stack
) -> None:
    c = await new_console(browser, stack, viewport={"width": 375, "height": 667})
    page = c.page
    try:
        await page.goto("/mijn/inloggen/digid")
        await page.get_by_label("Test-BSN").fill(BSN)
        await page.get_by_label("Niveau").select_option("digid-midden")
        await page.get_by_role("button", name="Inloggen (test)").click()
        await page.wait_for_url(re.compile(r"/mijn$"))
        await page.locator('[data-categorie="klant.basis"] a[data-correctie][href*="bron=brp"]').first.click()
        await page.wait_for_url(re.compile(r"/mijn/correctie\?"))
        await page.get_by_label("Om welk gegeven gaat het?").select_option("Adres")
        await page.get_by_label("Wat klopt er niet?").fill("Mijn huisnummer is 12, niet 21.")
        await page.get_by_role("button", name="Verstuur mijn verzoek").click()
        await page.wait_for_url(re.compile(r"/mijn/correctie\?verstuurd=CV-"))
        nummer = page.url.rsplit("=", 1)[-1]

        # the team asks, in Klantinteracties
        [taak] = [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
        question = "Woont u op nummer 12 sinds uw verhuizing in mei?"
        await _team_asks(stack, taak["aanleidinggevendKlantcontact"]["uuid"], question)

        await nav_click(c, "Mijn taken")
        await page.wait_for_url(re.compile(r"/mijn/taken$"))
        task = page.locator('[data-taak="correctie"]')
        await expect(task).to_contain_text(f"Wacht op uw antwoord: verzoek {nummer}")
        await expect(task).to_contain_text(question)
        await c.axe("mijn-taken-correctie")
        await task.get_by_role("link", name=f"Beantwoord de vraag over verzoek {nummer}").click()
        await page.wait_for_url(re.compile(r"/mijn/correctie/[0-9a-f-]{36}$"))
        await expect(page.locator("[data-vraag]")).to_contain_text(question)
        await c.axe("mijn-correctie-vraag")

        # a Dutch message naming the field, then the answer
        await page.get_by_role("button", name="Verstuur mijn antwoord").click()
        await expect(page.locator("[data-fouten]")).to_contain_text("Uw antwoord: vul dit in.")
        await c.axe("mijn-correctie-antwoord-fout")
        await page.get_by_label("Uw antwoord", exact=True).fill("Ja, sinds 1 mei.")
        await page.get_by_role("button", name="Verstuur mijn antwoord").click()
        await page.wait_for_url(re.compile(r"/mijn/correctie/[0-9a-f-]{36}\?beantwoord=1$"))
        await expect(page.locator("[data-beantwoord]")).to_contain_text("Wij hebben uw antwoord verstuurd")
        await expect(page.locator("[data-beantwoord-op]")).to_be_visible()
        await expect(page.locator("[data-vraag]")).to_have_count(0)
        await c.axe("mijn-correctie-beantwoord")
        await c.shot("mijn-correctie-beantwoord-375")
        assert [k for k in await _klantcontacten(stack) if k["inhoud"] == "Ja, sinds 1 mei."]

        await nav_click(c, "Mijn taken")
        await expect(page.locator('[data-taak="correctie"]')).to_have_count(0)
        c.assert_clean()
    finally:
        await c.context.close()
