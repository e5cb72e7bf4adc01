"""`dgkb run --workers 2` with DGKB_METRICS_PORT: the supervisor serves the sum over both workers
(prometheus-client's multiprocess mode in a directory of this run, removed when it ends)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from tests.events.conftest import LOPENDE_ZAAK, open_contact
from tests.telemetry.test_metrics import KLANTBEELD_ROUTE, Samples, free_port, scrape, value
from tests.test_workers import client_on, needs_services, running_workers, serving_worker


def metrics_dir(worker: int) -> Path:
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    assert found, "the supervisor gives its workers the directory"
    return Path(found[0].decode())


@needs_services
@pytest.mark.slow
async def test_two_workers_report_their_sum_on_the_supervisors_metrics_port(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    async with running_workers(tmp_path, simulators, DGKB_METRICS_PORT=str(port)) as w:
        first, second = w.workers
        directory = metrics_dir(first)
        assert metrics_dir(second) == directory
        async with httpx.AsyncClient(base_url=w.api, timeout=10) as anon:
            assert (await anon.get("/metrics")).status_code == 404  # not on the public port
            token = (await anon.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        async with contextlib.AsyncExitStack() as stack:
            a = await client_on(w, first, headers, stack)
            b = await client_on(w, second, headers, stack)
            contact = await open_contact(a, LOPENDE_ZAAK)
            path = f"/api/v1/contacten/{contact}/klantbeeld"
            before: Samples = await scrape(url)
            for client, worker in ((a, first), (b, second)) * 3:
                resp = await client.get(path)
                assert resp.status_code == 200
                assert serving_worker(w.workers, w.port, resp) == worker
            # an open live view at one worker is counted once, whoever answers the scrape
            stream = asyncio.create_task(_hold_stream(a, f"/api/v1/contacten/{contact}/gebeurtenissen"))
            try:
                for _ in range(100):
                    after = await scrape(url)
                    if value(after, "dgkb_sse_streams_open") == 1:
                        break
                    await asyncio.sleep(0.05)
            finally:
                stream.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stream

        def moved(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        # three views at each worker: the supervisor reports all six
        assert moved("dgkb_http_request_duration_seconds_count", route=KLANTBEELD_ROUTE, status="200") == 6
        assert value(after, "dgkb_sse_streams_open") == 1
        assert moved("dgkb_audit_write_seconds_count") >= 6
        files = {f.name for f in directory.glob("*.db")}
        assert any(f.endswith(f"_{first}.db") for f in files), files
        assert any(f.endswith(f"_{second}.db") for f in files), files
    assert not directory.exists(), "the run's metrics directory is removed when it ends"


async def _hold_stream(client: httpx.AsyncClient, path: str) -> None:
    async with client.stream("GET", path, timeout=None) as resp:
        async for _ in resp.aiter_lines():
            pass
