"""The Notificaties simulator behaves as Open Notificaties 1.16 (see its module docstring for each
deviation from the Notificaties API 1.0 spec and its source), and the Klantinteracties simulator
publishes what Open Klant 2.x publishes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dgkb.simulators import klantinteracties, notificaties
from dgkb.simulators.notificaties import API_PATH
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World
from tests.simulators.conftest import OpenApi

KI = klantinteracties.BASE_PATH
BSN = "999993653"


@dataclass
class Callback:
    """A consumer's callback endpoint: `/ok` answers 204; `/kapot` answers the `test` probe and then
    503 (a consumer that went down after subscribing); what arrived is kept."""

    url: str
    received: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"ok": [], "kapot": []})


@pytest.fixture
async def callback() -> AsyncIterator[Callback]:
    box = Callback(url="")

    async def ok(request: Request) -> Response:
        box.received["ok"].append(await request.json())
        return Response(status_code=204)

    async def kapot(request: Request) -> Response:
        body = await request.json()
        box.received["kapot"].append(body)
        return Response(status_code=204 if body.get("kanaal") == "test" else 503)

    app = Starlette(routes=[Route("/ok", ok, methods=["POST"]), Route("/kapot", kapot, methods=["POST"])])
    async with serve_in_background(app) as (_, url):
        box.url = url
        yield box


@pytest.fixture
async def routing() -> AsyncIterator[Callable[..., Any]]:
    """routing(**create_app kwargs) -> base URL (…/api/v1) of a running Notificaties simulator that
    runs a round only when asked, unless `interval_seconds` says otherwise."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**kwargs: Any) -> str:
            kwargs.setdefault("interval_seconds", 0)
            app = notificaties.create_app(**kwargs)
            _, url = await stack.enter_async_context(serve_in_background(app, lifespan="on"))
            return f"{url}{API_PATH}"

        yield start


def message(kanaal: str, kenmerken: dict[str, Any], **extra: Any) -> dict[str, Any]:
    url = f"http://open-klant.example/klantinteracties/api/v1/{kanaal}/8c2f3a1e-0000-4000-8000-000000000001"
    return {
        "kanaal": kanaal,
        "hoofdObject": url,
        "resource": {"zaken": "status", "partijen": "partij", "internetaken": "internetaak"}.get(
            kanaal, "klantcontact"
        ),
        "resourceUrl": url,
        "actie": "partial_update",
        "aanmaakdatum": datetime.now(UTC).isoformat(),
        "kenmerken": kenmerken,
        **extra,
    }


async def subscribe(c: httpx.AsyncClient, api: str, callback: str, kanalen: list[dict[str, Any]]) -> str:
    resp = await c.post(
        f"{api}/abonnement", json={"callbackUrl": callback, "auth": "Bearer t", "kanalen": kanalen}
    )
    assert resp.status_code == 201, resp.text
    assert "auth" not in resp.json(), "auth is write-only"
    return str(resp.json()["url"])


async def round_(c: httpx.AsyncClient, api: str) -> list[dict[str, Any]]:
    base = api.removesuffix(API_PATH)
    data: list[dict[str, Any]] = (await c.post(f"{base}/_sim/scheduler")).json()
    return data


async def scheduled(c: httpx.AsyncClient, api: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await c.get(f"{api.removesuffix(API_PATH)}/_sim/scheduled")).json()
    return data


