"""Mijn omgeving's door (issue 14): the login at each DigiD level and with eHerkenning, the session's
own cookie, logout at the broker, and the attempts to see someone else's data or to slip a staff
session in or out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from dgkb.store.tables import ContactSessionRow
from tests.api.conftest import Stack
from tests.web.mijn_helpers import BSN, KVK, OTHER_BSN, csrf, login, portal_client, reads_of, statements

pytestmark = pytest.mark.xdist_group("mijn")

WATERSCHAP_OIN = "00000001009876543000"


async def test_digid_midden_shows_own_data_of_both_organisations(stack: Stack) -> None:
    async with portal_client(stack) as client:
        callback = await login(client, bsn=BSN, niveau="digid-midden")
        assert callback.status_code == 303
        assert callback.headers["location"] == "/mijn"
        cookie = next(c for c in client.cookies.jar if c.name == "dgkb-mijn")
        assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()
        page = await client.get("/mijn")
        assert page.status_code == 200, page.text
        assert "Gemeente Voorbeeldstad" in page.text
        assert "Waterschap De Voorbeeldwaarden" in page.text
        assert 'data-categorie="klant.basis" data-status="ok"' in page.text
        assert "Uit " in page.text  # every item names its source
        assert BSN not in page.text  # the BSN is never shown back, nor in links
        assert "form-action 'self' http" in page.headers["content-security-policy"]


async def test_digid_basis_sees_less_and_is_told_why(stack: Stack) -> None:
    async with portal_client(stack) as client:
        assert (await login(client, bsn=BSN, niveau="digid-basis")).status_code == 303
        page = await client.get("/mijn")
        assert page.status_code == 200
        financieel = re.search(r'data-categorie="dossier.financieel" data-status="([a-z-]+)"', page.text)
        assert financieel
        assert financieel.group(1) == "niet-toegestaan"
        assert "Opnieuw inloggen met een hoger niveau" in page.text


@pytest.mark.parametrize("niveau", ["digid-substantieel", "digid-hoog"])
async def test_higher_digid_levels_log_in(stack: Stack, niveau: str) -> None:
    async with portal_client(stack) as client:
        assert (await login(client, bsn=BSN, niveau=niveau)).status_code == 303
        assert (await client.get("/mijn")).status_code == 200


async def test_eherkenning_for_a_business(stack: Stack) -> None:
    async with portal_client(stack) as client:
        callback = await login(client, kvk=KVK, niveau="eherkenning-eh3", naam="Test Handelend Persoon")
        assert callback.status_code == 303, callback.text
        page = await client.get("/mijn")
        assert page.status_code == 200
        assert "Ingelogd met eHerkenning als Test Handelend Persoon" in page.text
        assert 'data-categorie="klant.basis" data-status="ok"' in page.text


async def test_without_login_the_portal_sends_to_the_login_page(stack: Stack) -> None:
    async with portal_client(stack) as client:
        for path in ("/mijn", "/mijn/sessie"):
            resp = await client.get(path)
            assert resp.status_code == 303
            assert resp.headers["location"] == "/mijn/inloggen"
        page = await client.get("/mijn/inloggen")
        assert page.status_code == 200
        assert "Inloggen met DigiD" in page.text


async def test_no_request_names_another_subject(stack: Stack) -> None:
    """The subject comes only from the assertion: query parameters and headers that name someone
    else are ignored; the page shows the logged-in person, never the other."""
    names = {}
    for bsn in (BSN, OTHER_BSN):
        async with portal_client(stack) as client:
            await login(client, bsn=bsn)
            names[bsn] = _name((await client.get("/mijn")).text)
    assert names[BSN] != names[OTHER_BSN]
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        crafted = await client.get(
            "/mijn", params={"bsn": OTHER_BSN, "subject": OTHER_BSN}, headers={"X-Bsn": OTHER_BSN}
        )
        assert crafted.status_code == 200
        assert _name(crafted.text) == names[BSN]
        assert names[OTHER_BSN] not in crafted.text


def _name(page: str) -> str:
    found = re.search(r"<dt>Naam</dt><dd><strong>([^<]+)</strong>", page)
    assert found, "geen naam op de pagina"
    return found.group(1)


async def test_a_staff_cookie_is_no_portal_session_and_back(stack: Stack) -> None:
    """Both apps keep sessions in one table: a value of one, copied into the other's cookie, is
    nothing there (the app is hashed into the row id)."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        value = client.cookies["dgkb-mijn"]
    async with portal_client(stack) as staff:
        staff.cookies.set("dgkb-sessie", value)
        resp = await staff.get("/")
        assert resp.status_code == 303
        assert resp.headers["location"] == "/login"
    async with portal_client(stack) as forged:
        forged.cookies.set("dgkb-mijn", "x" * 43)
        assert (await forged.get("/mijn")).status_code == 303


