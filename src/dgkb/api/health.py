"""/health/live and /health/ready: probes for load balancers and orchestrators (issue 13).

Operational, not API: outside /api/v1, left out of the OpenAPI document, unauthenticated, nothing
personal, cheap (every check bounded to about a second).

- `/health/live`: the process runs and its event loop answers. No dependency is asked: a database
  outage must not make an orchestrator restart every node.
- `/health/ready`: may this node get traffic? Only when the database or the audit log is unusable is
  the answer 503 (problem+json): no view can be shown without its log record. A Redis cache or NATS
  bus that is down is "degraded" (200, naming the component): DGKB serves without them (a cache
  miss, local delivery), and taking nodes out of the pool for it would turn a Redis outage into an
  outage of every node.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from dgkb import __version__
from dgkb.api.problems import problem_response
from dgkb.composition.deps import ChangesDep, FederationDep, HealthDep
from dgkb.events.bus import NatsBus
from dgkb.federation.cache import RedisCache

router = APIRouter(prefix="/health", include_in_schema=False)

OK = "ok"
UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not-configured"  # in-process cache or bus: nothing that can be down
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/live")
async def live() -> JSONResponse:
    return JSONResponse({"status": OK}, headers=NO_STORE)


@router.get("/ready")
async def ready(
    request: Request, health: HealthDep, federation: FederationDep, changes: ChangesDep
) -> JSONResponse:
    database, audit, cache = await asyncio.gather(
        health.database_ready(), health.audit_ready(), _cache(federation.cache)
    )
    checks: dict[str, str] = {
        "database": OK if database else UNAVAILABLE,
        "audit": OK if audit else UNAVAILABLE,
        "cache": cache,
        "bus": _bus(changes.bus),
    }
    failed = [name for name in ("database", "audit") if checks[name] != OK]
    if failed:
        return problem_response(
            request,
            503,
            f"Niet gereed: {' en '.join(failed)} niet bruikbaar.",
            code="server.not_ready",
            extra={"checks": checks},
            headers={"Retry-After": "5", **NO_STORE},
        )
    degraded = [name for name in ("cache", "bus") if checks[name] == UNAVAILABLE]
    body: dict[str, Any] = {
        "status": "degraded" if degraded else OK,
        "degraded": degraded,
        "checks": checks,
        "version": __version__,
    }
    return JSONResponse(body, headers=NO_STORE)


async def _cache(cache: object) -> str:
    if not isinstance(cache, RedisCache):
        return NOT_CONFIGURED
    return OK if await cache.reachable() else UNAVAILABLE


def _bus(bus: object) -> str:
    if not isinstance(bus, NatsBus):
        return NOT_CONFIGURED
    return OK if bus.connected else UNAVAILABLE


__all__ = ["router"]
