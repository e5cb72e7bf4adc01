"""Writes of digitale adressen at the Klantinteracties simulator (Mijn profiel), against the
Klantinteracties API 0.9 spec and what Open Klant adds: the required links, `adres` checked against
its `soortDigitaalAdres`, `isStandaardAdres` only for a partij's address, the partij's preferred
address, and 400 with `invalidParams` naming each field. Its own module: these tests write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from .conftest import KI_AUTH, OpenApi

SPEC = "klantinteracties/openapi.yaml"
API = "/klantinteracties/api/v1"
BSN = "999993653"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5, headers=KI_AUTH) as c:
        yield c


async def partij(client: httpx.AsyncClient, url: str, bsn: str = BSN) -> dict[str, Any]:
    page = (
        await client.get(
            f"{url}{API}/partijen",
            params={
                "partijIdentificator__codeSoortObjectId": "bsn",
                "partijIdentificator__objectId": bsn,
                "expand": "digitaleAdressen",
            },
        )
    ).json()
    return dict(page["results"][0])


def body(partij_uuid: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "verstrektDoorPartij": {"uuid": partij_uuid} if partij_uuid else None,
        "verstrektDoorBetrokkene": None,
        "adres": "nieuw@voorbeeld.nl",
        "soortDigitaalAdres": "email",
        **fields,
    }


def names(resp: httpx.Response) -> set[str]:
    assert resp.status_code == 400, resp.text
    return {p["name"] for p in resp.json()["invalidParams"]}


async def test_a_new_address_of_a_partij_validates_and_is_listed(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    p = await partij(client, ki_url)
    resp = await client.post(
        f"{ki_url}{API}/digitaleadressen",
        json=body(
            p["uuid"],
            adres="+31612340000",
            soortDigitaalAdres="telefoonnummer",
            verificatieDatum="2026-12-01",
        ),
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert spec.errors(created, "DigitaalAdres") == []
    assert created["verstrektDoorPartij"]["uuid"] == p["uuid"]
    assert created["verificatieDatum"] == "2026-12-01"
    after = await partij(client, ki_url)
    assert created["uuid"] in [a["uuid"] for a in after["digitaleAdressen"]]
    assert created["uuid"] in [a["uuid"] for a in after["_expand"]["digitaleAdressen"]]
    listed = (await client.get(f"{ki_url}{API}/digitaleadressen", params={"adres": "+31612340000"})).json()
    assert [a["uuid"] for a in listed["results"]] == [created["uuid"]]
    # it can be the partij's preferred address now
    patched = await client.patch(
        f"{ki_url}{API}/partijen/{p['uuid']}", json={"voorkeursDigitaalAdres": {"uuid": created["uuid"]}}
    )
    assert patched.status_code == 200, patched.text
    # and deleted: gone from the partij, which then prefers none
    gone = await client.delete(f"{ki_url}{API}/digitaleadressen/{created['uuid']}")
    assert gone.status_code == 204
    assert (await client.get(f"{ki_url}{API}/digitaleadressen/{created['uuid']}")).status_code == 404
    after = await partij(client, ki_url)
    assert created["uuid"] not in [a["uuid"] for a in after["digitaleAdressen"]]
    assert after["voorkeursDigitaalAdres"] is None
    assert (await client.delete(f"{ki_url}{API}/digitaleadressen/{created['uuid']}")).status_code == 404


async def test_required_fields_and_enum(client: httpx.AsyncClient, ki_url: str) -> None:
    url = f"{ki_url}{API}/digitaleadressen"
    # Open Klant wants both links present (null is fine), adres and soort are the spec's own
    assert names(await client.post(url, json={})) == {
        "verstrektDoorPartij",
        "verstrektDoorBetrokkene",
        "adres",
        "soortDigitaalAdres",
    }
    assert names(await client.post(url, json=body(None, soortDigitaalAdres="fax"))) == {"soortDigitaalAdres"}
    assert names(await client.post(url, json=body(None, adres="x" * 76 + "@a.nl"))) == {"adres"}
    assert names(await client.post(url, json=body(None, omschrijving="o" * 41))) == {"omschrijving"}
    assert names(await client.post(url, json=body(None, referentie="met spatie"))) == {"referentie"}
    assert names(await client.post(url, json=body(None, verificatieDatum="gisteren"))) == {"verificatieDatum"}
    assert names(await client.post(url, json=[])) == {"nonFieldErrors"}


@pytest.mark.parametrize(
    ("soort", "adres", "ok"),
    [
        ("email", "naam@voorbeeld.nl", True),
        ("email", "geen-adres", False),
        ("email", "naam@@voorbeeld.nl", False),
        ("telefoonnummer", "0612345678", True),
        ("telefoonnummer", "+31612345678", True),
        ("telefoonnummer", "0031612345678", True),
        ("telefoonnummer", "06-12345678", False),
        ("telefoonnummer", "0800123456", False),
        ("telefoonnummer", "0900123456", False),
        ("telefoonnummer", "14020", False),
        ("overig", "@voorbeeld op sociale media", True),
    ],
)
async def test_adres_is_checked_against_its_soort(
    client: httpx.AsyncClient, ki_url: str, soort: str, adres: str, ok: bool
) -> None:
    resp = await client.post(
        f"{ki_url}{API}/digitaleadressen", json=body(None, adres=adres, soortDigitaalAdres=soort)
    )
    if ok:
        assert resp.status_code == 201, resp.text
    else:
        assert names(resp) == {"adres"}


async def test_links_must_exist_and_standard_needs_a_partij(client: httpx.AsyncClient, ki_url: str) -> None:
    url = f"{ki_url}{API}/digitaleadressen"
    unknown = "00000000-0000-4000-8000-000000000000"
    resp = await client.post(url, json=body(unknown))
    assert names(resp) == {"verstrektDoorPartij"}
    assert resp.json()["invalidParams"][0]["code"] == "does_not_exist"
    resp = await client.post(url, json={**body(None), "verstrektDoorBetrokkene": {"uuid": unknown}})
    assert names(resp) == {"verstrektDoorBetrokkene"}
    assert names(await client.post(url, json=body(None, isStandaardAdres=True))) == {"isStandaardAdres"}


async def test_a_standard_address_is_the_partijs_only_one_of_its_soort(
    client: httpx.AsyncClient, ki_url: str
) -> None:
    p = await partij(client, ki_url, "999990639")
    url = f"{ki_url}{API}/digitaleadressen"
    first = (
        await client.post(url, json=body(p["uuid"], adres="een@voorbeeld.nl", isStandaardAdres=True))
    ).json()
    second = (
        await client.post(url, json=body(p["uuid"], adres="twee@voorbeeld.nl", isStandaardAdres=True))
    ).json()
    after = await partij(client, ki_url, "999990639")
    standard = [
        a["uuid"]
        for a in after["_expand"]["digitaleAdressen"]
        if a["soortDigitaalAdres"] == "email" and a["isStandaardAdres"]
    ]
    assert standard == [second["uuid"]]
    assert first["uuid"] in [a["uuid"] for a in after["digitaleAdressen"]]


async def test_a_partij_prefers_only_its_own_address(client: httpx.AsyncClient, ki_url: str) -> None:
    mine, other = await partij(client, ki_url), await partij(client, ki_url, "999990639")
    foreign = other["_expand"]["digitaleAdressen"][0]["uuid"]
    resp = await client.patch(
        f"{ki_url}{API}/partijen/{mine['uuid']}", json={"voorkeursDigitaalAdres": {"uuid": foreign}}
    )
    assert names(resp) == {"voorkeursDigitaalAdres"}
    assert names(
        await client.patch(f"{ki_url}{API}/partijen/{mine['uuid']}", json={"voorkeurstaal": "nederlands"})
    ) == {"voorkeurstaal"}
