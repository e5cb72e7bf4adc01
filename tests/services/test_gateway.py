"""SourceGateway beyond reading a view, over in-memory sources (tests/services/conftest.py): it finds
the adapter by capability, turns every failure into one exception naming the source, and logs each
processing about a subject under the caller's purpose — also when it fails."""

from __future__ import annotations

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.gateway import SourceUnauthorized as GatewayUnauthorized
from dgkb.gateway import SourceUnavailable as GatewayUnavailable
from dgkb.sources.base import SourceTimeout, SourceUnauthorized, SourceUnavailable
from tests.fake_source import FakeRegistry

from .conftest import BSN, PURPOSE, Heart

NAME = "klant identificeren"


def registry(heart: Heart) -> FakeRegistry:
    found = heart.sources["personen"]
    assert isinstance(found, FakeRegistry)
    return found


async def test_a_known_subject_is_verified_at_its_base_registry_and_logged(heart: Heart) -> None:
    context = heart.context()
    facts = await heart.gateway.verify_subject(context, name=NAME)
    assert (facts.exists, facts.display_name) == (True, "A. Jansen")
    assert registry(heart).verified == [context.subject]
    (record,) = await heart.access_log()
    assert (record.categories_delivered, record.outcome) == (("klant.basis",), "delivered")
    assert (record.processing_activity_id, record.trace_id) == (PURPOSE, context.trace.trace_id)


async def test_an_unknown_subject_does_not_exist_and_nothing_was_delivered(heart: Heart) -> None:
    facts = await heart.gateway.verify_subject(heart.context(subject=Subject.person("999990019")), name=NAME)
    assert not facts.exists
    page = await heart.access_log(Subject.person("999990019"))
    assert [(r.categories_delivered, r.outcome) for r in page] == [((), "delivered")]


async def test_a_business_is_not_asked_of_the_persons_registry(heart: Heart) -> None:
    """No registry for businesses is configured here: the identifier is accepted as it is."""
    facts = await heart.gateway.verify_subject(heart.context(subject=Subject.business("69599084")), name=NAME)
    assert facts.exists
    assert registry(heart).verified == []


@pytest.mark.parametrize(
    ("failure", "raised", "calls"),
    [
        (SourceUnavailable("HTTP 503"), GatewayUnavailable, 2),  # retried once
        (SourceTimeout("timeout"), GatewayUnavailable, 1),
        (SourceUnauthorized("HTTP 401"), GatewayUnauthorized, 1),  # retrying cannot help
    ],
)
async def test_a_failing_registry_is_one_exception_naming_the_source_and_is_logged_as_an_error(
    heart: Heart, failure: Exception, raised: type[GatewayUnavailable], calls: int
) -> None:
    registry(heart).failure = failure
    with pytest.raises(raised) as caught:
        await heart.gateway.verify_subject(heart.context(), name=NAME)
    assert type(caught.value) is raised
    assert caught.value.source == "personen"
    assert "Bron personen" in str(caught.value)
    assert len(registry(heart).verified) == calls
    (record,) = await heart.access_log()
    assert (record.categories_delivered, record.outcome) == ((), "error")


async def test_the_cache_of_a_subject_is_invalidated_by_the_gateway(heart: Heart) -> None:
    await heart.service.read(heart.context())
    assert await heart.gateway.invalidate(Subject.person(BSN)) == 1  # the answer of `personen`
    await heart.service.read(heart.context())
    assert heart.sources["personen"].calls == 2