async def test_kenmerken_are_taken_as_open_notificaties_takes_them(
    routing: Callable[..., Any], client: httpx.AsyncClient
) -> None:
    api = await routing()
    # Open Klant's klantcontacten kenmerken: a boolean and null are no string for Open Notificaties
    refused = await client.post(
        f"{api}/notificaties",
        json=message(
            "klantcontacten",
            {"hoofdOnderwerpType": "", "indicatieContactGelukt": None, "verdereActieOndernomen": False},
        ),
    )
    assert refused.status_code == 400
    assert {(p["name"], p["code"]) for p in refused.json()["invalidParams"]} == {
        ("kenmerken.indicatieContactGelukt", "null"),
        ("kenmerken.verdereActieOndernomen", "invalid"),
    }
    # an empty value is accepted (allow_blank), a number is taken as a string
    taken = await client.post(
        f"{api}/notificaties",
        json=message("partijen", {"nummer": 1298329191, "interneNotitie": "", "soortPartij": "persoon"}),
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["kenmerken"] == {
        "nummer": "1298329191",
        "interneNotitie": "",
        "soortPartij": "persoon",
    }
    # kenmerken must be consistent with the kanaal's filters: one set contains the other
    subset = await client.post(f"{api}/notificaties", json=message("zaken", {"bronorganisatie": "123456782"}))
    assert subset.status_code == 200
    other = await client.post(
        f"{api}/notificaties", json=message("zaken", {"bronorganisatie": "123456782", "bsn": "999993653"})
    )
    assert other.status_code == 400
    assert other.json()["invalidParams"][0]["code"] == "kenmerken_inconsistent"
    unknown = await client.post(f"{api}/notificaties", json=message("onbekend", {}))
    assert unknown.status_code == 400
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    late = await client.post(f"{api}/notificaties", json=message("zaken", {}, aanmaakdatum=future))
    assert late.status_code == 400
    assert late.json()["invalidParams"][0]["name"] == "aanmaakdatum"


async def test_the_spec_says_a_kenmerk_is_a_non_empty_string(openapi: Callable[[str], OpenApi]) -> None:
    """The deviation modelled above is one: the 1.0 OAS gives a kenmerk minLength 1."""
    spec = openapi("notificaties/openapi.yaml").resolve("#/components/schemas/Message")
    assert spec["properties"]["kenmerken"]["additionalProperties"]["type"] == "string"
    assert spec["properties"]["kenmerken"]["additionalProperties"]["minLength"] == 1


async def test_delivery_waits_for_a_scheduler_round(
    routing: Callable[..., Any], callback: Callback, client: httpx.AsyncClient
) -> None:
    api = await routing()
    assert (await client.post(f"{api}/notificaties", json=message("internetaken", {}))).status_code == 200
    assert callback.received["ok"] == [], "answered at once, delivered later"
    assert [(s["kanaal"], s["due"], s["attempt"]) for s in await scheduled(client, api)] == [
        ("internetaken", True, 0)
    ]
    # whom a message goes to is decided when its round runs: a later abonnement gets it too
    await subscribe(client, api, f"{callback.url}/ok", [{"naam": "internetaken"}])
    callback.received["ok"].clear()  # the probe
    done = await round_(client, api)
    assert [(d["callbackUrl"], d["status"], d["attempts"]) for d in done] == [(f"{callback.url}/ok", 204, 1)]
    assert [m["kanaal"] for m in callback.received["ok"]] == ["internetaken"]
    assert await scheduled(client, api) == []
    assert await round_(client, api) == []


async def test_abonnement_filters_as_open_notificaties_matches_them(
    routing: Callable[..., Any], callback: Callback, client: httpx.AsyncClient
) -> None:
    api = await routing()
    inconsistent = await client.post(
        f"{api}/abonnement",
        json={
            "callbackUrl": f"{callback.url}/ok",
            "auth": "Bearer t",
            "kanalen": [{"naam": "zaken", "filters": {"bsn": "999993653", "postcode": "1234AB"}}],
        },
    )
    assert inconsistent.status_code == 400
    assert inconsistent.json()["invalidParams"][0]["code"] == "inconsistent-abonnement-filters"
    await subscribe(
        client,
        api,
        f"{callback.url}/ok",
        [{"naam": "zaken", "filters": {"vertrouwelijkheidaanduiding": "openbaar"}}],
    )
    callback.received["ok"].clear()
    for aanduiding in ("zaakvertrouwelijk", "openbaar"):
        sent = message("zaken", {"bronorganisatie": "1", "vertrouwelijkheidaanduiding": aanduiding})
        assert (await client.post(f"{api}/notificaties", json=sent)).status_code == 200
    # a filter applies only to a kenmerk the message carries
    assert (
        await client.post(f"{api}/notificaties", json=message("zaken", {"bronorganisatie": "1"}))
    ).status_code == 200
    await round_(client, api)
    assert [m["kenmerken"].get("vertrouwelijkheidaanduiding") for m in callback.received["ok"]] == [
        "openbaar",
        None,
    ]


async def test_the_beat_runs_rounds_by_itself(
    routing: Callable[..., Any], callback: Callback, client: httpx.AsyncClient
) -> None:
    api = await routing(interval_seconds=0.05)
    await subscribe(client, api, f"{callback.url}/ok", [{"naam": "zaken"}])
    callback.received["ok"].clear()
    assert (await client.post(f"{api}/notificaties", json=message("zaken", {}))).status_code == 200
    for _ in range(250):
        if callback.received["ok"]:
            break
        await asyncio.sleep(0.02)
    assert [m["kanaal"] for m in callback.received["ok"]] == ["zaken"]


async def test_retries_only_the_failed_abonnement_after_the_backoff(
    routing: Callable[..., Any], callback: Callback, client: httpx.AsyncClient
) -> None:
    """Two abonnementen, one of which went down after its probe; a round delivers to both, the next
    round (once the backoff has passed) only to the broken one; with the default backoff of 25 s the
    next round has nothing due yet."""
    for backoff, retried in ((0.0, True), (25.0, False)):
        api = await routing(retry_backoff_seconds=backoff)
        await subscribe(client, api, f"{callback.url}/ok", [{"naam": "partijen"}])
        await subscribe(client, api, f"{callback.url}/kapot", [{"naam": "partijen"}])
        callback.received = {"ok": [], "kapot": []}
        assert (await client.post(f"{api}/notificaties", json=message("partijen", {}))).status_code == 200
        first = await round_(client, api)
        assert sorted(d["status"] for d in first) == [204, 503]
        pending = await scheduled(client, api)
        assert [(p["attempt"], p["due"]) for p in pending] == [(1, retried)]
        second = await round_(client, api)
        if retried:
            assert [(d["callbackUrl"], d["attempts"]) for d in second] == [(f"{callback.url}/kapot", 2)]
        else:
            assert second == []
        assert len(callback.received["ok"]) == 1, "the abonnement that got it is not sent it again"


async def _published(client: httpx.AsyncClient, ki: str, count: int) -> list[dict[str, Any]]:
    """What the Klantinteracties simulator published (it does so in the background), once `count`
    messages have been answered."""
    for _ in range(250):
        log: list[dict[str, Any]] = (await client.get(f"{ki}/_sim/notificaties")).json()
        if len(log) >= count:
            return log
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} notifications published: {log}")


