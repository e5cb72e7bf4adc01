"""Mijn profiel (issue 14 part 6): a new mobile number or e-mail address gets a code through NotifyNL,
is written to Klantinteracties only after the code, and the agent then sees it; five wrong codes
block; crafted fields never reach another customer's partij; bad input names the field."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import build_world
from tests.api.conftest import Stack, open_contact
from tests.clients import http_client
from tests.web.mijn_helpers import BSN, OTHER_BSN, csrf, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h3profiel")

KI = "/klantinteracties/api/v1"
PURPOSE = "https://register.voorbeeldwaarden.nl/verwerkingen/waterschapsbelasting"  # kcm-wim: KCC waterschap


async def outbox(stack: Stack) -> list[dict[str, Any]]:
    async with http_client() as c:
        resp = await c.get(f"{stack.simulators['notifynl']}/_sim/outbox")
        resp.raise_for_status()
        result: list[dict[str, Any]] = resp.json()
        return result


def ki_headers(stack: Stack) -> dict[str, str]:
    source = next(s for s in stack.app.state.services.sources.configs.values() if s.id == "klantinteracties")
    return {"Authorization": f"Token {source.auth.token}"}


async def partij_adressen(stack: Stack, bsn: str) -> list[dict[str, Any]]:
    """The digitale adressen of the person's partij, read straight from the simulator."""
    base = stack.simulators["klantinteracties"] + KI
    async with http_client(headers=ki_headers(stack)) as c:
        found = (
            await c.get(
                f"{base}/partijen",
                params={
                    "partijIdentificator__codeSoortObjectId": "bsn",
                    "partijIdentificator__objectId": bsn,
                    "expand": "digitaleAdressen",
                },
            )
        ).json()
        assert found["results"], "the demo world gives this person a partij"
        return list(found["results"][0]["_expand"]["digitaleAdressen"])


