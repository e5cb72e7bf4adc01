"""At the balie the employee checks the customer's passport in the console (issue 9 §4): a lost
identity card is refused with the reason, the valid passport identifies at the register's level and
the municipal tax purpose then shows the financial dossier."""

from __future__ import annotations

from playwright.async_api import expect

from dgkb.simulators.world import build_world
from tests.web.conftest import Console, choose_purpose, find_and_pick, section, start_contact

WORLD = build_world()


async def test_at_the_counter_a_checked_passport_identifies_and_a_lost_card_does_not(
    console: Console,
) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")

    # 999993653's identity card was reported lost: refused, the step stays open
    lost = WORLD.document("lost_document")
    await start_contact(c, "Balie")
    await find_and_pick(c, lost.houder_bsn)
    form = page.locator(".dgkb-document-check")
    await form.get_by_label("Soort document").select_option("identiteitskaart")
    await form.get_by_label("Documentnummer").fill(lost.reisdocumentnummer)
    await form.get_by_role("button", name="Document controleren").click()
    await expect(page.locator("#meldingen")).to_contain_text("vermist of gestolen gemeld")
    await expect(page.get_by_role("heading", name="3. Doel van het contact")).to_have_count(0)

    # 999990639's passport is valid: identified, and under municipal taxes it counts as DigiD
    # substantieel, which the financial dossier (DigiD midden) accepts
    valid = WORLD.document("valid_document")
    await page.goto("/")
    await start_contact(c, "Balie")
    await find_and_pick(c, valid.houder_bsn)
    form = page.locator(".dgkb-document-check")
    await form.get_by_label("Soort document").select_option("paspoort")
    await form.get_by_label("Documentnummer").fill(valid.reisdocumentnummer)
    await form.get_by_role("button", name="Document controleren").click()
    await page.get_by_role("heading", name="3. Doel van het contact").wait_for()
    await choose_purpose(c, "gemeentelijke-belastingen")
    financieel = section(c, "dossier.financieel")
    await expect(financieel.first).not_to_contain_text("Alleen met DigiD-inlog")
    assert await page.locator('article[data-categorie="dossier.financieel"][data-status="ok"]').count() >= 1
    await c.axe("identiteitsbewijs-balie")
    c.assert_clean()


async def test_the_document_form_is_offered_only_at_the_counter(console: Console) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")
    await start_contact(c, "Telefoon")
    await find_and_pick(c, "999993653")
    assert await page.locator(".dgkb-document-check").count() == 0
    c.assert_clean()
