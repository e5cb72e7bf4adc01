"""The Klantinteracties simulator against the Klantinteracties API 0.9 spec of Open Klant 2."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from dgkb.simulators.world import World

from .conftest import KI_AUTH, KI_TOKEN, OpenApi

SPEC = "klantinteracties/openapi.yaml"
API = "/klantinteracties/api/v1"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client that authenticates as Open Klant wants it: `Authorization: Token <key>`."""
    async with httpx.AsyncClient(timeout=5, headers=KI_AUTH) as c:
        yield c


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
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi], world: World
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
            "toegewezenAanActoren": [{"uuid": world.actoren[0].uuid}],
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


async def test_company_partij_with_kvk_and_vestigingsnummer_validates(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    spec = openapi(SPEC)
    company = world.company(world.special["two_branches"])
    assert company is not None
    page = (
        await client.get(
            f"{ki_url}{API}/partijen",
            params={
                "partijIdentificator__codeSoortObjectId": "kvk_nummer",
                "partijIdentificator__objectId": company.kvk_nummer,
            },
        )
    ).json()
    assert spec.errors(page, "PaginatedExpandPartijList") == []
    partij = page["results"][0]
    assert partij["soortPartij"] == "organisatie"
    assert partij["partijIdentificatie"] == {"naam": company.naam}
    soorten = {i["partijIdentificator"]["codeSoortObjectId"] for i in partij["partijIdentificatoren"]}
    assert {"kvk_nummer", "vestigingsnummer"} <= soorten
    branch = company.vestigingen[1].vestigingsnummer
    other = (
        await client.get(
            f"{ki_url}{API}/partijen",
            params={
                "partijIdentificator__codeSoortObjectId": "vestigingsnummer",
                "partijIdentificator__objectId": branch,
            },
        )
    ).json()
    assert spec.errors(other, "PaginatedExpandPartijList") == []
    ident = other["results"][0]["partijIdentificatoren"][0]
    parent = (await client.get(ident["subIdentificatorVan"]["url"])).json()
    assert spec.errors(parent, "PartijIdentificator") == []
    assert parent["partijIdentificator"]["objectId"] == company.kvk_nummer


async def test_digitale_adressen_by_adres_and_icontains(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    person = next(p for p in world.persons if p.telefoonnummers and p.partij_uuid)
    stored = person.telefoonnummers[0].adres
    exact = (await client.get(f"{ki_url}{API}/digitaleadressen", params={"adres": stored})).json()
    assert openapi(SPEC).errors(exact, "PaginatedExpandDigitaalAdresList") == []
    assert [a["adres"] for a in exact["results"]] == [stored]
    assert (await client.get(f"{ki_url}{API}/digitaleadressen", params={"adres": "+31" + stored[1:]})).json()[
        "count"
    ] == 0  # exact means exact
    part = (
        await client.get(f"{ki_url}{API}/digitaleadressen", params={"adres__icontains": stored[1:]})
    ).json()
    assert stored in [a["adres"] for a in part["results"]]
    email = next(p for p in world.persons if p.emailadressen).emailadressen[0].adres
    upper = (
        await client.get(f"{ki_url}{API}/digitaleadressen", params={"adres__icontains": email.upper()})
    ).json()
    assert email in [a["adres"] for a in upper["results"]]


@pytest.mark.slow  # thousands of addresses
async def test_extra_addresses_are_indexed_and_pages_capped_at_500(
    client: httpx.AsyncClient, world: World
) -> None:
    from dgkb.simulators import klantinteracties
    from dgkb.simulators.serve import serve_in_background

    app = klantinteracties.create_app(world, token=KI_TOKEN, extra_addresses=100_000)
    async with serve_in_background(app) as (_, url):
        page = (await client.get(f"{url}{API}/digitaleadressen", params={"pageSize": 10_000})).json()
        assert page["count"] >= 100_000
        assert len(page["results"]) == 500
        # every Open Klant spelling of a phone number occurs, and each is found by its core digits
        spellings = {a["adres"][:3] for a in page["results"] if a["soortDigitaalAdres"] == "telefoonnummer"}
        assert {"+31", "003"} <= spellings
        sample = page["results"][-1]
        detail = (await client.get(sample["url"])).json()
        assert detail == sample
        found = (
            await client.get(
                f"{url}{API}/digitaleadressen", params={"adres__icontains": sample["adres"][-9:]}
            )
        ).json()
        assert sample["uuid"] in [a["uuid"] for a in found["results"]]


async def test_every_api_call_needs_open_klants_token(ki_url: str, world: World) -> None:
    """Open Klant authenticates with `Authorization: Token <key>` (spec: securitySchemes.tokenAuth);
    no token, a bearer token (even the right key) or a wrong key is 401, as Open Klant answers."""
    partijen = f"{ki_url}{API}/partijen"
    async with httpx.AsyncClient(timeout=5) as c:
        for headers, code, title in (
            ({}, "not_authenticated", "Authenticatiegegevens zijn niet opgegeven."),
            (
                {"Authorization": f"Bearer {KI_TOKEN}"},
                "not_authenticated",
                "Authenticatiegegevens zijn niet opgegeven.",
            ),
            ({"Authorization": "Token niet-de-sleutel"}, "authentication_failed", "Ongeldige token."),
            (
                {"Authorization": "Token"},
                "authentication_failed",
                "Ongeldige token header. Geen credentials meegegeven.",
            ),
        ):
            resp = await c.get(partijen, headers=headers)
            assert resp.status_code == 401, headers
            assert resp.headers["www-authenticate"] == "Token"
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert (resp.json()["code"], resp.json()["title"]) == (code, title)
            refused = await c.post(f"{ki_url}{API}/klantcontacten", headers=headers, json={})
            assert refused.status_code == 401, "writes need the token too"
        assert (await c.get(partijen, headers={"Authorization": f"token {KI_TOKEN}"})).status_code == 200
        assert (await c.get(f"{ki_url}/_sim/requests")).status_code == 200  # the test switches need none
        actor = world.actoren[0]
        detail = await c.get(f"{ki_url}{API}/actoren/{actor.uuid}", headers=KI_AUTH)
        assert detail.json()["naam"] == actor.naam


async def test_an_interne_taak_needs_an_actor_as_open_klant_requires(
    client: httpx.AsyncClient, ki_url: str, world: World
) -> None:
    """Open Klant refuses an interne taak without `toegewezenAanActoren` (or the deprecated
    `toegewezenAanActor`) and with both, though the spec marks them optional (module docstring)."""
    # a klantcontact of its own (not one another test of this module may or may not have written)
    contact = await client.post(
        f"{ki_url}{API}/klantcontacten",
        json={
            "kanaal": "telefoon",
            "onderwerp": "Terugbelverzoek",
            "inhoud": "Klant wil teruggebeld worden.",
            "taal": "nld",
            "vertrouwelijk": False,
            "indicatieContactGelukt": True,
        },
    )
    assert contact.status_code == 201, contact.text
    taak = {
        "gevraagdeHandeling": "Terugbellen",
        "aanleidinggevendKlantcontact": {"uuid": contact.json()["uuid"]},
        "status": "te_verwerken",
    }
    actor = {"uuid": world.actoren[1].uuid}
    for extra, reason in (
        ({}, "`toegewezen_aan_actor` of `toegewezen_aan_actoren` is required (mag niet beiden gebruiken)."),
        (
            {"toegewezenAanActor": actor, "toegewezenAanActoren": [actor]},
            "`toegewezen_aan_actor` en `toegewezen_aan_actoren` mag niet beiden gebruikt worden.",
        ),
    ):
        resp = await client.post(f"{ki_url}{API}/internetaken", json={**taak, **extra})
        assert resp.status_code == 400, resp.text
        assert resp.json()["invalidParams"] == [
            {"name": "nonFieldErrors", "code": "invalid", "reason": reason}
        ]
    unknown = {"toegewezenAanActoren": [{"uuid": "11111111-1111-4111-8111-111111111111"}]}
    resp = await client.post(f"{ki_url}{API}/internetaken", json={**taak, **unknown})
    assert resp.status_code == 400
    assert [(p["name"], p["code"]) for p in resp.json()["invalidParams"]] == [
        ("toegewezenAanActoren", "does_not_exist")
    ]
    for extra in ({"toegewezenAanActoren": [actor]}, {"toegewezenAanActor": actor}):
        resp = await client.post(f"{ki_url}{API}/internetaken", json={**taak, **extra})
        assert resp.status_code == 201, resp.text
        assert resp.json()["toegewezenAanActoren"][0]["uuid"] == actor["uuid"]


async def test_actoren_list_filters_organisational_units(
    client: httpx.AsyncClient, ki_url: str, openapi: Callable[[str], OpenApi], world: World
) -> None:
    page = await client.get(
        f"{ki_url}{API}/actoren", params={"soortActor": "organisatorische_eenheid", "pageSize": "1"}
    )
    assert page.status_code == 200
    assert page.headers["api-version"] == "0.9.0"
    body = page.json()
    assert body["count"] == len(world.actoren)
    assert len(body["results"]) == 1
    assert openapi(SPEC).errors(body, "PaginatedActorList") == []
    none = await client.get(f"{ki_url}{API}/actoren", params={"soortActor": "medewerker"})
    assert none.json()["count"] == 0
