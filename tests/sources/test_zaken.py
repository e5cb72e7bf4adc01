from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import World
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SubjectNotFound,
    ZaakLookup,
)
from dgkb.sources.zaken import ZakenAdapter

from .conftest import HEADERS, SimControl, source_config

CATEGORIES = ("dienst.zaken-lopend", "dienst.zaken-historie")
LOPEND = (
    "identificatie",
    "omschrijving",
    "zaaktype",
    "status",
    "startdatum",
    "uiterlijkeEinddatumAfdoening",
    "url",
)
HISTORIE = ("identificatie", "zaaktype", "einddatum", "resultaat", "statushistorie")


@pytest.fixture
async def adapter(zaken_url: str) -> AsyncIterator[ZakenAdapter]:
    a = ZakenAdapter(source_config("zgw-zaken", zaken_url, CATEGORIES, deadline=0.5, options={"pageSize": 2}))
    yield a
    await a.aclose()


async def test_open_and_closed_zaken_with_names(adapter: ZakenAdapter, world: World) -> None:
    assert isinstance(adapter, SourceAdapter)
    assert isinstance(adapter, ZaakLookup)
    person = world.person("999993653")
    assert person is not None
    result = await adapter.fetch(
        FetchRequest(
            Subject.person("999993653"),
            {"dienst.zaken-lopend": LOPEND, "dienst.zaken-historie": HISTORIE},
            HEADERS,
        )
    )
    lopend, historie = result["dienst.zaken-lopend"], result["dienst.zaken-historie"]
    assert {z["identificatie"] for z in lopend} == {z.identificatie for z in person.zaken if z.is_open}
    assert {z["identificatie"] for z in historie} == {z.identificatie for z in person.zaken if not z.is_open}
    for item in lopend:
        assert tuple(item) == LOPEND
        assert item["zaaktype"] in {zt.omschrijving for zt in world.zaaktypen}
        assert item["status"]["omschrijving"]
        assert item["status"]["datumStatusGezet"]
    for item in historie:
        assert tuple(item) == HISTORIE
        assert item["resultaat"]
        assert item["einddatum"]
        assert item["statushistorie"][-1]["omschrijving"]
        dates = [s["datumStatusGezet"] for s in item["statushistorie"]]
        assert dates == sorted(dates)


async def test_follows_pages_and_sends_crs_and_purpose_headers(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]], world: World
) -> None:
    control = await sim(zaken_url)
    result = await adapter.fetch(
        FetchRequest(
            Subject.person("999993653"),
            {"dienst.zaken-lopend": ("identificatie",), "dienst.zaken-historie": ("identificatie",)},
            HEADERS,
        )
    )
    assert len(result["dienst.zaken-lopend"]) + len(result["dienst.zaken-historie"]) == 3  # page size 2
    sent = await control.requests()
    assert [r["path"] for r in sent] == [
        "/zaken/api/v1/zaken",
        "/zaken/api/v1/zaken",
    ]  # two pages, nothing else
    assert "page=2" in sent[1]["query"]
    assert "pageSize=2" in sent[0]["query"]
    assert "expand=rollen" in sent[0]["query"]  # the leak guard's rollen come along
    for r in sent:
        assert r["headers"]["accept-crs"] == "EPSG:4326"
        assert r["headers"]["traceparent"] == HEADERS["traceparent"]
        assert r["headers"]["x-verwerking"] == "Klantcontact"


