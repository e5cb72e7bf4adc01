"""Issue 11 §5: DGKB makes a new ZGW JWT every few minutes (`auth.refreshSeconds`), so a component
whose JWT_EXPIRY is shorter than an hour keeps accepting it; one token kept for the hour its `exp`
allows (what DGKB did before) is refused there once its `iat` is older than that expiry."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators import zaken
from dgkb.simulators.common import ZgwJwtVerifier
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World
from dgkb.sources.base import FetchRequest, SourceError
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient
from dgkb.sources.zaken import ZakenAdapter
from dgkb.sources.zgw_jwt import DEFAULT_REFRESH_SECONDS, ZgwJwtIssuer
from tests.fake_clock import FakeClock

from .conftest import HEADERS, source_config

CLIENT, SECRET = "dgkb-test", "test-zgw-geheim-van-de-zaken-bron-voor-dgkb"
EXPIRY = 300.0  # an Open Zaak with JWT_EXPIRY=300: shorter than the hour of a token's `exp`
CRS = {"Accept-Crs": "EPSG:4326"}
CATEGORIES = ("dienst.zaken-lopend", "dienst.zaken-historie")
ZAAKTYPEN = "/catalogi/api/v1/zaaktypen"


def zgw_config(url: str, **auth: Any) -> SourceConfig:
    return source_config(
        "zgw-zaken", url, CATEGORIES, auth={"type": "zgw-jwt", "clientId": CLIENT, "secret": SECRET, **auth}
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def strict_zaken(world: World, clock: FakeClock) -> AsyncIterator[str]:
    """A Zaken simulator that accepts DGKB's client with JWT_EXPIRY 300 s, on the test's clock."""
    auth = ZgwJwtVerifier({CLIENT: SECRET}, expiry=EXPIRY, clock=clock)
    async with serve_in_background(zaken.create_app(world, zgw_auth=auth)) as (_, url):
        yield url


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token signed with SECRET (its times are those of a made-up clock)."""
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    return dict(jwt.decode(token, SECRET, algorithms=["HS256"], options=options))


async def _sent_tokens(url: str) -> list[str]:
    async with httpx.AsyncClient() as c:
        requests = (await c.get(f"{url}/_sim/requests")).json()
    return [r["headers"]["authorization"].removeprefix("Bearer ") for r in requests]


def test_a_token_names_the_client_and_when_it_was_made() -> None:
    clock = FakeClock(1_800_000_000.5)
    claims = claims_of(ZgwJwtIssuer(CLIENT, SECRET, clock=clock).token())
    assert claims == {"iss": CLIENT, "client_id": CLIENT, "iat": 1_800_000_000, "exp": 1_800_003_600}
    assert DEFAULT_REFRESH_SECONDS == 240, "every few minutes"


def test_the_same_token_until_it_is_refresh_seconds_old_then_a_new_one() -> None:
    clock = FakeClock(1_800_000_000.0)
    issuer = ZgwJwtIssuer(CLIENT, SECRET, refresh_seconds=60, clock=clock)
    first = issuer.token()
    clock.advance(59.9)
    assert issuer.token() == first
    clock.advance(0.1)
    second = issuer.token()
    assert second != first
    assert claims_of(second)["iat"] == 1_800_000_060
    clock.advance(-30)  # the clock was set back: that `iat` now lies in the future
    assert claims_of(issuer.token())["iat"] == 1_800_000_030


def test_refresh_seconds_is_validated() -> None:
    with pytest.raises(ValueError):
        ZgwJwtIssuer(CLIENT, SECRET, refresh_seconds=0)
    with pytest.raises(ValueError):
        zgw_config("http://127.0.0.1:9", refreshSeconds=3601)
    assert zgw_config("http://127.0.0.1:9").auth.refreshSeconds == 240  # type: ignore[union-attr]


async def test_dgkb_s_refreshed_token_is_accepted_after_the_first_is_refused(
    strict_zaken: str, clock: FakeClock
) -> None:
    client = SourceHttpClient(zgw_config(strict_zaken), clock=clock)
    try:
        await client.request("GET", ZAAKTYPEN)
        clock.advance(200)
        await client.request("GET", ZAAKTYPEN)  # the same token: 200 s old
        clock.advance(EXPIRY - 200 + 1)  # the first token is now older than the component's expiry
        page = await client.request("GET", ZAAKTYPEN)
        assert page["results"]
    finally:
        await client.aclose()
    first, same, refreshed = await _sent_tokens(strict_zaken)
    assert same == first
    assert refreshed != first
    async with httpx.AsyncClient(base_url=strict_zaken) as c:
        replayed = await c.get(ZAAKTYPEN, headers={"Authorization": f"Bearer {first}"})
    assert replayed.status_code == 403
    assert replayed.json()["code"] == "jwt-expired"


async def test_one_token_kept_for_the_hour_is_refused_by_a_shorter_expiry(
    strict_zaken: str, clock: FakeClock
) -> None:
    """What DGKB did before: one token until 30 s before its hour was up."""
    client = SourceHttpClient(zgw_config(strict_zaken, refreshSeconds=3000), clock=clock)
    try:
        await client.request("GET", ZAAKTYPEN)
        clock.advance(EXPIRY + 1)
        with pytest.raises(SourceError, match="HTTP 403"):
            await client.request("GET", ZAAKTYPEN)
    finally:
        await client.aclose()
    async with httpx.AsyncClient() as c:
        last = (await c.get(f"{strict_zaken}/_sim/last-request")).json()
    assert last["response"]["body"]["code"] == "jwt-expired"


async def test_the_zaken_adapter_authenticates_every_call(
    strict_zaken: str, world: World, clock: FakeClock
) -> None:
    # The adapter signs with the real clock; the simulator checks on the test's, which stood still
    # since the fixture made it. Under load a second passes, and the token's `iat` lies in the
    # simulator's future (leeway 0): let the simulator's clock run a little past now.
    clock.now = time.time() + 5
    adapter = ZakenAdapter(zgw_config(strict_zaken))
    try:
        result = await adapter.fetch(
            FetchRequest(Subject.person("999993653"), {"dienst.zaken-lopend": ("identificatie",)}, HEADERS)
        )
    finally:
        await adapter.aclose()
    person = world.person("999993653")
    assert person is not None
    assert {z["identificatie"] for z in result["dienst.zaken-lopend"]} == {
        z.identificatie for z in person.zaken if z.is_open
    }
    tokens = await _sent_tokens(strict_zaken)
    assert tokens, "the adapter called the simulator"
    assert len(set(tokens)) == 1, "one token for calls within the refresh interval"
