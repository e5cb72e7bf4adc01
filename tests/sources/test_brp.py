from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import World
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SourceUnavailable,
    SubjectNotFound,
    SubjectVerifier,
)
from dgkb.sources.brp import (
    BrpPersonenAdapter,
    InvalidPersonQuery,
    NaamGeboortedatumQuery,
    NaamGemeenteQuery,
    PersonQuery,
    PostcodeHuisnummerQuery,
)

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


# --- search (customer search) ---------------------------------------------------------------------

SEARCH_FIELDS = ("burgerservicenummer", "naam.volledigeNaam", "geboorte.datum", "adressering")


async def test_search_by_name_and_birth_date(
    adapter: BrpPersonenAdapter, world: World, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(brp_url)
    person = world.person("999993653")
    assert person is not None
    query = NaamGeboortedatumQuery(geslachtsnaam=person.geslachtsnaam, geboortedatum=person.geboortedatum)
    found = await adapter.search(query, SEARCH_FIELDS, HEADERS)
    assert [p["burgerservicenummer"] for p in found] == ["999993653"]
    assert found[0]["naam"] == {"volledigeNaam": person.volledige_naam}
    assert found[0]["geheimhoudingPersoonsgegevens"] is False
    sent = (await control.requests())[0]
    assert sent["body"] == {
        "type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": person.geslachtsnaam,
        "geboortedatum": person.geboortedatum.isoformat(),
        "fields": list(SEARCH_FIELDS),
    }
    assert sent["headers"]["x-doelbinding"] == "klantcontact-afhandelen"


async def test_search_by_postcode_returns_everyone_at_the_address(
    adapter: BrpPersonenAdapter, world: World
) -> None:
    person = world.person("999993653")
    assert person is not None
    query = PostcodeHuisnummerQuery(postcode=person.address.postcode, huisnummer=person.address.huisnummer)
    found = await adapter.search(query, ("burgerservicenummer",), HEADERS)
    assert {p["burgerservicenummer"] for p in found} == {
        p.bsn for p in world.persons if p.address == person.address
    }


async def test_search_by_name_and_gemeente_with_wildcard(adapter: BrpPersonenAdapter, world: World) -> None:
    person = world.person("999990639")
    assert person is not None
    query = NaamGemeenteQuery(
        geslachtsnaam=person.geslachtsnaam[:3] + "*",
        voornamen=person.voornamen,
        gemeente_van_inschrijving=person.address.gemeente_code,
    )
    found = await adapter.search(query, ("burgerservicenummer",), HEADERS)
    assert person.bsn in {p["burgerservicenummer"] for p in found}


async def test_search_results_carry_the_secrecy_indication(adapter: BrpPersonenAdapter, world: World) -> None:
    person = world.person(world.shielded_bsn)
    assert person is not None
    query = NaamGeboortedatumQuery(geslachtsnaam=person.geslachtsnaam, geboortedatum=person.geboortedatum)
    found = await adapter.search(query, ("naam.volledigeNaam",), HEADERS)
    assert found == [
        {"naam": {"volledigeNaam": person.volledige_naam}, "geheimhoudingPersoonsgegevens": True}
    ]


async def test_search_without_matches_is_an_empty_list(adapter: BrpPersonenAdapter) -> None:
    query = NaamGeboortedatumQuery(geslachtsnaam="Bestaatniet", geboortedatum=date(1901, 1, 1))
    assert await adapter.search(query, ("burgerservicenummer",), HEADERS) == []


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda: NaamGeboortedatumQuery(geslachtsnaam="Ja*", geboortedatum=date(1960, 1, 1)),
            "geslachtsnaam",
        ),
        (
            lambda: NaamGeboortedatumQuery(geslachtsnaam="*sen", geboortedatum=date(1960, 1, 1)),
            "geslachtsnaam",
        ),
        (
            lambda: NaamGeboortedatumQuery(
                geslachtsnaam="Jansen", geboortedatum=date(1960, 1, 1), geslacht="X"
            ),
            "geslacht",
        ),
        (lambda: PostcodeHuisnummerQuery(postcode="0123AB", huisnummer=1), "postcode"),
        (lambda: PostcodeHuisnummerQuery(postcode="3011AB", huisnummer=0), "huisnummer"),
        (
            lambda: NaamGemeenteQuery(
                geslachtsnaam="Jansen", voornamen="J*", gemeente_van_inschrijving="0599"
            ),
            "voornamen",
        ),
        (
            lambda: NaamGemeenteQuery(
                geslachtsnaam="Jansen", voornamen="Jan", gemeente_van_inschrijving="599"
            ),
            "gemeenteVanInschrijving",
        ),
    ],
)
def test_invalid_queries_fail_before_any_call(make: Callable[[], PersonQuery], field: str) -> None:
    with pytest.raises(InvalidPersonQuery) as caught:
        make()
    assert caught.value.field == field


async def test_search_source_errors_map_like_fetch(
    adapter: BrpPersonenAdapter, brp_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    await (await sim(brp_url)).behave(fail="503")
    with pytest.raises(SourceUnavailable):
        await adapter.search(
            PostcodeHuisnummerQuery(postcode="3011AB", huisnummer=1), ("burgerservicenummer",), HEADERS
        )
