"""KvkAdapter against the KVK simulator on a real socket: klant.basis of businesses, verifier, search."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators import kvk
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import KVK_TEST_NUMBERS, World
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SubjectNotFound,
    SubjectVerifier,
)
from dgkb.sources.config import ApiKeyAuth
from dgkb.sources.kvk import FIELDS, KvkAdapter

from .conftest import HEADERS, SimControl, source_config

BASIS = "klant.basis"


@pytest.fixture(scope="module")
async def kvk_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(kvk.create_app(world, api_key="sleutel")) as (_, url):
        yield url


@pytest.fixture
async def adapter(kvk_url: str) -> AsyncIterator[KvkAdapter]:
    auth = ApiKeyAuth(type="api-key", header="apikey", value="sleutel")
    a = KvkAdapter(source_config("kvk", kvk_url, (BASIS,), deadline=0.5, auth=auth))
    yield a
    await a.aclose()


def test_fits_the_ports(adapter: KvkAdapter) -> None:
    assert isinstance(adapter, SourceAdapter)
    assert isinstance(adapter, SubjectVerifier)


async def test_basis_of_a_company_with_only_the_asked_fields(
    adapter: KvkAdapter, kvk_url: str, sim: Callable[[str], Awaitable[SimControl]], world: World
) -> None:
    control = await sim(kvk_url)
    kvk_nummer = world.special["two_branches"]
    fields = ("naam", "rechtsvorm", "sbiActiviteiten", "adressen", "formeleRegistratiedatum", "geboorte")
    result = await adapter.fetch(FetchRequest(Subject.business(kvk_nummer), {BASIS: fields}, HEADERS))
    basis: Any = result[BASIS]
    company = world.company(kvk_nummer)
    assert company is not None
    assert set(basis) == set(fields) - {"geboorte"}  # a BRP field: not ours, ignored
    assert basis["naam"] == company.naam
    assert basis["rechtsvorm"] == "BV"
    assert basis["formeleRegistratiedatum"] == company.formele_registratiedatum.isoformat()
    assert basis["sbiActiviteiten"][0]["hoofdactiviteit"] is True
    assert basis["adressen"][0]["straatnaam"] == company.adres.straat
    sent = await control.requests()
    assert [r["path"] for r in sent] == [f"/api/v1/basisprofielen/{kvk_nummer}"]  # no vestigingen call
    assert sent[0]["headers"]["apikey"] == "sleutel"
    assert sent[0]["headers"]["traceparent"] == HEADERS["traceparent"]


async def test_vestigingen_only_when_asked(adapter: KvkAdapter, world: World) -> None:
    kvk_nummer = world.special["two_branches"]
    result = await adapter.fetch(
        FetchRequest(Subject.business(kvk_nummer), {BASIS: ("vestigingen",)}, HEADERS)
    )
    basis: Any = result[BASIS]
    assert [v["hoofdvestiging"] for v in basis["vestigingen"]] == [True, False]


async def test_vestiging_subject_gets_its_own_address(adapter: KvkAdapter, world: World) -> None:
    company = world.company(world.special["two_branches"])
    assert company is not None
    branch = company.vestigingen[1]
    fields = ("kvkNummer", "vestigingsnummer", "adressen", "rechtsvorm")
    result = await adapter.fetch(
        FetchRequest(Subject.establishment(branch.vestigingsnummer), {BASIS: fields}, HEADERS)
    )
    basis: Any = result[BASIS]
    assert basis["kvkNummer"] == company.kvk_nummer
    assert basis["vestigingsnummer"] == branch.vestigingsnummer
    assert basis["adressen"][0]["straatnaam"] == branch.adres.straat
    assert basis["rechtsvorm"] == company.rechtsvorm


async def test_persons_are_not_served_and_brp_fields_make_no_call(
    adapter: KvkAdapter, kvk_url: str, sim: Callable[[str], Awaitable[SimControl]]
) -> None:
    control = await sim(kvk_url)
    assert (
        await adapter.fetch(FetchRequest(Subject.business("69599084"), {BASIS: ("geboorte",)}, HEADERS)) == {}
    )
    assert await control.requests() == []
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.person("999993653"), {BASIS: tuple(FIELDS)}, HEADERS))


async def test_unknown_company_is_not_found(adapter: KvkAdapter) -> None:
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.business("11111111"), {BASIS: ("naam",)}, HEADERS))
    with pytest.raises(SubjectNotFound):
        await adapter.fetch(FetchRequest(Subject.establishment("000000000001"), {BASIS: ("naam",)}, HEADERS))


async def test_verify_subject(adapter: KvkAdapter, world: World) -> None:
    for kvk_nummer in KVK_TEST_NUMBERS:
        facts = await adapter.verify_subject(Subject.business(kvk_nummer), HEADERS)
        company = world.company(kvk_nummer)
        assert company is not None
        assert facts.exists
        assert not facts.shielded
        assert facts.display_name == company.naam
    branch = world.companies[1].vestigingen[1]
    facts = await adapter.verify_subject(Subject.establishment(branch.vestigingsnummer), HEADERS)
    assert facts.exists
    assert facts.display_name == branch.eerste_handelsnaam
    assert not (await adapter.verify_subject(Subject.business("11111111"), HEADERS)).exists


async def test_search(adapter: KvkAdapter, world: World) -> None:
    company = world.companies[3]
    hits = await adapter.search(HEADERS, naam=company.naam[:8].lower())
    assert company.kvk_nummer in {h["kvkNummer"] for h in hits}
    hoofd = company.hoofdvestiging
    assert hoofd is not None
    hits = await adapter.search(
        HEADERS, postcode=hoofd.adres.postcode.replace(" ", ""), huisnummer=hoofd.adres.huisnummer
    )
    assert hoofd.vestigingsnummer in {h["vestigingsnummer"] for h in hits}
    assert await adapter.search(HEADERS, kvk_nummer="11111111") == []
