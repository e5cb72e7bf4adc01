"""The Zaken simulator's zaakinformatieobjecten and opschorting against the ZGW Zaken API 1.5.1 spec."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import jwt

from dgkb.simulators import zaken
from dgkb.simulators.common import ZgwJwtVerifier
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World, wacht_op_aanvulling, zaak_documenten

from .conftest import OpenApi

SPEC = "zaken/openapi-1.5.1.yaml"
CRS = {"Accept-Crs": "EPSG:4326"}
BSN = "999993653"  # the demo customer: a closed zaak with documents, an open one waiting for one


async def _zaken(client: httpx.AsyncClient, zaken_url: str, bsn: str = BSN) -> list[dict]:
    page = await client.get(
        f"{zaken_url}/zaken/api/v1/zaken",
        params={"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": bsn},
        headers=CRS,
    )
    assert page.status_code == 200
    return list(page.json()["results"])


async def test_zaakinformatieobjecten_of_a_zaak_validate(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    spec = openapi(SPEC)
    closed = next(z for z in await _zaken(client, zaken_url) if z["einddatum"])
    resp = await client.get(
        f"{zaken_url}/zaken/api/v1/zaakinformatieobjecten", params={"zaak": closed["url"]}
    )
    assert resp.status_code == 200
    assert resp.headers["api-version"] == "1.5.1"
    body = resp.json()
    assert isinstance(body, list), "the spec's list is a plain array, not paginated"
    assert body, "a closed zaak has its documents"
    for item in body:
        assert spec.errors(item, "ZaakInformatieObject") == []
        assert item["zaak"] == closed["url"]
    # the zaak lists the same relations; the titles are the world's
    assert closed["zaakinformatieobjecten"] == [i["url"] for i in body]
    zaak = next(z for p in world.persons for z in p.zaken if z.uuid == closed["uuid"])
    expected = zaak_documenten(zaak, world.zaaktype(zaak.zaaktype_uuid))
    assert [i["titel"] for i in body] == [d.titel for d in expected]
    # each relation names the status it belongs to, and that status lists it
    for item in body:
        status = (await client.get(item["status"])).json()
        assert item["url"] in status["zaakinformatieobjecten"]
        assert spec.errors(status, "Status") == []
    # the detail of one relation, and the filter on the document
    detail = await client.get(body[0]["url"])
    assert detail.status_code == 200
    assert detail.json() == body[0]
    by_document = await client.get(
        f"{zaken_url}/zaken/api/v1/zaakinformatieobjecten",
        params={"informatieobject": body[0]["informatieobject"]},
    )
    assert [i["url"] for i in by_document.json()] == [body[0]["url"]]


async def test_zaakinformatieobjecten_filters_are_strict(client: httpx.AsyncClient, zaken_url: str) -> None:
    bad = await client.get(f"{zaken_url}/zaken/api/v1/zaakinformatieobjecten", params={"zaak": "geen-url"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in bad.json()["invalidParams"]] == ["zaak"]
    unknown = await client.get(
        f"{zaken_url}/zaken/api/v1/zaakinformatieobjecten",
        params={"zaak": f"{zaken_url}/zaken/api/v1/zaken/00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 200
    assert unknown.json() == []
    missing = await client.get(
        f"{zaken_url}/zaken/api/v1/zaakinformatieobjecten/00000000-0000-0000-0000-000000000000"
    )
    assert missing.status_code == 404


async def test_a_zaak_waiting_for_the_customer_is_suspended(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    spec = openapi(SPEC)
    zaken_ = await _zaken(client, zaken_url)
    waiting = [z for z in zaken_ if z["opschorting"]["indicatie"]]
    assert waiting, "the demo customer's newest open zaak waits for a document"
    assert all(z["einddatum"] is None for z in waiting)
    assert waiting[0]["opschorting"]["reden"].startswith("Wacht op aanvulling: ")
    assert spec.errors(waiting[0], "Zaak") == []
    # every other zaak has the group, not suspended (as Open Zaak renders it)
    others = [z for z in zaken_ if not z["opschorting"]["indicatie"]]
    assert all(z["opschorting"] == {"indicatie": False, "reden": ""} for z in others)
    # only open zaken of zaaktypen that ask for documents are ever suspended
    for person in world.persons[:40]:
        for zaak in person.zaken:
            reden = wacht_op_aanvulling(zaak, world.zaaktype(zaak.zaaktype_uuid))
            assert reden is None or zaak.is_open


async def test_zaakinformatieobjecten_need_a_token_like_the_rest(world: World) -> None:
    secret = "test-zgw-geheim-van-een-client-van-dgkb"
    verifier = ZgwJwtVerifier({"dgkb-test": secret})
    async with (
        serve_in_background(zaken.create_app(world, zgw_auth=verifier)) as (_, url),
        httpx.AsyncClient(timeout=5) as client,
    ):
        path = f"{url}/zaken/api/v1/zaakinformatieobjecten"
        without = await client.get(path)
        assert without.status_code == 403
        claims = {"iss": "dgkb-test", "client_id": "dgkb-test", "iat": int(time.time())}
        token = jwt.encode(claims, secret, algorithm="HS256")
        allowed = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
