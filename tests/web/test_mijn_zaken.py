"""Mijn zaken, Mijn contactmomenten and Mijn taken (issue 14 parts 2–4), over HTTP as a browser walks
them: the timeline and the documents of the customer's own zaken, another customer's zaak a 404, a
source that is down "tijdelijk niet beschikbaar" for its part only, and DigiD Basis told why it sees
less."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dgkb.audit.query import search_ldv
from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import build_world, wacht_op_aanvulling, zaak_documenten
from tests.api.conftest import Stack
from tests.web.mijn_helpers import BSN, KVK, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h2zaken")

WORLD = build_world()
OTHERS = "999991425"  # another customer, with open zaken of their own


def _zaken(bsn: str) -> list[Any]:
    person = WORLD.person(bsn)
    assert person is not None
    return list(person.zaken)


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with portal_client(stack) as c:
        assert (await login(c, bsn=BSN, niveau="digid-midden")).status_code == 303
        yield c


async def _down(stack: Stack, source: str) -> None:
    await stack.sim_behaviour(source, fail="503")
    await stack.app.state.services.gateway.invalidate(Subject.person(BSN))  # no cached answer


async def _up(stack: Stack, source: str) -> None:
    await stack.sim_behaviour(source, fail="none")
    await stack.app.state.services.gateway.invalidate(Subject.person(BSN))


async def test_mijn_zaken_shows_open_and_closed_zaken_with_their_timeline(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/mijn/zaken")
    assert page.status_code == 200, page.text
    assert 'aria-current="page"' in page.text
    assert 'href="/mijn/zaken"' in page.text
    for zaak in _zaken(BSN):
        assert f'data-zaak="{zaak.identificatie}"' in page.text
    open_zaak = next(z for z in _zaken(BSN) if z.is_open)
    block = page.text.split(f'data-zaak="{open_zaak.identificatie}"', 1)[1].split("</li>\n      <li", 1)[0]
    # steps done, the current one, the next expected, the deadline
    assert 'data-stap="huidig"' in block
    assert 'data-stap="volgende"' in block
    assert "Uiterlijk klaar" in block
    zaaktype = WORLD.zaaktype(open_zaak.zaaktype_uuid)
    assert zaaktype.statustypen[len(open_zaak.statussen)].omschrijving in block
    # the demo's open zaak waits for a document, and its deadline (in 2026) has passed
    reden = wacht_op_aanvulling(open_zaak, zaaktype, demo=True)
    assert reden
    assert reden in block
    assert "Later dan beloofd" in block
    closed = page.text.split('data-categorie="dienst.zaken-historie"', 1)[1]
    assert 'data-stap="gedaan"' in closed
    assert 'data-stap="huidig"' not in closed
    assert BSN not in page.text


async def test_a_zaak_page_shows_the_titles_of_its_documents(stack: Stack, client: httpx.AsyncClient) -> None:
    closed = next(z for z in _zaken(BSN) if not z.is_open)
    page = await client.get(f"/mijn/zaken/{closed.identificatie}")
    assert page.status_code == 200, page.text
    assert 'data-documenten="ok"' in page.text
    for doc in zaak_documenten(closed, WORLD.zaaktype(closed.zaaktype_uuid)):
        assert doc.titel in page.text
    # the documents' read is logged like every read, about the customer
    services = stack.app.state.services
    logged = await search_ldv(services.database, services.pseudonymizer, subject=Subject.person(BSN))
    assert "zaakdocumenten raadplegen" in [e.name for e in logged.items]


async def test_another_customers_zaak_is_not_found(client: httpx.AsyncClient) -> None:
    other = _zaken(OTHERS)[0]
    for path in (
        f"/mijn/zaken/{other.identificatie}",
        "/mijn/zaken/ZAAK-0000-9999999",
        "/mijn/zaken/" + "A" * 80,
        "/mijn/zaken/ZAAK%3Cscript%3E",
    ):
        resp = await client.get(path)
        assert resp.status_code == 404, path
        assert "Deze zaak vinden wij niet" in resp.text
        assert other.omschrijving not in resp.text
    assert (await client.get("/mijn/zaken/..%2F..%2Fmijn")).status_code == 404  # no route at all
    # crafted query parameters naming someone else change nothing
    resp = await client.get(f"/mijn/zaken/{other.identificatie}", params={"bsn": OTHERS})
    assert resp.status_code == 404
    listing = await client.get("/mijn/zaken", params={"bsn": OTHERS, "subject": OTHERS})
    assert other.identificatie not in listing.text


async def test_zaken_down_is_tijdelijk_niet_beschikbaar_for_that_part_only(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    await _down(stack, "zaken")
    try:
        page = await client.get("/mijn/zaken")
        assert page.status_code == 200, page.text
        assert 'data-categorie="dienst.zaken-lopend" data-status="tijdelijk"' in page.text
        assert "Tijdelijk niet beschikbaar" in page.text
        taken = await client.get("/mijn/taken")
        assert taken.status_code == 200
        assert 'data-categorie="dienst.zaken-lopend" data-status="tijdelijk"' in taken.text
        assert 'data-taak="betalen"' in taken.text  # the rest of the page works
        contacts = await client.get("/mijn/contactmomenten")
        assert contacts.status_code == 200
        assert 'data-categorie="contact.historie" data-status="ok"' in contacts.text
    finally:
        await _up(stack, "zaken")


async def test_documents_down_leave_the_zaak_page_working(stack: Stack, client: httpx.AsyncClient) -> None:
    closed = next(z for z in _zaken(BSN) if not z.is_open)
    assert (await client.get(f"/mijn/zaken/{closed.identificatie}")).status_code == 200  # list cached
    await stack.sim_behaviour("zaken", fail="503")
    try:
        page = await client.get(f"/mijn/zaken/{closed.identificatie}")
        assert page.status_code == 200, page.text
        assert 'data-documenten="tijdelijk"' in page.text
        assert "Stappen" in page.text
    finally:
        await _up(stack, "zaken")


async def test_mijn_contactmomenten_shows_contacts_and_open_requests(client: httpx.AsyncClient) -> None:
    page = await client.get("/mijn/contactmomenten")
    assert page.status_code == 200, page.text
    person = WORLD.person(BSN)
    assert person is not None
    for contact in person.klantcontacten:
        assert f'data-contact="{contact.nummer}"' in page.text
    assert "Uitkomst" in page.text
    open_taken = [t for t in person.interne_taken if t.status == "te_verwerken"]
    assert open_taken
    for taak in open_taken:
        assert f'data-verzoek="{taak.nummer}"' in page.text
    assert "Antwoord uiterlijk" in page.text
    # the requests of 2026 are past their promised answer date
    assert "Later dan beloofd" in page.text


async def test_klantinteracties_down_is_tijdelijk_for_contacts_only(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    await _down(stack, "klantinteracties")
    try:
        page = await client.get("/mijn/contactmomenten")
        assert page.status_code == 200, page.text
        assert 'data-categorie="contact.historie" data-status="tijdelijk"' in page.text
        assert 'data-categorie="contact.open-verzoeken" data-status="tijdelijk"' in page.text
        zaken = await client.get("/mijn/zaken")
        assert 'data-categorie="dienst.zaken-lopend" data-status="ok"' in zaken.text
    finally:
        await _up(stack, "klantinteracties")


async def test_mijn_taken_lists_what_to_do_with_deep_links(client: httpx.AsyncClient) -> None:
    page = await client.get("/mijn/taken")
    assert page.status_code == 200, page.text
    # the demo customer has an open tax assessment and a zaak waiting for a document
    assert 'data-taak="betalen"' in page.text
    assert 'data-taak="aanvullen"' in page.text
    open_zaak = next(z for z in _zaken(BSN) if z.is_open)
    assert f'href="/mijn/zaken/{open_zaak.identificatie}"' in page.text
    links = re.findall(r'class="utrecht-link mijn-taak__link" href="([^"]+)"', page.text)
    assert links
    for link in links:
        assert link.startswith("/mijn")
    zaak_link = f"/mijn/zaken/{open_zaak.identificatie}"
    assert (await client.get(zaak_link)).status_code == 200


async def test_digid_basis_is_told_why_money_is_not_shown(stack: Stack) -> None:
    async with portal_client(stack) as c:
        assert (await login(c, bsn=BSN, niveau="digid-basis")).status_code == 303
        page = await c.get("/mijn/taken")
        assert page.status_code == 200
        assert 'data-categorie="dossier.financieel" data-status="niet-toegestaan"' in page.text
        assert "Opnieuw inloggen met een hoger niveau" in page.text
        assert 'data-taak="betalen"' not in page.text
        # zaken and contacts are for DigiD Basis too (as in MijnOverheid)
        assert 'data-taak="aanvullen"' in page.text
        zaken = await c.get("/mijn/zaken")
        assert 'data-categorie="dienst.zaken-lopend" data-status="ok"' in zaken.text


async def test_without_login_the_pages_send_to_the_login_page(stack: Stack) -> None:
    async with portal_client(stack) as c:
        for path in ("/mijn/zaken", "/mijn/zaken/ZAAK-2026-0000001", "/mijn/contactmomenten", "/mijn/taken"):
            resp = await c.get(path)
            assert resp.status_code == 303, path
            assert resp.headers["location"] == "/mijn/inloggen"


async def _requests(stack: Stack, source: str) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as c:
        return [r["path"] for r in (await c.get(f"{stack.simulators[source]}/_sim/requests")).json()]


async def _forget(stack: Stack, source: str) -> None:
    await stack.app.state.services.gateway.invalidate(Subject.person(BSN))  # no source cache hit
    async with httpx.AsyncClient(timeout=10) as c:
        await c.delete(f"{stack.simulators[source]}/_sim/requests")


async def test_mijn_zaken_costs_the_zaken_source_one_round_trip(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    """Issue 12's rule: the list asks /zaken once, with the histories of the zaken known from the last
    read at the same time, and the catalogue (the zaaktype's steps) from the cache; a zaak's page adds
    one request for its documents (Zaken 1.5.1 cannot expand them)."""
    closed = next(z for z in _zaken(BSN) if not z.is_open)
    assert (await client.get("/mijn/zaken")).status_code == 200  # catalogue and zaak URLs known now
    await _forget(stack, "zaken")
    assert (await client.get("/mijn/zaken")).status_code == 200
    paths = await _requests(stack, "zaken")
    assert paths.count("/zaken/api/v1/zaken") == 1, paths
    assert set(paths) <= {"/zaken/api/v1/zaken", "/zaken/api/v1/statussen"}, paths

    await _forget(stack, "zaken")
    assert (await client.get(f"/mijn/zaken/{closed.identificatie}")).status_code == 200
    paths = await _requests(stack, "zaken")
    assert paths.count("/zaken/api/v1/zaken") == 1, paths
    assert paths.count("/zaken/api/v1/zaakinformatieobjecten") == 1, paths
    assert set(paths) <= {
        "/zaken/api/v1/zaken",
        "/zaken/api/v1/statussen",
        "/zaken/api/v1/zaakinformatieobjecten",
    }, paths


async def test_a_business_sees_its_zaken_with_eherkenning(stack: Stack) -> None:
    company = WORLD.company(KVK)
    assert company is not None
    async with portal_client(stack) as c:
        assert (await login(c, kvk=KVK, niveau="eherkenning-eh3", naam="Test Persoon")).status_code == 303
        page = await c.get("/mijn/zaken")
        assert page.status_code == 200, page.text
        for zaak in company.zaken:
            assert f'data-zaak="{zaak.identificatie}"' in page.text
        detail = await c.get(f"/mijn/zaken/{company.zaken[0].identificatie}")
        assert detail.status_code == 200
        # a person's zaak is not the business's
        assert (await c.get(f"/mijn/zaken/{_zaken(BSN)[0].identificatie}")).status_code == 404
