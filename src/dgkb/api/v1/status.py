"""/api/v1/status: liveness and readiness for operators (no personal data, no auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dgkb import __version__
from dgkb.composition.deps import FederationDep, HealthDep, RegisterDep, SourcesDep

router = APIRouter(tags=["status"])


@router.get("/status", summary="Draait DGKB en bereikt het de database?")
async def status(
    health: HealthDep, register: RegisterDep, sources: SourcesDep, federation: FederationDep
) -> dict[str, Any]:
    database = "ok" if await health.database_reachable() else "onbereikbaar"
    cache = federation.cache
    return {
        "status": "ok" if database == "ok" else "verstoord",
        "versie": __version__,
        "database": database,
        "registerversie": register.fingerprint,
        "bronnen": sorted(sources.configs),
        # a cache that is down leaves the status "ok": DGKB serves without it (a miss per read)
        "cache": cache.describe() if cache is not None else {"soort": "geen"},
    }
