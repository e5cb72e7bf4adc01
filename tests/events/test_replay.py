"""Issue 13: an SSE client that reconnects with `Last-Event-ID` misses no event — replayed from the
JetStream stream when there is NATS (also by a node that started after the events), from the
process's own memory without it — and a replay is filtered again by the contact's current decision.
A Last-Event-ID that names nothing usable starts the stream live, never a 500."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.events.bus import ChangeEvent
from dgkb.events.history import EventPosition, RecentEvents, missed, parse_position, sse_id
from dgkb.events.hub import REPLAY_HORIZON, REPLAY_SLACK, ChangeHub
from tests.conftest import fresh_database_url
from tests.events.conftest import (
    ALGEMEEN,
    BSN,
    LOPENDE_ZAAK,
    Node,
    SseClient,
    dgkb_node,
    open_contact,
    settings_for,
)
from tests.servers import needs_nats_server, own_nats

SUBJECT = Subject.person(BSN)
OTHER_BSN = "999991425"  # another customer of the test world


def test_an_sse_id_names_its_event_and_moment() -> None:
    event = ChangeEvent.of("key", ["klant.basis"], "brp")
    position = parse_position(sse_id(event))
    assert position is not None
    assert position.event_id == event.id
    assert abs((position.at - event.at).total_seconds()) < 0.001


@pytest.mark.parametrize(
    "garbage",
    [None, "", "garbage", "-", "abc-", "-123", "a b-1", "abc-99999999999999999", "x" * 200 + "-1", "é-1"],
)
def test_an_unusable_last_event_id_names_no_position(garbage: str | None) -> None:
    assert parse_position(garbage) is None


def test_missed_events_follow_the_named_one_or_else_its_moment() -> None:
    base = datetime(2026, 5, 1, 9, tzinfo=UTC)
    events = [ChangeEvent.of("key", ["klant.basis"], "brp", at=base + timedelta(seconds=i)) for i in range(4)]
    other = ChangeEvent.of("other", ["klant.basis"], "brp", at=base)
    ring = RecentEvents(size=10)
    for e in (events[0], other, *events[1:]):
        ring.record(e)
    after_first = parse_position(sse_id(events[0]))
    assert after_first is not None
    assert ring.since(after_first, "key") == events[1:]
    # an id this process never saw: what happened after its moment
    assert ring.since(EventPosition(event_id="elders", at=events[1].at), "key") == events[2:]
    assert ring.since(EventPosition("elders", datetime(2999, 1, 1, tzinfo=UTC)), "key") == []
    # the ring forgets the oldest
    small = RecentEvents(size=2)
    for e in events:
        small.record(e)
    assert len(small) == 2
    assert missed(events, after_first, "other") == []


async def _first_update(sse: SseClient) -> tuple[dict[str, object], str]:
    kind, data = await sse.next()
    assert kind == "bijgewerkt", (kind, data)
    assert sse.last_event_id is not None
    return data, sse.last_event_id


async def _replay_on_reconnect(
    first: Node, second: Callable[[], contextlib.AbstractAsyncContextManager[Node]]
) -> Node:
    """A view at `first` sees E1 and drops; E2 (a category the new purpose no longer permits) and E3
    happen and the purpose changes; reconnecting at the node `second()` starts, with E1's id, gets
    E3 only, then live events. Returns that node (stopped)."""
    async with await first.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        path = f"/api/v1/contacten/{contact}/gebeurtenissen"
        async with SseClient(anna, path) as sse:
            await first.services.changes.publish_change(SUBJECT, ["klant.basis"], "brp")
            data, last = await _first_update(sse)
            assert data["categorieen"] == ["klant.basis"]
        changes = first.services.changes
        lost_zaak = await changes.publish_change(SUBJECT, ["dienst.zaken-lopend"], "zaken")
        missed_basis = await changes.publish_change(SUBJECT, ["klant.basis", "dienst.zaken-lopend"], "brp")
        changed = await anna.put(
            f"/api/v1/contacten/{contact}/verwerkingsactiviteit", json={"verwerkingsactiviteit": ALGEMEEN}
        )
        assert changed.status_code == 200, changed.text

        async with (
            second() as node,
            await node.as_user("kcm-anna") as anna_b,
            SseClient(anna_b, path, headers={"Last-Event-ID": last}) as again,
        ):
            data, replayed_id = await _first_update(again)
            assert data["categorieen"] == ["klant.basis"], "zaken are no longer permitted"
            assert replayed_id == sse_id(missed_basis)
            live = await node.services.changes.publish_change(SUBJECT, ["contact.historie"], "dgkb")
            data, live_id = await _first_update(again)
            assert data["categorieen"] == ["contact.historie"]
            assert live_id == sse_id(live), "nothing between the replay and the next live event"
            assert lost_zaak.id not in replayed_id
    return node


async def test_a_reconnect_replays_the_missed_events_from_memory_without_nats(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    async with dgkb_node(settings_for(await fresh_database_url("sqlite", tmp_path)), simulators) as node:
        await _replay_on_reconnect(node, lambda: contextlib.nullcontext(node))


async def test_an_unusable_last_event_id_starts_the_stream_live(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    database_url = await fresh_database_url("sqlite", tmp_path)
    async with (
        dgkb_node(settings_for(database_url), simulators) as node,
        await node.as_user("kcm-anna") as anna,
    ):
        contact = await open_contact(anna, ALGEMEEN)
        await node.services.changes.publish_change(SUBJECT, ["klant.basis"], "brp")
        path = f"/api/v1/contacten/{contact}/gebeurtenissen"
        now = f"onbekend-{int(datetime.now(UTC).timestamp() * 1000) + 1000}"  # unknown, from now on
        for garbage in ("0-0", "garbage", now, "abc-99999999999999999", "x" * 5000):
            async with SseClient(anna, path, headers={"Last-Event-ID": garbage}) as sse:
                assert sse.status == 200
                if garbage == "0-0":  # an unknown id from the epoch: everything since, filtered
                    data, _ = await _first_update(sse)
                    assert data["categorieen"] == ["klant.basis"]
                event = await node.services.changes.publish_change(SUBJECT, ["contact.historie"], "dgkb")
                data, event_id = await _first_update(sse)
                assert (data["categorieen"], event_id) == (["contact.historie"], sse_id(event))
        # the console's stream takes the header the same way
        console = await anna.get(f"/contacten/{contact}/gebeurtenissen", headers={"Last-Event-ID": "%%%"})
        assert console.status_code != 500


@needs_nats_server
async def test_a_node_that_started_later_replays_from_jetstream(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    """The second node starts after the events were published: only the stream holds them."""
    database_url = await fresh_database_url("sqlite", tmp_path)
    async with own_nats(tmp_path / "nats") as nats:
        shared = {
            "nats_url": f"nats://127.0.0.1:{nats.port}",
            "public_url": "http://dgkb.test",
            "dev_issuer_key_file": tmp_path / "dev-issuer.pem",
        }
        settings = settings_for(database_url, **shared)
        seen_before: list[int] = []

        @contextlib.asynccontextmanager
        async def later() -> AsyncIterator[Node]:
            async with dgkb_node(settings, simulators) as node:
                seen_before.append(len(node.services.hub.recent))
                yield node

        async with dgkb_node(settings, simulators) as first:
            second = await _replay_on_reconnect(first, later)
        assert seen_before == [0], "the second node saw none of the events live"
        hub = second.services.hub
        assert hub.replays == 1
        assert hub.replay_fallbacks == 0, "replayed from JetStream, not from memory"


class _Archive:
    """A shared bus's stream as the hub sees it: records from when it was asked to read."""

    def __init__(self, events: list[ChangeEvent]) -> None:
        self.events = events
        self.asked: list[datetime] = []

    async def recent(self, since: datetime, *, limit: int) -> list[ChangeEvent]:
        self.asked.append(since)
        return [e for e in self.events if e.at >= since][:limit]


