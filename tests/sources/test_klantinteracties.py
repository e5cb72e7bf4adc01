from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import World
from dgkb.sources.base import FetchRequest, SourceAdapter, SourceTimeout, SourceUnavailable
from dgkb.sources.klantinteracties import KlantinteractiesAdapter

from .conftest import HEADERS, SimControl, source_config

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
    a = KlantinteractiesAdapter(source_config("klantinteracties", ki_url, CATEGORIES, deadline=0.5))
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


async def test_503_and_hang(
    adapter: KlantinteractiesAdapter, ki_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(ki_url)
    request = FetchRequest(Subject.person("999993653"), {"klant.contactgegevens": ("emailadressen",)})
    await control.behave(fail="503")
    with pytest.raises(SourceUnavailable):
        await adapter.fetch(request)
    await control.behave(fail="hang")
    with pytest.raises(SourceTimeout):
        await adapter.fetch(request)
