"""Customer search: one box that understands what is typed; only what is needed to pick; logged."""

from __future__ import annotations

import httpx

from dgkb.simulators.world import build_world
from tests.api.conftest import Stack

WORLD = build_world()


async def _contact(client: httpx.AsyncClient) -> str:
    return str((await client.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"])


async def _search(client: httpx.AsyncClient, contact: str, **body: object) -> httpx.Response:
    return await client.post("/api/v1/klantzoekopdrachten", json={"contactId": contact, **body})


async def test_the_search_box_understands_what_is_typed(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        by_bsn = (await _search(anna, contact, zoekterm="999993653")).json()
        assert by_bsn["begrepenAls"] == "bsn"
        (hit,) = by_bsn["kandidaten"]
        assert hit["bsn"] == "999993653"
        assert hit["naam"]
        assert hit["geboortejaar"] == 1960
        assert "Bergweg 166" in hit["adres"]
        assert set(hit) >= {"naam", "geboortejaar", "adres"}
        assert "geboorte" not in hit, "only the birth year, not the date"

        by_name = (await _search(anna, contact, zoekterm="Berg 03-07-1960")).json()
        assert by_name["begrepenAls"] == "naamGeboortedatum"
        assert "999993653" in [k["bsn"] for k in by_name["kandidaten"]]

        by_address = (await _search(anna, contact, zoekterm="3026MP 166")).json()
        assert by_address["begrepenAls"] == "postcodeHuisnummer"
        assert {"999993653", "999990639", "999991425"} <= {k["bsn"] for k in by_address["kandidaten"]}
        assert by_address["meerdereGevonden"] is True, "a household is shown, never guessed"

        for phone in ("06-45408799", "+31 6 4540 8799", "0031645408799"):
            by_phone = (await _search(anna, contact, zoekterm=phone)).json()
            assert by_phone["begrepenAls"] == "telefoonnummer"
            assert "999993653" in [k["bsn"] for k in by_phone["kandidaten"]], phone

        by_mail = (await _search(anna, contact, zoekterm=" Johanna.VanDerBerg@Example.NL ")).json()
        assert by_mail["begrepenAls"] == "emailadres"
        assert "999993653" in [k["bsn"] for k in by_mail["kandidaten"]]

        by_kvk = (await _search(anna, contact, zoekterm="68750110")).json()
        assert by_kvk["begrepenAls"] == "kvkNummer"
        assert by_kvk["kandidaten"][0]["soort"] == "bedrijf"
        assert by_kvk["kandidaten"][0]["kvkNummer"] == "68750110"

        by_company_name = (await _search(anna, contact, bedrijfsnaam="Voorbeeld Bakkerijen")).json()
        assert "68750110" in {k["kvkNummer"] for k in by_company_name["kandidaten"]}

        structured = (await _search(anna, contact, geslachtsnaam="Berg", geboortedatum="1960-07-03")).json()
        assert "999993653" in [k["bsn"] for k in structured["kandidaten"]]


async def test_shielded_person_is_found_without_address(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        result = (await _search(anna, contact, zoekterm=WORLD.shielded_bsn)).json()
    (hit,) = result["kandidaten"]
    assert hit["afgeschermd"] is True
    assert hit["adres"] is None


async def test_bad_search_input_names_the_field(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        for term in ("12345", "", "x", "Jansen 31-02-1980"):
            resp = await _search(anna, contact, zoekterm=term)
            assert resp.status_code == 400, term
            assert resp.json()["invalidParams"][0]["name"] == "zoekterm", term
        two_ways = await _search(anna, contact, zoekterm="999993653", telefoonnummer="0612345678")
        assert two_ways.status_code == 400
        nothing = await _search(anna, contact, zoekterm="999999989")
        assert nothing.status_code == 200
        assert nothing.json()["kandidaten"] == []


async def test_search_is_logged_under_the_identification_purpose(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        await _search(anna, contact, zoekterm="999990639")
    async with await stack.as_user("privacy-petra") as petra:
        rows = (await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": "999990639"})).json()
    assert any(
        r["actor_id"] == "kcm-anna" and r["processing_activity_id"].endswith("/kcc-identificatie")
        for r in rows["resultaten"]
    )


async def test_search_while_brp_is_down_is_a_clear_503(stack: Stack) -> None:
    await stack.sim_behaviour("brp", fail="503")
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        resp = await _search(anna, contact, zoekterm="999993653")
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "niet bereikbaar" in resp.json()["detail"]
