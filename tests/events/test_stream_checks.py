"""The quiet-period checks of open event streams (issue 13 §6) and what a failing check does.

500 streams opened together used to check their contact every 15 s in the same instant (a 614 ms
stall of every other request). Each stream now draws its waits (`check_delays`): these tests read
the schedule of real streams over a real hub, with a seeded RNG — no clock is measured."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role
from dgkb.events.bus import ChangeEvent
from dgkb.events.hub import ChangeHub
from dgkb.events.stream import HEARTBEAT_SECONDS, RECONNECT, check_delays, view_updates

STREAMS = 500


def context(n: int) -> RequestContext:
    return RequestContext(
        actor=Actor(id=f"kcm-{n}", role=Role.KCM, organisation="00000001234567890000"),
        subject=Subject.person("999993653"),
        purpose_id="https://register.voorbeeldstad.nl/verwerkingen/kcc-algemene-vraag",
        assurance=Assurance.CONTROLEVRAGEN,
        channel=Kanaal.TELEFOON,
        trace=Trace(),
        contact_id=f"contact-{n}",
    )


async def still_open(ctx: RequestContext) -> RequestContext | None:
    return ctx


async def everything(ctx: RequestContext) -> frozenset[str]:
    return frozenset({"dienst.zaken-lopend", "klant.basis"})


def spread_ok(offsets: list[float], heartbeat: float) -> None:
    """Offsets within one heartbeat are spread: no two streams share an instant, no slice of a
    50th of the interval holds more than a few times its fair share, and the whole interval is used."""
    assert len(set(offsets)) == len(offsets), "every stream has its own moment"
    slices = Counter(int(o / heartbeat * 50) for o in offsets)
    fair = len(offsets) / 50
    assert max(slices.values()) <= 3 * fair, slices
    assert max(offsets) - min(offsets) >= 0.8 * heartbeat


def test_the_first_checks_of_streams_opened_together_are_spread_over_the_interval() -> None:
    rng = random.Random(13)
    firsts = [next(check_delays(HEARTBEAT_SECONDS, rng)) for _ in range(STREAMS)]
    assert all(0 < d <= HEARTBEAT_SECONDS for d in firsts)
    spread_ok(firsts, HEARTBEAT_SECONDS)


def test_later_checks_never_wait_longer_than_the_heartbeat_and_drift_apart() -> None:
    rng = random.Random(6)
    schedules = [check_delays(HEARTBEAT_SECONDS, rng) for _ in range(STREAMS)]
    for s in schedules:
        next(s)  # the first check
    # streams an event lined up (each begins a new wait at the same moment) part again
    seconds = [next(s) for s in schedules]
    assert all(0.8 * HEARTBEAT_SECONDS <= d <= HEARTBEAT_SECONDS for d in seconds)
    assert len(set(seconds)) == len(seconds)


async def _drain(stream: AsyncIterator[bytes]) -> None:
    async for _ in stream:
        pass


async def test_500_open_streams_wait_for_different_moments() -> None:
    """The real streams: 500 views of the same moment, each waiting on the hub; when each will
    check (`Subscription.wakes_at`) is spread over the heartbeat interval."""
    hub = ChangeHub()
    rng = random.Random(500)
    tasks = [
        asyncio.create_task(
            _drain(
                view_updates(
                    hub, f"subject-{n % 50}", context(n), current=still_open, permitted=everything, rng=rng
                )
            )
        )
        for n in range(STREAMS)
    ]
    try:
        for _ in range(1000):
            subs = hub.subscriptions()
            if len(subs) == STREAMS and all(s.wakes_at is not None for s in subs):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the streams did not all start waiting")
        wakes = [s.wakes_at for s in hub.subscriptions()]
        assert all(w is not None for w in wakes)
        start = min(w for w in wakes if w is not None)
        # relative to the earliest; the streams started within moments of each other, so the
        # spread is the schedule's, not the start-up's
        spread_ok([w - start for w in wakes if w is not None], HEARTBEAT_SECONDS)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_failing_check_keeps_the_stream_and_holds_the_event_until_a_check_works() -> None:
    """The database is unreachable: the stream stays open (heartbeats), shows nothing it could not
    check, and shows the held event once the check works again."""
    hub = ChangeHub()
    down = True
    calls = 0

    async def current(ctx: RequestContext) -> RequestContext | None:
        nonlocal calls
        calls += 1
        if down:
            raise ConnectionRefusedError(111, "Connect call failed")
        return ctx

    frames: asyncio.Queue[bytes] = asyncio.Queue()

    async def read() -> None:
        async for f in view_updates(
            hub, "subject-x", context(1), current=current, permitted=everything, heartbeat=0.01
        ):
            await frames.put(f)

    task = asyncio.create_task(read())
    try:
        assert b"verbonden" in await frames.get()
        event = ChangeEvent.of("subject-x", ["dienst.zaken-lopend"], "zaken")
        hub.deliver(event)
        for _ in range(3):
            assert await frames.get() == b": hartslag\n\n"  # checks fail: nothing shown, stream open
        assert not task.done()
        down = False
        while (f := await frames.get()) == b": hartslag\n\n":
            pass
        assert f.startswith(b"event: bijgewerkt\n")
        assert f"id: {event.id}".encode() in f
        assert calls >= 4
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_when_the_node_stops_open_and_new_streams_end_with_a_reconnect_hint() -> None:
    """Shutdown (dgkb.app.begin_shutdown closes the hub): streams open and those opened after it end
    with `retry:` + `herverbinden` instead of holding the node until its grace period runs out."""
    hub = ChangeHub()
    frames: list[bytes] = []

    async def collect() -> None:
        async for f in view_updates(hub, "subject", context(1), current=still_open, permitted=everything):
            frames.append(f)

    task = asyncio.create_task(collect())
    while not hub.subscriptions():  # noqa: ASYNC110 (the hub offers no event for this)
        await asyncio.sleep(0.01)
    hub.close()
    await task
    assert frames[-1] == RECONNECT
    assert b"retry: 500" in RECONNECT
    assert b"event: herverbinden" in RECONNECT
    late = [
        f async for f in view_updates(hub, "subject", context(2), current=still_open, permitted=everything)
    ]
    assert late[-1] == RECONNECT
