"""Two demos on one machine (issue 11 §6): DGKB_SIMULATOR_BASE_PORT moves the simulators *and* the
demo's source URLs, and a port taken by another process stops the start, naming the port.

Before the fix config/sources.yaml held fixed ports (8101+), so a demo started with another base port
read the first demo's simulators without a word; and a taken port ended the process from inside a
uvicorn task (SystemExit), leaving the caller without an error to report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from dgkb.app import create_app
from dgkb.composition.root import load_configuration
from dgkb.domain.errors import InvalidConfiguration
from dgkb.notify.config import notify_config
from dgkb.runner import PortInUse, running_simulators
from dgkb.settings import PROJECT_ROOT, SIMULATOR_PORTS, Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import GEMEENTE, open_contact, sections

DGKB = [sys.executable, "-m", "dgkb.cli"]
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
LAST_OFFSET = max(SIMULATOR_PORTS.values())


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    """A base port whose whole simulator range is free now (not the default 8101: another engineer's
    demo may run there, which is the very situation under test)."""
    for _ in range(200):
        # below Linux' ephemeral range (32768-60999): no client socket of this or another test
        # process takes one of these ports between the check and the bind
        base = random.randrange(20_000, 32_000)
        if all(_free(base + offset) for offset in range(LAST_OFFSET + 1)):
            return base
    raise RuntimeError("no free port range found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def held_by_another_process(port: int) -> Iterator[None]:
    """Another process (not DGKB) listening on `port`, as a second program on the machine would."""
    code = (
        "import socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
        "print('listening', flush=True); time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "listening"
        yield
    finally:
        proc.kill()
        proc.wait()


# --- the demo's source URLs follow the base port ------------------------------------------------


def test_the_shipped_demo_sources_point_at_the_simulators_of_the_base_port() -> None:
    for base in (8101, 9301):
        config = load_configuration(Settings(env=Environment.TEST, simulator_base_port=base))
        simulated = {s.id: s for s in config.sources.sources if s.id in SIMULATOR_PORTS}
        assert len(simulated) == 9, sorted(simulated)
        for sid, src in simulated.items():
            url = urlsplit(src.baseUrl)
            assert (url.hostname, url.port) == ("127.0.0.1", base + SIMULATOR_PORTS[sid]), src.baseUrl
    default = load_configuration(Settings(env=Environment.TEST))
    brp = next(s for s in default.sources.sources if s.id == "brp")
    assert brp.baseUrl == "http://127.0.0.1:8101/haalcentraal/api/brp"  # the path stays the source's


def test_an_unknown_simulator_in_sources_yaml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    path = config / "sources.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{simulator.zaken}", "{simulator.zaaksysteem}"),
        encoding="utf-8",
    )
    with pytest.raises(InvalidConfiguration) as caught:
        load_configuration(Settings(env=Environment.TEST, config_dir=config))
    assert "sources.yaml: sources.1.baseUrl: onbekende simulator 'zaaksysteem'" in caught.value.message


SecondDemo = tuple[httpx.AsyncClient, dict[str, str], int]


@pytest.fixture
async def second_demo(database_url: str) -> AsyncIterator[SecondDemo]:
    """DGKB as `dgkb run` wires it for a second demo: simulators on another base port and the
    configuration read from config/ as shipped — no source overrides."""
    base = free_base_port()
    async with running_simulators(base_port=base) as sims:
        settings = Settings(
            env=Environment.TEST,
            database_url=database_url,
            port=0,
            simulator_base_port=base,
            source_deadline_seconds=1.0,
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            serve_in_background(app) as (_, api),
            httpx.AsyncClient(base_url=api, timeout=10) as client,
        ):
            token = (await client.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield client, sims, base


@pytest.mark.postgres
async def test_a_demo_on_another_base_port_reads_its_own_simulators(second_demo: SecondDemo) -> None:
    client, sims, base = second_demo
    contact = await open_contact(client, ALGEMEEN)
    resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert resp.status_code == 200, resp.text
    by_category = sections(resp.json())
    for category, source in (("klant.basis", "brp"), ("contact.historie", "klantinteracties")):
        section = by_category[category][0]
        assert section["bronId"] == source
        assert section["status"] == "ok", section
    # and the calls reached this demo's simulators, not whatever listens on the default ports
    async with httpx.AsyncClient(timeout=10) as c:
        for source in ("brp", "klantinteracties"):
            seen = (await c.get(f"{sims[source]}/_sim/requests")).json()
            assert seen, f"{source} at {sims[source]} was never called"
    # outbound messages too: the NotifyNL client defaults to this demo's simulator
    settings = Settings(env=Environment.DEVELOPMENT, simulator_base_port=base)
    assert notify_config(settings).base_url == sims["notifynl"]


# --- a taken port stops the start, naming it ----------------------------------------------------


async def test_a_simulator_port_taken_by_another_process_is_named_and_nothing_is_left_running() -> None:
    base = free_base_port()
    taken = base + SIMULATOR_PORTS["klantinteracties"]
    with held_by_another_process(taken), pytest.raises(PortInUse) as caught:
        async with running_simulators(base_port=base):
            pytest.fail("the simulators started although a port was taken")
    assert caught.value.port == taken
    message = str(caught.value)
    assert f"Poort {taken}" in message
    assert "'klantinteracties'" in message
    assert f"DGKB_SIMULATOR_BASE_PORT (nu {base}" in message
    # the simulators started before it were stopped again: their ports are free
    assert all(_free(base + offset) for offset in range(LAST_OFFSET + 1))


async def _dgkb_run(env: dict[str, str], *args: str) -> tuple[int | None, str]:
    """`dgkb run` as an operator starts it; (exit code, stderr), or (None, stderr) when it is still
    running after 60 s (then it did not fail — it is stopped here)."""
    proc = await asyncio.create_subprocess_exec(
        *DGKB, "run", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
        return None, err.decode()
    return proc.returncode, err.decode()


@pytest.mark.slow  # starts `dgkb run` as a process
@pytest.mark.parametrize("what", ["simulator", "api"])
async def test_dgkb_run_fails_loudly_naming_a_port_taken_by_another_process(
    what: str, tmp_path: Path
) -> None:
    base, api_port = free_base_port(), free_port()
    taken = base + SIMULATOR_PORTS["zaken"] if what == "simulator" else api_port
    env = {
        **os.environ,
        "DGKB_ENV": "test",
        "DGKB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo2.sqlite3'}",
        "DGKB_SIMULATOR_BASE_PORT": str(base),
        "COLUMNS": "200",
    }
    with held_by_another_process(taken):
        code, err = await _dgkb_run(env, "--port", str(api_port))
    assert code == 1, err
    assert f"Poort {taken} op 127.0.0.1 is al in gebruik door een ander proces" in err, err
    hint = "DGKB_SIMULATOR_BASE_PORT" if what == "simulator" else "--port"
    assert hint in err, err
    assert "Traceback" not in err, err
