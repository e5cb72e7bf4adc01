"""GenericRestAdapter against the belastingen and boetes simulators on real sockets, and its JSONPath."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.identifiers import Subject, passes_elfproef
from dgkb.simulators.belastingen import create_app
from dgkb.simulators.serve import serve_in_background
from dgkb.sources.base import FetchRequest, SourceError
from dgkb.sources.config import SourceConfig
from dgkb.sources.generic import GenericRestAdapter, JsonPath, parse_expression

FIN = "dossier.financieel"
FIN_FIELDS = ("soort", "omschrijving", "bedrag", "openstaand", "vervaldatum", "status", "betalingsregeling",
              "organisatie")  # fmt: skip
FEATURED = "999993653"
KVK = "90001234"
GEMEENTE_OMSCHRIJVINGEN = {"WOZ / onroerendezaakbelasting", "Afvalstoffenheffing", "Rioolheffing"}
WATERSCHAP_OMSCHRIJVINGEN = {
    "Watersysteemheffing ingezetenen",
    "Zuiveringsheffing",
    "Watersysteemheffing gebouwd",
}


def make_bsns(n: int) -> list[str]:
    """n fictitious test BSNs (999…) passing the 11-proef."""
    found = [FEATURED]
    candidate = 99999000
    while len(found) < n:
        candidate += 1
        for last in range(10):
            bsn = f"{candidate}{last}"
            if passes_elfproef(bsn) and bsn not in found:
                found.append(bsn)
                break
    return found


BSNS = make_bsns(25)


def financieel_mapping(soort: str, organisatie: str) -> dict[str, str]:
    return {
        "soort": f"'{soort}'",
        "omschrijving": "$.omschrijving",
        "bedrag": "$.bedrag",
        "openstaand": "$.openstaandBedrag",
        "vervaldatum": "$.vervaldatum",
        "status": "$.status",
        "betalingsregeling": "$.regeling",
        "organisatie": f"'{organisatie}'",
    }


def belastingen_options(organisatie: str) -> dict[str, Any]:
    return {
        "subjectKinds": ["bsn", "kvk"],
        "requests": [
            {
                "path": "/api/v1/aanslagen?bsn={subject}",
                "subjectKinds": ["bsn"],
                "itemsPath": "$.results",
                "nextPath": "$.next",
                "categories": {FIN: financieel_mapping("aanslag", organisatie)},
            },
            {
                "path": "/api/v1/aanslagen?kvkNummer={subject}",
                "subjectKinds": ["kvk"],
                "itemsPath": "$.results",
                "nextPath": "$.next",
                "categories": {FIN: financieel_mapping("aanslag", organisatie)},
            },
        ],
    }


def source_config(base_url: str, options: dict[str, Any], **overrides: Any) -> SourceConfig:
    data: dict[str, Any] = {
        "id": "gemeente-belastingen",
        "kind": "generic-rest",
        "name": "Belastingen Gemeente Voorbeeldstad",
        "organisation": "00000001234567890000",
        "baseUrl": base_url,
        "categories": [FIN],
        "deadline": 2.0,
        "options": options,
    }
    data.update(overrides)
    return SourceConfig.model_validate(data)


def fetch_request(
    bsn: str = FEATURED, fields: tuple[str, ...] = FIN_FIELDS, headers: Mapping[str, str] | None = None
) -> FetchRequest:
    return FetchRequest(subject=Subject.person(bsn), fields={FIN: fields}, headers=headers or {})


async def fetch_items(adapter: GenericRestAdapter, request: FetchRequest) -> list[dict[str, Any]]:
    """The items of dossier.financieel, which must be found."""
    items = (await adapter.fetch(request))[FIN]
    assert isinstance(items, list)
    return items


@pytest.fixture(scope="module")
async def gemeente_belastingen() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="gemeente", kind="belastingen")
    async with serve_in_background(app) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def gemeente_boetes() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="gemeente", kind="boetes")
    async with serve_in_background(app) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def waterschap_belastingen() -> AsyncIterator[str]:
    app = create_app(BSNS, [KVK], organisation="waterschap", kind="belastingen")
    async with serve_in_background(app) as (_, url):
        yield url


@pytest.fixture
async def adapter(gemeente_belastingen: str) -> AsyncIterator[GenericRestAdapter]:
    adapter = GenericRestAdapter(
        source_config(gemeente_belastingen, belastingen_options("Gemeente Voorbeeldstad"))
    )
    yield adapter
    await adapter.aclose()


async def sim(base_url: str, method: str, path: str, json: Any = None) -> Any:
    """Talk to a simulator's `/_sim` switches; None for an empty answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, base_url + path, json=json) as resp,
    ):
        return None if resp.status == 204 else await resp.json()


