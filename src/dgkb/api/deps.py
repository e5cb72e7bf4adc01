"""FastAPI dependencies of the API: the authenticated actor, the trace context, role checks. A route
reaches the services it uses through the aliases in `dgkb.composition.deps`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dgkb.api.problems import ApiProblem
from dgkb.domain.context import Actor, Trace
from dgkb.domain.roles import Role
from dgkb.identity.tokens import AuthError, TokenValidator
from dgkb.telemetry.requests import request_trace

_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT)")


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(
            401,
            "Log in: stuur een Bearer-token mee in de Authorization-header.",
            code="auth.missing_token",
            headers={"WWW-Authenticate": 'Bearer realm="dgkb"'},
        )
    try:
        validator: TokenValidator = request.app.state.validator
        return await validator.actor(credentials.credentials)
    except AuthError as exc:
        raise ApiProblem(
            401, exc.detail, code=exc.code, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None


async def trace_context(request: Request) -> Trace:
    """The request's trace: the caller's W3C trace continued when it sent a valid traceparent, with
    the server span's ids when traces are exported (dgkb.api.telemetry.RequestTelemetry).
    `async def` although it awaits nothing: FastAPI runs a plain `def` dependency in a worker
    thread, and that hop cost ~7 % of the CPU of a klantbeeld (tests/test_dependencies.py)."""
    return request_trace(request)


def require_roles(*roles: Role) -> object:
    async def _check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in roles:
            raise ApiProblem(
                403,
                f"Deze functie is alleen voor de rol(len): {', '.join(r.value for r in roles)}.",
                code="auth.role_not_allowed",
                extra={"reden": "ROLE_NOT_ALLOWED"},
            )
        return actor

    return Depends(_check)


ActorDep = Annotated[Actor, Depends(current_actor)]
TraceDep = Annotated[Trace, Depends(trace_context)]
