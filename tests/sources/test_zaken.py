from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import World
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SourceTimeout,
    SourceUnavailable,
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
    a = ZakenAdapter(source_config("zgw-zaken", zaken_url, CATEGORIES, deadline=0.5))
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
    paths = [r["path"] for r in await control.requests()]
    assert "einddatum__isnull=true" in (await control.requests())[0]["query"]
    assert not any("zaaktypen" in p or "resultaten" in p or p.endswith("/statussen") for p in paths)
    assert any("/statussen/" in p for p in paths)


async def test_page_limit_guards_against_endless_paging(zaken_url: str, world: World) -> None:
    heavy = max(world.persons, key=lambda p: len(p.zaken))
    limited = ZakenAdapter(source_config("zgw-zaken", zaken_url, CATEGORIES, options={"maxPages": 1}))
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


async def test_503_and_hang(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(zaken_url)
    request = FetchRequest(Subject.person("999993653"), {"dienst.zaken-lopend": ("identificatie",)})
    await control.behave(fail="503")
    with pytest.raises(SourceUnavailable):
        await adapter.fetch(request)
    await control.behave(fail="hang")
    with pytest.raises(SourceTimeout):
        await adapter.fetch(request)
