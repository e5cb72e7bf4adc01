"""KVK simulator: Zoeken v2 and Basisprofiel v1 in the documented shape (no spec files exist)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dgkb.simulators import kvk
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import KVK_TEST_NUMBERS, World

KEY = {"apikey": "sleutel"}


@pytest.fixture(scope="module")
async def url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(kvk.create_app(world, api_key="sleutel")) as (_, base):
        yield base


async def test_zoeken_by_kvk_nummer_lists_both_branches(
    url: str, client: httpx.AsyncClient, world: World
) -> None:
    kvk_nummer = world.special["two_branches"]
    resp = await client.get(f"{url}/api/v2/zoeken", params={"kvkNummer": kvk_nummer}, headers=KEY)
    assert resp.status_code == 200
    body = resp.json()
    assert body["totaal"] == 2
    assert {r["type"] for r in body["resultaten"]} == {"hoofdvestiging", "nevenvestiging"}
    for r in body["resultaten"]:
        assert r["kvkNummer"] == kvk_nummer
        assert len(r["vestigingsnummer"]) == 12
        assert set(r["adres"]["binnenlandsAdres"]) >= {"straatnaam", "huisnummer", "postcode", "plaats"}
    assert {"pagina", "resultatenPerPagina", "totaal", "resultaten"} <= set(body)


async def test_zoeken_by_name_postcode_and_paging(url: str, client: httpx.AsyncClient, world: World) -> None:
    company = world.companies[3]
    hits = (
        await client.get(f"{url}/api/v2/zoeken", params={"naam": company.naam.upper()}, headers=KEY)
    ).json()
    assert company.kvk_nummer in {r["kvkNummer"] for r in hits["resultaten"]}
    hoofd = company.hoofdvestiging
    assert hoofd is not None
    params = {"postcode": hoofd.adres.postcode.replace(" ", ""), "huisnummer": str(hoofd.adres.huisnummer)}
    hits = (await client.get(f"{url}/api/v2/zoeken", params=params, headers=KEY)).json()
    assert hoofd.vestigingsnummer in {r["vestigingsnummer"] for r in hits["resultaten"]}
    page = (
        await client.get(
            f"{url}/api/v2/zoeken", params={"plaats": "Rotterdam", "resultatenPerPagina": "5"}, headers=KEY
        )
    ).json()
    assert len(page["resultaten"]) == 5
    assert page["totaal"] > 5
    assert "volgende" in page


async def test_rechtspersoon_without_vestiging(url: str, client: httpx.AsyncClient, world: World) -> None:
    kvk_nummer = world.special["vereniging_zonder_vestiging"]
    body = (await client.get(f"{url}/api/v2/zoeken", params={"kvkNummer": kvk_nummer}, headers=KEY)).json()
    assert [r["type"] for r in body["resultaten"]] == ["rechtspersoon"]
    assert "vestigingsnummer" not in body["resultaten"][0]


async def test_nothing_found_is_404_with_fout(url: str, client: httpx.AsyncClient) -> None:
    resp = await client.get(f"{url}/api/v2/zoeken", params={"kvkNummer": "11111111"}, headers=KEY)
    assert resp.status_code == 404
    assert resp.json()["fout"][0]["code"] == "IPD5200"


@pytest.mark.parametrize(
    "params", [{"kvkNummer": "123"}, {"huisnummer": "1"}, {"type": "filiaal"}, {"onbekend": "x"}]
)
async def test_bad_zoeken_parameters_are_400(
    url: str, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    resp = await client.get(f"{url}/api/v2/zoeken", params=params, headers=KEY)
    assert resp.status_code == 400
    assert resp.json()["fout"]


async def test_basisprofiel_of_the_test_numbers(url: str, client: httpx.AsyncClient, world: World) -> None:
    for kvk_nummer in KVK_TEST_NUMBERS:
        resp = await client.get(f"{url}/api/v1/basisprofielen/{kvk_nummer}", headers=KEY)
        assert resp.status_code == 200
        body = resp.json()
        company = world.company(kvk_nummer)
        assert company is not None
        assert body["kvkNummer"] == kvk_nummer
        assert body["naam"] == company.naam
        assert len(body["formeleRegistratiedatum"]) == 8
        assert body["totaalWerkzamePersonen"] == company.totaal_werkzame_personen
        assert next(s["indHoofdactiviteit"] for s in body["sbiActiviteiten"]) == "Ja"
        assert body["_embedded"]["eigenaar"]["rechtsvorm"] == company.rechtsvorm
        hoofd = body["_embedded"]["hoofdvestiging"]
        assert hoofd["vestigingsnummer"] == company.vestigingen[0].vestigingsnummer
        assert hoofd["adressen"][0]["postcode"]
    eenmanszaak = (
        await client.get(f"{url}/api/v1/basisprofielen/{world.special['eenmanszaak']}", headers=KEY)
    ).json()
    assert "rsin" not in eenmanszaak["_embedded"]["eigenaar"]


async def test_basisprofiel_unknown_malformed_and_unauthorised(url: str, client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{url}/api/v1/basisprofielen/11111111", headers=KEY)).status_code == 404
    assert (await client.get(f"{url}/api/v1/basisprofielen/1234", headers=KEY)).status_code == 400
    assert (await client.get(f"{url}/api/v1/basisprofielen/{KVK_TEST_NUMBERS[0]}")).status_code == 401
    assert (await client.get(f"{url}/api/v2/zoeken?kvkNummer={KVK_TEST_NUMBERS[0]}")).status_code == 401


async def test_vestigingen_of_a_company(url: str, client: httpx.AsyncClient, world: World) -> None:
    body = (
        await client.get(
            f"{url}/api/v1/basisprofielen/{world.special['two_branches']}/vestigingen", headers=KEY
        )
    ).json()
    assert body["totaalAantalVestigingen"] == 2
    assert [v["indHoofdvestiging"] for v in body["vestigingen"]] == ["Ja", "Nee"]
