"""Two DGKB processes behind a load balancer: one PostgreSQL database, NATS JetStream between them.
The viewer is connected to process A; the routing component delivers to process B."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, fresh_database_url
from tests.events.conftest import (
    LOPENDE_ZAAK,
    NATS_URL,
    SseClient,
    World,
    dgkb_node,
    open_contact,
    open_zaak_of,
    set_status,
    settings_for,
)

pytestmark = [
    # DGKB processes configured with NATS share its subjects: such tests run in one xdist worker
    pytest.mark.xdist_group("nats"),
    pytest.mark.skipif(not NATS_URL, reason="DGKB_TEST_NATS_URL is not set (CI: nats://127.0.0.1:4222)"),
    pytest.mark.skipif(
        not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set: two processes share PostgreSQL"
    ),
]


@pytest.fixture
async def two_nodes(tmp_path: Path, simulators: dict[str, str]) -> AsyncIterator[World]:
    database_url = await fresh_database_url("postgresql", tmp_path)
    settings = settings_for(database_url, nats_url=NATS_URL)
    async with dgkb_node(settings, simulators) as a, dgkb_node(settings, simulators) as b:
        w = World(simulators=simulators, nodes=[a, b])
        await w.subscribe(b)  # the routing component knows only B
        yield w


async def test_notification_at_b_reaches_the_viewer_at_a(two_nodes: World) -> None:
    a, b = two_nodes.nodes
    assert a.services.changes.origin != b.services.changes.origin
    zaak, statustypen = await open_zaak_of(two_nodes.simulators["zaken"])
    async with await a.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        before = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()  # fills A's cache
        assert before["secties"]
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            new = next(s for s in statustypen if not s["isEindstatus"])
            await set_status(two_nodes.simulators["zaken"], zaak, new["url"])
            await two_nodes.deliver()
            kind, data = await sse.next(wait=5)
        assert kind == "bijgewerkt"
        assert "dienst.zaken-lopend" in data["categorieen"]
        # A dropped its own cached answers on B's event: the re-read shows the new status
        after = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    statuses = [
        z["status"]["omschrijving"]
        for s in after["secties"]
        if s["categorie"] == "dienst.zaken-lopend" and s["gegevens"]
        for z in s["gegevens"]
        if z["url"] == zaak["url"]
    ]
    assert statuses == [new["omschrijving"]]
    async with httpx.AsyncClient() as c:
        deliveries = (await c.get(f"{two_nodes.simulators['notificaties']}/_sim/deliveries")).json()
    assert [d["callbackUrl"] for d in deliveries] == [f"{b.api}/api/v1/notificaties"]


async def test_a_contact_registered_at_b_is_seen_at_a(two_nodes: World) -> None:
    from dgkb.domain.identifiers import Subject

    a, b = two_nodes.nodes
    async with await a.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            await b.services.changes.publish_change(Subject.person("999993653"), ["contact.historie"], "dgkb")
            _, data = await sse.next(wait=5)
    assert data["categorieen"] == ["contact.historie"]
