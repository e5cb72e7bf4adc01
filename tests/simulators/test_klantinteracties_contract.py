"""The Klantinteracties simulator against the Klantinteracties API 0.9 spec of Open Klant 2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "klantinteracties/openapi.yaml"
API = "/klantinteracties/api/v1"


async def partij_of(client: httpx.AsyncClient, url: str, bsn: str) -> dict[str, Any]:
    resp = await client.get(
        f"{url}{API}/partijen",
        params={"partijIdentificator__codeSoortObjectId": "bsn", "partijIdentificator__objectId": bsn},
    )
    assert resp.status_code == 200
    return dict(resp.json())


async def test_reads_validate(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    page = await partij_of(client, ki_url, "999993653")
    assert spec.errors(page, "PaginatedExpandPartijList") == []
    assert page["count"] == 1
    partij = page["results"][0]
    adressen = (
        await client.get(
            f"{ki_url}{API}/digitaleadressen", params={"verstrektDoorPartij__uuid": partij["uuid"]}
        )
    ).json()
    assert spec.errors(adressen, "PaginatedExpandDigitaalAdresList") == []
    assert {a["soortDigitaalAdres"] for a in adressen["results"]} == {"email", "telefoonnummer"}
    contacten = (
        await client.get(
            f"{ki_url}{API}/klantcontacten",
            params={
                "hadBetrokkene__wasPartij__uuid": partij["uuid"],
                "expand": "gingOverOnderwerpobjecten,leiddeTotInterneTaken,hadBetrokkenen",
            },
        )
    ).json()
    assert spec.errors(contacten, "PaginatedExpandKlantcontactList") == []
    assert contacten["count"] == 3
    taken = [t for c in contacten["results"] for t in c["_expand"]["leiddeTotInterneTaken"]]
    assert any(t["status"] == "te_verwerken" for t in taken)
    one = (
        await client.get(
            f"{ki_url}{API}/internetaken",
            params={"aanleidinggevendKlantcontact__uuid": taken[0]["aanleidinggevendKlantcontact"]["uuid"]},
        )
    ).json()
    assert spec.errors(one, "PaginatedInterneTaakList") == []


async def test_person_without_partij(client: httpx.AsyncClient, ki_url: str, world: World) -> None:
    assert (await partij_of(client, ki_url, world.no_partij_bsn))["count"] == 0


async def test_write_a_contact_moment(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    spec = openapi(SPEC)
    partij = (await partij_of(client, ki_url, "999990639"))["results"][0]
    resp = await client.post(
        f"{ki_url}{API}/klantcontacten",
        json={
            "kanaal": "telefoon",
            "onderwerp": "Vraag over parkeren",
            "inhoud": "Uitleg gegeven.",
            "taal": "nld",
            "vertrouwelijk": False,
            "indicatieContactGelukt": True,
        },
    )
    assert resp.status_code == 201, resp.text
    contact = resp.json()
    assert spec.errors(contact, "Klantcontact") == []
    betrokkene = await client.post(
        f"{ki_url}{API}/betrokkenen",
        json={
            "hadKlantcontact": {"uuid": contact["uuid"]},
            "wasPartij": {"uuid": partij["uuid"]},
            "rol": "klant",
            "initiator": True,
        },
    )
    assert betrokkene.status_code == 201, betrokkene.text
    assert spec.errors(betrokkene.json(), "Betrokkene") == []
    onderwerp = await client.post(
        f"{ki_url}{API}/onderwerpobjecten",
        json={
            "klantcontact": {"uuid": contact["uuid"]},
            "onderwerpobjectidentificator": {
                "objectId": "ZAAK-2026-0000001",
                "codeObjecttype": "zaak",
                "codeRegister": "openzaak",
                "codeSoortObjectId": "zaak",
            },
        },
    )
    assert onderwerp.status_code == 201, onderwerp.text
    taak = await client.post(
        f"{ki_url}{API}/internetaken",
        json={
            "gevraagdeHandeling": "Terugbellen",
            "aanleidinggevendKlantcontact": {"uuid": contact["uuid"]},
            "status": "te_verwerken",
            "toelichting": "Graag na 17 uur",
        },
    )
    assert taak.status_code == 201, taak.text
    assert spec.errors(taak.json(), "InterneTaak") == []
    contacten = (
        await client.get(
            f"{ki_url}{API}/klantcontacten",
            params={"hadBetrokkene__wasPartij__uuid": partij["uuid"], "expand": "leiddeTotInterneTaken"},
        )
    ).json()
    mine = next(c for c in contacten["results"] if c["uuid"] == contact["uuid"])
    assert mine["_expand"]["leiddeTotInterneTaken"][0]["gevraagdeHandeling"] == "Terugbellen"
    assert len(mine["gingOverOnderwerpobjecten"]) == 1


async def test_write_validation_names_the_field(client: httpx.AsyncClient, ki_url: str) -> None:
    resp = await client.post(
        f"{ki_url}{API}/klantcontacten",
        json={"kanaal": "telefoon", "onderwerp": "x" * 201, "vertrouwelijk": False},
    )
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    names = {p["name"]: p["code"] for p in resp.json()["invalidParams"]}
    assert names == {"onderwerp": "max_length", "taal": "required"}
    resp = await client.post(
        f"{ki_url}{API}/internetaken",
        json={
            "gevraagdeHandeling": "Terugbellen",
            "aanleidinggevendKlantcontact": {"uuid": "00000000-0000-0000-0000-000000000000"},
            "status": "open",
        },
    )
    assert resp.status_code == 400
    assert {p["name"] for p in resp.json()["invalidParams"]} == {"status"}
