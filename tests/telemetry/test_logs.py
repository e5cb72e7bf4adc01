"""JSON logs (DGKB_LOG_FORMAT=json): one object per line with the request id and trace id, and no
personal data — driven through a klantbeeld, searches, bad input, a failing source and a database
outage, then every line is scanned for every BSN, name and street of the test world."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dgkb.telemetry import logs
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack
from tests.api.test_database_outage import TcpProxy, needs_postgres
from tests.conftest import PG_URL, fresh_database_url
from tests.telemetry.test_tracing import personal_data

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BSN = "999993653"
REQUEST_ID = "rid-observe-test-abc"
TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What `logs.configure("json", "INFO")` writes to stderr (uvicorn's loggers included)."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    root = logging.getLogger()
    level = root.level
    uvicorn = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error")]
    propagate = [lg.propagate for lg in uvicorn]
    for lg in uvicorn:
        lg.propagate = True
    logs.configure("json", "INFO")
    yield out
    for handler in list(root.handlers):
        if getattr(handler, "dgkb_json", False):
            root.removeHandler(handler)
    root.setLevel(level)
    for lg, p in zip(uvicorn, propagate, strict=True):
        lg.propagate = p


def records(out: io.StringIO) -> list[dict[str, object]]:
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in parsed:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
    return parsed


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    target = make_url(PG_URL)
    p = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await p.start()
    yield p
    await p.cut()


async def test_the_response_carries_the_request_id(stack: Stack) -> None:
    given = await stack.client.get("/api/v1/status", headers={"X-Request-ID": REQUEST_ID})
    assert given.headers["x-request-id"] == REQUEST_ID
    made = await stack.client.get("/api/v1/status")
    again = await stack.client.get("/api/v1/status")
    assert made.headers["x-request-id"] != again.headers["x-request-id"]
    for unusable in ("999993653", "id-999993653", "kort", "x" * 65, "met spatie en meer"):
        resp = await stack.client.get("/api/v1/status", headers={"X-Request-ID": unusable})
        assert resp.headers["x-request-id"] != unusable, unusable  # a BSN never rides in on the id


@needs_postgres
async def test_json_logs_carry_request_and_trace_ids_and_no_personal_data(
    tmp_path: Path, simulators: dict[str, str], proxy: TcpProxy, json_log: io.StringIO
) -> None:
    url = make_url(await fresh_database_url("postgresql", tmp_path)).set(host="127.0.0.1", port=proxy.port)
    async with (
        running_stack(url.render_as_string(hide_password=False), simulators) as stack,
        await stack.as_user("kcm-anna") as anna,
    ):
        contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
        assert (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
        search = await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})
        zoek = search.json()["id"]
        for body in (
            {"zoekterm": BSN},
            {"zoekterm": "Berg 03-07-1960"},
            {"zoekterm": "3026MP 166"},
            {"geslachtsnaam": "Berg", "geboortedatum": "1960-07-03"},
            {"zoekterm": "Jansen 31-02-1980"},  # bad input: 400 naming the field
        ):
            await anna.post("/api/v1/klantzoekopdrachten", json={"contactId": zoek, **body})
        assert (await anna.get("/api/v1/contacten/bestaat-niet/klantbeeld")).status_code == 404
        # sources failing: an error answer, then nothing at all
        await stack.sim_behaviour("zaken", fail="500")
        await stack.sim_behaviour("brp", fail="503")
        assert (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
        await stack.sim_behaviour("brp", fail="none")
        # the database goes away: 503s, logged once per error type, with this request's ids
        await proxy.cut()
        failed = await anna.get(
            f"/api/v1/contacten/{contact}/klantbeeld",
            headers={"X-Request-ID": REQUEST_ID, "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
        )
        assert failed.status_code == 503
        for _ in range(3):
            await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})

    entries = records(json_log)
    assert entries, "the outage is logged"
    outage = [e for e in entries if "database unavailable" in str(e["message"])]
    assert outage, entries
    assert outage[0]["request_id"] == REQUEST_ID
    assert outage[0]["trace_id"] == TRACE
    assert outage[0]["level"] == "warning"
    assert outage[0]["logger"].startswith("dgkb")  # type: ignore[union-attr]

    text = json_log.getvalue()
    assert contact not in text
    assert zoek not in text
    assert "Traceback" not in text
    leaked = sorted(v for v in personal_data() | {BSN, "3026MP", "Berg"} if v in text)
    assert not leaked, leaked


def test_json_lines_name_an_exception_by_type_and_frames_never_its_message() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("dgkb.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    token = logs.REQUEST.set(
        ("r-1", {"headers": [(b"traceparent", f"00-{TRACE}-00f067aa0ba902b7-01".encode())]})
    )
    try:
        try:
            raise ValueError(f"geen persoon met bsn {BSN}")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logs.REQUEST.reset(token)
        logger.removeHandler(handler)
    (entry,) = records(out)
    assert entry["message"] == "lookup failed"
    assert entry["error"] == "ValueError"
    assert "test_logs.py" in str(entry["stack"])
    assert (entry["request_id"], entry["trace_id"]) == ("r-1", TRACE)
    assert BSN not in out.getvalue()
    assert str(entry["time"]).endswith("Z")