async def test_open_klant_publishes_every_write_and_open_notificaties_refuses_its_klantcontacten(
    routing: Callable[..., Any], world: World, client: httpx.AsyncClient
) -> None:
    api = await routing()
    app = klantinteracties.create_app(world, token="contract-token", notificaties_url=api)
    client.headers["Authorization"] = "Token contract-token"  # Open Klant's token auth
    async with serve_in_background(app, lifespan="on") as (_, ki):
        base = f"{ki}{KI}"
        partij = (await client.get(f"{base}/partijen", params={"partijIdentificator__objectId": BSN})).json()[
            "results"
        ][0]
        contacten = (
            await client.get(
                f"{base}/klantcontacten", params={"hadBetrokkene__wasPartij__uuid": partij["uuid"]}
            )
        ).json()["results"]
        taak = (
            await client.get(f"{base}/internetaken", params={"klantcontact__uuid": contacten[0]["uuid"]})
        ).json()["results"][0]

        changed = await client.patch(taak["url"], json={"status": "verwerkt"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["status"] == "verwerkt"
        telefoon = next(
            a for a in partij["digitaleAdressen"] if a["uuid"] != partij["voorkeursDigitaalAdres"]["uuid"]
        )
        changed = await client.patch(
            partij["url"], json={"voorkeursDigitaalAdres": {"uuid": telefoon["uuid"]}}
        )
        assert changed.status_code == 200, changed.text
        foreign = await client.patch(
            partij["url"], json={"voorkeursDigitaalAdres": {"uuid": "00000000-0000-4000-8000-000000000000"}}
        )
        assert foreign.status_code == 400, "a preferred address must be one of the partij's own"
        new_contact = await client.post(
            f"{base}/klantcontacten",
            json={"kanaal": "e-mail", "onderwerp": "Vraag", "taal": "nld", "vertrouwelijk": False},
        )
        assert new_contact.status_code == 201
        betrokkene = await client.post(
            f"{base}/betrokkenen",
            json={
                "hadKlantcontact": {"uuid": new_contact.json()["uuid"]},
                "wasPartij": {"uuid": partij["uuid"]},
                "rol": "klant",
                "initiator": True,
            },
        )
        assert betrokkene.status_code == 201
        log = await _published(client, ki, 3)
        assert sorted((n["kanaal"], n["resource"], n["actie"], n["status"]) for n in log) == [
            ("internetaken", "internetaak", "partial_update", 200),
            ("klantcontacten", "klantcontact", "create", 400),  # boolean / null kenmerken
            ("partijen", "partij", "partial_update", 200),
        ], "one per write of a partij, interne taak or klantcontact; none for a betrokkene"
        assert {n["resourceUrl"] for n in log} == {taak["url"], partij["url"], new_contact.json()["url"]}
        received = {
            r["body"]["kanaal"]: r["body"]
            for r in (await client.get(f"{api.removesuffix(API_PATH)}/_sim/requests")).json()
            if r["path"].endswith("/notificaties")
        }
    assert received["partijen"]["hoofdObject"] == partij["url"]
    assert received["partijen"]["kenmerken"] == {
        "nummer": partij["nummer"],
        "interneNotitie": "",  # empty, as Open Klant sends it
        "soortPartij": "persoon",
    }
    assert received["internetaken"]["kenmerken"]["status"] == "verwerkt"
    assert received["klantcontacten"]["kenmerken"] == {
        "hoofdOnderwerpType": "",
        "indicatieContactGelukt": None,
        "verdereActieOndernomen": False,
    }
    assert sorted(s["kanaal"] for s in await scheduled(client, api)) == ["internetaken", "partijen"]
