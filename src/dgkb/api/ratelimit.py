"""Rate limits per user and per client IP, per route group (issue 13), with the `limits` library.

- **Groups.** Every route belongs to one group, decided once per route (the first time it is
  matched, then remembered on the route): `klantbeeld` (a view, its live updates), `zoeken`,
  `schrijven` (contact, identification and other writes of the API), `lezen` (other reads of the API),
  `web` (the console's pages, login, the public "bevestig met DigiD" pages) and `notificaties` (the
  webhook of the routing component). Health probes, the status, the OpenAPI document, static files
  and the development issuers are never limited: a load balancer must always get its answer.
- **Keys.** A route that needs an employee's bearer token counts per user: a hash of the token's
  issuer and subject (validated: the validator remembers the token, so the route's own check costs
  nothing more). A KCC behind one NAT is thus never throttled as a whole. Without a valid token,
  and on the routes that take none (`web`, `notificaties`), the client IP counts. No key ever holds
  a BSN: the key is the group, a hash or an address.
- **Client IP.** The socket peer; `X-Forwarded-For` only when that peer is a trusted proxy
  (`DGKB_TRUSTED_PROXIES`), and then the rightmost hop that is not itself trusted.
- **Storage.** Redis (shared by every node and worker) when DGKB_REDIS_URL is set, through a
  `RedisGuard`: short timeouts, no retries, left alone for a moment after failures. A Redis that
  is down or hung costs a request at most that timeout; the limit then falls back to this process's
  memory (counted, logged once per interval), so the limits hold per process. Memory otherwise.
- **Answer.** 429 problem+json, code `rate.limited`, with `Retry-After`: the seconds until the window
  resets.

Configured as `DGKB_RATE_LIMITS="klantbeeld=600/minute;zoeken=300/minute;…"` (the `limits` notation;
a group not named keeps its default, `groep=off` lifts one group, "" or "off" lifts all).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.routing import BaseRoute

from dgkb.api.deps import current_actor
from dgkb.api.problems import ApiProblem
from dgkb.domain.errors import InvalidConfiguration
from dgkb.federation.redis_guard import RedisGuard, RedisUnavailable
from dgkb.identity.tokens import AuthError
from dgkb.settings import DEFAULT_RATE_LIMITS

KLANTBEELD = "klantbeeld"
ZOEKEN = "zoeken"
SCHRIJVEN = "schrijven"
LEZEN = "lezen"
WEB = "web"
NOTIFICATIES = "notificaties"
GROUPS = (KLANTBEELD, ZOEKEN, SCHRIJVEN, LEZEN, WEB, NOTIFICATIES)

OFF = frozenset({"", "off", "uit"})

# Paths (templates) that are never limited, and the path templates of the klantbeeld and search groups.
_FREE_PREFIXES = ("/health/", "/dev-issuer/", "/test-broker/", "/static", "/docs/")
_FREE_PATHS = frozenset({"/api/v1/status", "/api/v1/openapi.json", "/api/v1/docs"})
_KLANTBEELD_SUFFIXES = ("/klantbeeld", "/klantbeelden", "/gebeurtenissen")
_ZOEKEN_SUFFIXES = ("/zoeken", "/klantzoekopdrachten")
_NOTIFICATIES_PATHS = frozenset({"/api/v1/notificaties", "/api/v1/cloudevents"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_rate_limits(text: str) -> dict[str, RateLimitItem]:
    """Group -> its limit: the defaults, overridden by `text` ("group=N/period;…"); "" or "off": none.
    InvalidConfiguration naming DGKB_RATE_LIMITS for an unknown group or an unreadable limit."""
    if text.strip().lower() in OFF:
        return {}
    limits: dict[str, RateLimitItem | None] = {}
    for source in (DEFAULT_RATE_LIMITS, text):
        for part in source.replace(",", ";").split(";"):
            if not part.strip():
                continue
            group, sep, value = (s.strip() for s in part.partition("="))
            if not sep or group not in GROUPS:
                raise InvalidConfiguration(
                    f"DGKB_RATE_LIMITS: onbekende groep {group!r} (verwacht 'groep=aantal/periode' met "
                    f"groep een van {', '.join(GROUPS)})",
                    field="DGKB_RATE_LIMITS",
                )
            if value.lower() in OFF:
                limits[group] = None
                continue
            try:
                limits[group] = parse(value)
            except ValueError:
                raise InvalidConfiguration(
                    f"DGKB_RATE_LIMITS: {value!r} voor {group} is geen limiet (bijv. 120/minute)",
                    field="DGKB_RATE_LIMITS",
                ) from None
    return {group: item for group, item in limits.items() if item is not None}


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """DGKB_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges."""
    networks = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise InvalidConfiguration(
                    f"DGKB_TRUSTED_PROXIES: {part.strip()!r} is geen adres of CIDR-bereik",
                    field="DGKB_TRUSTED_PROXIES",
                ) from None
    return tuple(networks)


class ClientAddress:
    """The client's IP address of a request: the peer, or from X-Forwarded-For behind trusted proxies."""

    def __init__(self, trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self._trusted = tuple(trusted)
        # a few proxies talk to a node over and over: remember the answer (bounded for other peers)
        self._is_trusted = lru_cache(maxsize=1024)(self._check)

    def _check(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def of(self, request: Request) -> str:
        client = request.scope.get("client")
        peer = str(client[0]) if client else "-"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        forwarded = [
            value.decode("latin-1") for name, value in request.scope["headers"] if name == b"x-forwarded-for"
        ]
        hops = ",".join(forwarded).split(",") if forwarded else []
        address = peer
        for hop in reversed(hops):  # every trusted proxy appended the address it saw
            hop = hop.strip()
            if not hop:
                continue
            if not self._is_trusted(hop):
                # the first address no trusted proxy vouches beyond; garbage is not a client address
                return hop if _is_ip(hop) else address
            address = hop
        return address


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(slots=True)
class RateLimitCounters:
    """Counts since start-up (for health and metrics)."""

    limited: int = 0  # requests answered 429
    fallbacks: int = 0  # checks made in this process's memory because Redis was unavailable


class RateLimiter:
    """Fixed windows per (group, key), in Redis when given (see the module docstring), else memory."""

    def __init__(self, limits: Mapping[str, RateLimitItem], *, redis: RedisGuard | None = None) -> None:
        self.limits = dict(limits)
        self.counters = RateLimitCounters()
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._guard = redis
        self._redis: FixedWindowRateLimiter | None = None
        if redis is not None:
            storage = RedisStorage(
                "async+redis://",  # the guard's pool (its timeouts) is the connection
                implementation="redispy",
                key_prefix="dgkb-limits",
                connection_pool=redis.redis.connection_pool,  # type: ignore[arg-type] # the documented option
            )
            self._redis = FixedWindowRateLimiter(storage)

    async def hit(self, group: str, key: str) -> int | None:
        """Count one request; None when it is within the limit, else the seconds until the window resets."""
        item = self.limits[group]
        if self._redis is not None and self._guard is not None:
            limiter = self._redis
            try:
                if await self._guard.call(lambda _: limiter.hit(item, group, key)):
                    return None
                stats = await self._guard.call(lambda _: limiter.get_window_stats(item, group, key))
                return _seconds_until(stats.reset_time)
            except RedisUnavailable:
                self.counters.fallbacks += 1  # the guard logged it (once per interval, by type)
        if await self._memory.hit(item, group, key):
            return None
        stats = await self._memory.get_window_stats(item, group, key)
        return _seconds_until(stats.reset_time)

    async def aclose(self) -> None:
        if self._guard is not None:
            await self._guard.aclose()


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


def route_group(route: BaseRoute, request_path: str) -> tuple[str | None, bool]:
    """(group or None when not limited, whether the route authenticates an employee's bearer token).
    `route.path` is the template as its router declared it (without the prefix it was included
    under), so the prefix is read from the first request's concrete path: the same for every request
    of the route. Suffixes come from the template (a contact id may itself read "klantbeeld")."""
    template = getattr(route, "path", "")
    methods = getattr(route, "methods", None) or set()
    if request_path in _FREE_PATHS or request_path.startswith(_FREE_PREFIXES):
        return None, False
    authenticated = isinstance(route, APIRoute) and _needs(route.dependant, current_actor)
    if request_path in _NOTIFICATIES_PATHS:
        return NOTIFICATIES, authenticated
    if not request_path.startswith(("/api/", "/access/")):
        return WEB, authenticated
    if template.endswith(_KLANTBEELD_SUFFIXES):
        return KLANTBEELD, authenticated
    if template.endswith(_ZOEKEN_SUFFIXES):
        return ZOEKEN, authenticated
    if request_path.startswith("/access/"):  # AuthZEN evaluations read, though they are POSTs
        return LEZEN, authenticated
    return (SCHRIJVEN if methods & _WRITES else LEZEN), authenticated


def _needs(dependant: Any, call: Any, depth: int = 0) -> bool:
    if dependant.call is call:
        return True
    return depth < 8 and any(_needs(d, call, depth + 1) for d in dependant.dependencies)


_ROUTE_ATTRIBUTE = "_dgkb_rate_group"


class RateLimits:
    """The app-wide dependency (`FastAPI(dependencies=[Depends(rate_limits)])`): checks the limit of the
    matched route's group before anything else of the route runs."""

    def __init__(self, limiter: RateLimiter, client_address: ClientAddress) -> None:
        self.limiter = limiter
        self.client_address = client_address

    async def __call__(self, request: Request) -> None:
        if not self.limiter.limits:
            return
        route = request.scope.get("route")
        if route is None:
            return
        decided = getattr(route, _ROUTE_ATTRIBUTE, None)
        if decided is None:  # the first request of this route: decide once
            decided = route_group(route, request.scope["path"])
            setattr(route, _ROUTE_ATTRIBUTE, decided)
        group, authenticated = decided
        if group is None or group not in self.limiter.limits:
            return
        key = await self._user_key(request) if authenticated else None
        if key is None:
            key = "ip:" + self.client_address.of(request)
        wait = await self.limiter.hit(group, key)
        if wait is None:
            return
        self.limiter.counters.limited += 1
        raise ApiProblem(
            429,
            f"Te veel verzoeken; probeer het over {wait} seconden opnieuw.",
            code="rate.limited",
            headers={"Retry-After": str(wait)},
        )

    async def _user_key(self, request: Request) -> str | None:
        """A hash of the validated token's issuer and subject, or None (no or no valid token: the
        route answers 401 itself, and the client's IP counts)."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            actor = await request.app.state.validator.actor(token.strip())
        except AuthError:
            return None
        except Exception:  # the JWKS unreachable, say: the route's own check answers for that
            return None
        digest = hashlib.blake2b(f"{actor.issuer}\0{actor.id}".encode(), digest_size=12).hexdigest()
        return "u:" + digest


__all__ = [
    "DEFAULT_RATE_LIMITS",
    "GROUPS",
    "ClientAddress",
    "RateLimitCounters",
    "RateLimiter",
    "RateLimits",
    "parse_networks",
    "parse_rate_limits",
    "route_group",
]
