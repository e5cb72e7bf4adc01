"""Issue 11 §5: DGKB authenticates at the Notificaties API with a ZGW JWT made from client id and
secret and renewed every few minutes (the fixed DGKB_NOTIFICATIES_API_AUTH stays as a fallback), and
takes its abonnement with backoff while the routing component is down."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dgkb.domain.errors import InvalidConfiguration
from dgkb.events.notificaties import Backoff, abonneer
from dgkb.events.routing_auth import notificaties_api_auth
from dgkb.settings import Environment, Settings
from dgkb.simulators import notificaties
from dgkb.simulators.common import ZgwJwtVerifier
from dgkb.simulators.notificaties import API_PATH
from dgkb.simulators.serve import serve_in_background
from tests.fake_clock import FakeClock

CLIENT, SECRET = "dgkb-test", "test-notificaties-geheim-van-de-client-dgkb"
EXPIRY = 300.0  # an Open Notificaties with JWT_EXPIRY=300
CALLBACK_AUTH = "Bearer test-callback-geheim"


def settings(**kw: Any) -> Settings:
    return Settings(env=Environment.TEST, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def callback() -> AsyncIterator[str]:
    """DGKB's callback as the routing component probes it: any message answered 204."""

    async def receive(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    app = Starlette(routes=[Route("/api/v1/notificaties", receive, methods=["POST"])])
    async with serve_in_background(app) as (_, url):
        yield f"{url}/api/v1/notificaties"


def routing_component(clock: FakeClock) -> Starlette:
    return notificaties.create_app(zgw_auth=ZgwJwtVerifier({CLIENT: SECRET}, expiry=EXPIRY, clock=clock))


@pytest.fixture
async def routing(clock: FakeClock) -> AsyncIterator[str]:
    async with serve_in_background(routing_component(clock)) as (_, url):
        yield f"{url}{API_PATH}"


async def _subscribe(
    routing: str, callback: str, api_auth: str | Callable[[], str], **kw: Any
) -> dict[str, Any]:
    return await abonneer(
        routing, callback_url=callback, callback_auth=CALLBACK_AUTH, api_auth=api_auth, **kw
    )


def test_client_id_and_secret_make_a_zgw_jwt_and_win_over_the_fixed_value(clock: FakeClock) -> None:
    auth = notificaties_api_auth(
        settings(
            notificaties_api_client_id=CLIENT,
            notificaties_api_secret=SECRET,
            notificaties_api_auth="Token vast",
        ),
        clock=clock,
    )
    assert callable(auth)
    scheme, _, token = auth().partition(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["client_id"], claims["iat"]) == (CLIENT, int(clock()))


def test_the_fixed_value_is_the_fallback_then_the_demo_client() -> None:
    assert notificaties_api_auth(settings(notificaties_api_auth="Token vast")) == "Token vast"
    assert notificaties_api_auth(settings()) == ""
    demo = notificaties_api_auth(settings(), default_client=(CLIENT, SECRET))
    assert callable(demo)
    assert jwt.decode(demo().removeprefix("Bearer "), SECRET, algorithms=["HS256"])["client_id"] == CLIENT


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"notificaties_api_client_id": CLIENT}, "DGKB_NOTIFICATIES_API_SECRET"),
        ({"notificaties_api_secret": SECRET}, "DGKB_NOTIFICATIES_API_CLIENT_ID"),
    ],
)
def test_half_a_client_is_refused_naming_what_is_missing(given: dict[str, str], missing: str) -> None:
    with pytest.raises(InvalidConfiguration) as caught:
        notificaties_api_auth(settings(**given))
    assert caught.value.field == missing
    assert SECRET not in caught.value.message


