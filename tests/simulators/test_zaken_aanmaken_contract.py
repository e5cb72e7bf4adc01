"""Making a zaak at the Zaken simulator as a client of Open Zaak does (Zaken 1.5.1, Catalogi 1.3.1):
POST /zaken and POST /rollen refuse what Open Zaak refuses — a 400 naming every field, a 412 without
the CRS headers — and, with ZGW JWTs, what the client's autorisaties do not cover (403
`permission_denied`): `zaken.aanmaken` for that zaaktype, `zaken.bijwerken` for a rol. The roltype
comes from the Catalogi API; the answers validate against the specs; the team's test switch suspends
the zaak for the customer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest

from dgkb.simulators import zaken
from dgkb.simulators.common import ZgwAutorisatie, ZgwJwtVerifier
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World

from .conftest import OpenApi

SPEC = "zaken/openapi-1.5.1.yaml"
CATALOGI = "catalogi/openapi-1.3.1.yaml"
CRS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}
BSN = "999993653"
RSIN = "123456782"


async def _correctie_zaaktype(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    page = (
        await client.get(f"{url}/catalogi/api/v1/zaaktypen", params={"identificatie": "CORRECTIEVERZOEK"})
    ).json()
    [zaaktype] = page["results"]
    return dict(zaaktype)


async def _initiator(client: httpx.AsyncClient, url: str, zaaktype: str) -> str:
    page = (
        await client.get(
            f"{url}/catalogi/api/v1/roltypen",
            params={"zaaktype": zaaktype, "omschrijvingGeneriek": "initiator"},
        )
    ).json()
    [roltype] = page["results"]
    return str(roltype["url"])


def _zaak_body(zaaktype: str, **extra: Any) -> dict[str, Any]:
    return {
        "bronorganisatie": RSIN,
        "verantwoordelijkeOrganisatie": RSIN,
        "zaaktype": zaaktype,
        "startdatum": "2026-12-01",
        "omschrijving": "Correctieverzoek CV-2026-TEST",
        "toelichting": "Huisnummer klopt niet",
        **extra,
    }


def _names(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return {p["name"]: p["code"] for p in resp.json()["invalidParams"]}


async def test_a_zaak_with_its_initiator_validates_and_is_found_by_the_bsn(
    client: httpx.AsyncClient, zaken_url: str, openapi: Callable[[str], OpenApi]
) -> None:
    zaaktype = await _correctie_zaaktype(client, zaken_url)
    assert zaaktype["concept"] is False
    roltype = await _initiator(client, zaken_url, zaaktype["url"])
    assert roltype in zaaktype["roltypen"]
    detail = (await client.get(roltype)).json()
    assert openapi(CATALOGI).errors(detail, "RolType") == []

    made = await client.post(f"{zaken_url}/zaken/api/v1/zaken", json=_zaak_body(zaaktype["url"]), headers=CRS)
    assert made.status_code == 201, made.text
    zaak = made.json()
    assert made.headers["location"] == zaak["url"]
    assert openapi(SPEC).errors(zaak, "Zaak") == []
    assert zaak["identificatie"].startswith("ZAAK-")
    assert zaak["toelichting"] == "Huisnummer klopt niet"
    assert zaak["einddatum"] is None
    assert zaak["opschorting"] == {"indicatie": False, "reden": ""}

    rol = await client.post(
        f"{zaken_url}/zaken/api/v1/rollen",
        json={
            "zaak": zaak["url"],
            "betrokkeneType": "natuurlijk_persoon",
            "roltype": roltype,
            "roltoelichting": "Indiener",
            "betrokkeneIdentificatie": {"inpBsn": BSN},
        },
    )
    assert rol.status_code == 201, rol.text
    assert openapi(SPEC).errors(rol.json(), "Rol") == []
    assert rol.json()["omschrijvingGeneriek"] == "initiator"

    found = await client.get(
        f"{zaken_url}/zaken/api/v1/zaken",
        params={
            "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": BSN,
            "identificatie": zaak["identificatie"],
        },
        headers=CRS,
    )
    assert [z["url"] for z in found.json()["results"]] == [zaak["url"]]

    # the team suspends it for the customer (Awb 4:15), and resumes it
    asked = await client.post(
        f"{zaken_url}/_sim/zaken/{zaak['uuid']}/opschorting",
        json={"indicatie": True, "reden": "Welk huisnummer?"},
    )
    assert asked.status_code == 200, asked.text
    assert (await client.get(zaak["url"], headers=CRS)).json()["opschorting"] == {
        "indicatie": True,
        "reden": "Welk huisnummer?",
    }
    refused = await client.post(
        f"{zaken_url}/_sim/zaken/{zaak['uuid']}/opschorting", json={"indicatie": True}
    )
    assert refused.status_code == 400
    await client.post(f"{zaken_url}/_sim/zaken/{zaak['uuid']}/opschorting", json={"indicatie": False})
    assert (await client.get(zaak["url"], headers=CRS)).json()["opschorting"]["indicatie"] is False


async def test_post_zaken_names_every_refused_field(client: httpx.AsyncClient, zaken_url: str) -> None:
    url = f"{zaken_url}/zaken/api/v1/zaken"
    zaaktype = (await _correctie_zaaktype(client, zaken_url))["url"]
    assert _names(await client.post(url, json={}, headers=CRS)) == {
        "bronorganisatie": "required",
        "verantwoordelijkeOrganisatie": "required",
        "zaaktype": "required",
        "startdatum": "required",
    }
    bad = _zaak_body(
        f"{zaken_url}/catalogi/api/v1/zaaktypen/00000000-0000-4000-8000-000000000000",
        bronorganisatie="123456789",  # fails the 11-proef
        verantwoordelijkeOrganisatie="12345",
        startdatum="1-12-2026",
        omschrijving="x" * 81,
        toelichting="y" * 1001,
    )
    assert _names(await client.post(url, json=bad, headers=CRS)) == {
        "bronorganisatie": "invalid",
        "verantwoordelijkeOrganisatie": "invalid",
        "zaaktype": "bad-url",
        "startdatum": "invalid",
        "omschrijving": "max_length",
        "toelichting": "max_length",
    }
    assert _names(await client.post(url, json=_zaak_body("geen-url"), headers=CRS)) == {"zaaktype": "invalid"}
    made = await client.post(url, json=_zaak_body(zaaktype, identificatie="ZAAK-EIGEN-1"), headers=CRS)
    assert made.status_code == 201
    twice = await client.post(url, json=_zaak_body(zaaktype, identificatie="ZAAK-EIGEN-1"), headers=CRS)
    assert _names(twice) == {"identificatie": "identificatie-niet-uniek"}
    assert _names(
        await client.post(url, content=b"[]", headers={**CRS, "content-type": "application/json"})
    ) == {"nonFieldErrors": "parse_error"}
    # both CRS headers, as Open Zaak wants them for a zaak
    no_crs = await client.post(url, json=_zaak_body(zaaktype), headers={"Accept-Crs": "EPSG:4326"})
    assert no_crs.status_code == 412
    assert no_crs.headers["content-type"].startswith("application/problem+json")


async def test_post_rollen_names_every_refused_field(client: httpx.AsyncClient, zaken_url: str) -> None:
    zaaktype = (await _correctie_zaaktype(client, zaken_url))["url"]
    zaak = (
        await client.post(f"{zaken_url}/zaken/api/v1/zaken", json=_zaak_body(zaaktype), headers=CRS)
    ).json()
    url = f"{zaken_url}/zaken/api/v1/rollen"
    assert _names(await client.post(url, json={})) == {
        "zaak": "required",
        "betrokkeneType": "required",
        "roltype": "required",
        "roltoelichting": "required",
        "nonFieldErrors": "invalid-betrokkene",
    }
    # the initiator roltype of another zaaktype does not fit this zaak
    others = (
        await client.get(f"{zaken_url}/catalogi/api/v1/zaaktypen", params={"identificatie": "MELDING-OR"})
    ).json()
    other_roltype = await _initiator(client, zaken_url, others["results"][0]["url"])
    wrong = await client.post(
        url,
        json={
            "zaak": zaak["url"],
            "betrokkeneType": "persoon",
            "roltype": other_roltype,
            "roltoelichting": "x" * 1001,
            "betrokkeneIdentificatie": {"inpBsn": "123456789"},
        },
    )
    assert _names(wrong) == {
        "betrokkeneType": "invalid_choice",
        "roltype": "zaaktype-mismatch",
        "roltoelichting": "max_length",
    }
    bsn = await client.post(
        url,
        json={
            "zaak": zaak["url"],
            "betrokkeneType": "natuurlijk_persoon",
            "roltype": await _initiator(client, zaken_url, zaaktype),
            "roltoelichting": "Indiener",
            "betrokkeneIdentificatie": {"inpBsn": "123456789"},
        },
    )
    assert _names(bsn) == {"betrokkeneIdentificatie.inpBsn": "invalid"}
    gone = await client.post(
        url,
        json={
            "zaak": f"{zaken_url}/zaken/api/v1/zaken/00000000-0000-4000-8000-000000000000",
            "betrokkeneType": "natuurlijk_persoon",
            "roltype": other_roltype,
            "roltoelichting": "Indiener",
            "betrokkeneIdentificatie": {"inpBsn": BSN},
        },
    )
    assert _names(gone) == {"zaak": "does_not_exist"}


# --- autorisaties: what a client with a ZGW JWT may do ------------------------------------------------

CLIENT, SECRET = "dgkb-test", "test-zgw-geheim-van-een-client-van-dgkb"
ALLES = "alles-mag"


def _bearer(client_id: str = CLIENT) -> dict[str, str]:
    token = jwt.encode(
        {"iss": client_id, "client_id": client_id, "iat": int(time.time())}, SECRET, algorithm="HS256"
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def guarded_zaken(world: World) -> AsyncIterator[str]:
    """A Zaken simulator with ZGW JWTs: CLIENT may make zaken of CORRECTIEVERZOEK only (no rollen:
    no zaken.bijwerken), ALLES has every autorisatie (not named)."""
    from dgkb.simulators.zaken.state import EXTRA_ZAAKTYPEN

    correctie = EXTRA_ZAAKTYPEN[0].uuid
    auth = ZgwJwtVerifier(
        {CLIENT: SECRET, ALLES: SECRET},
        autorisaties={CLIENT: (ZgwAutorisatie(frozenset({"zaken.aanmaken", "zaken.lezen"}), correctie),)},
    )
    async with serve_in_background(zaken.create_app(world, zgw_auth=auth)) as (_, url):
        yield url


async def test_a_client_needs_zaken_aanmaken_for_that_zaaktype(
    client: httpx.AsyncClient, guarded_zaken: str
) -> None:
    url = f"{guarded_zaken}/zaken/api/v1/zaken"
    types = (await client.get(f"{guarded_zaken}/catalogi/api/v1/zaaktypen", headers=_bearer())).json()[
        "results"
    ]
    by_ident = {t["identificatie"]: t["url"] for t in types}
    mine = await client.post(url, json=_zaak_body(by_ident["CORRECTIEVERZOEK"]), headers={**CRS, **_bearer()})
    assert mine.status_code == 201, mine.text
    other = await client.post(url, json=_zaak_body(by_ident["MELDING-OR"]), headers={**CRS, **_bearer()})
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "permission_denied"
    # no zaken.bijwerken: no rol either, not even on the zaak it made
    roltype = (
        await client.get(
            f"{guarded_zaken}/catalogi/api/v1/roltypen",
            params={"zaaktype": by_ident["CORRECTIEVERZOEK"], "omschrijvingGeneriek": "initiator"},
            headers=_bearer(),
        )
    ).json()["results"][0]["url"]
    rol = {
        "zaak": mine.json()["url"],
        "betrokkeneType": "natuurlijk_persoon",
        "roltype": roltype,
        "roltoelichting": "Indiener",
        "betrokkeneIdentificatie": {"inpBsn": BSN},
    }
    refused = await client.post(f"{guarded_zaken}/zaken/api/v1/rollen", json=rol, headers=_bearer())
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    # a client with every autorisatie may do both
    alles = await client.post(url, json=_zaak_body(by_ident["MELDING-OR"]), headers={**CRS, **_bearer(ALLES)})
    assert alles.status_code == 201
    ok = await client.post(f"{guarded_zaken}/zaken/api/v1/rollen", json=rol, headers=_bearer(ALLES))
    assert ok.status_code == 201, ok.text
