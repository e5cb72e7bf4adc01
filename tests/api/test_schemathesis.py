"""Schemathesis against a running DGKB over real HTTP: every operation of the OpenAPI document, with
valid staff tokens, must answer what the document promises (issue 13 defect 5).

Schemathesis runs as its own process (its command line, `st run`) against the stack this test
starts, so it exercises the server exactly as an outside client would, over a socket. The checks:
no 5xx, only documented status codes and content types, responses matching their schemas, invalid
input refused (negative data) and valid input accepted (positive data). Zero findings is the bar.

Examples per operation: DGKB_SCHEMATHESIS_EXAMPLES (default small, for CI); set it to a few hundred
for a deeper hunt. tests/api/schemathesis_hooks.py gives generated BSNs a valid 11-proef and leaves
out positive cases no JSON Schema can make valid (an unsigned idToken).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack
from tests.conftest import PG_URL, fresh_database_url

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("DGKB_SCHEMATHESIS_EXAMPLES", "5"))
NOTIFICATIES_TOKEN = "schemathesis-notificaties-geheim"
HOOKS = "tests.api.schemathesis_hooks"
ROOT = Path(__file__).resolve().parents[2]
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# Where a schema-valid request may still get 400, and why (the check stays on for everything else):
# the free-text `zoekterm`/names are a small query language (wildcard rules, dates that exist, the
# 11-proef: dgkb.search.query), and a `cursor` is valid only as the server handed it out.
POSITIVE_ALSO_400 = ("/klantzoekopdrachten", "/toegangslog/zoekopdrachten")
POSITIVE_STATUSES = ["2xx", "400", "401", "403", "404", "409", "429"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(*, anna: str, petra: str, report: Path) -> str:
    """The run's configuration (TOML): both security schemes with real credentials (the privacy
    officer for the access log, the KCC employee elsewhere), bounded examples, the event stream
    read for one event only (it never ends by itself)."""
    lines = [
        f"seed = {int(os.environ.get('DGKB_SCHEMATHESIS_SEED', '1'))}",
        "workers = 1",  # hypothesis' lambda-source reading is not thread-safe on CPython 3.11
        "request-timeout = 30",
        "max-stream-events = 1",
        f"hooks = {json.dumps(HOOKS)}",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        'database = "none"',  # every run from scratch: no failures replayed against another port
        "[phases.stateful]",
        "enabled = false",
        "[auth.openapi.HTTPBearer]",
        f"bearer = {json.dumps(anna)}",
        "[auth.openapi.notificatieToken]",
        f"bearer = {json.dumps(NOTIFICATIES_TOKEN)}",
        "[[operations]]",
        'include-path = "/toegangslog/zoekopdrachten"',
        f"headers = {{ Authorization = {json.dumps('Bearer ' + petra)} }}",
        f"checks.positive_data_acceptance.expected-statuses = {json.dumps(POSITIVE_STATUSES)}",
        "[[operations]]",
        'include-path = "/klantzoekopdrachten"',
        f"checks.positive_data_acceptance.expected-statuses = {json.dumps(POSITIVE_STATUSES)}",
        "[reports.ndjson]",
        "enabled = true",
        f"path = {json.dumps(str(report))}",
        "",
    ]
    return "\n".join(lines)


async def run_schemathesis(stack: Stack, tmp_path: Path) -> tuple[int, str]:
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(
        config(
            anna=await stack.token("kcm-anna"),
            petra=await stack.token("privacy-petra"),
            report=tmp_path / "events.ndjson",
        )
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_file),
        "run",
        f"{stack.api}/api/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "NO_COLOR": "1"},
        cwd=tmp_path,  # schemathesis keeps its own cache next to where it runs
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode(errors="replace")


async def test_every_operation_conforms_to_the_openapi_document(
    simulators: dict[str, str], tmp_path: Path
) -> None:
    # One backend is enough for the document's promises: PostgreSQL where it is configured (the
    # stricter: NUL, ranges), else SQLite. Not parametrised, so nothing is skipped in CI.
    database_url = await fresh_database_url("postgresql" if PG_URL else "sqlite", tmp_path)
    # A port known before the app starts: the document's servers (the AuthZEN paths have their own,
    # the bare base URL) must name the address schemathesis is to call.
    port = free_port()
    async with running_stack(
        database_url,
        simulators,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        notificaties_token=NOTIFICATIES_TOKEN,
        source_deadline_seconds=5.0,
    ) as stack:
        async with await stack.as_user("kcm-anna") as anna:
            await open_contact(anna, GEMEENTE + "kcc-algemene-vraag")  # something for the reads to find
        code, output = await run_schemathesis(stack, tmp_path)
    assert code == 0, output[-20_000:]
    assert "Tested: " in output, output[-5_000:]  # it ran the operations, not just loaded the schema
