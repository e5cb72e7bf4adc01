"""Federation.fetch over in-memory sources (tests.fake_source): the fan-out of one klantbeeld — one
call per source, all in parallel, each under its deadline, breaker, limit and the cache — without
sockets. Deadlines here are the sources' configured deadlines, not limits on the test."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.federation.breaker import BreakerState
from dgkb.federation.cache import MemoryCache
from dgkb.federation.fanout import (
    ADAPTER_FAILURE,
    BREAKER_OPEN,
    CategoryOutcome,
    Federation,
    SectionStatus,
    SourceCall,
)
from dgkb.sources.base import (
    InvalidParam,
    SourceError,
    SourceRejected,
    SourceTimeout,
    SourceUnauthorized,
    SourceUnavailable,
    SubjectNotFound,
)
from tests.fake_source import FakeSource

SUBJECT = Subject.person("999993653")
KEY = "pseudonym-of-the-subject"
HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def federation(
    *sources: FakeSource,
    cache: MemoryCache | None = None,
    failure_threshold: int = 5,
    reset_after: float = 10.0,
) -> Federation:
    return Federation(
        concurrency={s.id: 50 for s in sources},
        cache=cache,
        failure_threshold=failure_threshold,
        reset_after=reset_after,
    )


def call(
    source: FakeSource,
    fields: Mapping[str, tuple[str, ...]] | None = None,
    *,
    deadline: float = 5.0,
    cache_ttl: float = 0.0,
) -> SourceCall:
    if fields is None:
        fields = {c: ("naam",) for c in sorted(source.categories)}
    return SourceCall(source, fields, HEADERS, deadline=deadline, cache_ttl=cache_ttl)


def by_category(outcomes: list[CategoryOutcome]) -> dict[str, CategoryOutcome]:
    return {o.category: o for o in outcomes}


async def test_each_source_is_asked_once_for_its_categories_and_all_run_at_once() -> None:
    a = FakeSource("a", ["klant.basis", "klant.familie"], answers={"klant.basis": {"naam": "A"}})
    b = FakeSource("b", ["dienst.zaken-lopend"], answers={"dienst.zaken-lopend": [{"id": 1}]})
    c = FakeSource("c", ["contact.historie"], answers={"contact.historie": []})
    # Every call waits until all three are in flight: calls made one after another would wait for
    # each other until their deadline and come back "timeout".
    barrier = asyncio.Barrier(3)
    for source in (a, b, c):
        source.gate = barrier
    fields_a = {"klant.basis": ("naam", "geboorte"), "klant.familie": ("kinderen",)}
    outcomes = await federation(a, b, c).fetch([call(a, fields_a), call(b), call(c)], SUBJECT, KEY)

    assert [(s.calls, s.max_in_flight) for s in (a, b, c)] == [(1, 1), (1, 1), (1, 1)]
    assert a.requests[0].fields == fields_a
    assert a.requests[0].subject == SUBJECT
    assert a.requests[0].subject_key == KEY
    assert a.requests[0].headers == HEADERS
    found = {(o.source_id, o.category): (o.status, o.data) for o in outcomes}
    assert found == {
        ("a", "klant.basis"): (SectionStatus.OK, {"naam": "A"}),
        ("a", "klant.familie"): (SectionStatus.NIET_GEVONDEN, None),  # None: the source knows nothing
        ("b", "dienst.zaken-lopend"): (SectionStatus.OK, [{"id": 1}]),
        ("c", "contact.historie"): (SectionStatus.OK, []),  # an empty list is "ok, none"
    }
    assert all(o.error is None and not o.cached for o in outcomes)


async def test_no_calls_no_outcomes() -> None:
    assert await federation().fetch([], SUBJECT, KEY) == []


async def test_a_hanging_source_times_out_and_the_others_still_deliver() -> None:
    slow = FakeSource("slow", ["dienst.zaken-lopend", "dienst.zaken-historie"])
    slow.hang = True
    quick = FakeSource("quick", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    outcomes = by_category(
        await federation(slow, quick).fetch([call(slow, deadline=0.05), call(quick)], SUBJECT, KEY)
    )
    for category in ("dienst.zaken-lopend", "dienst.zaken-historie"):
        assert outcomes[category].status is SectionStatus.TIMEOUT
        assert outcomes[category].data is None
        assert outcomes[category].error == SourceTimeout.code
    assert outcomes["klant.basis"].status is SectionStatus.OK
    assert slow.cancelled == 1  # the deadline cancelled the call; nothing is left running
    assert slow.in_flight == 0


@pytest.mark.parametrize(
    ("failure", "status", "error", "calls"),
    [
        (SubjectNotFound("404"), SectionStatus.NIET_GEVONDEN, SubjectNotFound.code, 1),
        (SourceTimeout("read timeout"), SectionStatus.TIMEOUT, SourceTimeout.code, 1),
        # transient: retried once within the deadline, then "onbereikbaar"
        (SourceUnavailable("HTTP 503"), SectionStatus.ONBEREIKBAAR, SourceUnavailable.code, 2),
        (SourceUnauthorized("HTTP 401"), SectionStatus.NIET_GEAUTORISEERD, SourceUnauthorized.code, 1),
        (
            SourceRejected("HTTP 400", params=[InvalidParam("fields", "invalid", "onbekend veld")]),
            SectionStatus.FOUT,
            SourceRejected.code,
            1,
        ),
        (SourceError("HTTP 500"), SectionStatus.FOUT, SourceError.code, 1),
        (KeyError("an adapter bug"), SectionStatus.FOUT, ADAPTER_FAILURE, 1),
    ],
)
async def test_every_failure_becomes_a_status_never_an_exception(
    failure: BaseException, status: SectionStatus, error: str, calls: int
) -> None:
    broken = FakeSource("broken", ["klant.basis"])
    broken.failure = failure
    fine = FakeSource("fine", ["contact.historie"], answers={"contact.historie": []})
    outcomes = by_category(await federation(broken, fine).fetch([call(broken), call(fine)], SUBJECT, KEY))
    assert (outcomes["klant.basis"].status, outcomes["klant.basis"].error) == (status, error)
    assert outcomes["klant.basis"].data is None
    assert broken.calls == calls
    assert outcomes["contact.historie"].status is SectionStatus.OK


async def test_a_transient_outage_is_retried_once_and_then_delivers() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    source.failures = [SourceUnavailable("HTTP 503")]
    fed = federation(source)
    (outcome,) = await fed.fetch([call(source)], SUBJECT, KEY)
    assert (outcome.status, outcome.data, source.calls) == (SectionStatus.OK, {"naam": "A"}, 2)
    (state,) = fed.states()
    assert (state.breaker, state.health.calls, state.health.error_rate) == (BreakerState.CLOSED, 1, 0.0)


async def test_no_retry_when_the_deadline_leaves_no_room_for_it() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    source.failures = [SourceUnavailable("HTTP 503")]
    # the back-off alone (20-60 ms) is longer than this deadline
    (outcome,) = await federation(source).fetch([call(source, deadline=0.01)], SUBJECT, KEY)
    assert (outcome.status, source.calls) == (SectionStatus.ONBEREIKBAAR, 1)


async def test_the_breaker_opens_after_consecutive_failures_and_then_costs_no_call() -> None:
    source = FakeSource("s", ["klant.basis"])
    source.failure = SourceUnavailable("HTTP 503")
    fed = federation(source, failure_threshold=2, reset_after=3600)
    for _ in range(2):
        (outcome,) = await fed.fetch([call(source)], SUBJECT, KEY)
        assert (outcome.status, outcome.error) == (SectionStatus.ONBEREIKBAAR, SourceUnavailable.code)
    assert source.calls == 4  # two reads, each retried once
    (state,) = fed.states()
    assert state.breaker is BreakerState.OPEN

    source.failure = None  # back, but the breaker does not know yet
    (outcome,) = await fed.fetch([call(source)], SUBJECT, KEY)
    assert (outcome.status, outcome.error) == (SectionStatus.ONBEREIKBAAR, BREAKER_OPEN)
    assert source.calls == 4  # refused at once, the source was not called


async def test_a_half_open_breaker_lets_one_probe_through_and_closes_when_it_succeeds() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    source.failure = SourceUnavailable("HTTP 503")
    fed = federation(source, failure_threshold=1, reset_after=0)  # half-open as soon as it opens
    (outcome,) = await fed.fetch([call(source)], SUBJECT, KEY)
    assert outcome.status is SectionStatus.ONBEREIKBAAR
    assert fed.states()[0].breaker is BreakerState.HALF_OPEN

    source.failure = None
    source.gate = gate = asyncio.Event()
    source.entered.clear()
    calls_before = source.calls
    probe = asyncio.create_task(fed.fetch([call(source)], SUBJECT, KEY))
    await source.entered.wait()  # the probe is at the source
    (refused,) = await fed.fetch([call(source)], SUBJECT, KEY)  # a second read meanwhile
    assert (refused.status, refused.error) == (SectionStatus.ONBEREIKBAAR, BREAKER_OPEN)
    gate.set()
    (probed,) = await probe
    assert probed.status is SectionStatus.OK
    assert source.calls == calls_before + 1
    assert fed.states()[0].breaker is BreakerState.CLOSED
    source.gate = None
    (after,) = await fed.fetch([call(source)], SUBJECT, KEY)
    assert after.status is SectionStatus.OK


async def test_not_found_and_refusals_never_open_the_breaker() -> None:
    source = FakeSource("s", ["klant.basis"])
    fed = federation(source, failure_threshold=1, reset_after=3600)
    for failure in (
        SubjectNotFound("404"),
        SourceUnauthorized("HTTP 403", status=403),
        SourceRejected("400"),
    ):
        source.failure = failure
        await fed.fetch([call(source)], SUBJECT, KEY)
    assert fed.states()[0].breaker is BreakerState.CLOSED


async def test_the_concurrency_limit_of_a_source_holds_across_views() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    source.gate = gate = asyncio.Event()
    fed = Federation(concurrency={"s": 1})
    first = asyncio.create_task(fed.fetch([call(source)], SUBJECT, KEY))
    await source.entered.wait()
    second = asyncio.create_task(fed.fetch([call(source)], SUBJECT, KEY))
    await asyncio.sleep(0)  # without the limit the second call would be at the source now
    assert source.in_flight == 1
    gate.set()
    results = await asyncio.gather(first, second)
    assert [o.status for (o,) in results] == [SectionStatus.OK, SectionStatus.OK]
    assert (source.calls, source.max_in_flight) == (2, 1)


async def test_only_the_categories_asked_come_back_whatever_the_source_answers() -> None:
    """A source that ignores `fields` and answers more must not leak it into the view."""
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    source.extra = {"klant.familie": {"kinderen": ["B"]}, "dossier.financieel": [{"bedrag": 1}]}
    outcomes = await federation(source).fetch([call(source, {"klant.basis": ("naam",)})], SUBJECT, KEY)
    assert [(o.category, o.data) for o in outcomes] == [("klant.basis", {"naam": "A"})]


async def test_answers_are_cached_per_subject_and_field_set_and_never_errors() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    fed = federation(source, cache=MemoryCache())
    naam = {"klant.basis": ("naam",)}

    (first,) = await fed.fetch([call(source, naam, cache_ttl=60)], SUBJECT, KEY)
    (second,) = await fed.fetch([call(source, naam, cache_ttl=60)], SUBJECT, KEY)
    assert (first.cached, second.cached, second.data, source.calls) == (False, True, {"naam": "A"}, 1)

    # another field set, another subject: other entries
    await fed.fetch([call(source, {"klant.basis": ("naam", "geboorte")}, cache_ttl=60)], SUBJECT, KEY)
    await fed.fetch([call(source, naam, cache_ttl=60)], Subject.person("999990019"), "another-pseudonym")
    assert source.calls == 3

    # invalidating the subject (a change notification) drops every entry about it
    assert await fed.invalidate(KEY) == 2
    (fresh,) = await fed.fetch([call(source, naam, cache_ttl=60)], SUBJECT, KEY)
    assert (fresh.cached, source.calls) == (False, 4)

    # a failure is not remembered: the next view asks again
    other = FakeSource("t", ["klant.basis"], answers={"klant.basis": {"naam": "T"}})
    other.failures = [SourceError("HTTP 500")]
    fed_t = federation(other, cache=MemoryCache())
    (failed,) = await fed_t.fetch([call(other, naam, cache_ttl=60)], SUBJECT, KEY)
    (answered,) = await fed_t.fetch([call(other, naam, cache_ttl=60)], SUBJECT, KEY)
    assert (failed.status, answered.status, answered.cached, other.calls) == (
        SectionStatus.FOUT,
        SectionStatus.OK,
        False,
        2,
    )


async def test_without_a_ttl_nothing_is_cached() -> None:
    source = FakeSource("s", ["klant.basis"], answers={"klant.basis": {"naam": "A"}})
    fed = federation(source, cache=MemoryCache())
    for _ in range(2):
        (outcome,) = await fed.fetch([call(source, cache_ttl=0)], SUBJECT, KEY)
        assert not outcome.cached
    assert source.calls == 2