async def test_the_callback_refuses_a_foreign_state_and_a_replayed_code(stack: Stack) -> None:
    async with portal_client(stack) as client:
        start = await client.get("/mijn/inloggen/digid")
        assert start.status_code == 303
        resp = await client.get("/mijn/terugkeer", params={"code": "abc", "state": "not-mine"})
        assert resp.status_code == 400
    async with portal_client(stack) as fresh:
        resp = await fresh.get("/mijn/terugkeer", params={"code": "abc", "state": "x"})
        assert resp.status_code == 400


async def test_logout_ends_the_session_here_and_at_the_broker(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn")
        out = await client.post("/mijn/uitloggen", data={"csrf_token": csrf(page)})
        assert out.status_code == 303
        assert "/test-broker/logout" in out.headers["location"]
        back = await client.get(out.headers["location"])
        assert back.status_code == 303
        assert back.headers["location"].endswith("/mijn/uitgelogd")
        assert (await client.get("/mijn")).status_code == 303


async def test_logout_needs_the_csrf_token(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert (await client.post("/mijn/uitloggen", data={})).status_code == 403
        assert (await client.get("/mijn")).status_code == 200


async def test_staff_cannot_open_a_contact_on_the_portal_channel(stack: Stack) -> None:
    kcm = await stack.as_user("kcm-wim")
    async with kcm:
        resp = await kcm.post("/api/v1/contacten", json={"kanaal": "mijn-omgeving"})
        assert resp.status_code == 403
        assert resp.json()["code"] == "CHANNEL_NOT_ALLOWED" or "mijn" in resp.text.lower()


async def test_a_source_that_is_down_shows_as_temporarily_unavailable(stack: Stack) -> None:
    """Zaken down: that part says "tijdelijk niet beschikbaar", the rest of the page works."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        await stack.sim_behaviour("zaken", fail="503")
        try:
            page = await client.get("/mijn")
        finally:
            await stack.sim_behaviour("zaken", fail="none")
    assert page.status_code == 200
    zaken = re.search(r'data-categorie="dienst.zaken-lopend" data-status="([a-z-]+)"', page.text)
    assert zaken is not None
    assert zaken.group(1) in ("onbereikbaar", "fout", "timeout")
    assert "Tijdelijk niet beschikbaar" in page.text
    assert 'data-categorie="klant.basis" data-status="ok"' in page.text


async def test_mijn_gegevens_reads_the_own_contacts_once(stack: Stack) -> None:
    """The menu's unread count and the page both need the customer's own contacts (one per
    organisation): read once, in one query, and the session too."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert (await client.get("/mijn")).status_code == 200
        with statements(stack) as seen:
            page = await client.get("/mijn")
    assert page.status_code == 200
    assert "Gemeente Voorbeeldstad" in page.text
    assert "Waterschap De Voorbeeldwaarden" in page.text
    reads = reads_of(seen, "contact_sessions")
    assert len(reads) == 1, reads
    assert len(reads_of(seen, "web_sessions")) == 1
    # the feedback store (a source of the municipality's view): ratings, and complaints and
    # reports together
    assert len(reads_of(seen, "ratings")) == 1
    assert len(reads_of(seen, "feedback_items")) == 1


async def test_an_own_contact_that_ended_ends_the_portal_session(stack: Stack) -> None:
    """Read together, each own contact is still checked on its own: the waterschap's contact ended
    (by the housekeeping, another node, an operator) sends the customer to the login again."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert (await client.get("/mijn")).status_code == 200
        async with stack.app.state.services.database.transaction() as session:
            await session.execute(
                update(ContactSessionRow)
                .where(
                    ContactSessionRow.organisation == WATERSCHAP_OIN,
                    ContactSessionRow.channel == "mijn-omgeving",
                )
                .values(ended_at=datetime.now(UTC))
            )
        page = await client.get("/mijn")
    assert page.status_code == 303
    assert page.headers["location"] == "/mijn/inloggen"