# --- JSONPath subset ---------------------------------------------------------------------------

DOC: dict[str, Any] = {
    "count": 2,
    "results": [{"a": 1, "b": {"c": [10, 20]}}, {"a": 2, "b": {"c": []}}],
    "odd key": "x",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", [DOC]),
        ("$.count", [2]),
        ("$.results[0].a", [1]),
        ("$.results[-1].a", [2]),
        ("$.results[*].a", [1, 2]),
        ("$.results[*].b.c[*]", [10, 20]),
        ("$.results[5].a", []),
        ("$.missing.deeper", []),
        ("$.count.a", []),
        ("$.count[0]", []),
        ("$['odd key']", ["x"]),
        ("$.results[0].b[*]", [[10, 20]]),
    ],
)
def test_jsonpath_finds_matches(path: str, expected: list[Any]) -> None:
    assert JsonPath.parse(path).find(DOC) == expected


@pytest.mark.parametrize(
    "path", ["", "results", "$.", "$..a", "$[a]", "$.a[", "$.a[*", "$[1:2]", "$.a b", "$?"]
)
def test_jsonpath_rejects_unsupported_syntax(path: str) -> None:
    with pytest.raises(ValueError):
        JsonPath.parse(path)


def test_jsonpath_value_is_first_match_or_all_for_wildcards() -> None:
    assert JsonPath.parse("$.results[*].a").value(DOC) == [1, 2]
    assert JsonPath.parse("$.results[0].a").value(DOC) == 1
    assert JsonPath.parse("$.nothing").value(DOC) is None


def test_expression_is_a_literal_or_a_path() -> None:
    assert parse_expression("'aanslag'").value(DOC) == "aanslag"
    assert parse_expression("''").value(DOC) == ""
    assert parse_expression("$.count").value(DOC) == 2
    with pytest.raises(ValueError, match="geen expressie"):
        parse_expression("aanslag")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=30,
)
path_steps = st.lists(
    st.sampled_from([".a", ".b", ".results", "[0]", "[1]", "[-1]", "[*]", "['a']", "[99]"]), max_size=6
)


@given(text=st.text(max_size=30), data=json_values)
def test_jsonpath_never_crashes_on_random_text(text: str, data: Any) -> None:
    with contextlib.suppress(ValueError):
        JsonPath.parse(text).value(data)


@given(data=json_values, steps=path_steps)
def test_jsonpath_find_never_crashes(data: Any, steps: list[str]) -> None:
    path = JsonPath.parse("$" + "".join(steps))
    assert isinstance(path.find(data), list)
    path.value(data)


# --- options validation ------------------------------------------------------------------------


def invalid(options: dict[str, Any], **overrides: Any) -> InvalidConfiguration:
    with pytest.raises(InvalidConfiguration) as caught:
        GenericRestAdapter(source_config("http://127.0.0.1:1", options, **overrides))
    return caught.value


