"""/api/v1/bronnen: the configured sources with breaker state and health, for administrators.

`nietGeautoriseerd` counts apart the calls a source refused with 401/403 (DGKB's credentials are
wrong or lack the right): unlike an outage, waiting does not help, an administrator must act."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dgkb.api.deps import require_roles
from dgkb.api.v1.contacten import RESPONSES
from dgkb.composition.deps import FederationDep, SourcesDep
from dgkb.domain.roles import Role

router = APIRouter(tags=["bronnen"])


@router.get(
    "/bronnen",
    responses=RESPONSES,
    dependencies=[require_roles(Role.BEHEERDER, Role.PRIVACY)],  # type: ignore[list-item]
    summary=(
        "Bronnen met status van de stroomonderbreker, latency (p50/p95), foutpercentage en het aantal "
        "aanroepen dat de bron weigerde omdat DGKB niet geautoriseerd is"
    ),
)
async def list_sources(federation: FederationDep, sources: SourcesDep) -> dict[str, Any]:
    states = {s.source_id: s for s in federation.states()}
    results = []
    for cfg in sources.all_configs:
        state = states.get(cfg.id)
        health = state.health if state else None
        results.append(
            {
                "id": cfg.id,
                "naam": cfg.name,
                "soort": cfg.kind,
                "organisatie": cfg.organisation,
                "actief": cfg.enabled,
                "categorieen": list(cfg.categories),
                "deadlineSeconden": cfg.deadline,
                "cacheSeconden": cfg.cacheTtl,
                "stroomonderbreker": state.breaker.value if state else None,
                "aanroepen": health.calls if health else 0,
                "latencyP50Ms": health.p50_ms if health else None,
                "latencyP95Ms": health.p95_ms if health else None,
                "foutpercentage": health.error_rate if health else None,
                "laatsteFout": health.last_error if health else None,
                "nietGeautoriseerd": health.unauthorized if health else 0,
            }
        )
    return {"resultaten": results}
