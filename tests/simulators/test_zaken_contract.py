"""The Zaken simulator against the ZGW Zaken API 1.5.1 spec."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from dgkb.simulators.world import World

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
        assert first["count"] == len(world.zaken())
