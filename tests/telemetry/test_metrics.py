"""Prometheus metrics as an operator scrapes them: on a port of their own bound to loopback, or on the
API's port only with the operator's token; values that move when a klantbeeld is read; labels that
never carry a BSN or a contact id."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Mapping

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dgkb.app import create_app
from dgkb.domain.errors import InvalidConfiguration
from dgkb.settings import Environment, Settings
from dgkb.telemetry.metrics import render
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack, sections

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
BSN = "999993653"
TOKEN = "metrics-token-voor-de-test-0123456789"
KLANTBEELD_ROUTE = "/api/v1/contacten/{contact_id}/klantbeeld"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in samples.items() if n == name and wanted <= lbls)


def label_values(samples: Samples) -> set[str]:
    return {v for (_, labels) in samples for _, v in labels}


async def scrape(url: str, headers: Mapping[str, str] | None = None) -> Samples:
    async with httpx.AsyncClient(timeout=10) as c:
        resp = await c.get(url, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return parse(resp.text)


async def test_metrics_are_served_on_their_own_loopback_port_and_not_on_the_api(
    database_url: str, simulators: dict[str, str]
) -> None:
    port = free_port()
    async with running_stack(database_url, simulators, metrics_port=port) as stack:
        server = stack.app.state.metrics_server
        assert server._server.server_address[0] == "127.0.0.1"  # not reachable from other hosts
        assert (await stack.client.get("/metrics")).status_code == 404  # the public port has none
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")
        assert value(samples, "dgkb_http_request_duration_seconds_count", route="/metrics") == 0
        assert value(samples, "dgkb_http_request_duration_seconds_count", route="(geen route)") >= 1
    with socket.socket() as s:  # stopped with the app
        assert s.connect_ex(("127.0.0.1", port)) != 0


async def test_metrics_on_the_api_port_need_the_operator_token(
    database_url: str, simulators: dict[str, str]
) -> None:
    async with running_stack(database_url, simulators, metrics_token=TOKEN) as stack:
        missing = await stack.client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["code"] == "auth.metrics_token"
        assert "dgkb_" not in missing.text
        wrong = await stack.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status_code == 401
        async with await stack.as_user("beheer-bea") as bea:  # a staff token is not the operator's
            assert (await bea.get("/metrics")).status_code == 401
        samples = await scrape(f"{stack.api}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert value(samples, "dgkb_http_request_duration_seconds_count", route="/metrics", status="401") >= 3
        assert "/metrics" not in (await stack.client.get("/api/v1/openapi.json")).text


def test_a_short_metrics_token_is_refused_at_start(tmp_path: object) -> None:
    settings = Settings(env=Environment.TEST, metrics_token="kort")
    with pytest.raises(InvalidConfiguration) as refused:
        create_app(settings)
    assert refused.value.field == "DGKB_METRICS_TOKEN"


async def test_a_klantbeeld_moves_the_metrics_and_no_label_names_the_person_or_contact(
    database_url: str, simulators: dict[str, str]
) -> None:
    async with running_stack(database_url, simulators, metrics_token=TOKEN) as stack:
        url, auth = f"{stack.api}/metrics", {"Authorization": f"Bearer {TOKEN}"}
        before = await scrape(url, auth)
        async with await stack.as_user("kcm-anna") as anna:
            contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
            first = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert first.status_code == 200
            second = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")  # from the cache
            assert second.status_code == 200
            assert (await anna.get("/api/v1/contacten/onbekend-contact/klantbeeld")).status_code == 404
        after = await scrape(url, auth)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("dgkb_http_request_duration_seconds_count", route=KLANTBEELD_ROUTE, status="200") == 2
    assert moved("dgkb_http_request_duration_seconds_count", route=KLANTBEELD_ROUTE, status="404") == 1
    # every source the view asked, once (the second read came from the cache), timed by outcome
    assert moved("dgkb_source_request_duration_seconds_count", source="brp", outcome="ok") >= 1
    assert moved("dgkb_source_request_duration_seconds_count", source="zaken", outcome="ok") == 1
    assert moved("dgkb_source_request_duration_seconds_sum", source="zaken") > 0
    assert moved("dgkb_cache_lookups_total", result="hit") >= 1
    assert moved("dgkb_cache_lookups_total", result="miss") >= 1
    # decisions per category: permitted ones, and denials by their reason code
    assert moved("dgkb_policy_decisions_total", result="permit") >= 2
    assert moved("dgkb_policy_decisions_total", result="deny", reason="CATEGORY_NOT_IN_PURPOSE") >= 2
    assert moved("dgkb_audit_write_seconds_count") >= 2  # each view waited for its log records
    assert value(after, "dgkb_source_breaker_state", source="zaken") == 0

    values = label_values(after)
    assert not any(BSN in v or contact in v for v in values), [v for v in values if BSN in v or contact in v]
    assert not any(re.search(r"\d{9}", v) for v in values), "no BSN-like number in any label"
    assert "onbekend-contact" not in values  # an unknown id is no label either: the template is


async def test_breaker_state_and_source_errors_per_source(stack: Stack) -> None:
    await stack.sim_behaviour("zaken", fail="503")
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        before = parse((await _local_metrics()).decode())
        for _ in range(6):
            resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert sections(resp.json())["dienst.zaken-lopend"][0]["status"] == "onbereikbaar"
        after = parse((await _local_metrics()).decode())
    assert value(after, "dgkb_source_breaker_state", source="zaken") == 2  # open
    assert value(after, "dgkb_source_breaker_state", source="brp") == 0
    opened = value(after, "dgkb_source_breaker_opened_total", source="zaken")
    assert opened - value(before, "dgkb_source_breaker_opened_total", source="zaken") == 1
    errors = {
        dict(labels)["reason"]: v - before.get((name, labels), 0)
        for (name, labels), v in after.items()
        if name == "dgkb_source_errors_total" and dict(labels)["source"] == "zaken"
    }
    assert errors["source.unavailable"] >= 5
    assert errors["source.breaker_open"] >= 1  # the call the open breaker refused


async def _local_metrics() -> bytes:
    """This process's metrics, as the metrics port would serve them."""
    return (await asyncio.to_thread(render))[0]


async def test_open_event_streams_are_counted_while_open(stack: Stack) -> None:
    stack.app.state.sse_heartbeat_seconds = 0.5  # the stream notices the ended contact at its next check
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        base = value(parse((await _local_metrics()).decode()), "dgkb_sse_streams_open")
        async with anna.stream("GET", f"/api/v1/contacten/{contact}/gebeurtenissen", timeout=None) as resp:
            assert resp.status_code == 200
            # one iterator, kept: a dropped one is closed, and the connection with it
            lines = resp.aiter_lines()
            while "verbonden" not in await anext(lines):
                pass
            assert value(parse((await _local_metrics()).decode()), "dgkb_sse_streams_open") == base + 1
            # ending the contact ends the stream (at its next check): the count goes back
            assert (await anna.post(f"/api/v1/contacten/{contact}/beeindiging")).status_code == 200
            while "beeindigd" not in await anext(lines):
                pass
        for _ in range(100):  # the generator's clean-up runs just after its last frame
            if value(parse((await _local_metrics()).decode()), "dgkb_sse_streams_open") == base:
                break
            await asyncio.sleep(0.05)
        assert value(parse((await _local_metrics()).decode()), "dgkb_sse_streams_open") == base
