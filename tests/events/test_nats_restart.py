"""Issue 13 §2: change events keep flowing after NATS restarts without its store (the DGKB_CHANGES
stream and every consumer are gone). While the bus is down a notification is still accepted and
reaches this node's open views at once; the other processes get it when the bus is back, and every
later event too. The test runs a nats-server of its own; the shared one is never touched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest

from dgkb.events.bus import NATS_STREAM, ChangeEvent, NatsBus
from tests.conftest import fresh_database_url
from tests.events.conftest import (
    LOPENDE_ZAAK,
    Node,
    SseClient,
    dgkb_node,
    open_contact,
    open_zaak_of,
    settings_for,
    zaak_message,
)
from tests.servers import OwnServer, nats_argv, needs_nats_server, own_nats

pytestmark = needs_nats_server


class OtherProcess:
    """What another DGKB process reads from the bus: a NatsBus of its own, recording events."""

    def __init__(self, url: str) -> None:
        self.bus = NatsBus(url)
        self.events: list[ChangeEvent] = []

    async def _record(self, event: ChangeEvent) -> None:
        self.events.append(event)

    async def start(self) -> None:
        await self.bus.start(self._record)

    async def receives(self, count: int, origin: str) -> list[ChangeEvent]:
        """Wait until `count` events of `origin` arrived (polling; no time limit of its own)."""
        for _ in range(400):
            mine = [e for e in self.events if e.origin == origin]
            if len(mine) >= count:
                return mine
            await asyncio.sleep(0.05)
        raise AssertionError(f"the other process got {len(mine)} of {count} events")


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[OwnServer]:
    async with own_nats(tmp_path / "nats-1") as server:
        yield server


@pytest.fixture
async def node(tmp_path: Path, simulators: dict[str, str], nats_server: OwnServer) -> AsyncIterator[Node]:
    settings = settings_for(
        await fresh_database_url("sqlite", tmp_path), nats_url=f"nats://127.0.0.1:{nats_server.port}"
    )
    async with dgkb_node(settings, simulators) as n:
        yield n


def message(zaak: dict[str, Any], n: int) -> dict[str, Any]:
    return zaak_message(zaak, f"{zaak['url']}/status-{n}", datetime.now(UTC).isoformat())


async def test_events_flow_after_nats_restarts_without_its_stream(
    node: Node, nats_server: OwnServer, simulators: dict[str, str], tmp_path: Path
) -> None:
    other = OtherProcess(f"nats://127.0.0.1:{nats_server.port}")
    await other.start()
    origin = node.services.changes.origin
    zaak, _ = await open_zaak_of(simulators["zaken"])
    try:
        async with await node.as_user("kcm-anna") as anna:
            contact = await open_contact(anna, LOPENDE_ZAAK)
            async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
                assert (await node.notify(message(zaak, 1))).status_code == 204
                kind, _ = await sse.next(wait=10)
                assert kind == "bijgewerkt"
                await other.receives(1, origin)

                # NATS dies: the notification is still accepted and the open view here gets it
                await nats_server.stop()
                resp = await node.notify(message(zaak, 2))
                assert resp.status_code == 204, resp.text
                kind, second = await sse.next(wait=10)
                assert kind == "bijgewerkt"
                assert "dienst.zaken-lopend" in second["categorieen"]

                # NATS back without its store: no stream, no consumers
                await nats_server.start(nats_argv(nats_server.port, tmp_path / "nats-2"))
                # the event accepted while it was down reaches the other process now
                await other.receives(2, origin)

                # and later events flow both ways, each once
                assert (await node.notify(message(zaak, 3))).status_code == 204
                kind, third = await sse.next(wait=10)
                assert kind == "bijgewerkt"
                assert third["op"] != second["op"], "the deferred event's echo is not shown twice"
                received = await other.receives(3, origin)
                assert len({e.id for e in received}) == len(received)
    finally:
        await other.bus.aclose()


async def test_a_publish_that_finds_no_stream_recreates_it(
    node: Node, nats_server: OwnServer, simulators: dict[str, str]
) -> None:
    """The stream disappears while everyone stays connected (deleted; a restart this node has not
    noticed yet looks the same): the next publish finds no stream (NoStreamResponseError), makes
    it again and goes through; the other process notices its stream was replaced and reads on."""
    url = f"nats://127.0.0.1:{nats_server.port}"
    origin = node.services.changes.origin
    other = OtherProcess(url)
    await other.start()
    zaak, _ = await open_zaak_of(simulators["zaken"])
    try:
        async with await node.as_user("kcm-anna") as anna:
            contact = await open_contact(anna, LOPENDE_ZAAK)
            async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
                admin = await nats.connect(url)
                try:
                    await admin.jetstream().delete_stream(NATS_STREAM)
                finally:
                    await admin.close()
                for n in (1, 2):
                    resp = await node.notify(message(zaak, n))
                    assert resp.status_code == 204, resp.text
                    kind, _ = await sse.next(wait=10)
                    assert kind == "bijgewerkt"
                assert node.services.changes.bus.pending == 0, "published at once, not deferred"
                await other.receives(2, origin)
    finally:
        await other.bus.aclose()