def test_options_error_names_the_path() -> None:
    options = belastingen_options("Gemeente Voorbeeldstad")
    options["requests"][1]["itemsPath"] = "$.results[x]"
    error = invalid(options)
    assert "sources.yaml: sources.gemeente-belastingen.options.requests.1.itemsPath:" in error.message
    assert error.field == "sources.yaml:sources.gemeente-belastingen.options.requests.1.itemsPath"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda o: o.update(subjectKinds=["persoon"]), "options.subjectKinds.0"),
        (lambda o: o.update(requests=[]), "options.requests"),
        (lambda o: o["requests"][0].update(path="/x?bsn={bsn}"), "options.requests.0.path"),
        (lambda o: o["requests"][0].update(path="http://elders/x"), "options.requests.0.path"),
        (lambda o: o["requests"][0].update(notFoundStatus=[410]), "options.requests.0.notFoundStatus"),
        (lambda o: o["requests"][0].update(method="DELETE"), "options.requests.0.method"),
        (lambda o: o["requests"][0].update(extra=1), "options.requests.0.extra"),
        (
            lambda o: o["requests"][0]["categories"][FIN].update(bedrag="bedrag"),
            f"options.requests.0.categories.{FIN}.bedrag",
        ),
        (lambda o: o["requests"][0].update(body={"bsn": "{subject}"}), "options.requests.0.body"),
        (
            lambda o: o["requests"][0].update(subjectKinds=["vestigingsnummer"]),
            "options.requests.0.subjectKinds",
        ),
        (
            lambda o: o["requests"][0]["categories"].update({"dossier.rechten-en-plichten": {"naam": "$.x"}}),
            "options.requests.0.categories.dossier.rechten-en-plichten",
        ),
    ],
)
def test_invalid_options_are_rejected_naming_the_path(change: Any, path: str) -> None:
    options = belastingen_options("Gemeente Voorbeeldstad")
    change(options)
    assert f"sources.gemeente-belastingen.{path}" in invalid(options).message


def test_every_configured_category_needs_a_call() -> None:
    error = invalid(belastingen_options("x"), categories=[FIN, "dossier.rechten-en-plichten"])
    assert "options.requests: geen aanroep levert categorie 'dossier.rechten-en-plichten'" in error.message


# --- against the simulators --------------------------------------------------------------------


async def test_returns_only_the_requested_fields(adapter: GenericRestAdapter) -> None:
    result = await adapter.fetch(fetch_request(fields=("bedrag", "status")))
    assert set(result) == {FIN}
    items = await fetch_items(adapter, fetch_request(fields=("bedrag", "status")))
    assert items
    assert all(set(item) == {"bedrag", "status"} for item in items)


async def test_maps_every_field_of_the_featured_citizen(adapter: GenericRestAdapter) -> None:
    items = await fetch_items(adapter, fetch_request())
    assert all(set(item) == set(FIN_FIELDS) for item in items)
    assert {item["soort"] for item in items} == {"aanslag"}
    assert {item["organisatie"] for item in items} == {"Gemeente Voorbeeldstad"}
    with_regeling = [i for i in items if i["status"] == "betalingsregeling" and i["betalingsregeling"]]
    assert any(i["vervaldatum"] < "2026-11-01" and i["openstaand"] > 0 for i in with_regeling)
    assert {"termijnen", "bedragPerTermijn", "startdatum"} <= set(with_regeling[0]["betalingsregeling"])


