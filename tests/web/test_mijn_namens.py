"""Acting for someone else in Mijn omgeving (issue 14 §13): the broker names the acting person and
the represented customer (NL GOV `represents`); the register says per organisation which kinds of
representation it accepts; the access log records both."""

from __future__ import annotations

import html

import pytest

from tests.api.conftest import GEMEENTE as GEMEENTE_REGISTER
from tests.api.conftest import Stack, login_token
from tests.web.mijn_helpers import BSN, OTHER_BSN, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn")

GEMEENTE, WATERSCHAP = "Gemeente Voorbeeldstad", "Waterschap De Voorbeeldwaarden"


async def _name_of(stack: Stack, bsn: str) -> str:
    async with portal_client(stack) as client:
        await login(client, bsn=bsn)
        page = (await client.get("/mijn")).text
    start = page.index("<dt>Naam</dt><dd><strong>") + len("<dt>Naam</dt><dd><strong>")
    return page[start : page.index("</strong>", start)]


async def test_a_bewindvoerder_sees_the_represented_persons_data_at_both(stack: Stack) -> None:
    represented, representative = await _name_of(stack, BSN), await _name_of(stack, OTHER_BSN)
    async with portal_client(stack) as client:
        callback = await login(client, bsn=OTHER_BSN, namens_bsn=BSN, vertegenwoordiging="bewind")
        assert callback.status_code == 303, callback.text
        page = await client.get("/mijn")
    assert page.status_code == 200
    assert "namens een ander als bewindvoerder" in page.text
    assert represented in page.text
    assert representative not in page.text
    assert GEMEENTE in page.text
    assert WATERSCHAP in page.text


async def test_a_mentor_is_refused_where_the_register_does_not_allow_it(stack: Stack) -> None:
    async with portal_client(stack) as client:
        callback = await login(client, bsn=OTHER_BSN, namens_bsn=BSN, vertegenwoordiging="mentorschap")
        assert callback.status_code == 303, callback.text
        page = await client.get("/mijn")
    text = html.unescape(page.text)
    # the municipality accepts a mentor, the water board (tax matters) does not, and says so
    assert "als mentor is voor 'Mijn omgeving (waterschap)' niet toegestaan" in text
    assert text.count('class="mijn-org"') == 1


async def test_the_log_records_the_represented_subject_and_the_representative(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=OTHER_BSN, namens_bsn=BSN, vertegenwoordiging="curatele")
        assert (await client.get("/mijn")).status_code == 200
    async with await stack.as_user("privacy-petra") as pia:
        about = await pia.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": BSN})
        assert about.status_code == 200, about.text
        reads = [r for r in about.json()["resultaten"] if r["actor_id"].startswith("mijn:namens:curatele:")]
        assert reads, "the representative's reads are not logged about the represented person"
        # the representative is named by pseudonym only, never by BSN
        assert all(OTHER_BSN not in r["actor_id"] and BSN not in r["actor_id"] for r in reads)
        own = await pia.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": OTHER_BSN})
        assert own.status_code == 200
        assert not [r for r in own.json()["resultaten"] if r["actor_id"].startswith("mijn:")]


async def test_the_represented_person_sees_the_representatives_reads_as_such(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=OTHER_BSN, namens_bsn=BSN, vertegenwoordiging="bewind")
        assert (await client.get("/mijn")).status_code == 200
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/inzage")
    assert page.status_code == 200
    assert "uw vertegenwoordiger (bewindvoerder), in Mijn omgeving" in html.unescape(page.text)


async def test_an_agent_cannot_identify_a_customer_by_someone_elses_login(stack: Stack) -> None:
    """On the phone the agent's purposes accept no representation: a bewindvoerder's login for the
    customer binds nothing (REPRESENTATION_NOT_ALLOWED), the contact stays unidentified."""
    async with await stack.as_user("kcm-anna") as anna:
        created = await anna.post(
            "/api/v1/contacten",
            json={"kanaal": "chat", "verwerkingsactiviteit": GEMEENTE_REGISTER + "kcc-algemene-vraag"},
        )
        assert created.status_code == 201, created.text
        contact = created.json()["id"]
        # OTHER_BSN logs in as bewindvoerder of BSN
        token = await login_token(anna, {"bsn": OTHER_BSN}, namensBsn=BSN, vertegenwoordiging="bewind")
        resp = await anna.post(f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, **token})
        assert resp.status_code == 403, resp.text
        assert resp.json()["reden"] == "REPRESENTATION_NOT_ALLOWED"
        assert (await anna.get(f"/api/v1/contacten/{contact}")).json()["geidentificeerd"] is False