async def test_only_the_calls_the_fields_need(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(zaken_url)
    await adapter.fetch(
        FetchRequest(Subject.person("999993653"), {"dienst.zaken-lopend": ("identificatie", "status")})
    )
    requests = await control.requests()
    assert "einddatum__isnull=true" in requests[0]["query"]
    assert "status.statustype" in requests[0]["query"], "the status comes inline (expand), not per zaak"
    assert len(requests) == 1, [r["path"] for r in requests]


async def test_a_source_that_does_not_expand_costs_calls_but_gives_the_same_answer(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(zaken_url)
    request = FetchRequest(Subject.person("999993653"), {"dienst.zaken-lopend": ("identificatie", "status")})
    inline = await adapter.fetch(request)
    await control.client.post(f"{zaken_url}/_sim/behaviour", json={"ignoreExpand": True})
    await control.client.delete(f"{zaken_url}/_sim/requests")
    try:
        fallback = await adapter.fetch(request)
    finally:
        await control.client.post(f"{zaken_url}/_sim/behaviour", json={"ignoreExpand": False})
    paths = [r["path"] for r in await control.requests()]
    assert any("/statussen/" in p for p in paths)
    assert not any("zaaktypen" in p or "resultaten" in p or p.endswith("/statussen") for p in paths)
    assert fallback == inline


async def test_page_limit_guards_against_endless_paging(zaken_url: str, world: World) -> None:
    heavy = max(world.persons, key=lambda p: len(p.zaken))
    limited = ZakenAdapter(
        source_config("zgw-zaken", zaken_url, CATEGORIES, options={"maxPages": 1, "pageSize": 2})
    )
    try:
        result = await limited.fetch(
            FetchRequest(
                Subject.person(heavy.bsn),
                {"dienst.zaken-lopend": ("identificatie",), "dienst.zaken-historie": ("identificatie",)},
            )
        )
    finally:
        await limited.aclose()
    assert len(result["dienst.zaken-lopend"]) + len(result["dienst.zaken-historie"]) == 2


async def test_person_without_zaken_gets_empty_lists(adapter: ZakenAdapter, world: World) -> None:
    none = next(p for p in world.persons if not p.zaken)
    result = await adapter.fetch(
        FetchRequest(Subject.person(none.bsn), {"dienst.zaken-lopend": ("identificatie",)})
    )
    assert result == {"dienst.zaken-lopend": []}


async def test_zaak_facts(adapter: ZakenAdapter, world: World) -> None:
    person = world.person("999993653")
    assert person is not None
    zaak = person.zaken[0]
    facts = await adapter.zaak_facts(zaak.identificatie, HEADERS)
    assert facts.identificatie == zaak.identificatie
    assert facts.initiator == Subject.person("999993653")
    assert facts.zaaktype_omschrijving == world.zaaktype(zaak.zaaktype_uuid).omschrijving
    with pytest.raises(SubjectNotFound):
        await adapter.zaak_facts("ZAAK-BESTAAT-NIET", HEADERS)


# --- businesses, vestigingen, leak guard -----------------------------------------------------------

BOTH = {"dienst.zaken-lopend": ("identificatie",), "dienst.zaken-historie": ("identificatie",)}


def ids(result: Mapping[str, Any]) -> set[str]:
    return {z["identificatie"] for cat in BOTH for z in result[cat]}


@pytest.fixture
async def wide(zaken_url: str) -> AsyncIterator[ZakenAdapter]:
    """An adapter with the default page size (500): one page holds every zaak of the world."""
    a = ZakenAdapter(source_config("zgw-zaken", zaken_url, CATEGORIES, deadline=5))
    yield a
    await a.aclose()


@pytest.fixture
async def switches(zaken_url: str) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Set the Zaken simulator's ignoreFilters/ignoreExpand; both are switched off again afterwards."""
    async with httpx.AsyncClient(timeout=5) as client:

        async def switch(**values: bool) -> None:
            (await client.post(f"{zaken_url}/_sim/behaviour", json=values)).raise_for_status()

        yield switch
        await switch(ignoreFilters=False, ignoreExpand=False)


async def test_company_zaken_by_kvk_nummer(
    adapter: ZakenAdapter, world: World, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(zaken_url)
    company = world.company(world.special["two_branches"])
    assert company is not None
    result = await adapter.fetch(FetchRequest(Subject.business(company.kvk_nummer), BOTH, HEADERS))
    assert ids(result) == {z.identificatie for z in company.zaken}
    first = (await control.requests())[0]
    assert (
        f"rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId={company.kvk_nummer}"
        in first["query"]
    )


async def test_company_zaken_by_vestigingsnummer(adapter: ZakenAdapter, world: World) -> None:
    company = world.company(world.special["two_branches"])
    assert company is not None
    vestiging = company.vestigingen[0].vestigingsnummer
    result = await adapter.fetch(FetchRequest(Subject.establishment(vestiging), BOTH, HEADERS))
    assert ids(result)
    assert ids(result) <= {z.identificatie for z in company.zaken}


async def test_zaak_facts_of_a_company_zaak(adapter: ZakenAdapter, world: World) -> None:
    company = world.company(world.special["two_branches"])
    assert company is not None
    facts = await adapter.zaak_facts(company.zaken[0].identificatie, HEADERS)
    assert facts.initiator == Subject.business(company.kvk_nummer)


async def test_leak_guard_drops_zaken_of_others_when_the_source_ignores_the_filter(
    wide: ZakenAdapter, world: World, switches: Callable[..., Awaitable[None]]
) -> None:
    await switches(ignoreFilters=True)
    person = world.person("999993653")
    assert person is not None
    everything = len(world.zaken()) + len(world.company_zaken())
    result = await wide.fetch(FetchRequest(Subject.person("999993653"), BOTH, HEADERS))
    assert ids(result) == {z.identificatie for z in person.zaken}
    assert wide.dropped_zaken == everything - len(person.zaken)
    company = world.company(world.special["eenmanszaak"])
    assert company is not None
    result = await wide.fetch(FetchRequest(Subject.business(company.kvk_nummer), BOTH, HEADERS))
    assert ids(result) == {z.identificatie for z in company.zaken}
    # the owner of the eenmanszaak does not get the company's zaken, nor the company the owner's
    assert not ids(result) & {z.identificatie for z in world.zaken()}


async def test_leak_guard_fetches_rollen_when_the_source_does_not_expand(
    adapter: ZakenAdapter,
    world: World,
    zaken_url: str,
    sim: Callable[[str], Awaitable[SimControl]],
    switches: Callable[..., Awaitable[None]],
) -> None:
    control = await sim(zaken_url)
    await switches(ignoreExpand=True)
    person = world.person("999993653")
    assert person is not None
    result = await adapter.fetch(FetchRequest(Subject.person("999993653"), BOTH, HEADERS))
    assert ids(result) == {z.identificatie for z in person.zaken}
    rollen_calls = [r for r in await control.requests() if r["path"].endswith("/rollen")]
    assert len(rollen_calls) == len(person.zaken)
    await switches(ignoreFilters=True)  # no expand and no filter: still only the subject's zaken
    result = await adapter.fetch(FetchRequest(Subject.person("999993653"), BOTH, HEADERS))
    assert ids(result) <= {z.identificatie for z in person.zaken}
    assert adapter.dropped_zaken > 0


async def test_zaken_of_medewerker(
    wide: ZakenAdapter, world: World, switches: Callable[..., Awaitable[None]]
) -> None:
    zaken = await wide.zaken_of_medewerker("behandelaar-bram", HEADERS)
    by_id = {z["identificatie"]: z for z in zaken}
    everything = [*world.zaken(), *world.company_zaken()]
    wmo = next(z for z in everything if z.identificatie == "ZAAK-2026-0000006")
    assert by_id["ZAAK-2026-0000006"] == {
        "identificatie": "ZAAK-2026-0000006",
        "omschrijving": wmo.omschrijving,
        "zaaktype": "Aanvraag Wmo-voorziening",
        "status": next(
            s.omschrijving
            for s in world.zaaktype(wmo.zaaktype_uuid).statustypen
            if s.uuid == wmo.statussen[-1].statustype_uuid
        ),
        "startdatum": wmo.startdatum.isoformat(),
        "uiterlijkeEinddatumAfdoening": wmo.uiterlijke_einddatum_afdoening.isoformat(),
    }
    open_wmo = {
        z.identificatie
        for z in everything
        if z.is_open and world.zaaktype(z.zaaktype_uuid).omschrijving == "Aanvraag Wmo-voorziening"
    }
    assert open_wmo < set(by_id)  # every open Wmo zaak and some others
    assert all(z.is_open for z in everything if z.identificatie in by_id)
    assert await wide.zaken_of_medewerker("behandelaar-onbekend", HEADERS) == []
    # a source ignoring the filter hands over every zaak: the leak guard keeps only Bram's
    await switches(ignoreFilters=True)
    assert {z["identificatie"] for z in await wide.zaken_of_medewerker("behandelaar-bram", HEADERS)} == set(
        by_id
    )
    assert await wide.zaken_of_medewerker("behandelaar-onbekend", HEADERS) == []
    assert wide.dropped_zaken > 0


async def _a_zaaktype(zaken_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.get(f"{zaken_url}/catalogi/api/v1/zaaktypen", headers=HEADERS)
        resp.raise_for_status()
        return dict(resp.json()["results"][0])


async def test_a_shared_name_lookup_survives_the_view_that_started_it_going_away(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    """Views asking for the same catalogi name share one lookup. When the view that made it is
    cancelled (its deadline, a discarded prefetch), the others must not get its CancelledError (it
    escaped every handler: a 500 in the three-node test): they look the name up themselves."""
    zaaktype = await _a_zaaktype(zaken_url)
    await (await sim(zaken_url)).behave(latency_ms=300)
    owner = asyncio.create_task(adapter._name(zaaktype["url"], HEADERS))
    await asyncio.sleep(0.05)  # the owner's request is on its way
    waiter = asyncio.create_task(adapter._name(zaaktype["url"], HEADERS))
    await asyncio.sleep(0.05)
    owner.cancel()
    assert await waiter == zaaktype["omschrijving"]
    with pytest.raises(asyncio.CancelledError):
        await owner


async def test_a_cancelled_waiter_does_not_cancel_the_shared_lookup(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    zaaktype = await _a_zaaktype(zaken_url)
    await (await sim(zaken_url)).behave(latency_ms=300)
    owner = asyncio.create_task(adapter._name(zaaktype["url"], HEADERS))
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(adapter._name(zaaktype["url"], HEADERS))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await owner == zaaktype["omschrijving"]
