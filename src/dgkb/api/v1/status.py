"""/api/v1/status: liveness and readiness for operators (no personal data, no auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from dgkb import __version__
from dgkb.api.deps import ServicesDep

router = APIRouter(tags=["status"])


@router.get("/status", summary="Draait DGKB en bereikt het de database?")
async def status(services: ServicesDep) -> dict[str, Any]:
    database = "ok"
    try:
        async with services.database.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        database = "onbereikbaar"
    return {
        "status": "ok" if database == "ok" else "verstoord",
        "versie": __version__,
        "database": database,
        "registerversie": services.register.fingerprint,
        "bronnen": sorted(services.sources.configs),
    }
