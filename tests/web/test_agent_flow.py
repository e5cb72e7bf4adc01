"""The klantcontactmedewerker's whole flow in a real browser: citizen, business, three questions."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.web.conftest import (
    Console,
    choose_purpose,
    find_and_pick,
    identify_with_questions,
    section,
    sim_requests,
    start_contact,
)


async def test_citizen_whole_flow(console: Console) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")
    await expect(page.get_by_role("heading", name="Nieuw contact")).to_be_visible()
    await c.axe("start")
    await c.shot("01-start")
    await start_contact(c, "Telefoon", "Vraag over parkeervergunning")
    await expect(page.locator(".dgkb-timer")).to_have_text(re.compile(r"\d\d:\d\d"))
    await c.axe("contact-zoeken")
    await find_and_pick(c, "999993653", "Berg")
    await c.shot("02-identificeren")
    # answers are not on screen until the agent asks for them
    assert await page.locator(".dgkb-answers").count() == 0
    await page.get_by_role("button", name=re.compile("antwoorden tonen")).click()
    await expect(page.locator(".dgkb-answers")).to_contain_text("03-07-1960")
    await c.axe("controlevragen")
    await page.get_by_role("button", name=re.compile("klant geïdentificeerd")).click()
    await page.get_by_role("heading", name="3. Doel van het contact").wait_for()
    await c.axe("doel-kiezen")
    await page.get_by_label("Doel zoeken").fill("lopende")
    await expect(page.locator('button[data-purpose="kcc-algemene-vraag"]')).to_be_hidden()
    await choose_purpose(c, "vraag-lopende-zaak")
    await expect(section(c, "klant.basis").first).to_contain_text("Johanna Yasmina van der Berg")
    await expect(section(c, "dienst.zaken-lopend")).to_contain_text("ZAAK-2026-0000001")
    await expect(section(c, "contact.historie")).to_contain_text("Adreswijziging doorgeven")
    await expect(section(c, "contact.open-verzoeken")).to_contain_text("Terugmailen")
    await expect(section(c, "klant.voorkeurskanaal")).to_contain_text("e-mail")
    # the dossier is not part of this purpose: said in one line, not as empty cards (tests/web/test_fold.py)
    await expect(page.locator("[data-niet-nodig]")).to_contain_text("Niet nodig voor dit doel: Dossier")
    assert await page.locator('[data-card="dossierdata"]').count() == 0
    await page.locator("#registratie form").wait_for()
    await c.axe("klantbeeld")
    await c.shot("03-klantbeeld")
    # zaak detail drawer with the status history
    await section(c, "dienst.zaken-historie").get_by_role("button", name=re.compile("Details")).first.click()
    drawer = page.locator("dialog[open]")
    await expect(drawer).to_contain_text("Statusverloop")
    await c.axe("zaak-detail")
    await c.shot("04-zaak-detail")
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog[open]")).to_have_count(0)
    # register and end
    await page.keyboard.press("r")
    await expect(page.locator("#vragen-0-onderwerp")).to_be_focused()
    await page.select_option("#vragen-0-onderwerp", "parkeren")
    await page.fill("#vragen-0-vraag", "Wanneer hoor ik over mijn bewonersvergunning?")
    await page.fill("#vragen-0-antwoord", "Binnen twee weken; status is ontvangen.")
    await page.fill("#vragen-0-zaken", "ZAAK-2026-0000001")
    await page.get_by_role("button", name="Contactmoment opslaan").click()
    await expect(page.locator("[data-registratie-resultaat]")).to_contain_text("Opgeslagen")
    await expect(section(c, "contact.historie")).to_contain_text("Parkeren en parkeervergunning")
    await page.get_by_role("button", name="Contact beëindigen").click()
    await page.wait_for_url(re.compile(r"/\?beeindigd=1$"))
    await expect(page.get_by_text("Het contact is beëindigd")).to_be_visible()
    c.assert_clean()


async def test_business_flow(console: Console) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")
    await start_contact(c, "Telefoon")
    await find_and_pick(c, "68750110", "Voorbeeld Bakkerijen")
    await expect(page.locator("#stap")).to_contain_text("bezoekadres")
    await identify_with_questions(c)
    await choose_purpose(c, "kcc-algemene-vraag")
    basis = section(c, "klant.basis").first
    await expect(basis).to_contain_text("Voorbeeld Bakkerijen B.V.")
    await expect(basis).to_contain_text("68750110")
    await expect(section(c, "contact.historie")).to_contain_text("ZAAK-2026-0000345")
    await c.axe("klantbeeld-bedrijf")
    await c.shot("05-klantbeeld-bedrijf")
    c.assert_clean()


async def test_three_questions_in_one_contact_are_all_saved(console: Console) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")
    await start_contact(c, "Balie")
    await find_and_pick(c, "999993653", "Berg")
    await identify_with_questions(c)
    await choose_purpose(c, "kcc-algemene-vraag")
    await page.locator("#registratie form").wait_for()
    questions = [
        ("afval", "Wanneer wordt het grofvuil opgehaald?", "Op afspraak, online te plannen.", "afgehandeld"),
        ("paspoort", "Mijn paspoort verloopt, wat nu?", "Afspraak gemaakt voor de balie.", "afgehandeld"),
        ("belastingen", "Klopt mijn WOZ-waarde?", "Doorgezet naar Team Belastingen.", "terugbelverzoek"),
    ]
    add = page.get_by_role("button", name=re.compile("Nog een vraag"))
    for i, (onderwerp, vraag, antwoord, uitkomst) in enumerate(questions):
        if i:
            await add.click()
        await page.select_option(f"#vragen-{i}-onderwerp", onderwerp)
        await page.fill(f"#vragen-{i}-vraag", vraag)
        await page.fill(f"#vragen-{i}-antwoord", antwoord)
        await page.select_option(f"#vragen-{i}-uitkomst", uitkomst)
    await page.get_by_label(re.compile("Contactverzoek aanmaken")).check()
    await page.select_option("#verzoek-afdeling", "team-belastingen")
    await page.fill("#verzoek-deadline", "2099-12-31")
    await c.axe("registratie-drie-vragen")
    await c.shot("06-registratie")
    await page.get_by_role("button", name="Contactmoment opslaan").click()
    result = page.locator("[data-registratie-resultaat]")
    await expect(result).to_contain_text("Opgeslagen")
    await expect(result.locator('[data-vraag-resultaat="ok"]')).to_have_count(3)
    await expect(result).to_contain_text("Contactverzoek")
    posted = [r for r in await sim_requests(c.stack, "klantinteracties") if r["method"] == "POST"]
    contacts = [r["body"] for r in posted if r["path"].endswith("/klantcontacten")]
    assert [b["onderwerp"] for b in contacts] == [
        "Afval en containers",
        "Paspoort, ID-kaart en rijbewijs",
        "Gemeentelijke belastingen en WOZ",
    ]
    assert all(b["kanaal"] == "balie" for b in contacts)
    taken = [r["body"] for r in posted if r["path"].endswith("/internetaken")]
    assert len(taken) == 1
    assert "31-12-2099" in taken[0]["toelichting"]
    # the next klantbeeld shows all three (the cache was invalidated)
    historie = section(c, "contact.historie")
    for onderwerp in ("Afval en containers", "Paspoort, ID-kaart en rijbewijs", "Gemeentelijke belastingen"):
        await expect(historie).to_contain_text(onderwerp)
    await c.shot("07-na-registratie")
    c.assert_clean()
