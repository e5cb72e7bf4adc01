"""Late answers (SourceCall.late): a source slower than the view's deadline is not cut off; its
sections come back "pending", the call goes on, and its outcome waits for the next read of the view,
which takes it instead of asking the source again. In-memory sources (tests.fake_source)."""

from __future__ import annotations

import asyncio

from dgkb.domain.identifiers import Subject
from dgkb.federation.cache import MemoryCache
from dgkb.federation.fanout import Federation, SectionStatus, SourceCall
from dgkb.sources.base import SourceUnavailable
from tests.fake_source import FakeSource

SUBJECT = Subject.person("999993653")
KEY = "pseudonym-of-the-subject"
FIELDS = {"dienst.zaken-lopend": ("identificatie",)}


def slow_source() -> FakeSource:
    source = FakeSource("zaken", ["dienst.zaken-lopend"], answers={"dienst.zaken-lopend": [{"id": 1}]})
    source.gate = asyncio.Event()  # answers when the test opens the gate
    return source


def federation(
    source: FakeSource, cache: MemoryCache | None = None
) -> tuple[Federation, list[tuple[str, ...]]]:
    fed = Federation(concurrency={source.id: 5}, cache=cache)
    told: list[tuple[str, ...]] = []

    async def on_late(subject_key: str, categories: tuple[str, ...], source_id: str) -> None:
        told.append((subject_key, source_id, *categories))

    fed.on_late = on_late
    return fed, told


def call(source: FakeSource, *, late: float, deadline: float = 0.05, cache_ttl: float = 0.0) -> SourceCall:
    return SourceCall(source, FIELDS, {}, deadline=deadline, cache_ttl=cache_ttl, late=late)


async def _until(condition: object, what: str) -> None:
    for _ in range(400):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_a_slow_source_is_pending_then_its_answer_waits_for_the_next_read_without_a_second_call() -> (
    None
):
    source = slow_source()
    fed, told = federation(source)
    [first] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert (first.status, first.pending) == (SectionStatus.TIMEOUT, True)
    # read again while the source is still answering: pending at once, no second call
    [again] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert again.pending
    assert source.calls == 1
    source.gate.set()  # type: ignore[union-attr]
    await _until(lambda: told, "the late answer was not announced")
    assert told == [(KEY, "zaken", "dienst.zaken-lopend")]
    [filled] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert (filled.status, filled.pending, filled.data) == (SectionStatus.OK, False, [{"id": 1}])
    assert filled.duration_ms >= 50  # the real time the source took, not the view's wait
    assert source.calls == 1  # taken from what the late call brought, not asked again
    # taken once: the read after that asks the source (no cache configured here)
    [fresh] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert fresh.status is SectionStatus.OK
    assert source.calls == 2


async def test_a_late_failure_is_kept_too_so_the_view_shows_it_instead_of_asking_again() -> None:
    source = slow_source()
    source.failure = SourceUnavailable("503")
    fed, told = federation(source)
    [first] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert first.pending
    source.gate.set()  # type: ignore[union-attr]
    await _until(lambda: told, "the late failure was not announced")
    [shown] = await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    assert (shown.status, shown.pending) == (SectionStatus.ONBEREIKBAAR, False)


async def test_a_late_answer_goes_into_the_cache_as_any_answer() -> None:
    source = slow_source()
    cache = MemoryCache()
    fed, told = federation(source, cache)
    await fed.fetch([call(source, late=30, cache_ttl=60)], SUBJECT, KEY)
    source.gate.set()  # type: ignore[union-attr]
    await _until(lambda: told, "the late answer was not announced")
    await fed.fetch([call(source, late=30, cache_ttl=60)], SUBJECT, KEY)  # takes the kept outcome
    [cached] = await fed.fetch([call(source, late=30, cache_ttl=60)], SUBJECT, KEY)
    assert (cached.cached, cached.status) == (True, SectionStatus.OK)
    assert source.calls == 1


async def test_the_late_call_still_ends_at_deadline_plus_late() -> None:
    source = FakeSource("zaken", ["dienst.zaken-lopend"])
    source.hang = True
    fed, told = federation(source)
    [first] = await fed.fetch([call(source, late=0.1)], SUBJECT, KEY)
    assert first.pending
    await _until(lambda: told, "the late timeout was not announced")
    assert source.cancelled == 1
    [shown] = await fed.fetch([call(source, late=0.1)], SUBJECT, KEY)
    assert (shown.status, shown.pending) == (SectionStatus.TIMEOUT, False)


async def test_without_late_a_slow_source_is_cut_off_at_its_deadline_as_before() -> None:
    source = slow_source()
    fed, told = federation(source)
    [first] = await fed.fetch([call(source, late=0)], SUBJECT, KEY)
    assert (first.status, first.pending) == (SectionStatus.TIMEOUT, False)
    assert source.cancelled == 1
    await asyncio.sleep(0.05)
    assert told == []


async def test_an_answer_within_the_deadline_is_simply_the_answer() -> None:
    source = FakeSource("zaken", ["dienst.zaken-lopend"], answers={"dienst.zaken-lopend": []})
    fed, told = federation(source)
    [outcome] = await fed.fetch([call(source, late=30, deadline=5)], SUBJECT, KEY)
    assert (outcome.status, outcome.pending) == (SectionStatus.OK, False)
    await asyncio.sleep(0.05)
    assert told == []
    assert source.calls == 1


async def test_the_view_going_away_cancels_its_call() -> None:
    source = slow_source()
    fed, _ = federation(source)
    view = asyncio.create_task(fed.fetch([call(source, late=30, deadline=5)], SUBJECT, KEY))
    await source.entered.wait()
    view.cancel()
    await asyncio.gather(view, return_exceptions=True)
    await _until(lambda: source.cancelled == 1, "the call outlived its view")


async def test_closing_cancels_the_late_calls_still_running() -> None:
    source = slow_source()
    fed, told = federation(source)
    await fed.fetch([call(source, late=30)], SUBJECT, KEY)
    await fed.aclose()
    assert source.cancelled == 1
    assert told == []
