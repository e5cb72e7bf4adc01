"""Traces over OTLP/HTTP to a real receiver on a socket: a server span per request, a span per source
call as its child with the span id the source saw in `traceparent`, and no personal data anywhere in
names or attributes. Without an endpoint, nothing of the OpenTelemetry SDK is even imported."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from dgkb.simulators.world import build_world
from tests.api.conftest import GEMEENTE, open_contact, running_stack

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BSN = "999993653"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
KLANTBEELD_ROUTE = "/api/v1/contacten/{contact_id}/klantbeeld"


@dataclass
class Receiver:
    url: str
    spans: list[Span] = field(default_factory=list)
    content_types: set[str] = field(default_factory=set)


@contextlib.contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    """An OTLP/HTTP trace receiver on a socket of its own, in a thread (the app's exporter sends from
    a thread too, also while the event loop is busy shutting the app down): POST /v1/traces with a
    protobuf ExportTraceServiceRequest."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            receiver.content_types.add(self.headers.get("Content-Type", ""))
            export = ExportTraceServiceRequest.FromString(body)
            for resource_spans in export.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    receiver.spans.extend(scope_spans.spans)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def attributes(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in span.attributes:
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which) if which else None
    return out


def personal_data() -> set[str]:
    """Every BSN, name, street, postcode, e-mail address and phone number of the fictitious world
    the simulators serve."""
    found: set[str] = set()
    for person in build_world().persons:
        found |= {person.bsn, person.geslachtsnaam, person.volledige_naam, *person.voornamen.split()}
        if person.address is not None:
            found |= {person.address.straat, person.address.postcode}
        found |= {str(a) for a in (*person.emailadressen, *person.telefoonnummers)}
    return {v for v in found if len(v) >= 4}


async def test_spans_arrive_with_source_calls_as_children_and_no_personal_data(
    database_url: str, simulators: dict[str, str]
) -> None:
    with otlp_receiver() as receiver:
        async with (
            running_stack(database_url, simulators, otlp_endpoint=receiver.url) as stack,
            await stack.as_user("kcm-anna") as anna,
        ):
            contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
            async with httpx.AsyncClient(timeout=10) as c:
                await c.delete(f"{stack.simulators['zaken']}/_sim/requests")
            resp = await anna.get(
                f"/api/v1/contacten/{contact}/klantbeeld",
                headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            )
            assert resp.status_code == 200
            assert resp.json()["traceId"] == CALLER_TRACE
            async with httpx.AsyncClient(timeout=10) as c:
                seen = (await c.get(f"{stack.simulators['zaken']}/_sim/requests")).json()
        # the lifespan's end exported what was still buffered
    assert receiver.content_types == {"application/x-protobuf"}
    traced = [s for s in receiver.spans if s.trace_id.hex() == CALLER_TRACE]
    (server,) = [s for s in traced if s.kind == Span.SPAN_KIND_SERVER]
    assert server.name == f"GET {KLANTBEELD_ROUTE}"
    assert server.parent_span_id.hex() == CALLER_SPAN  # the caller's span is its parent
    assert attributes(server) == {
        "http.request.method": "GET",
        "http.route": KLANTBEELD_ROUTE,
        "http.response.status_code": 200,
    }
    calls = [s for s in traced if s.kind == Span.SPAN_KIND_CLIENT]
    assert {attributes(s)["dgkb.source"] for s in calls} >= {"brp", "zaken", "klantinteracties"}
    assert all(s.parent_span_id == server.span_id for s in calls)
    assert all(attributes(s)["dgkb.source.outcome"] == "ok" for s in calls)
    # the span of the call to Zaken has the span id Zaken saw in its traceparent
    zaken_span = next(s for s in calls if attributes(s)["dgkb.source"] == "zaken")
    sent = {r["headers"]["traceparent"].split("-")[2] for r in seen if "traceparent" in r["headers"]}
    assert zaken_span.span_id.hex() in sent, (zaken_span.span_id.hex(), sent)
    assert all(r["headers"]["traceparent"].split("-")[1] == CALLER_TRACE for r in seen)

    # no personal data, no contact id, no concrete path anywhere in any span
    everything = json.dumps(
        [[s.name, *(f"{k}={v}" for k, v in attributes(s).items())] for s in receiver.spans]
    )
    assert contact not in everything
    assert "/contacten/" + contact not in everything
    leaked = [v for v in personal_data() if v in everything]
    assert not leaked, leaked


async def test_a_failing_source_is_an_error_span_with_its_code_only(
    database_url: str, simulators: dict[str, str]
) -> None:
    with otlp_receiver() as receiver:
        async with running_stack(database_url, simulators, otlp_endpoint=receiver.url) as stack:
            await stack.sim_behaviour("zaken", fail="503")
            async with await stack.as_user("kcm-anna") as anna:
                contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
                assert (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
    failed = [
        s
        for s in receiver.spans
        if s.kind == Span.SPAN_KIND_CLIENT and attributes(s).get("dgkb.source") == "zaken"
    ]
    assert failed
    assert all(s.status.code == s.status.STATUS_CODE_ERROR for s in failed)
    assert {attributes(s)["error.type"] for s in failed} == {"source.unavailable"}
    assert {s.status.message for s in failed} == {"source.unavailable"}
    assert all(not s.events for s in failed), "no exception events: a message may hold personal data"


@pytest.mark.slow  # a fresh interpreter imports all of DGKB
def test_without_an_endpoint_nothing_of_opentelemetry_sdk_is_loaded(tmp_path: Any) -> None:
    script = """
import asyncio, os, sys
for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "DGKB_OTLP_ENDPOINT"):
    os.environ.pop(name, None)
from dgkb.app import create_app
from dgkb.settings import Environment, Settings
app = create_app(Settings(env=Environment.TEST, database_url="sqlite+aiosqlite:///%s"))
async def main():
    async with app.router.lifespan_context(app):
        pass
asyncio.run(main())
# (redis-py imports opentelemetry.sdk.metrics by itself when the SDK is installed)
print(sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk.trace", "opentelemetry.exporter",
      "dgkb.telemetry.otlp", "opentelemetry.proto"))))
""" % (tmp_path / "db.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