async def test_a_crafted_last_event_id_reads_no_further_back_than_the_horizon() -> None:
    """`0-0` (the epoch) would otherwise have the node read the whole stream for every reconnect."""
    old = ChangeEvent.of("key", ["klant.basis"], "brp", at=datetime.now(UTC) - timedelta(hours=3))
    new = ChangeEvent.of("key", ["klant.basis"], "brp")
    archive = _Archive([old, new])
    hub = ChangeHub(archive=archive)
    position = parse_position("0-0")
    assert position is not None
    assert await hub.replay(position, "key") == [new]
    assert archive.asked[0] >= datetime.now(UTC) - REPLAY_HORIZON - timedelta(seconds=5)
    # a real reconnect (seconds ago) reads from just before its last event, as before
    recent = EventPosition(event_id="e1", at=datetime.now(UTC) - timedelta(seconds=30))
    await hub.replay(recent, "key")
    assert archive.asked[1] == recent.at - REPLAY_SLACK


async def test_a_crafted_last_event_id_replays_no_other_subject_and_opens_no_other_contact(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    """A Last-Event-ID is only a position in the stream of the contact's own customer: from the
    epoch it replays that customer's events (filtered by the purpose), never another customer's;
    and with it, another employee still cannot follow the contact."""
    async with (
        dgkb_node(settings_for(await fresh_database_url("sqlite", tmp_path)), simulators) as node,
        await node.as_user("kcm-anna") as anna,
        await node.as_user("kcm-wim") as wim,
    ):
        contact = await open_contact(anna, ALGEMEEN)
        changes = node.services.changes
        other = await changes.publish_change(Subject.person(OTHER_BSN), ["klant.basis"], "brp")
        own = await changes.publish_change(SUBJECT, ["contact.historie"], "dgkb")
        path = f"/api/v1/contacten/{contact}/gebeurtenissen"
        for crafted in ("0-0", sse_id(other)):
            async with SseClient(anna, path, headers={"Last-Event-ID": crafted}) as sse:
                data, event_id = await _first_update(sse)
                assert event_id == sse_id(own), "the other customer's event is not replayed"
                assert data["categorieen"] == ["contact.historie"]
        refused = await wim.get(path, headers={"Last-Event-ID": "0-0"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["reden"] == "CONTACT_OF_OTHER_ACTOR"
