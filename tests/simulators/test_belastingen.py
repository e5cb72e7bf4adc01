"""The belastingen and boetes simulators over HTTP on real sockets, and their generated data."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dgkb.simulators.belastingen import (
    FEATURED_BSN,
    REFERENCE_DATE,
    create_app,
    generate_aanslagen,
    generate_boetes,
)
from dgkb.simulators.serve import serve_in_background

BSNS = [FEATURED_BSN, "999990639", "999991425"]
KVK = "90001234"
UNKNOWN_BSN = "111222333"
GEMEENTE_OMSCHRIJVINGEN = {"WOZ / onroerendezaakbelasting", "Afvalstoffenheffing", "Rioolheffing"}
WATERSCHAP_OMSCHRIJVINGEN = {
    "Watersysteemheffing ingezetenen",
    "Zuiveringsheffing",
    "Watersysteemheffing gebouwd",
}


class Answer:
    """Status, headers and decoded JSON body of one simulator response."""

    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body


async def call(
    base_url: str, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
) -> Answer:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, base_url + path, json=json, headers=headers) as resp,
    ):
        body = None if resp.status == 204 else await resp.json(content_type=None)
        return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, body)


@pytest.fixture(scope="module")
async def gemeente() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="gemeente", kind="belastingen")
    async with serve_in_background(app) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def boetes() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="gemeente", kind="boetes")
    async with serve_in_background(app) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def waterschap() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="waterschap", kind="belastingen")
    async with serve_in_background(app) as (_, url):
        yield url


async def test_featured_citizen_has_an_overdue_aanslag_under_a_betalingsregeling(gemeente: str) -> None:
    answer = await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")
    assert answer.status == 200
    page = answer.body
    assert page["count"] == len(page["results"]) > 0
    assert set(page["results"][0]) == {
        "aanslagnummer",
        "belastingjaar",
        "omschrijving",
        "bedrag",
        "openstaandBedrag",
        "vervaldatum",
        "status",
        "regeling",
    }
    overdue = [
        a
        for a in page["results"]
        if a["status"] == "betalingsregeling"
        and a["vervaldatum"] < REFERENCE_DATE.isoformat()
        and a["openstaandBedrag"] > 0
        and a["regeling"] is not None
    ]
    assert overdue
    assert set(overdue[0]["regeling"]) == {"termijnen", "bedragPerTermijn", "startdatum"}
    assert {a["omschrijving"] for a in page["results"]} <= GEMEENTE_OMSCHRIJVINGEN


async def test_featured_citizen_has_a_water_board_aanslag(waterschap: str) -> None:
    page = (await call(waterschap, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")).body
    assert page["count"] > 0
    assert {a["omschrijving"] for a in page["results"]} <= WATERSCHAP_OMSCHRIJVINGEN
    assert all(a["aanslagnummer"].startswith("VWD-") for a in page["results"])


async def test_featured_citizen_has_an_open_boete(boetes: str) -> None:
    page = (await call(boetes, "GET", f"/api/v1/boetes?bsn={FEATURED_BSN}")).body
    open_boetes = [b for b in page["results"] if b["status"] == "open" and b["openstaandBedrag"] > 0]
    assert open_boetes
    assert set(open_boetes[0]) == {
        "kenmerk",
        "omschrijving",
        "pleegdatum",
        "bedrag",
        "openstaandBedrag",
        "vervaldatum",
        "status",
    }
    detail = await call(boetes, "GET", f"/api/v1/boetes/{open_boetes[0]['kenmerk']}")
    assert detail.body == open_boetes[0]


@pytest.mark.parametrize(
    "path", [f"/api/v1/aanslagen?bsn={UNKNOWN_BSN}", "/api/v1/aanslagen?kvkNummer=12345678"]
)
async def test_unknown_subject_gets_an_empty_page(gemeente: str, path: str) -> None:
    answer = await call(gemeente, "GET", path)
    assert answer.status == 200
    assert answer.body == {"count": 0, "next": None, "previous": None, "results": []}


async def test_business_has_aanslagen(gemeente: str) -> None:
    page = (await call(gemeente, "GET", f"/api/v1/aanslagen?kvkNummer={KVK}")).body
    assert page["count"] > 0


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?bsn=12345",
        "?bsn=abcdefghi",
        f"?bsn={FEATURED_BSN}&kvkNummer={KVK}",
        "?kvkNummer=1",
        "?bsn=x&page=0",
    ],
)
async def test_bad_query_is_a_problem(gemeente: str, query: str) -> None:
    answer = await call(gemeente, "GET", f"/api/v1/aanslagen{query}")
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.body["status"] == 400


async def test_pages_link_back(gemeente: str) -> None:
    page = (await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}&page=2")).body
    assert page["results"] == []
    assert page["previous"].endswith("page=1")
    assert page["next"] is None


async def test_aanslag_detail_and_unknown_number(gemeente: str) -> None:
    first = (await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")).body["results"][0]
    assert (await call(gemeente, "GET", f"/api/v1/aanslagen/{first['aanslagnummer']}")).body == first
    assert (await call(gemeente, "GET", "/api/v1/aanslagen/VBS-1900-0000000")).status == 404


async def test_responses_carry_the_api_version(gemeente: str) -> None:
    answer = await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")
    assert answer.headers["api-version"] == "1.0.0"


async def test_last_request_shows_path_query_and_headers(gemeente: str) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    await call(
        gemeente,
        "GET",
        f"/api/v1/aanslagen?bsn={FEATURED_BSN}",
        headers={"traceparent": traceparent, "X-Doelbinding": "innen"},
    )
    last = (await call(gemeente, "GET", "/_sim/last-request")).body
    assert last["path"] == "/api/v1/aanslagen"
    assert last["query"] == f"bsn={FEATURED_BSN}"
    assert last["headers"]["traceparent"] == traceparent
    assert last["headers"]["x-doelbinding"] == "innen"


@pytest.mark.parametrize(("fail", "status"), [("503", 503), ("500", 500)])
async def test_behaviour_switch_breaks_the_api(gemeente: str, fail: str, status: int) -> None:
    assert (await call(gemeente, "POST", "/_sim/behaviour", {"fail": fail})).body["fail"] == fail
    try:
        answer = await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")
        assert answer.status == status
        assert answer.headers["content-type"].startswith("application/problem+json")
    finally:
        await call(gemeente, "POST", "/_sim/behaviour", {"fail": "none"})


async def test_latency_switch_slows_the_api(gemeente: str) -> None:
    await call(gemeente, "POST", "/_sim/behaviour", {"latencyMs": 150})
    try:
        started = time.monotonic()
        await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={FEATURED_BSN}")
        assert time.monotonic() - started >= 0.15
    finally:
        await call(gemeente, "POST", "/_sim/behaviour", {"latencyMs": 0})


async def test_same_seed_same_data_over_http(gemeente: str) -> None:
    twin = create_app(BSNS, [KVK], organisation="gemeente", kind="belastingen")
    async with serve_in_background(twin) as (_, url):
        for bsn in BSNS:
            mine = (await call(gemeente, "GET", f"/api/v1/aanslagen?bsn={bsn}")).body
            theirs = (await call(url, "GET", f"/api/v1/aanslagen?bsn={bsn}")).body
            assert mine["results"] == theirs["results"]


def test_data_differs_between_organisations_and_seeds() -> None:
    gemeente = generate_aanslagen(2026, "gemeente", "999990639", "bsn")
    assert gemeente == generate_aanslagen(2026, "gemeente", "999990639", "bsn")
    assert gemeente != generate_aanslagen(2027, "gemeente", "999990639", "bsn")
    waterschap = generate_aanslagen(2026, "waterschap", "999990639", "bsn")
    assert {a.omschrijving for a in waterschap}.isdisjoint({a.omschrijving for a in gemeente})


def test_boetes_only_at_the_municipality() -> None:
    with pytest.raises(ValueError, match="gemeente"):
        create_app(BSNS, [], organisation="waterschap", kind="boetes")


@settings(max_examples=60)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    organisation=st.sampled_from(["gemeente", "waterschap"]),
    identifier=st.from_regex(r"\A[0-9]{9}\Z"),
)
def test_generated_aanslagen_are_consistent(seed: int, organisation: Any, identifier: str) -> None:
    aanslagen = generate_aanslagen(seed, organisation, identifier, "bsn")
    assert aanslagen
    for a in aanslagen:
        assert 0 <= a.openstaand_bedrag <= a.bedrag
        assert (a.status == "betaald") == (a.openstaand_bedrag == 0)
        assert (a.regeling is not None) == (a.status == "betalingsregeling")
        if a.status in ("achterstallig", "betalingsregeling"):
            assert a.vervaldatum < REFERENCE_DATE
        if a.status == "open":
            assert a.vervaldatum >= REFERENCE_DATE


@settings(max_examples=60)
@given(seed=st.integers(min_value=0, max_value=10_000), identifier=st.from_regex(r"\A[0-9]{9}\Z"))
def test_generated_boetes_are_consistent(seed: int, identifier: str) -> None:
    for b in generate_boetes(seed, identifier):
        assert 0 <= b.openstaand_bedrag <= b.bedrag
        assert (b.status == "betaald") == (b.openstaand_bedrag == 0)
        assert b.pleegdatum < b.vervaldatum
