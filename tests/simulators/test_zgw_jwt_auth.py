"""The Zaken and Notificaties simulators check ZGW JWTs as Open Zaak and Open Notificaties do
(dgkb.simulators.common): a known client, its signature, an `iat` younger than the component's
JWT_EXPIRY (+ leeway), and nothing dated in the future beyond the leeway; every refusal a 403."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
from starlette.types import ASGIApp

from dgkb.simulators import notificaties, zaken
from dgkb.simulators.common import JWT_EXPIRY_SECONDS, JWT_LEEWAY_SECONDS, ZgwJwtVerifier
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World
from tests.fake_clock import FakeClock

CLIENT, SECRET = "dgkb-test", "test-zgw-geheim-van-een-client-van-dgkb"
EXPIRY, LEEWAY = 300.0, 5.0
CRS = {"Accept-Crs": "EPSG:4326"}
# simulator -> (app factory, a read any client may do)
SIMULATORS: dict[str, tuple[Callable[[World, ZgwJwtVerifier], ASGIApp], str]] = {
    "zaken": (lambda world, auth: zaken.create_app(world, zgw_auth=auth), "/zaken/api/v1/zaken"),
    "notificaties": (lambda world, auth: notificaties.create_app(zgw_auth=auth), "/api/v1/kanaal"),
}


def token(clock: FakeClock, *, age: float = 0, secret: str = SECRET, **claims: Any) -> str:
    body: dict[str, Any] = {"iss": CLIENT, "client_id": CLIENT, "iat": int(clock() - age)}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


class Sim:
    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self.client = client
        self.path = path

    async def get(self, bearer: str | None) -> httpx.Response:
        headers = dict(CRS)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return await self.client.get(self.path, headers=headers)

    async def refused(self, bearer: str | None) -> str:
        """The refusal's `code` (asserting it is Open Zaak's 403 problem)."""
        resp = await self.get(bearer)
        assert resp.status_code == 403, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        body = resp.json()
        assert body["status"] == 403
        assert body["instance"] == self.path
        return str(body["code"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=sorted(SIMULATORS))
async def sim(request: pytest.FixtureRequest, world: World, clock: FakeClock) -> AsyncIterator[Sim]:
    factory, path = SIMULATORS[request.param]
    auth = ZgwJwtVerifier({CLIENT: SECRET}, expiry=EXPIRY, leeway=LEEWAY, clock=clock)
    async with serve_in_background(factory(world, auth)) as (_, url), httpx.AsyncClient(base_url=url) as c:
        yield Sim(c, path)


def test_the_default_is_open_zaak_s() -> None:
    assert (JWT_EXPIRY_SECONDS, JWT_LEEWAY_SECONDS) == (3600.0, 0.0)
    verifier = ZgwJwtVerifier({CLIENT: SECRET})
    assert (verifier.expiry, verifier.leeway) == (3600.0, 0.0)


async def test_a_fresh_token_of_a_known_client_is_accepted(sim: Sim, clock: FakeClock) -> None:
    assert (await sim.get(token(clock))).status_code == 200
    assert (await sim.get(token(clock, exp=int(clock()) + 3600))).status_code == 200


async def test_iat_older_than_expiry_plus_leeway_is_refused(sim: Sim, clock: FakeClock) -> None:
    fresh = token(clock)
    clock.advance(EXPIRY + LEEWAY - 1)
    assert (await sim.get(fresh)).status_code == 200, "still within JWT_EXPIRY + leeway"
    clock.advance(1)
    assert await sim.refused(fresh) == "jwt-expired"
    assert (await sim.get(token(clock))).status_code == 200, "a new token of the same client is fine"


async def test_a_token_from_the_future_beyond_the_leeway_is_refused(sim: Sim, clock: FakeClock) -> None:
    assert (await sim.get(token(clock, age=-LEEWAY))).status_code == 200, "clock drift within the leeway"
    assert await sim.refused(token(clock, age=-LEEWAY - 1)) == "jwt-immaturesignatureerror"
    assert await sim.refused(token(clock, nbf=int(clock() + LEEWAY + 1))) == "jwt-immaturesignatureerror"


async def test_a_passed_exp_is_refused(sim: Sim, clock: FakeClock) -> None:
    assert await sim.refused(token(clock, exp=int(clock() - LEEWAY - 1))) == "jwt-expiredsignatureerror"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda c: None, "permission_denied"),
        (lambda c: "geen-jwt", "jwt-decode-error"),
        (lambda c: token(c, client_id=None), "missing-client-identifier"),
        (lambda c: token(c, client_id="onbekend"), "invalid-client-identifier"),
        (lambda c: token(c, secret="een-ander-geheim-van-iemand-anders"), "invalid-jwt-signature"),
        (lambda c: token(c, iat=None), "jwt-missing-iat-claim"),
    ],
)
async def test_other_tokens_are_refused_naming_why(
    sim: Sim, clock: FakeClock, make: Callable[[FakeClock], str | None], code: str
) -> None:
    assert await sim.refused(make(clock)) == code


async def test_another_scheme_is_refused_and_the_test_routes_stay_open(sim: Sim, clock: FakeClock) -> None:
    resp = await sim.client.get(sim.path, headers={**CRS, "Authorization": f"Token {token(clock)}"})
    assert resp.status_code == 403
    assert resp.json()["code"] == "permission_denied"
    assert (await sim.client.get("/_sim/behaviour")).status_code == 200
    requests = (await sim.client.get("/_sim/requests")).json()
    assert requests[-1]["response"]["status"] == 403, "a refused request is recorded with its answer"


async def test_without_a_verifier_no_token_is_needed(world: World) -> None:
    async with serve_in_background(zaken.create_app(world)) as (_, url), httpx.AsyncClient() as c:
        assert (await c.get(f"{url}/zaken/api/v1/zaken", headers=CRS)).status_code == 200
