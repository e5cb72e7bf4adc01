"""The Zaken simulator against the ZGW Zaken API 1.5.1 spec."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from dgkb.simulators.world import World, build_world

from .conftest import OpenApi

SPEC = "zaken/openapi-1.5.1.yaml"
CRS = {"Accept-Crs": "EPSG:4326"}


async def test_zaken_of_a_person_validate(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    resp = await client.get(
        f"{zaken_url}/zaken/api/v1/zaken",
        params={"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": "999993653"},
        headers=CRS,
    )
    assert resp.status_code == 200
    assert resp.headers["content-crs"] == "EPSG:4326"
    page = resp.json()
    assert openapi(SPEC).errors(page, "PaginatedZaakList") == []
    person = world.person("999993653")
    assert person is not None
    assert page["count"] == len(person.zaken)
    assert {z["identificatie"] for z in page["results"]} == {z.identificatie for z in person.zaken}


async def test_statussen_rollen_resultaten_validate(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    page = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/zaken",
            params={"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": "999993653"},
            headers=CRS,
        )
    ).json()
    closed = next(z for z in page["results"] if z["einddatum"])
    detail = await client.get(closed["url"], headers=CRS)
    assert spec.errors(detail.json(), "Zaak") == []
    statussen = (
        await client.get(f"{zaken_url}/zaken/api/v1/statussen", params={"zaak": closed["url"]})
    ).json()
    assert spec.errors(statussen, "PaginatedStatusList") == []
    assert [s["indicatieLaatstGezetteStatus"] for s in statussen["results"]][-1] is True
    rollen = (await client.get(f"{zaken_url}/zaken/api/v1/rollen", params={"zaak": closed["url"]})).json()
    assert spec.errors(rollen, "PaginatedRolList") == []
    assert rollen["results"][0]["betrokkeneIdentificatie"]["inpBsn"] == "999993653"
    resultaten = (
        await client.get(f"{zaken_url}/zaken/api/v1/resultaten", params={"zaak": closed["url"]})
    ).json()
    assert spec.errors(resultaten, "PaginatedResultaatList") == []
    resultaattype = (await client.get(resultaten["results"][0]["resultaattype"])).json()
    assert resultaattype["omschrijving"]
    zaaktype = (await client.get(closed["zaaktype"])).json()
    assert zaaktype["omschrijving"] in {
        "Aanvraag parkeervergunning",
        "Melding openbare ruimte",
        "Aanvraag Wmo-voorziening",
        "Bezwaar WOZ-beschikking",
    }


async def test_accept_crs_is_required(client: httpx.AsyncClient, zaken_url: str) -> None:
    resp = await client.get(f"{zaken_url}/zaken/api/v1/zaken")
    assert resp.status_code == 412
    assert resp.headers["content-type"].startswith("application/problem+json")


async def test_status_can_be_changed_for_tests(client: httpx.AsyncClient, zaken_url: str) -> None:
    page = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/zaken",
            params={
                "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": "999990639",
                "einddatum__isnull": "true",
            },
            headers=CRS,
        )
    ).json()
    if not page["results"]:
        page = (
            await client.get(
                f"{zaken_url}/zaken/api/v1/zaken", params={"einddatum__isnull": "true"}, headers=CRS
            )
        ).json()
    zaak = page["results"][0]
    zaaktype = (await client.get(zaak["zaaktype"])).json()
    eind = zaaktype["statustypen"][-1]
    resp = await client.post(f"{zaken_url}/_sim/zaken/{zaak['uuid']}/status", json={"statustype": eind})
    assert resp.status_code == 201
    after = (await client.get(zaak["url"], headers=CRS)).json()
    assert after["status"] == resp.json()["url"]
    assert after["einddatum"] is not None
    assert after["resultaat"] is not None


async def test_pagination_links(world: World) -> None:
    from dgkb.simulators import zaken
    from dgkb.simulators.serve import serve_in_background

    async with (
        serve_in_background(zaken.create_app(world, page_size=2)) as (_, url),
        httpx.AsyncClient() as c,
    ):
        first = (await c.get(f"{url}/zaken/api/v1/zaken", headers=CRS)).json()
        assert first["previous"] is None
        assert len(first["results"]) == 2
        second = (await c.get(first["next"], headers=CRS)).json()
        assert second["previous"] is not None
        assert first["count"] == len(world.zaken()) + len(world.company_zaken())


async def test_page_size_is_honoured_up_to_500(world: World) -> None:
    from dgkb.simulators import zaken
    from dgkb.simulators.serve import serve_in_background

    async with (
        serve_in_background(zaken.create_app(world, page_size=2)) as (_, url),
        httpx.AsyncClient() as c,
    ):
        page = (await c.get(f"{url}/zaken/api/v1/zaken", params={"pageSize": 7}, headers=CRS)).json()
        assert len(page["results"]) == 7
        assert "pageSize=7" in page["next"]
    big_world = build_world(persons=400)
    total = len(big_world.zaken()) + len(big_world.company_zaken())
    assert total > 500
    async with (
        serve_in_background(zaken.create_app(big_world, page_size=2)) as (_, url),
        httpx.AsyncClient() as c,
    ):
        big = (await c.get(f"{url}/zaken/api/v1/zaken", params={"pageSize": 100000}, headers=CRS)).json()
        assert len(big["results"]) == 500  # capped, as Open Zaak does
        assert big["next"] is not None
        bad = (await c.get(f"{url}/zaken/api/v1/zaken", params={"pageSize": "x"}, headers=CRS)).json()
        assert len(bad["results"]) == 2  # the default


async def test_company_zaken_by_innnnpid_and_vestigingsnummer_validate(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    spec = openapi(SPEC)
    company = world.company(world.special["two_branches"])
    assert company is not None
    assert company.zaken
    resp = await client.get(
        f"{zaken_url}/zaken/api/v1/zaken",
        params={
            "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId": company.kvk_nummer,
            "expand": "rollen",
        },
        headers=CRS,
    )
    page = resp.json()
    assert spec.errors(page, "PaginatedZaakList") == []
    assert {z["identificatie"] for z in page["results"]} == {z.identificatie for z in company.zaken}
    for zaak in page["results"]:
        rollen = zaak["_expand"]["rollen"]
        assert [r["url"] for r in rollen] == zaak["rollen"]
        initiator = next(r for r in rollen if r["omschrijvingGeneriek"] == "initiator")
        assert initiator["betrokkeneType"] == "niet_natuurlijk_persoon"
        assert initiator["betrokkeneIdentificatie"]["innNnpId"] == company.kvk_nummer
    vestiging = company.vestigingen[1].vestigingsnummer
    by_branch = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/zaken",
            params={"rol__betrokkeneIdentificatie__vestiging__vestigingsNummer": vestiging},
            headers=CRS,
        )
    ).json()
    assert by_branch["count"] >= 1
    assert {z["identificatie"] for z in by_branch["results"]} <= {z.identificatie for z in company.zaken}
    rollen = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/rollen",
            params={"betrokkeneIdentificatie__vestiging__vestigingsNummer": vestiging},
        )
    ).json()
    assert spec.errors(rollen, "PaginatedRolList") == []
    assert rollen["results"]
    assert all(r["betrokkeneIdentificatie"]["kvkNummer"] == company.kvk_nummer for r in rollen["results"])


async def test_ignore_filters_switch_returns_every_zaak(client: httpx.AsyncClient, world: World) -> None:
    from dgkb.simulators import zaken
    from dgkb.simulators.serve import serve_in_background

    params = {"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": "999993653"}
    async with serve_in_background(zaken.create_app(world)) as (_, url):
        honest = (await client.get(f"{url}/zaken/api/v1/zaken", params=params, headers=CRS)).json()
        switched = await client.post(f"{url}/_sim/behaviour", json={"ignoreFilters": True})
        assert switched.json()["ignoreFilters"] is True
        leaky = (await client.get(f"{url}/zaken/api/v1/zaken", params=params, headers=CRS)).json()
        assert leaky["count"] == len(world.zaken()) + len(world.company_zaken()) > honest["count"]
        bad = await client.post(f"{url}/_sim/behaviour", json={"ignoreFilters": "ja"})
        assert bad.status_code == 400
        await client.post(f"{url}/_sim/behaviour", json={"ignoreFilters": False, "latencyMs": 0})
        assert (await client.get(f"{url}/_sim/behaviour")).json()["ignoreFilters"] is False


async def test_zaken_of_a_behandelaar_validate(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    page = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/zaken",
            params={
                "rol__betrokkeneIdentificatie__medewerker__identificatie": "behandelaar-bram",
                # (the helper cannot follow the spec's external $ref of an expanded zaaktype)
                "expand": "rollen",
                "pageSize": "500",
            },
            headers=CRS,
        )
    ).json()
    assert spec.errors(page, "PaginatedZaakList") == []
    assert "ZAAK-2026-0000006" in {z["identificatie"] for z in page["results"]}
    for zaak in page["results"]:
        assert zaak["einddatum"] is None
        behandelaar = next(r for r in zaak["_expand"]["rollen"] if r["omschrijvingGeneriek"] == "behandelaar")
        assert behandelaar["betrokkeneType"] == "medewerker"
        assert behandelaar["betrokkeneIdentificatie"]["identificatie"] == "behandelaar-bram"
    rollen = (
        await client.get(
            f"{zaken_url}/zaken/api/v1/rollen",
            params={"betrokkeneIdentificatie__medewerker__identificatie": "behandelaar-bram"},
        )
    ).json()
    assert spec.errors(rollen, "PaginatedRolList") == []
    assert rollen["count"] == page["count"]