async def profile_page(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/mijn/profiel")
    assert page.status_code == 200, page.text
    return page


def code_of(message: dict[str, Any]) -> str:
    found = re.search(r"\b(\d{6})\b", message["body"])
    assert found, message["body"]
    return found.group(1)


async def test_new_mobile_number_is_verified_then_written_and_the_agent_sees_it(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        page = await profile_page(client)
        assert 'data-categorie="klant.contactgegevens" data-status="ok"' in page.text
        token = csrf(page)
        sent = await client.post(
            "/mijn/profiel/adres",
            data={"csrf_token": token, "soort": "telefoonnummer", "telefoon": "06-87654321"},
        )
        assert sent.status_code == 303, sent.text
        code_url = sent.headers["location"]
        assert code_url.startswith("/mijn/profiel/bevestigen/")
        assert "8765" not in code_url  # nothing of the number in the URL
        messages = await outbox(stack)
        assert len(messages) == 1
        assert messages[0]["type"] == "sms"
        assert messages[0]["normalisedTo"].endswith("687654321")
        assert messages[0]["templateName"] == "verificatie-mijn-profiel"
        # not written before the code
        assert not [a for a in await partij_adressen(stack, BSN) if a["adres"].endswith("687654321")]
        code_page = await client.get(code_url)
        assert code_page.status_code == 200
        assert "06 ****4321" in code_page.text
        done = await client.post(code_url, data={"csrf_token": token, "code": code_of(messages[0])})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/mijn/profiel?gewijzigd=adres"
        after = await profile_page(client)
        assert "+31687654321" in after.text
    written = [a for a in await partij_adressen(stack, BSN) if a["adres"] == "+31687654321"]
    assert len(written) == 1
    assert written[0]["soortDigitaalAdres"] == "telefoonnummer"
    assert written[0]["verificatieDatum"]
    # the agent's klantbeeld (API) shows the new number
    async with await stack.as_user("kcm-wim") as agent:
        contact = await open_contact(agent, PURPOSE, bsn=BSN)
        body = (await agent.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    section = next(s for s in body["secties"] if s["categorie"] == "klant.contactgegevens")
    assert "+31687654321" in [t["adres"] for t in section["gegevens"]["telefoonnummers"]]
    # the write is in the customer's processing log (LDV), with the changed category and purpose
    log = await stack.app.state.services.access_log.processings_of(Subject.person(BSN), limit=200)
    writes = [e for e in log.items if e.name == "contactgegevens wijzigen (Mijn profiel)"]
    assert len(writes) == 1
    assert writes[0].categories == ("klant.contactgegevens",)
    assert writes[0].processing_activity_id == "https://register.voorbeeldstad.nl/verwerkingen/mijn-omgeving"
    # the profile page read only what it shows
    reads = [
        e
        for e in log.items
        if e.name == "klantbeeld raadplegen" and e.processing_activity_id == writes[0].processing_activity_id
    ]
    assert reads
    assert all(set(e.categories) <= {"klant.contactgegevens", "klant.voorkeurskanaal"} for e in reads)


async def test_the_right_code_sent_twice_at_once_writes_one_address(stack: Stack) -> None:
    """A double click (or two tabs): both confirms carry the right code at the same moment; one
    writes, the other is told the code is used — never two addresses in Klantinteracties."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        token = csrf(await profile_page(client))
        sent = await client.post(
            "/mijn/profiel/adres",
            data={"csrf_token": token, "soort": "telefoonnummer", "telefoon": "06-11223344"},
        )
        assert sent.status_code == 303, sent.text
        code = code_of((await outbox(stack))[0])
        form = {"csrf_token": token, "code": code}
        both = await asyncio.gather(*(client.post(sent.headers["location"], data=form) for _ in range(2)))
    assert sorted(r.status_code for r in both) == [303, 400], [r.text[:200] for r in both]
    written = [a for a in await partij_adressen(stack, BSN) if a["adres"] == "+31611223344"]
    assert len(written) == 1


async def test_five_wrong_codes_block_and_nothing_is_written(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        token = csrf(await profile_page(client))
        sent = await client.post(
            "/mijn/profiel/adres",
            data={"csrf_token": token, "soort": "email", "email": "nieuw.adres@voorbeeld.nl"},
        )
        assert sent.status_code == 303, sent.text
        code_url = sent.headers["location"]
        right = code_of((await outbox(stack))[0])
        wrong = "000000" if right != "000000" else "111111"
        for attempt in range(5):
            resp = await client.post(code_url, data={"csrf_token": token, "code": wrong})
            assert resp.status_code == 400
            if attempt < 4:
                assert f"nog {4 - attempt} keer" in resp.text
        assert "te vaak" in resp.text
        # now even the right code does nothing
        late = await client.post(code_url, data={"csrf_token": token, "code": right})
        assert late.status_code == 400
        assert (await client.get(code_url)).status_code == 404
    assert not [a for a in await partij_adressen(stack, BSN) if a["adres"] == "nieuw.adres@voorbeeld.nl"]


async def test_bad_input_names_the_field(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        token = csrf(await profile_page(client))
        cases = [
            ({"soort": "email", "email": "geen-adres"}, "email", "e-mailadres klopt niet"),
            ({"soort": "telefoonnummer", "telefoon": "06-123"}, "telefoon", "mobiele nummer klopt niet"),
            ({"soort": "telefoonnummer", "telefoon": "020-1234567"}, "telefoon", "Nederlands mobiel nummer"),
            ({"soort": "telefoonnummer", "telefoon": ""}, "telefoon", "Mobiel nummer"),
        ]
        for data, field, text in cases:
            resp = await client.post("/mijn/profiel/adres", data={"csrf_token": token, **data})
            assert resp.status_code == 400, resp.text
            assert text in resp.text
            assert f'id="{field}-fout"' in resp.text
            assert (
                f'aria-describedby="{field}' in resp.text
                or f'aria-describedby="telefoon-uitleg {field}' in resp.text
            )
        assert await outbox(stack) == []
        resp = await client.post("/mijn/profiel/voorkeur", data={"csrf_token": token, "taal": "xx"})
        assert resp.status_code == 400
        assert "Taal" in resp.text


async def test_crafted_fields_never_reach_another_customers_partij(stack: Stack) -> None:
    """The other customer's address in a remove or preference form, another customer's verification
    id, extra fields naming a partij or BSN: all refused or ignored; the other partij is unchanged."""
    others_before = await partij_adressen(stack, OTHER_BSN)
    assert others_before, "the other person has addresses in the demo world"
    other = others_before[0]
    # the other customer starts a verification
    async with portal_client(stack) as other_client:
        await login(other_client, bsn=OTHER_BSN)
        other_token = csrf(await profile_page(other_client))
        sent = await other_client.post(
            "/mijn/profiel/adres",
            data={"csrf_token": other_token, "soort": "telefoonnummer", "telefoon": "0611112222"},
        )
        other_code_url = sent.headers["location"]
    other_code = code_of((await outbox(stack))[0])
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        token = csrf(await profile_page(client))
        removed = await client.post(
            "/mijn/profiel/verwijderen",
            data={
                "csrf_token": token,
                "soort": other["soortDigitaalAdres"],
                "adres": other["adres"],
                "bsn": OTHER_BSN,
            },
        )
        assert removed.status_code == 400
        assert "staat niet" in removed.text
        preferred = await client.post(
            "/mijn/profiel/voorkeur",
            data={
                "csrf_token": token,
                "voorkeur": f"{other['soortDigitaalAdres']}|{other['adres']}",
                "partij": "00000000-0000-0000-0000-000000000000",
            },
        )
        assert preferred.status_code == 400
        # the other customer's verification with its right code: unknown here
        assert (await client.get(other_code_url)).status_code == 404
        stolen = await client.post(other_code_url, data={"csrf_token": token, "code": other_code})
        assert stolen.status_code == 400
        # without CSRF nothing is done at all
        no_csrf = await client.post("/mijn/profiel/adres", data={"soort": "email", "email": "x@voorbeeld.nl"})
        assert no_csrf.status_code in (400, 403)
    assert await partij_adressen(stack, OTHER_BSN) == others_before
    assert not [a for a in await partij_adressen(stack, BSN) if a["adres"].endswith("611112222")]


async def test_remove_and_choose_preferred_address(stack: Stack) -> None:
    mine = await partij_adressen(stack, BSN)
    assert len(mine) >= 1
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        token = csrf(await profile_page(client))
        target = mine[0]
        chosen = await client.post(
            "/mijn/profiel/voorkeur",
            data={
                "csrf_token": token,
                "voorkeur": f"{target['soortDigitaalAdres']}|{target['adres']}",
                "taal": "eng",
            },
        )
        assert chosen.status_code == 303, chosen.text
        page = await profile_page(client)
        assert "data-voorkeur" in page.text
        assert 'value="eng" selected' in page.text
        gone = await client.post(
            "/mijn/profiel/verwijderen",
            data={"csrf_token": token, "soort": target["soortDigitaalAdres"], "adres": target["adres"]},
        )
        assert gone.status_code == 303, gone.text
    assert target["uuid"] not in [a["uuid"] for a in await partij_adressen(stack, BSN)]


async def test_klantinteracties_down_shows_that_part_and_the_code_can_be_used_again(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        token = csrf(await client.get("/mijn/berichten"))  # no read of Klantinteracties (nothing cached)
        sent = await client.post(
            "/mijn/profiel/adres", data={"csrf_token": token, "soort": "email", "email": "later@voorbeeld.nl"}
        )
        code_url = sent.headers["location"]
        code = code_of((await outbox(stack))[0])
        await stack.sim_behaviour("klantinteracties", fail="503")
        page = await client.get("/mijn/profiel")
        assert page.status_code == 200
        assert "data-tijdelijk" in page.text
        assert "Mijn profiel" in page.text
        failed = await client.post(code_url, data={"csrf_token": token, "code": code})
        assert failed.status_code == 503
        assert "Opslaan lukt nu niet" in failed.text
        assert "Klantinteracties" not in failed.text
        await stack.sim_behaviour("klantinteracties", fail="none")
        done = await client.post(code_url, data={"csrf_token": token, "code": code})
        assert done.status_code == 303, done.text
    assert [a for a in await partij_adressen(stack, BSN) if a["adres"] == "later@voorbeeld.nl"]


async def test_a_customer_without_partij_is_told_plainly(stack: Stack) -> None:
    """Klantinteracties knows no partij for this person: the code is sent, but saving says so in
    plain words (no 500), and nothing is written."""
    bsn = build_world().no_partij_bsn
    async with portal_client(stack) as client:
        await login(client, bsn=bsn)
        page = await profile_page(client)
        assert "nog geen e-mailadres" in page.text
        token = csrf(page)
        sent = await client.post(
            "/mijn/profiel/adres", data={"csrf_token": token, "soort": "email", "email": "ik@voorbeeld.nl"}
        )
        assert sent.status_code == 303, sent.text
        done = await client.post(
            sent.headers["location"], data={"csrf_token": token, "code": code_of((await outbox(stack))[0])}
        )
        assert done.status_code == 409
        assert "nog niet bij ons bekend" in done.text
        removed = await client.post(
            "/mijn/profiel/verwijderen",
            data={"csrf_token": token, "soort": "email", "adres": "ik@voorbeeld.nl"},
        )
        assert removed.status_code == 409
