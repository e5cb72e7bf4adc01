"""A slow source's late answer reaches the open view (issue 15 §1): the console's read does not wait
past the deadline, the section comes back pending, and when the source answers the open views of the
customer are told (`bijgewerkt`, bron `nalevering`) — the next read shows the answer without asking
the source again. A view whose stream connects after the answer names the moment it was read
(`?sinds=`) and gets the event replayed. A late answer forgets no cached answer, on any node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role
from dgkb.events.bus import ChangeEvent
from dgkb.events.service import LATE
from tests.clients import http_client
from tests.conftest import fresh_database_url
from tests.events.conftest import (
    ALGEMEEN,
    BSN,
    LOPENDE_ZAAK,
    SseClient,
    dgkb_node,
    open_contact,
    settings_for,
)

SUBJECT = Subject.person(BSN)
ANNA = Actor(id="kcm-late", role=Role.KCM, organisation="00000001001234567000")


async def _zaken_reads(zaken: str) -> int:
    async with http_client() as c:
        recorded = (await c.get(f"{zaken}/_sim/requests")).json()
    return sum(1 for r in recorded if r["method"] == "GET" and r["path"].endswith("/zaken/api/v1/zaken"))


async def test_the_late_answer_of_a_slow_source_is_announced_and_shown_by_the_next_read(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    async with dgkb_node(settings_for(await fresh_database_url("sqlite", tmp_path)), simulators) as node:
        services = node.services
        trace = Trace()
        contact = await services.contacts.start(ANNA, kanaal=Kanaal.TELEFOON, purpose_id=LOPENDE_ZAAK)
        await services.identification.answers(ANNA, contact.id, SUBJECT, trace=trace)
        await services.contacts.identify(
            ANNA, contact.id, subject=SUBJECT, assurance=Assurance.CONTROLEVRAGEN, trace=trace
        )
        context = await services.contacts.context_for(ANNA, contact.id, trace=trace)
        key = services.pseudonymizer.pseudonym(SUBJECT).value
        zaken = simulators["zaken"]
        # slower than the view waits (2 s), well within what the source may take (10 s, sources.yaml)
        async with http_client() as c:
            (await c.post(f"{zaken}/_sim/behaviour", json={"latencyMs": 2600})).raise_for_status()
        try:
            async with services.hub.subscribe(key) as view:
                first = await services.klantbeeld.read(context, fill_in_later=True)
                lopend = next(s for s in first.secties if s.categorie == "dienst.zaken-lopend")
                assert (lopend.status, lopend.nog_bezig) == ("timeout", True)
                basis = next(s for s in first.secties if s.categorie == "klant.basis")
                assert basis.status == "ok", "the other sources did not wait for the slow one"
                event = await view.next(15)
            assert event is not None
            assert event.source == LATE
            assert "dienst.zaken-lopend" in event.categories
            reads = await _zaken_reads(zaken)
            second = await services.klantbeeld.read(context, fill_in_later=True)
            lopend = next(s for s in second.secties if s.categorie == "dienst.zaken-lopend")
            assert (lopend.status, lopend.nog_bezig) == ("ok", False)
            assert any(z["identificatie"] == "ZAAK-2026-0000001" for z in lopend.gegevens)
            assert await _zaken_reads(zaken) == reads, "the answer was kept, not asked again"
        finally:
            async with http_client() as c:
                await c.post(f"{zaken}/_sim/behaviour", json={"latencyMs": 0})


async def test_a_stream_started_after_the_read_gets_what_happened_since_it(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    async with (
        dgkb_node(settings_for(await fresh_database_url("sqlite", tmp_path)), simulators) as node,
        await node.as_user("kcm-anna") as anna,
    ):
        contact = await open_contact(anna, ALGEMEEN)
        read_at = datetime.now(UTC) - timedelta(milliseconds=5)
        key = node.services.pseudonymizer.pseudonym(SUBJECT).value
        late = await node.services.changes.publish_late(key, ["contact.historie"], "klantinteracties")
        sinds = f"kb-{int(read_at.timestamp() * 1000)}"
        for path in (f"/api/v1/contacten/{contact}/gebeurtenissen", f"/contacten/{contact}/gebeurtenissen"):
            if path.startswith(
                "/contacten"
            ):  # the console's stream needs a console session: it only must not fail
                resp = await anna.get(f"{path}?sinds={sinds}")
                assert resp.status_code != 500
                continue
            async with SseClient(anna, f"{path}?sinds={sinds}") as sse:
                kind, data = await sse.next()
                assert (kind, data["categorieen"], data["bron"]) == ("bijgewerkt", ["contact.historie"], LATE)
            # without it the stream starts live: the event that came before is not there
            async with SseClient(anna, path) as sse:
                live = await node.services.changes.publish_change(SUBJECT, ["klant.basis"], "brp")
                kind, data = await sse.next()
                assert data["categorieen"] == ["klant.basis"]
                assert sse.last_event_id is not None
                assert late.id not in sse.last_event_id
                assert live.id in sse.last_event_id


async def test_a_late_answer_forgets_no_cached_answer_here_or_on_another_node(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    async with dgkb_node(settings_for(await fresh_database_url("sqlite", tmp_path)), simulators) as node:
        await _keeps_the_cache(node.services)


async def _keeps_the_cache(services: Any) -> None:
    key = services.pseudonymizer.pseudonym(SUBJECT).value
    cache = services.cache

    async def cached() -> bool:
        return await cache.get("dgkb:bron:brp:" + key + ":x") is not None

    await cache.set("dgkb:bron:brp:" + key + ":x", key, {"klant.basis": {}}, 60)
    await services.changes.publish_late(key, ["dienst.zaken-lopend"], "zaken")
    assert await cached()
    # the same event from another node (the bus delivers it here with that node's origin)
    await services.changes.bus.publish(ChangeEvent.of(key, ["dienst.zaken-lopend"], LATE, origin="node-b"))
    assert await cached()
    # a real change from another node does forget it (the contrast: the check above can fail)
    await services.changes.bus.publish(ChangeEvent.of(key, ["klant.basis"], "brp", origin="node-b"))
    assert not await cached()
