from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators import klantinteracties
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SourceProbe,
    SourceRejected,
    SourceUnauthorized,
    SourceValidationError,
    SubjectNotFound,
)
from dgkb.sources.config import BearerAuth, TokenAuth
from dgkb.sources.klantinteracties import KlantinteractiesAdapter
from dgkb.sources.normalise import normalise_phone

from .conftest import HEADERS, KI_AUTH, KI_TOKEN, SimControl, source_config

CATEGORIES = ("klant.contactgegevens", "klant.voorkeurskanaal", "contact.historie", "contact.open-verzoeken")
ALL = {
    "klant.contactgegevens": ("emailadressen", "telefoonnummers"),
    "klant.voorkeurskanaal": ("voorkeursDigitaalAdres", "voorkeurstaal", "voorkeurskanaal"),
    "contact.historie": (
        "nummer",
        "kanaal",
        "onderwerp",
        "inhoud",
        "indicatieContactGelukt",
        "plaatsgevondenOp",
        "zaken",
    ),
    "contact.open-verzoeken": (
        "nummer",
        "gevraagdeHandeling",
        "toelichting",
        "status",
        "toegewezenAan",
        "toegewezenOp",
    ),
}


@pytest.fixture
async def adapter(ki_url: str) -> AsyncIterator[KlantinteractiesAdapter]:
    a = KlantinteractiesAdapter(
        source_config("klantinteracties", ki_url, CATEGORIES, deadline=0.5, auth=KI_AUTH)
    )
    yield a
    await a.aclose()


