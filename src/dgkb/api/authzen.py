"""NLGov AuthZEN access evaluation endpoints: other systems ask the same register as DGKB itself.

The answer is for the caller: role and organisation come from the bearer token; a body that names
another role or organisation is refused with 403 problem+json naming the field (`veld`). Only a
registered policy enforcement point (token role `pep`) asks on behalf of other roles and
organisations (see `dgkb.policy.authzen.bind_to_caller`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dgkb.api.deps import ActorDep
from dgkb.composition.deps import EngineDep
from dgkb.policy.authzen import (
    EvaluationRequest,
    EvaluationResponse,
    EvaluationsRequest,
    EvaluationsResponse,
    bind_to_caller,
    evaluate,
    evaluate_many,
)

router = APIRouter(prefix="/access/v1", tags=["authzen"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Ongeldige vraag (problem+json)"},
    401: {"description": "Niet geauthenticeerd"},
    403: {"description": "Vraag voor een andere rol of organisatie dan die van het token (problem+json)"},
}


@router.post(
    "/evaluation",
    response_model=EvaluationResponse,
    response_model_by_alias=True,
    responses=RESPONSES,
    summary="AuthZEN: mag dit subject deze categorie lezen voor dit doel?",
)
async def evaluation(body: EvaluationRequest, actor: ActorDep, engine: EngineDep) -> EvaluationResponse:
    return evaluate(engine, bind_to_caller(body, actor))


@router.post(
    "/evaluations",
    response_model=EvaluationsResponse,
    response_model_by_alias=True,
    responses=RESPONSES,
    summary="AuthZEN: meerdere beslissingen in één vraag",
)
async def evaluations(body: EvaluationsRequest, actor: ActorDep, engine: EngineDep) -> EvaluationsResponse:
    return evaluate_many(engine, bind_to_caller(body, actor))
