"""NLGov AuthZEN access evaluation endpoints: other systems ask the same register as DGKB itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dgkb.api.deps import ActorDep, ServicesDep
from dgkb.policy.authzen import (
    EvaluationRequest,
    EvaluationResponse,
    EvaluationsRequest,
    EvaluationsResponse,
    evaluate,
    evaluate_many,
)

router = APIRouter(prefix="/access/v1", tags=["authzen"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Ongeldige vraag (problem+json)"},
    401: {"description": "Niet geauthenticeerd"},
}


@router.post(
    "/evaluation",
    response_model=EvaluationResponse,
    response_model_by_alias=True,
    responses=RESPONSES,
    summary="AuthZEN: mag dit subject deze categorie lezen voor dit doel?",
)
async def evaluation(body: EvaluationRequest, actor: ActorDep, services: ServicesDep) -> EvaluationResponse:
    return evaluate(services.engine, body)


@router.post(
    "/evaluations",
    response_model=EvaluationsResponse,
    response_model_by_alias=True,
    responses=RESPONSES,
    summary="AuthZEN: meerdere beslissingen in één vraag",
)
async def evaluations(
    body: EvaluationsRequest, actor: ActorDep, services: ServicesDep
) -> EvaluationsResponse:
    return evaluate_many(services.engine, body)
