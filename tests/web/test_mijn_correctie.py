"""Klopt er iets niet? (issue 14, part 9): a correction request from the item itself on Mijn gegevens,
routed to the owner of the source as configured — a Klantinteracties interne taak for the team —
visible to the customer with its status and to the KCC agent among the open contactverzoeken; DGKB
writes only through Klantinteracties, never to the BRP or a tax system; crafted requests refused."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, expect

from dgkb.domain.identifiers import Subject, SubjectKind
from tests.api.conftest import GEMEENTE, Stack, open_contact
from tests.clients import http_client
from tests.web.conftest import (
    choose_purpose,
    find_and_pick,
    identify_with_questions,
    new_console,
    section,
    start_contact,
)
from tests.web.mijn_helpers import BSN, csrf, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h4export")

KCC_ACTOR = "7702d256-2f0b-5488-b6f3-645958e19686"  # Klantcontactcentrum in sources.yaml `correcties`
KI = "/klantinteracties/api/v1"
KI_AUTH = {"Authorization": "Token demo-openklant-token"}


def _links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/mijn/correctie\?[^"]+)" data-correctie', page)]


def _link(page: str, categorie: str, bron: str) -> str:
    for link in _links(page):
        q = dict(parse_qsl(urlsplit(link).query))
        if q["categorie"] == categorie and q["bron"] == bron:
            return link
    raise AssertionError(f"geen link 'Klopt er iets niet?' bij {categorie} uit {bron}")


def _status(page: str, nummer: str) -> str | None:
    found = re.search(rf'data-verzoek="{nummer}" data-status="([a-z]+)"', page)
    return found.group(1) if found else None


def _options(page: str) -> list[str]:
    found = re.search(r'<select[^>]*name="onderdeel"[^>]*>(.*?)</select>', page, re.S)
    assert found, "geen keuzelijst 'onderdeel'"
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', found.group(1)) if v]


async def _form(
    client: httpx.AsyncClient, categorie: str, bron: str
) -> tuple[httpx.Response, dict[str, str]]:
    gegevens = await client.get("/mijn")
    assert gegevens.status_code == 200
    link = _link(gegevens.text, categorie, bron)
    assert BSN not in link
    page = await client.get(link)
    assert page.status_code == 200, page.text
    q = dict(parse_qsl(urlsplit(link).query))
    return page, {"csrf_token": csrf(page), **q}


async def _internetaken(stack: Stack) -> list[dict[str, Any]]:
    """Every interne taak at the Klantinteracties simulator (all pages)."""
    results: list[dict[str, Any]] = []
    url: str | None = f"{stack.simulators['klantinteracties']}{KI}/internetaken"
    async with http_client(headers=KI_AUTH) as ki:
        while url:
            resp = await ki.get(url)
            assert resp.status_code == 200, resp.text
            results.extend(resp.json()["results"])
            url = resp.json().get("next")
    return results


async def test_correction_goes_to_the_team_and_both_sides_see_it(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page, form = await _form(client, "klant.basis", "brp")
        assert "Klantcontactcentrum" in page.text  # where it goes, from sources.yaml
        options = _options(page.text)
        assert "Adres" in options
        resp = await client.post(
            "/mijn/correctie",
            data={
                **form,
                "onderdeel": "Adres",
                "watKloptNiet": "Mijn huisnummer is 12, niet 21.",
                "juisteGegevens": "Dorpsstraat 12",
            },
        )
        assert resp.status_code == 303, resp.text
        nummer = dict(parse_qsl(urlsplit(resp.headers["location"]).query))["verstuurd"]
        assert nummer.startswith("CV-")
        listing = await client.get(resp.headers["location"])
        assert listing.status_code == 200
        assert _status(listing.text, nummer) == "doorgestuurd", listing.text
        assert "In behandeling" in listing.text
        assert "bij Klantcontactcentrum" in listing.text
        # and the request is part of the customer's export (what DGKB holds about them)
        export = (await client.get("/mijn/download/mijn-gegevens.json")).json()
        held = [c for o in export["organisaties"] for c in o["correctieverzoeken"]]
        assert [c["nummer"] for c in held] == [nummer]
        assert held[0]["doorgestuurdNaar"] == "Klantcontactcentrum"

    # the interne taak at Klantinteracties: for the team's actor, from a klantcontact of the customer
    [taak] = [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
    assert taak["status"] == "te_verwerken"
    assert [a["uuid"] for a in taak["toegewezenAanActoren"]] == [KCC_ACTOR]
    assert "Mijn huisnummer is 12, niet 21." in taak["toelichting"]
    assert "Dorpsstraat 12" in taak["toelichting"]
    assert taak["aanleidinggevendKlantcontact"]["uuid"]

    # DGKB wrote nothing to the BRP (its only calls are the Haal Centraal queries, POST /personen)
    async with http_client() as sim:
        brp = (await sim.get(f"{stack.simulators['brp']}/_sim/requests")).json()
    assert brp
    assert all(r["path"].endswith("/personen") for r in brp), [r["path"] for r in brp]

    # the KCC agent sees the task among the open contactverzoeken of the klantbeeld
    async with await stack.as_user("kcm-anna") as agent:
        contact = await open_contact(agent, GEMEENTE + "kcc-algemene-vraag", bsn=BSN)
        kb = await agent.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert kb.status_code == 200, kb.text
        open_ = [s for s in kb.json()["secties"] if s["categorie"] == "contact.open-verzoeken"]
        assert open_
        assert open_[0]["status"] == "ok", open_
        mine = [t for t in open_[0]["gegevens"] if nummer in (t.get("gevraagdeHandeling") or "")]
        assert mine, open_[0]["gegevens"]
        assert mine[0]["toegewezenAan"] == "Klantcontactcentrum"

    # the team handles it at the source; the customer sees it handled
    async with http_client(base_url=stack.simulators["klantinteracties"], headers=KI_AUTH) as ki:
        done = await ki.patch(f"{KI}/internetaken/{taak['uuid']}", json={"status": "verwerkt"})
        assert done.status_code == 200, done.text
    # what DGKB does when Klantinteracties' notification of that update arrives (tests/events cover
    # that path): the cached answers of the customer's sources are dropped
    await stack.app.state.services.changes.publish_change(
        Subject(SubjectKind.BSN, BSN), ["contact.open-verzoeken"], "klantinteracties"
    )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        listing = await client.get("/mijn/correctie")
        assert _status(listing.text, nummer) == "afgehandeld", listing.text


async def test_a_tax_assessment_goes_to_the_tax_team_without_writing_to_the_tax_system(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        page, form = await _form(client, "dossier.financieel", "gemeente-belastingen")
        options = _options(page.text)
        assert options
        resp = await client.post(
            "/mijn/correctie",
            data={**form, "onderdeel": options[0], "watKloptNiet": "Deze aanslag heb ik al betaald."},
        )
        assert resp.status_code == 303, resp.text
        nummer = dict(parse_qsl(urlsplit(resp.headers["location"]).query))["verstuurd"]
    [taak] = [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
    assert [a["uuid"] for a in taak["toegewezenAanActoren"]] == ["1667f0ff-b81b-5605-b95d-8e44f61bf06a"]
    async with http_client() as sim:
        calls = (await sim.get(f"{stack.simulators['gemeente-belastingen']}/_sim/requests")).json()
    assert calls
    assert {r["method"] for r in calls} == {"GET"}


async def test_crafted_requests_are_refused(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-basis")
        _page, form = await _form(client, "klant.basis", "brp")
        good = {**form, "onderdeel": "Adres", "watKloptNiet": "Fout"}
        # a section the customer was not shown (money needs DigiD Midden), a source that does not
        # serve the category, an organisation that is not the customer's
        for changed in (
            {"categorie": "dossier.financieel", "bron": "gemeente-belastingen"},
            {"bron": "waterschap-belastingen"},
            {"organisatie": "00000001000000000000"},
        ):
            resp = await client.post("/mijn/correctie", data={**good, **changed})
            assert resp.status_code == 404, changed
        crafted_get = await client.get(
            "/mijn/correctie",
            params={
                "organisatie": form["organisatie"],
                "categorie": "dossier.financieel",
                "bron": "gemeente-belastingen",
            },
        )
        assert crafted_get.status_code == 404
        # no item, or an item that is not in the section
        resp = await client.post("/mijn/correctie", data={**good, "onderdeel": ""})
        assert resp.status_code == 400
        assert "Om welk gegeven gaat het: kies een gegeven uit de lijst." in resp.text
        resp = await client.post(
            "/mijn/correctie", data={**good, "onderdeel": "Burgerservicenummer van iemand anders"}
        )
        assert resp.status_code == 400
        assert "Om welk gegeven gaat het: kies een gegeven uit de lijst." in resp.text
        # no CSRF token
        no_token = {k: v for k, v in good.items() if k != "csrf_token"}
        resp = await client.post("/mijn/correctie", data=no_token)
        assert resp.status_code in (400, 403)
        listing = await client.get("/mijn/correctie")
        assert "U heeft nog geen verzoeken gedaan." in listing.text
    assert not [t for t in await _internetaken(stack) if "Correctieverzoek" in t["gevraagdeHandeling"]]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"watKloptNiet": ""}, "Wat klopt er niet: vul dit in."),
        ({"watKloptNiet": "x" * 401}, "Wat klopt er niet: gebruik hoogstens 400 tekens."),
        ({"juisteGegevens": "x" * 401}, "Wat het moet zijn: gebruik hoogstens 400 tekens."),
    ],
)
async def test_validation_names_the_field(stack: Stack, fields: dict[str, str], message: str) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        _, form = await _form(client, "klant.basis", "brp")
        resp = await client.post(
            "/mijn/correctie", data={**form, "onderdeel": "Adres", "watKloptNiet": "Fout", **fields}
        )
        assert resp.status_code == 400
        assert message in resp.text
        assert 'aria-invalid="true"' in resp.text


async def test_without_session_to_the_login(stack: Stack) -> None:
    async with portal_client(stack) as client:
        for path in ("/mijn/correctie", "/mijn/correctie?organisatie=x&categorie=klant.basis&bron=brp"):
            resp = await client.get(path)
            assert resp.status_code == 303
            assert resp.headers["location"] == "/mijn/inloggen"
        resp = await client.post("/mijn/correctie", data={"watKloptNiet": "x"})
        assert resp.status_code == 303


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 667}, {"width": 1366, "height": 768}])
async def test_in_a_browser_from_the_item_to_the_request(
    browser: Browser, stack: Stack, viewport: dict[str, int]
) -> None:
    """Keyboard-free walk in chromium: Mijn gegevens → "Klopt er iets niet?" at the BRP section →
    a Dutch error naming the field → the request sent → its status; feedback and download pages;
    axe finds nothing on any of them, no CSP violation, no BSN in a URL."""
    console = await new_console(browser, stack, viewport=viewport)
    page = console.page
    try:
        await page.goto("/mijn/inloggen/digid")
        await page.get_by_label("Test-BSN").fill(BSN)
        await page.get_by_label("Niveau").select_option("digid-midden")
        await page.get_by_role("button", name="Inloggen (test)").click()
        await page.wait_for_url(re.compile(r"/mijn$"))
        link = page.locator('[data-categorie="klant.basis"] a[data-correctie][href*="bron=brp"]').first
        await link.click()
        await page.wait_for_url(re.compile(r"/mijn/correctie\?"))
        await console.axe("correctie-formulier")
        await page.get_by_role("button", name="Verstuur mijn verzoek").click()
        await page.get_by_text("Wat klopt er niet: vul dit in.").first.wait_for()
        await console.axe("correctie-fout")
        await console.shot(f"mijn-correctie-fout-{viewport['width']}")
        await page.get_by_label("Om welk gegeven gaat het?").select_option("Adres")
        await page.get_by_label("Wat klopt er niet?").fill("Mijn huisnummer is 12.")
        await page.get_by_role("button", name="Verstuur mijn verzoek").click()
        await page.wait_for_url(re.compile(r"/mijn/correctie\?verstuurd=CV-"))
        nummer = dict(parse_qsl(urlsplit(page.url).query))["verstuurd"]
        await page.locator('[data-status="doorgestuurd"]').first.wait_for()
        await console.axe("correctie-lijst")
        for path in ("/mijn/feedback", "/mijn/download", "/mijn"):
            await page.goto(path)
            await console.axe(path)
        await page.goto("/mijn/feedback")
        await page.get_by_role("button", name="Verstuur mijn mening").click()
        await page.get_by_text("Waardering: kies 1 tot en met 5 sterren.").first.wait_for()
        await console.axe("feedback-fout")
        await console.shot(f"mijn-feedback-fout-{viewport['width']}")
        console.assert_clean()
    finally:
        await console.context.close()
    if viewport["width"] == 1366:  # the agent's laptop: the request is in the console's klantbeeld
        agent = await new_console(browser, stack, viewport=viewport)
        try:
            await agent.login("kcm-anna")
            await start_contact(agent, "Telefoon")
            await find_and_pick(agent, BSN, "Berg")
            await identify_with_questions(agent)
            await choose_purpose(agent, "kcc-algemene-vraag")
            await expect(section(agent, "contact.open-verzoeken").first).to_contain_text(nummer)
            agent.assert_clean()
        finally:
            await agent.context.close()


async def test_a_source_without_route_keeps_the_request_in_dgkb(stack: Stack) -> None:
    """The waterschap's tax system has no `correcties` in sources.yaml: the request is kept with
    status "ontvangen" and told so; nothing is written anywhere."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        gegevens = await client.get("/mijn")
        link = _link(gegevens.text, "dossier.financieel", "waterschap-belastingen")
        page = await client.get(link)
        assert page.status_code == 200
        assert "Wij bekijken uw verzoek zelf." in page.text
        form = {"csrf_token": csrf(page), **dict(parse_qsl(urlsplit(link).query))}
        resp = await client.post(
            "/mijn/correctie",
            data={**form, "onderdeel": _options(page.text)[0], "watKloptNiet": "Dubbel aangeslagen."},
        )
        assert resp.status_code == 303, resp.text
        nummer = dict(parse_qsl(urlsplit(resp.headers["location"]).query))["verstuurd"]
        listing = await client.get(resp.headers["location"])
        assert _status(listing.text, nummer) == "ontvangen"
        assert "Voor deze bron is geen behandelaar ingesteld; wij bekijken uw verzoek zelf." in listing.text
    assert not [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
    async with http_client() as sim:
        calls = (await sim.get(f"{stack.simulators['klantinteracties']}/_sim/requests")).json()
    assert {r["method"] for r in calls} <= {"GET"}


async def test_klantinteracties_down_keeps_the_request_to_send_later(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        _, form = await _form(client, "klant.basis", "brp")
        await stack.sim_behaviour("klantinteracties", fail="503")
        resp = await client.post(
            "/mijn/correctie", data={**form, "onderdeel": "Adres", "watKloptNiet": "Verkeerd huisnummer."}
        )
        assert resp.status_code == 303, resp.text
        nummer = dict(parse_qsl(urlsplit(resp.headers["location"]).query))["verstuurd"]
        listing = await client.get(resp.headers["location"])
        assert listing.status_code == 200
        assert _status(listing.text, nummer) == "ontvangen"
        assert "Doorsturen lukte nu niet" in listing.text
