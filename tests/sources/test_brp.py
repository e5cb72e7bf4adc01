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
    SubjectVerifier,
)
from dgkb.sources.brp import BrpPersonenAdapter

from .conftest import HEADERS, SimControl, source_config

CATEGORIES = ("klant.basis", "klant.familie")


@pytest.fixture
async def adapter(brp_url: str) -> AsyncIterator[BrpPersonenAdapter]:
    a = BrpPersonenAdapter(
        source_config("brp-personen", f"{brp_url}/haalcentraal/api/brp", CATEGORIES, deadline=0.5)
    )
    yield a
    await a.aclose()


async def test_fits_the_protocols(adapter: BrpPersonenAdapter) -> None:
    assert isinstance(adapter, SourceAdapter)
    assert isinstance(adapter, SubjectVerifier)
    assert adapter.id == "brp-personen"
    assert adapter.categories == frozenset(CATEGORIES)


async def test_asks_only_the_union_of_permitted_fields_and_splits_the_answer(
    adapter: BrpPersonenAdapter, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(brp_url)
    request = FetchRequest(
        subject=Subject.person("999993653"),
        fields={
            "klant.basis": ("naam.volledigeNaam", "verblijfplaats"),
            "klant.familie": ("partners", "kinderen"),
        },
        headers=HEADERS,
    )
    result = await adapter.fetch(request)
    assert set(result["klant.basis"]) == {"naam", "verblijfplaats"}
    assert set(result["klant.basis"]["naam"]) == {"volledigeNaam"}
    assert result["klant.familie"]["partners"][0]["burgerservicenummer"] == "999990639"
    assert set(result["klant.familie"]) == {"partners", "kinderen"}
    sent = await control.requests()
    assert len(sent) == 1
    assert sent[0]["body"]["fields"] == ["naam.volledigeNaam", "verblijfplaats", "partners", "kinderen"]
    assert sent[0]["body"]["burgerservicenummer"] == ["999993653"]
    assert sent[0]["headers"]["traceparent"] == HEADERS["traceparent"]
    assert sent[0]["headers"]["x-doelbinding"] == "klantcontact-afhandelen"


async def test_missing_family_lists_are_empty(adapter: BrpPersonenAdapter, world: World) -> None:
    single = next(p for p in world.persons if not p.partner_bsn and not p.kinderen_bsns)
    result = await adapter.fetch(
        FetchRequest(Subject.person(single.bsn), {"klant.familie": ("partners", "kinderen")})
    )
    assert result["klant.familie"] == {"partners": [], "kinderen": []}


async def test_unknown_person_is_not_found(adapter: BrpPersonenAdapter) -> None:
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.person("999999990"), {"klant.basis": ("naam",)}))


async def test_business_is_not_found(adapter: BrpPersonenAdapter) -> None:
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.business("69599084"), {"klant.basis": ("naam",)}))


async def test_verify_subject(
    adapter: BrpPersonenAdapter, world: World, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(brp_url)
    facts = await adapter.verify_subject(Subject.person("999993653"), HEADERS)
    person = world.person("999993653")
    assert person is not None
    assert facts.exists
    assert not facts.shielded
    assert facts.display_name == person.volledige_naam
    sent = await control.requests()
    assert sent[0]["body"]["fields"] == ["burgerservicenummer", "naam.volledigeNaam"]
    shielded = await adapter.verify_subject(Subject.person(world.shielded_bsn), HEADERS)
    assert shielded.exists
    assert shielded.shielded
    assert not (await adapter.verify_subject(Subject.person("999999990"), HEADERS)).exists


async def test_503_is_unavailable(
    adapter: BrpPersonenAdapter, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    await (await sim(brp_url)).behave(fail="503")
    with pytest.raises(SourceUnavailable):
        await adapter.fetch(FetchRequest(Subject.person("999993653"), {"klant.basis": ("naam",)}))


async def test_hang_is_timeout(
    adapter: BrpPersonenAdapter, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    await (await sim(brp_url)).behave(fail="hang")
    with pytest.raises(SourceTimeout):
        await adapter.fetch(FetchRequest(Subject.person("999993653"), {"klant.basis": ("naam",)}))