async def test_the_refreshed_token_is_accepted_where_a_fixed_one_expires(
    routing: str, callback: str, clock: FakeClock
) -> None:
    configured = settings(
        notificaties_api_client_id=CLIENT,
        notificaties_api_secret=SECRET,
        notificaties_api_jwt_refresh_seconds=240,
    )
    renewed = notificaties_api_auth(configured, clock=clock)
    assert callable(renewed)
    fixed = notificaties_api_auth(settings(notificaties_api_auth=renewed()))  # a JWT written into the setting
    first = await _subscribe(routing, callback, renewed)
    assert (await _subscribe(routing, callback, fixed))["url"] == first["url"]
    clock.advance(EXPIRY + 1)  # five minutes later
    again = await _subscribe(routing, callback, renewed)
    assert again["url"] == first["url"], "the same abonnement, updated"
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await _subscribe(routing, callback, fixed)
    assert caught.value.response.status_code == 403
    assert caught.value.response.json()["code"] == "jwt-expired"


class Sleeps:
    """An injected sleep: records each delay and runs `on_sleep(n)` instead of waiting."""

    def __init__(self, on_sleep: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.delays: list[float] = []
        self._on_sleep = on_sleep

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self._on_sleep is not None:
            await self._on_sleep(len(self.delays))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_the_subscription_is_retried_with_backoff_until_the_routing_component_is_up(
    callback: str, clock: FakeClock
) -> None:
    port = _free_port()
    routing = f"http://127.0.0.1:{port}{API_PATH}"
    auth = notificaties_api_auth(
        settings(notificaties_api_client_id=CLIENT, notificaties_api_secret=SECRET), clock=clock
    )
    async with contextlib.AsyncExitStack() as stack:

        async def start_on_third_wait(n: int) -> None:
            clock.advance(2**n)  # time passes while DGKB waits
            if n == 3:
                await stack.enter_async_context(serve_in_background(routing_component(clock), port))

        sleeps = Sleeps(start_on_third_wait)
        backoff = Backoff(first=1.0, factor=2.0, maximum=3.0, retries=10, sleep=sleeps)
        result = await _subscribe(routing, callback, auth, backoff=backoff)
        assert result["callbackUrl"] == callback
        assert sleeps.delays == [1.0, 2.0, 3.0], "doubling, capped at the maximum, until it answers"
        async with httpx.AsyncClient() as c:
            seen = (await c.get(f"http://127.0.0.1:{port}/_sim/requests")).json()
        assert seen, "the routing component received the subscription"
        assert all(r["response"]["status"] < 300 for r in seen), "with a token it accepts"


async def test_a_routing_component_answering_503_is_tried_again(
    routing: str, callback: str, clock: FakeClock
) -> None:
    base = routing.removesuffix(API_PATH)
    async with httpx.AsyncClient() as c:
        (await c.post(f"{base}/_sim/behaviour", json={"fail": "503"})).raise_for_status()

        async def recover(n: int) -> None:
            if n == 2:
                (await c.post(f"{base}/_sim/behaviour", json={"fail": "none"})).raise_for_status()

        sleeps = Sleeps(recover)
        # the routing component's clock and DGKB's are the same: a token made a second after the
        # fake clock was read must not look as if it comes from the future
        auth = notificaties_api_auth(
            settings(notificaties_api_client_id=CLIENT, notificaties_api_secret=SECRET), clock=clock
        )
        result = await _subscribe(routing, callback, auth, backoff=Backoff(retries=5, sleep=sleeps))
    assert result["callbackUrl"] == callback
    assert sleeps.delays == [1.0, 2.0]


async def test_a_refusal_is_not_retried_and_retries_end(routing: str, callback: str) -> None:
    sleeps = Sleeps()
    wrong = notificaties_api_auth(
        settings(
            notificaties_api_client_id=CLIENT,
            notificaties_api_secret="een-ander-geheim-dan-het-goede-geheim-van-dgkb",
        )
    )
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await _subscribe(routing, callback, wrong, backoff=Backoff(retries=5, sleep=sleeps))
    assert caught.value.response.status_code == 403
    assert sleeps.delays == [], "wrong credentials do not get better by waiting"
    nobody = f"http://127.0.0.1:{_free_port()}{API_PATH}"
    with pytest.raises(httpx.ConnectError):
        await _subscribe(nobody, callback, "", backoff=Backoff(retries=2, sleep=sleeps))
    assert sleeps.delays == [1.0, 2.0]
