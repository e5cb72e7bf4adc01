"""The source port's contract, once for every HTTP adapter of config/sources.yaml (built the way DGKB
builds them, with their configured auth, against the session's simulators on real sockets):

- it fits the port (SourceAdapter, SourceProbe) and answers only the categories it was asked;
- a 503 of its source is SourceUnavailable ("onbereikbaar": transient, federation may retry);
- a 500 is a SourceError, neither unavailable nor a timeout ("fout");
- a source that never answers is SourceTimeout, raised by the adapter itself at its configured
  deadline (not earlier).

The adapters' own tests (tests/sources/test_<kind>.py) cover what differs per API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dgkb.composition.root import load_configuration
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.sources.base import (
    FetchRequest,
    SourceAdapter,
    SourceError,
    SourceProbe,
    SourceTimeout,
    SourceUnavailable,
)
from dgkb.sources.config import SourceConfig
from dgkb.sources.registry import build_adapter, known_kinds
from tests.clients import http_client
from tests.conftest import SharedSimulators

from .conftest import HEADERS

DEADLINE = 0.3  # seconds: the adapter's configured deadline in these tests
SETTINGS = Settings(env=Environment.TEST)
CONFIGURED = [s for s in load_configuration(SETTINGS).sources.sources if s.kind in known_kinds()]
PERSON = Subject.person("999993653")
BUSINESS = Subject.business("69599084")


def test_every_adapter_kind_is_configured_at_least_once() -> None:
    """The contract below runs over the configured sources: each adapter kind must be among them."""
    assert {s.kind for s in CONFIGURED} == known_kinds()


@pytest.fixture(scope="session")
def rebased(shared_simulators: SharedSimulators) -> dict[str, SourceConfig]:
    """Source id -> its configuration with the base URL on the session's simulator."""
    urls = shared_simulators.urls
    return {s.id: s for s in load_configuration(SETTINGS, rebase_sources(SETTINGS, urls)).sources.sources}


@pytest.fixture(params=CONFIGURED, ids=lambda s: f"{s.kind}:{s.id}")
async def configured(
    request: pytest.FixtureRequest, rebased: dict[str, SourceConfig], simulators: dict[str, str]
) -> AsyncIterator[tuple[SourceConfig, SourceAdapter, str]]:
    """(config, adapter, simulator URL) of one configured source, on the session's simulators (reset
    for this test), with the deadline DEADLINE."""
    config = rebased[request.param.id].model_copy(update={"deadline": DEADLINE})
    adapter = build_adapter(config)
    try:
        yield config, adapter, simulators[config.id]
    finally:
        await adapter.aclose()


def fetch_request(config: SourceConfig, adapter: SourceAdapter) -> FetchRequest:
    """A request for the first category of the source, every field, about a subject it knows."""
    subject = PERSON if SubjectKind.BSN in adapter.subject_kinds else BUSINESS
    category = config.categories[0]
    fields = adapter.vocabulary.get(category)
    return FetchRequest(subject, {category: tuple(sorted(fields)) if fields else ("naam",)}, HEADERS)


async def behave(url: str, **behaviour: Any) -> None:
    async with http_client() as client:
        (await client.post(f"{url}/_sim/behaviour", json=behaviour)).raise_for_status()


async def test_fits_the_port_and_answers_only_what_was_asked(
    configured: tuple[SourceConfig, SourceAdapter, str],
) -> None:
    config, adapter, _ = configured
    assert isinstance(adapter, SourceAdapter)
    assert isinstance(adapter, SourceProbe)
    assert adapter.id == config.id
    assert adapter.categories == frozenset(config.categories)
    request = fetch_request(config, adapter)
    answer = await adapter.fetch(request)
    assert set(answer) == set(request.fields)


async def test_503_is_unavailable(configured: tuple[SourceConfig, SourceAdapter, str]) -> None:
    config, adapter, url = configured
    await behave(url, fail="503")
    with pytest.raises(SourceUnavailable):
        await adapter.fetch(fetch_request(config, adapter))


async def test_500_is_an_error_not_an_outage(configured: tuple[SourceConfig, SourceAdapter, str]) -> None:
    config, adapter, url = configured
    await behave(url, fail="500")
    with pytest.raises(SourceError) as caught:
        await adapter.fetch(fetch_request(config, adapter))
    assert not isinstance(caught.value, SourceUnavailable | SourceTimeout)


async def test_a_hanging_source_is_a_timeout_at_the_configured_deadline(
    configured: tuple[SourceConfig, SourceAdapter, str],
) -> None:
    config, adapter, url = configured
    await behave(url, fail="hang")
    loop = asyncio.get_running_loop()
    started = loop.time()
    # A safety net, not a limit on the adapter: on the same event loop the adapter's own deadline
    # timer is due long before this one, so this fires only when the adapter ignores its deadline.
    async with asyncio.timeout(DEADLINE * 30):
        with pytest.raises(SourceTimeout):
            await adapter.fetch(fetch_request(config, adapter))
    assert loop.time() - started >= DEADLINE * 0.95  # it waited for its deadline, not less
