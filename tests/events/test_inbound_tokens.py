"""Issue 8 §6: an inbound notification JWT (signed with the abonnement's shared secret) must be fresh:
`iat` present, not in the future and not older than the maximum age (within the clock skew), and
`exp`, when present, not past. Otherwise 401 problem+json, on /notificaties and /cloudevents alike."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from tests.events.conftest import TOKEN, Node, dgkb_node, settings_for

MAX_AGE = 300  # the default of DGKB_NOTIFICATIES_JWT_MAX_AGE_SECONDS
LEEWAY = 60  # the default of DGKB_NOTIFICATIES_JWT_LEEWAY_SECONDS
PROBE = {
    "kanaal": "test",
    "hoofdObject": "http://some.hoofdobject.nl/",
    "resource": "some_resource",
    "resourceUrl": "http://some.resource.nl/",
    "actie": "create",
    "aanmaakdatum": "2026-03-01T10:00:00Z",
    "kenmerken": {},
}


@pytest.fixture
async def node(database_url: str) -> AsyncIterator[Node]:
    """One DGKB process (no sources needed: the probe message touches none)."""
    async with dgkb_node(settings_for(database_url), {}) as n:
        yield n


def zgw_jwt(secret: str = TOKEN, **claims: Any) -> str:
    """A JWT as ZGW components sign them (HS256; iss, iat, client_id, user_id, user_representation)."""
    payload = {
        "iss": "open-zaak",
        "client_id": "open-zaak",
        "user_id": "open-zaak",
        "user_representation": "Open Zaak",
        "iat": int(time.time()),
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")


def assert_refused(resp: httpx.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "notificaties.unauthenticated"


async def test_a_fresh_zgw_jwt_is_accepted(node: Node) -> None:
    now = int(time.time())
    assert (await node.notify(PROBE, token=zgw_jwt())).status_code == 204
    assert (await node.notify(PROBE, token=zgw_jwt(exp=now + 60))).status_code == 204
    # a sender's clock a little ahead is tolerated (clock skew)
    assert (await node.notify(PROBE, token=zgw_jwt(iat=now + LEEWAY // 2))).status_code == 204


async def test_a_jwt_without_iat_or_exp_is_refused(node: Node) -> None:
    bare = jwt.encode({"client_id": "x"}, TOKEN, algorithm="HS256")
    assert_refused(await node.notify(PROBE, token=bare))
    # an exp alone does not do: without iat its age is unknown
    only_exp = jwt.encode({"client_id": "x", "exp": int(time.time()) + 60}, TOKEN, algorithm="HS256")
    assert_refused(await node.notify(PROBE, token=only_exp))


async def test_an_expired_jwt_is_refused(node: Node) -> None:
    now = int(time.time())
    # issued within the maximum age, but its own exp is past beyond the clock skew
    assert_refused(await node.notify(PROBE, token=zgw_jwt(iat=now - 120, exp=now - LEEWAY - 30)))


async def test_a_jwt_issued_far_in_the_future_is_refused(node: Node) -> None:
    assert_refused(await node.notify(PROBE, token=zgw_jwt(iat=int(time.time()) + 3600)))


async def test_a_jwt_older_than_the_maximum_age_is_refused(node: Node) -> None:
    assert_refused(await node.notify(PROBE, token=zgw_jwt(iat=int(time.time()) - MAX_AGE - LEEWAY - 30)))


async def test_a_fresh_jwt_signed_with_another_secret_is_refused(node: Node) -> None:
    assert_refused(await node.notify(PROBE, token=zgw_jwt(secret="een-ander-geheim-van-minstens-32-tekens")))


async def test_the_cloudevents_endpoint_applies_the_same_rule(node: Node) -> None:
    event = {
        "specversion": "1.0",
        "id": "evt-token-1",
        "source": "urn:nld:oin:00000001234567890000:systeem:brp",
        "type": "nl.overheid.onbekend",
        "time": datetime.now(UTC).isoformat(),
    }
    headers = {"Content-Type": "application/cloudevents+json"}
    bare = jwt.encode({"client_id": "x"}, TOKEN, algorithm="HS256")
    resp = await node.client.post(
        "/api/v1/cloudevents", json=event, headers={**headers, "Authorization": f"Bearer {bare}"}
    )
    assert_refused(resp)
    resp = await node.client.post(
        "/api/v1/cloudevents", json=event, headers={**headers, "Authorization": f"Bearer {zgw_jwt()}"}
    )
    assert resp.status_code == 204, resp.text