async def test_all_categories(
    adapter: KlantinteractiesAdapter, world: World, ki_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    assert isinstance(adapter, SourceAdapter)
    control = await sim(ki_url)
    person = world.person("999993653")
    assert person is not None
    result = await adapter.fetch(FetchRequest(Subject.person("999993653"), ALL, HEADERS))
    contact = result["klant.contactgegevens"]
    assert [a["adres"] for a in contact["emailadressen"]] == [a.adres for a in person.emailadressen]
    assert [a["adres"] for a in contact["telefoonnummers"]] == [a.adres for a in person.telefoonnummers]
    voorkeur = result["klant.voorkeurskanaal"]
    assert voorkeur["voorkeurskanaal"] == "e-mail"
    assert voorkeur["voorkeurstaal"] == "nld"
    assert voorkeur["voorkeursDigitaalAdres"]["adres"] == person.emailadressen[0].adres
    historie = result["contact.historie"]
    assert len(historie) == len(person.klantcontacten) == 3  # page size 2: followed the next page
    assert all(tuple(h) == ALL["contact.historie"] for h in historie)
    moments = [h["plaatsgevondenOp"] for h in historie]
    assert moments == sorted(moments, reverse=True)
    linked = {c.nummer: c.zaak_identificatie for c in person.klantcontacten}
    assert all(h["zaken"] == ([linked[h["nummer"]]] if linked[h["nummer"]] else []) for h in historie)
    verzoeken = result["contact.open-verzoeken"]
    assert verzoeken
    assert all(v["status"] == "te_verwerken" for v in verzoeken)
    assert all(tuple(v) == ALL["contact.open-verzoeken"] for v in verzoeken)
    assert verzoeken[0]["toegewezenAan"] in {a.naam for a in world.actoren}
    sent = await control.requests()
    assert all(r["headers"]["traceparent"] == HEADERS["traceparent"] for r in sent)
    assert all(r["headers"]["x-doelbinding"] == "klantcontact-afhandelen" for r in sent)


async def test_only_needed_calls(
    adapter: KlantinteractiesAdapter, ki_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(ki_url)
    result = await adapter.fetch(
        FetchRequest(Subject.person("999993653"), {"klant.voorkeurskanaal": ("voorkeurstaal",)})
    )
    assert result == {"klant.voorkeurskanaal": {"voorkeurstaal": "nld"}}
    assert [r["path"] for r in await control.requests()] == ["/klantinteracties/api/v1/partijen"]
    await control.reset()
    await adapter.fetch(FetchRequest(Subject.person("999993653"), {"contact.historie": ("onderwerp",)}))
    sent = await control.requests()
    assert {r["path"] for r in sent} == {
        "/klantinteracties/api/v1/partijen",
        "/klantinteracties/api/v1/klantcontacten",
    }
    assert all("expand" not in r["query"] for r in sent)


async def test_no_partij_is_not_found_for_every_category(
    adapter: KlantinteractiesAdapter, world: World
) -> None:
    result = await adapter.fetch(FetchRequest(Subject.person(world.no_partij_bsn), ALL))
    assert result == dict.fromkeys(ALL)


# --- authentication and the checks of `dgkb check` ---------------------------------------------------


async def test_open_klant_wants_token_auth(ki_url: str, sim: Callable[[str], Awaitable[SimControl]]) -> None:
    """Auth type `token` sends `Authorization: Token <key>`, as Open Klant wants; the right key as a
    bearer token, or a wrong key, is refused: SourceUnauthorized (401), never a generic error."""
    control = await sim(ki_url)
    request = FetchRequest(Subject.person("999993653"), {"klant.contactgegevens": ("emailadressen",)})
    for auth, ok in (
        (TokenAuth(type="token", token=KI_TOKEN), True),
        (BearerAuth(type="bearer", token=KI_TOKEN), False),
        (TokenAuth(type="token", token="verkeerde-sleutel"), False),
    ):
        a = KlantinteractiesAdapter(source_config("klantinteracties", ki_url, CATEGORIES, auth=auth))
        try:
            if ok:
                assert (await a.fetch(request))["klant.contactgegevens"]
                assert (await a.probe(HEADERS)).authenticated is True
            else:
                with pytest.raises(SourceUnauthorized) as caught:
                    await a.fetch(request)
                assert caught.value.status == 401
                with pytest.raises(SourceUnauthorized):
                    await a.probe(HEADERS)
        finally:
            await a.aclose()
    sent = await control.requests()
    assert sent[0]["headers"]["authorization"] == f"Token {KI_TOKEN}"


async def test_probe_and_find_actor(adapter: KlantinteractiesAdapter, world: World) -> None:
    assert isinstance(adapter, SourceProbe)
    probe = await adapter.probe(HEADERS)
    assert (probe.status, probe.authenticated, probe.api_version) == (200, True, "0.9.0")
    actor = world.actoren[0]
    assert await adapter.find_actor(actor.uuid, HEADERS) == {
        "uuid": actor.uuid,
        "naam": actor.naam,
        "actief": True,
    }
    assert await adapter.find_actor("11111111-1111-4111-8111-111111111111", HEADERS) is None


async def test_an_unknown_actor_is_refused_with_the_sources_reason(
    adapter: KlantinteractiesAdapter, world: World
) -> None:
    written = await adapter.register_klantcontact(
        subject=Subject.person("999993653"),
        kanaal="telefoon",
        onderwerp="Terugbelverzoek",
        inhoud="Klant wil teruggebeld worden.",
        indicatie_contact_gelukt=True,
        headers=HEADERS,
    )
    with pytest.raises(SourceRejected) as caught:
        await adapter.create_interne_taak(
            klantcontact=written["klantcontact"]["uuid"],
            gevraagde_handeling="Terugbellen",
            toegewezen_aan="11111111-1111-4111-8111-111111111111",
            headers=HEADERS,
        )
    assert [(p.name, p.code) for p in caught.value.params] == [("toegewezenAanActoren", "does_not_exist")]
    assert "toegewezenAanActoren: Ongeldige hyperlink" in caught.value.describe()


# --- businesses, zaak links, guards -----------------------------------------------------------------

HISTORIE = {"contact.historie": ("nummer", "onderwerp", "zaken")}


async def test_company_by_kvk_nummer_and_vestigingsnummer(
    adapter: KlantinteractiesAdapter, world: World
) -> None:
    company = world.company(world.special["two_branches"])
    assert company is not None
    result = await adapter.fetch(FetchRequest(Subject.business(company.kvk_nummer), ALL, HEADERS))
    contact = result["klant.contactgegevens"]
    assert [a["adres"] for a in contact["emailadressen"]] == [a.adres for a in company.emailadressen]
    assert len(result["contact.historie"]) == len(company.klantcontacten)
    assert result["klant.voorkeurskanaal"]["voorkeursDigitaalAdres"] is not None
    hoofd, branch = company.vestigingen[0], company.vestigingen[1]
    assert hoofd.is_hoofdvestiging
    by_hoofd = await adapter.fetch(
        FetchRequest(Subject.establishment(hoofd.vestigingsnummer), HISTORIE, HEADERS)
    )
    assert len(by_hoofd["contact.historie"]) == len(company.klantcontacten)  # the company's own partij
    by_branch = await adapter.partij_of(Subject.establishment(branch.vestigingsnummer), HEADERS)
    assert by_branch is not None
    assert by_branch["partijIdentificatoren"][0]["subIdentificatorVan"] is not None


async def test_zaak_links_as_zaak_and_as_zgw_zaak(adapter: KlantinteractiesAdapter, ki_url: str) -> None:
    # a contact with one link of each spelling, written straight to the API as other systems do
    partij = await adapter.partij_of(Subject.person("999991425"), HEADERS)
    assert partij is not None
    async with httpx.AsyncClient(
        base_url=f"{ki_url}/klantinteracties/api/v1", headers={"Authorization": f"Token {KI_TOKEN}"}
    ) as client:
        contact = (
            await client.post(
                "/klantcontacten",
                json={"kanaal": "balie", "onderwerp": "Twee zaken", "taal": "nld", "vertrouwelijk": False},
            )
        ).json()
        await client.post(
            "/betrokkenen",
            json={
                "hadKlantcontact": {"uuid": contact["uuid"]},
                "wasPartij": {"uuid": partij["uuid"]},
                "rol": "klant",
                "initiator": True,
            },
        )
        for ident, codes in (
            ("ZAAK-A", {"codeObjecttype": "zaak", "codeSoortObjectId": "zaak"}),
            ("ZAAK-B", {"codeObjecttype": "anders", "codeSoortObjectId": "zgw-Zaak"}),
            ("ZAAK-C", {"codeObjecttype": "zgw-Zaak", "codeSoortObjectId": "uuid"}),
            ("BRIEF-1", {"codeObjecttype": "document", "codeSoortObjectId": "kenmerk"}),
        ):
            await client.post(
                "/onderwerpobjecten",
                json={
                    "klantcontact": {"uuid": contact["uuid"]},
                    "onderwerpobjectidentificator": {"objectId": ident, "codeRegister": "x", **codes},
                },
            )
    result = await adapter.fetch(FetchRequest(Subject.person("999991425"), HISTORIE, HEADERS))
    mine = next(h for h in result["contact.historie"] if h["onderwerp"] == "Twee zaken")
    assert mine["zaken"] == ["ZAAK-A", "ZAAK-B", "ZAAK-C"]


# --- writes -------------------------------------------------------------------------------------------


async def test_register_klantcontact_with_betrokkene_and_zaken(
    adapter: KlantinteractiesAdapter, world: World, ki_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(ki_url)
    person = world.person("999990639")
    assert person is not None
    zaken = [z.identificatie for z in person.zaken[:2]] or ["ZAAK-2026-0000001"]
    written = await adapter.register_klantcontact(
        subject=Subject.person("999990639"),
        kanaal="telefoon",
        onderwerp="Vraag over de status",
        inhoud="Uitgelegd dat de aanvraag in behandeling is.",
        indicatie_contact_gelukt=True,
        zaak_identificaties=zaken,
        headers=HEADERS,
    )
    assert written["klantcontact"]["kanaal"] == "telefoon"
    assert written["betrokkene"]["wasPartij"]["uuid"] == person.partij_uuid
    assert [o["onderwerpobjectidentificator"]["objectId"] for o in written["onderwerpobjecten"]] == zaken
    posts = [r for r in await control.requests() if r["method"] == "POST"]
    assert [r["path"].rsplit("/", 1)[1] for r in posts] == ["klantcontacten", "betrokkenen"] + [
        "onderwerpobjecten"
    ] * len(zaken)
    assert all(r["headers"]["x-doelbinding"] == "klantcontact-afhandelen" for r in posts)
    result = await adapter.fetch(FetchRequest(Subject.person("999990639"), HISTORIE, HEADERS))
    registered = next(
        h for h in result["contact.historie"] if h["nummer"] == written["klantcontact"]["nummer"]
    )
    assert registered["zaken"] == zaken

    taak = await adapter.create_interne_taak(
        klantcontact=written["klantcontact"]["url"],
        gevraagde_handeling="Terugbellen",
        toelichting="Graag na 17 uur",
        toegewezen_aan=world.actoren[0].uuid,
        headers=HEADERS,
    )
    assert taak["status"] == "te_verwerken"
    assert taak["toegewezenAanActoren"][0]["uuid"] == world.actoren[0].uuid
    verzoeken = await adapter.fetch(
        FetchRequest(
            Subject.person("999990639"),
            {"contact.open-verzoeken": ("gevraagdeHandeling", "toegewezenAan")},
            HEADERS,
        )
    )
    assert {"gevraagdeHandeling": "Terugbellen", "toegewezenAan": world.actoren[0].naam} in verzoeken[
        "contact.open-verzoeken"
    ]


@pytest.mark.parametrize(
    ("kwargs", "field", "limit"),
    [
        ({"kanaal": "t" * 51}, "kanaal", 50),
        ({"onderwerp": "o" * 201}, "onderwerp", 200),
        ({"inhoud": "i" * 1001}, "inhoud", 1000),
        ({"zaak_identificaties": ["Z" * 201]}, "onderwerpobjectidentificator.objectId", 200),
    ],
)
async def test_too_long_texts_are_refused_not_truncated(
    adapter: KlantinteractiesAdapter,
    ki_url: str,
    sim: Callable[[str], Awaitable[SimControl]],
    kwargs: dict[str, Any],
    field: str,
    limit: int,
) -> None:
    control = await sim(ki_url)
    base: dict[str, Any] = {
        "kanaal": "telefoon",
        "onderwerp": "Vraag",
        "inhoud": "",
        "zaak_identificaties": [],
    }
    with pytest.raises(SourceValidationError) as caught:
        await adapter.register_klantcontact(
            subject=Subject.person("999993653"),
            indicatie_contact_gelukt=True,
            headers=HEADERS,
            **{**base, **kwargs},
        )
    assert (caught.value.field, caught.value.limit) == (field, limit)
    assert await control.requests() == []  # nothing was sent


async def test_interne_taak_limits(adapter: KlantinteractiesAdapter) -> None:
    with pytest.raises(SourceValidationError) as caught:
        await adapter.create_interne_taak(
            klantcontact="00000000-0000-0000-0000-000000000000",
            gevraagde_handeling="x" * 201,
            toegewezen_aan="00000000-0000-0000-0000-000000000000",
            headers=HEADERS,
        )
    assert caught.value.field == "gevraagdeHandeling"
    with pytest.raises(SourceValidationError):
        await adapter.create_interne_taak(
            klantcontact="00000000-0000-0000-0000-000000000000",
            gevraagde_handeling="Terugbellen",
            toelichting="x" * 1001,
            toegewezen_aan="00000000-0000-0000-0000-000000000000",
            headers=HEADERS,
        )


async def test_register_for_a_person_without_partij_is_not_found(
    adapter: KlantinteractiesAdapter, world: World
) -> None:
    with pytest.raises(SubjectNotFound):
        await adapter.register_klantcontact(
            subject=Subject.person(world.no_partij_bsn),
            kanaal="telefoon",
            onderwerp="Vraag",
            inhoud="",
            indicatie_contact_gelukt=True,
            headers=HEADERS,
        )


# --- search by phone number / e-mail address ----------------------------------------------------------


async def test_search_by_phone_in_any_spelling(adapter: KlantinteractiesAdapter, world: World) -> None:
    person = next(p for p in world.persons if p.telefoonnummers and p.partij_uuid)
    stored = person.telefoonnummers[0].adres
    canonical = normalise_phone(stored)
    spelled = f"+31 {canonical[3]} {canonical[4:8]} {canonical[8:]}"
    matches = await adapter.search_digitale_adressen(spelled, HEADERS)
    assert [m.adres for m in matches] == [stored]
    assert Subject.person(person.bsn) in matches[0].subjects


async def test_search_by_email_ignores_case(adapter: KlantinteractiesAdapter, world: World) -> None:
    company = world.company(world.special["two_branches"])
    assert company is not None
    assert company.emailadressen
    matches = await adapter.search_digitale_adressen(f"  {company.emailadressen[0].adres.upper()} ", HEADERS)
    mine = next(m for m in matches if m.partij_uuid == company.partij_uuid)  # shared addresses occur
    assert Subject.business(company.kvk_nummer) in mine.subjects
    assert all(m.adres.lower() == company.emailadressen[0].adres.lower() for m in matches)


async def test_search_for_an_unknown_number_finds_nothing(adapter: KlantinteractiesAdapter) -> None:
    assert await adapter.search_digitale_adressen("020-0000000", HEADERS) == []
    with pytest.raises(ValueError):
        await adapter.search_digitale_adressen("geen nummer", HEADERS)


async def test_search_among_100000_extra_addresses(world: World) -> None:
    app = klantinteracties.create_app(world, token=KI_TOKEN, extra_addresses=100_000)
    async with serve_in_background(app) as (_, url):
        a = KlantinteractiesAdapter(
            source_config("klantinteracties", url, CATEGORIES, deadline=5, auth=KI_AUTH)
        )
        try:
            person = next(p for p in world.persons if p.telefoonnummers and p.partij_uuid)
            matches = await a.search_digitale_adressen(person.telefoonnummers[0].adres, HEADERS)
            assert Subject.person(person.bsn) in matches[0].subjects
        finally:
            await a.aclose()
