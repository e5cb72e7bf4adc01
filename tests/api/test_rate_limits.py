"""Issue 13: rate limits per user and per client IP, per route group (dgkb.api.ratelimit), over HTTP.

Each test starts DGKB with small limits; Redis tests have a redis-server of their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from dgkb.api.ratelimit import parse_rate_limits
from dgkb.domain.errors import InvalidConfiguration
from tests.api.conftest import running_stack
from tests.conftest import fresh_database_url
from tests.servers import needs_redis_server, own_redis

READ = "/api/v1/verwerkingsactiviteiten"  # group `lezen`, needs a token
PAGE = "/uitgelogd"  # group `web`: a console page without login


@pytest.fixture
async def db(tmp_path: Path) -> str:
    return await fresh_database_url("sqlite", tmp_path)


def assert_limited(resp: httpx.Response, window: int = 60) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == "rate.limited"
    assert body["status"] == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= window
    assert resp.headers["API-Version"]  # the usual headers, as on every answer


async def read(client: httpx.AsyncClient, n: int, **kwargs: Any) -> list[int]:
    return [(await client.get(READ, **kwargs)).status_code for _ in range(n)]


async def test_a_user_over_the_limit_gets_429_with_retry_after_and_another_user_does_not(
    db: str, simulators: dict[str, str]
) -> None:
    async with running_stack(db, simulators, rate_limits="lezen=3/minute") as stack:
        anna = await stack.as_user("kcm-anna")
        wim = await stack.as_user("kcm-wim")
        async with anna, wim:
            assert await read(anna, 3) == [200, 200, 200]
            assert_limited(await anna.get(READ))
            assert await read(wim, 3) == [200, 200, 200], "another user has a window of their own"
            assert_limited(await wim.get(READ))
            # other groups are counted apart
            assert (await anna.get("/api/v1/categorieen")).status_code == 429  # also `lezen`
            assert (await anna.get("/api/v1/status")).status_code == 200  # never limited
            assert (await stack.client.get("/health/live")).status_code == 200
        assert stack.app.state.rate_limiter.counters.limited == 3


async def test_users_behind_one_address_are_not_limited_by_it(db: str, simulators: dict[str, str]) -> None:
    """A KCC behind one NAT: authenticated routes count per user, so one agent's burst leaves the
    others (same IP) alone, while requests without a valid token count per IP."""
    async with running_stack(db, simulators, rate_limits="lezen=2/minute") as stack:
        anna = await stack.as_user("kcm-anna")
        async with anna:
            assert await read(anna, 2) == [200, 200]
            assert_limited(await anna.get(READ))
        # no token, and a forged one: both 401, counted for 127.0.0.1 (not for anna)
        assert (await stack.client.get(READ)).status_code == 401
        assert (await stack.client.get(READ, headers={"Authorization": "Bearer x.y.z"})).status_code == 401
        assert_limited(await stack.client.get(READ))


async def test_an_unauthenticated_route_is_limited_per_client_ip(db: str, simulators: dict[str, str]) -> None:
    async with running_stack(db, simulators, rate_limits="web=3/minute") as stack:
        statuses = [(await stack.client.get(PAGE)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        assert_limited(await stack.client.get(PAGE))
        # a user's token changes nothing on a page that takes none
        anna = await stack.as_user("kcm-anna")
        async with anna:
            assert_limited(await anna.get(PAGE))
            assert (await anna.get(READ)).status_code == 200  # other group


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(db: str, simulators: dict[str, str]) -> None:
    # the proxies trusted are elsewhere: 127.0.0.1 (this test) is a client like any other
    async with running_stack(
        db, simulators, rate_limits="web=3/minute", trusted_proxies="10.0.0.0/8"
    ) as stack:
        statuses = [
            (await stack.client.get(PAGE, headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 200]
        assert_limited(await stack.client.get(PAGE, headers={"X-Forwarded-For": "203.0.113.99"}))


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    db: str, simulators: dict[str, str]
) -> None:
    async with running_stack(
        db, simulators, rate_limits="web=2/minute", trusted_proxies="127.0.0.1/32, 192.0.2.0/24"
    ) as stack:

        async def page(forwarded: str) -> int:
            return (await stack.client.get(PAGE, headers={"X-Forwarded-For": forwarded})).status_code

        assert [await page("203.0.113.1"), await page("203.0.113.1")] == [200, 200]
        assert await page("203.0.113.1") == 429
        assert await page("203.0.113.2") == 200, "another client behind the same proxy"
        # the rightmost untrusted hop counts: what the client wrote before it is not believed, and
        # a trusted proxy in between (192.0.2.7) is skipped
        assert await page("198.51.100.5, 203.0.113.1") == 429
        assert await page("203.0.113.1, 192.0.2.7") == 429
        assert await page("203.0.113.2") == 200
        assert await page("203.0.113.2") == 429
        # garbage, or no header: the nearest trusted address counts (here the peer, 127.0.0.1);
        # nothing but trusted hops: the last of them
        assert [await page("garbage"), await page("")] == [200, 200]
        assert await page("garbage") == 429
        assert await page("192.0.2.7") == 200


def test_the_configuration_is_checked() -> None:
    limits = parse_rate_limits("klantbeeld=5/second; zoeken=off")
    assert limits["klantbeeld"].amount == 5
    assert "zoeken" not in limits
    assert "web" in limits, "a group not named keeps its default"
    assert parse_rate_limits("") == {}
    assert parse_rate_limits("off") == {}
    with pytest.raises(InvalidConfiguration, match="onbekende groep"):
        parse_rate_limits("klantbeelden=5/second")
    with pytest.raises(InvalidConfiguration, match="geen limiet"):
        parse_rate_limits("klantbeeld=vijf")


async def test_off_lifts_every_limit(db: str, simulators: dict[str, str]) -> None:
    async with running_stack(db, simulators, rate_limits="off") as stack:
        assert [(await stack.client.get(PAGE)).status_code for _ in range(5)] == [200] * 5


async def test_429_is_documented(db: str, simulators: dict[str, str]) -> None:
    async with running_stack(db, simulators) as stack:
        schema = (await stack.client.get("/api/v1/openapi.json")).json()
        limited = schema["paths"]["/contacten/{contact_id}/klantbeeld"]["get"]["responses"]["429"]
        assert "Retry-After" in limited["headers"]
        assert "application/problem+json" in limited["content"]
        assert "429" not in schema["paths"]["/status"]["get"]["responses"]


# -- Redis -----------------------------------------------------------------------------------------


@needs_redis_server
async def test_two_nodes_share_one_limit_in_redis(tmp_path: Path, simulators: dict[str, str]) -> None:
    key_file = tmp_path / "dev-issuer-key.pem"  # one issuer key: a token valid on both nodes
    async with own_redis() as redis_server:
        url = f"redis://127.0.0.1:{redis_server.port}/0"
        settings: dict[str, Any] = {
            "rate_limits": "lezen=4/minute",
            "redis_url": url,
            "dev_issuer_key_file": key_file,
        }
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        async with (
            running_stack(await fresh_database_url("sqlite", tmp_path / "a"), simulators, **settings) as a,
            running_stack(await fresh_database_url("sqlite", tmp_path / "b"), simulators, **settings) as b,
        ):
            token = await a.token("kcm-anna")
            headers = {"Authorization": f"Bearer {token}"}
            assert await read(a.client, 2, headers=headers) == [200, 200]
            assert await read(b.client, 2, headers=headers) == [200, 200]
            assert_limited(await a.client.get(READ, headers=headers))
            assert_limited(await b.client.get(READ, headers=headers))
            assert a.app.state.rate_limiter.counters.fallbacks == 0
            redis = Redis.from_url(url)
            try:
                keys = [k.decode() for k in await redis.keys("*")]
            finally:
                await redis.aclose()
            assert keys, "the windows are in Redis"
            # group and a hash of the user, or an address: nothing else (never a BSN)
            assert all(
                re.fullmatch(r"dgkb-limits:LIMITER/lezen/(u:[0-9a-f]{24}|ip:[0-9a-f.:]+)/4/1/minute", k)
                for k in keys
            ), keys


@needs_redis_server
async def test_redis_killed_falls_back_to_memory_never_a_500(
    db: str, simulators: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        own_redis() as redis_server,
        running_stack(
            db,
            simulators,
            rate_limits="lezen=3/minute",
            redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
            redis_retry_after_seconds=0.05,
        ) as stack,
    ):
        anna = await stack.as_user("kcm-anna")
        async with anna:
            assert await read(anna, 2) == [200, 200]
            await redis_server.stop()  # SIGKILL, mid-test
            # the memory window of this process starts empty: 3 more, then the limit holds again
            assert await read(anna, 3) == [200, 200, 200]
            assert_limited(await anna.get(READ))
            limiter = stack.app.state.rate_limiter
            assert limiter.counters.fallbacks >= 4
            assert stack.app.state.failures.errors == 0
            # back again: Redis counts once more (its window still holds the 2 of before)
            await redis_server.start()
            statuses = await read(anna, 2)
            assert 500 not in statuses
        assert any("ratelimit: redis unavailable" in r.getMessage() for r in caplog.records)


@needs_redis_server
async def test_redis_hung_is_a_fallback_not_a_stall(db: str, simulators: dict[str, str]) -> None:
    async with (
        own_redis() as redis_server,
        running_stack(
            db,
            simulators,
            rate_limits="lezen=3/minute",
            redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
        ) as stack,
    ):
        anna = await stack.as_user("kcm-anna")
        async with anna:
            assert await read(anna, 1) == [200]
            redis_server.pause()  # SIGSTOP: connections accepted, nothing answers
            try:
                assert await read(anna, 3) == [200, 200, 200]
                assert_limited(await anna.get(READ))
            finally:
                redis_server.resume()
            counters = stack.app.state.rate_limiter.counters
            assert counters.fallbacks >= 4
