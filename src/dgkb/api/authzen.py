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
from dgkb.api.problems import ApiProblem
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
    _refuse_nul(body.model_dump(by_alias=True))
    return evaluate(engine, bind_to_caller(body, actor))


@router.post(
    "/evaluations",
    response_model=EvaluationsResponse,
    response_model_by_alias=True,
    responses=RESPONSES,
    summary="AuthZEN: meerdere beslissingen in één vraag",
)
async def evaluations(body: EvaluationsRequest, actor: ActorDep, engine: EngineDep) -> EvaluationsResponse:
    _refuse_nul(body.model_dump(by_alias=True))
    return evaluate_many(engine, bind_to_caller(body, actor))


def _refuse_nul(value: Any, path: str = "") -> None:
    """No text of the question may hold NUL, as in every other body of the API (the OpenAPI
    document says so): 400 naming the field."""
    if isinstance(value, str):
        if "\x00" in value:
            reason = "tekst mag geen NUL-teken (\\u0000) bevatten"
            raise ApiProblem(
                400,
                f"Ongeldige invoer in: {path or 'body'}.",
                code="request.invalid",
                invalid_params=[{"name": path or "body", "code": "value_error", "reason": reason}],
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, path or "body")
            _refuse_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _refuse_nul(item, f"{path}.{i}")