async def test_forwards_purpose_headers_and_traceparent(
    adapter: GenericRestAdapter, gemeente_belastingen: str
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await adapter.fetch(
        fetch_request(headers={"X-Doelbinding": "belastingen-innen", "traceparent": traceparent})
    )
    last = await sim(gemeente_belastingen, "GET", "/_sim/last-request")
    assert last["path"] == "/api/v1/aanslagen"
    assert last["query"] == f"bsn={FEATURED}"
    assert last["headers"]["x-doelbinding"] == "belastingen-innen"
    assert last["headers"]["traceparent"] == traceparent


async def test_unknown_subject_gives_an_empty_list(adapter: GenericRestAdapter) -> None:
    unknown = make_bsns(40)[-1]
    assert unknown not in BSNS
    assert await adapter.fetch(fetch_request(unknown)) == {FIN: []}


async def test_business_uses_the_kvk_call(adapter: GenericRestAdapter, gemeente_belastingen: str) -> None:
    result = await adapter.fetch(FetchRequest(subject=Subject.business(KVK), fields={FIN: ("omschrijving",)}))
    assert result[FIN]
    last = await sim(gemeente_belastingen, "GET", "/_sim/last-request")
    assert last["query"] == f"kvkNummer={KVK}"


async def test_subject_kind_without_a_call_is_not_found(adapter: GenericRestAdapter) -> None:
    result = await adapter.fetch(
        FetchRequest(subject=Subject.establishment("000012345678"), fields={FIN: ("bedrag",)})
    )
    assert result == {FIN: None}


async def test_unrequested_categories_make_no_calls(
    adapter: GenericRestAdapter, gemeente_belastingen: str
) -> None:
    await sim(gemeente_belastingen, "DELETE", "/_sim/requests")
    result = await adapter.fetch(
        FetchRequest(subject=Subject.person(FEATURED), fields={"klant.basis": ("naam",)})
    )
    assert result == {}
    assert await sim(gemeente_belastingen, "GET", "/_sim/requests") == []


async def test_boetes_of_the_featured_citizen(gemeente_boetes: str) -> None:
    options = {
        "subjectKinds": ["bsn"],
        "requests": [
            {
                "path": "/api/v1/boetes?bsn={subject}",
                "itemsPath": "$.results[*]",
                "categories": {FIN: financieel_mapping("boete", "Gemeente Voorbeeldstad")},
            }
        ],
    }
    adapter = GenericRestAdapter(source_config(gemeente_boetes, options, id="gemeente-boetes"))
    try:
        items = await fetch_items(adapter, fetch_request(fields=("soort", "omschrijving", "status")))
    finally:
        await adapter.aclose()
    assert {"soort": "boete", "omschrijving": "Parkeerbelasting naheffingsaanslag", "status": "open"} in items


async def test_water_board_never_returns_municipal_items(waterschap_belastingen: str) -> None:
    config = source_config(
        waterschap_belastingen,
        belastingen_options("Waterschap De Voorbeeldwaarden"),
        id="waterschap-belastingen",
    )
    adapter = GenericRestAdapter(config)
    try:
        results = await asyncio.gather(
            *(fetch_items(adapter, fetch_request(bsn, ("omschrijving",))) for bsn in BSNS)
        )
        featured = await fetch_items(adapter, fetch_request())
    finally:
        await adapter.aclose()
    omschrijvingen = {item["omschrijving"] for items in results for item in items}
    assert omschrijvingen
    assert omschrijvingen <= WATERSCHAP_OMSCHRIJVINGEN
    assert not omschrijvingen & GEMEENTE_OMSCHRIJVINGEN
    assert featured
    assert {item["organisatie"] for item in featured} == {"Waterschap De Voorbeeldwaarden"}


async def test_same_citizen_same_data(adapter: GenericRestAdapter) -> None:
    first = await adapter.fetch(fetch_request(BSNS[3]))
    second = await adapter.fetch(fetch_request(BSNS[3]))
    assert first == second


async def test_several_calls_for_one_category_concatenate(gemeente_belastingen: str) -> None:
    options = belastingen_options("Gemeente Voorbeeldstad")
    twin = dict(options["requests"][0], categories={FIN: {"soort": "'kopie'", "bedrag": "$.bedrag"}})
    options["requests"].append(twin)
    adapter = GenericRestAdapter(source_config(gemeente_belastingen, options))
    try:
        items = await fetch_items(adapter, fetch_request(fields=("soort",)))
    finally:
        await adapter.aclose()
    soorten = [item["soort"] for item in items]
    assert soorten.count("aanslag") == soorten.count("kopie") > 0


async def test_not_found_status_gives_none(gemeente_belastingen: str) -> None:
    options: dict[str, Any] = {
        "subjectKinds": ["bsn"],
        "requests": [{"path": "/api/v1/aanslagen/{subject}", "categories": {FIN: {"bedrag": "$.bedrag"}}}],
    }
    adapter = GenericRestAdapter(source_config(gemeente_belastingen, options))
    try:
        assert await adapter.fetch(fetch_request(fields=("bedrag",))) == {FIN: None}
        options["requests"][0]["notFoundStatus"] = []
        strict = GenericRestAdapter(source_config(gemeente_belastingen, options))
        try:
            with pytest.raises(SourceError) as caught:
                await strict.fetch(fetch_request(fields=("bedrag",)))
            assert type(caught.value) is SourceError
        finally:
            await strict.aclose()
    finally:
        await adapter.aclose()


async def test_response_without_items_path_is_a_source_error(gemeente_belastingen: str) -> None:
    options = belastingen_options("x")
    options["requests"][0]["itemsPath"] = "$.resultaten"
    adapter = GenericRestAdapter(source_config(gemeente_belastingen, options))
    try:
        with pytest.raises(SourceError, match=r"\$\.resultaten"):
            await adapter.fetch(fetch_request())
    finally:
        await adapter.aclose()


async def test_one_failing_call_fails_the_source(gemeente_belastingen: str) -> None:
    options = belastingen_options("x")
    broken = dict(options["requests"][0], path="/api/v1/kapot?bsn={subject}", notFoundStatus=[])
    options["requests"].append(broken)
    adapter = GenericRestAdapter(source_config(gemeente_belastingen, options))
    try:
        with pytest.raises(SourceError):
            await adapter.fetch(fetch_request())
    finally:
        await adapter.aclose()


# --- pagination, with a tiny paged source ------------------------------------------------------


def paged_app(foreign_next: bool = False) -> Starlette:
    async def items(request: Request) -> JSONResponse:
        page = int(request.query_params.get("page", "1"))
        base = "http://elders.example" if foreign_next else str(request.base_url).rstrip("/")
        nxt = f"{base}/items?page={page + 1}" if page < 3 else None
        return JSONResponse({"count": 3, "next": nxt, "results": [{"n": page}]})

    return Starlette(routes=[Route("/items", items)])


def paged_options(max_pages: int = 10) -> dict[str, Any]:
    return {
        "subjectKinds": ["bsn"],
        "requests": [
            {
                "path": "/items?bsn={subject}",
                "itemsPath": "$.results",
                "nextPath": "$.next",
                "maxPages": max_pages,
                "categories": {FIN: {"bedrag": "$.n"}},
            }
        ],
    }


@pytest.mark.parametrize(
    ("foreign_next", "max_pages", "expected"),
    [
        (False, 10, [{"bedrag": 1}, {"bedrag": 2}, {"bedrag": 3}]),
        (False, 2, "meer dan 2 pagina's"),
        (True, 10, "buiten baseUrl"),
    ],
)
async def test_follows_next_links_within_the_source_only(
    foreign_next: bool, max_pages: int, expected: Any
) -> None:
    async with serve_in_background(paged_app(foreign_next)) as (_, url):
        adapter = GenericRestAdapter(source_config(url, paged_options(max_pages)))
        try:
            if isinstance(expected, str):
                with pytest.raises(SourceError, match=expected):
                    await adapter.fetch(fetch_request(fields=("bedrag",)))
            else:
                assert await adapter.fetch(fetch_request(fields=("bedrag",))) == {FIN: expected}
        finally:
            await adapter.aclose()


async def test_post_body_carries_the_subject() -> None:
    received: list[Any] = []

    async def zoek(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"results": [{"n": 1}]})

    options = {
        "subjectKinds": ["bsn"],
        "requests": [
            {
                "method": "POST",
                "path": "/zoek",
                "body": {"type": "{subjectKind}", "identificatie": "{subject}", "velden": ["n"]},
                "itemsPath": "$.results",
                "categories": {FIN: {"bedrag": "$.n"}},
            }
        ],
    }
    async with serve_in_background(Starlette(routes=[Route("/zoek", zoek, methods=["POST"])])) as (_, url):
        adapter = GenericRestAdapter(source_config(url, options))
        try:
            assert await adapter.fetch(fetch_request(fields=("bedrag",))) == {FIN: [{"bedrag": 1}]}
        finally:
            await adapter.aclose()
    assert received == [{"type": "bsn", "identificatie": FEATURED, "velden": ["n"]}]


async def test_probe_uses_the_configured_cheap_read(gemeente_belastingen: str) -> None:
    """`options.probe` (for `dgkb check`): a path that names no person and the statuses that prove
    the source answered; by default the base URL, whose 404 says it is there but not more."""
    options = belastingen_options("Gemeente Voorbeeldstad")
    default = GenericRestAdapter(source_config(gemeente_belastingen, options))
    probing = GenericRestAdapter(
        source_config(
            gemeente_belastingen, {**options, "probe": {"path": "/api/v1/aanslagen", "authenticated": [400]}}
        )
    )
    try:
        result = await default.probe({})
        assert (result.status, result.authenticated) == (404, None)
        result = await probing.probe({})
        assert (result.status, result.authenticated, result.api_version) == (400, True, "1.0.0")
    finally:
        await default.aclose()
        await probing.aclose()
