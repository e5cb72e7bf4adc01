"""FastAPI dependencies: the services container, the authenticated actor, the trace context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dgkb.api.auth import AuthError, TokenValidator
from dgkb.api.problems import ApiProblem
from dgkb.domain.context import Actor, Trace
from dgkb.domain.roles import Role

if TYPE_CHECKING:
    from dgkb.audit.writer import AuditWriter
    from dgkb.consent.service import ConsentService
    from dgkb.contacts.confirmation import ConfirmationService
    from dgkb.contacts.documents import DocumentCheckService
    from dgkb.contacts.identification import IdentificationService
    from dgkb.contacts.moment import ContactMomentService
    from dgkb.contacts.service import ContactService
    from dgkb.domain.catalogue import Catalogue
    from dgkb.domain.pseudonym import Pseudonymizer
    from dgkb.domain.register import Register
    from dgkb.events.hub import ChangeHub
    from dgkb.events.service import ChangeService
    from dgkb.federation.cache import SourceCache
    from dgkb.federation.fanout import Federation
    from dgkb.federation.sourceset import SourceSet
    from dgkb.feedback.service import FeedbackService
    from dgkb.identity.assertions import AssertionVerifier
    from dgkb.klantbeeld.service import KlantbeeldService
    from dgkb.notify.port import Notifier
    from dgkb.policy.engine import CedarPolicyEngine
    from dgkb.search.service import CustomerSearch
    from dgkb.store.db import Database


@dataclass
class Services:
    """Everything the API needs, built once in the lifespan (app.py)."""

    database: Database
    catalogue: Catalogue
    register: Register
    sources: SourceSet
    engine: CedarPolicyEngine
    pseudonymizer: Pseudonymizer
    audit: AuditWriter
    consent: ConsentService
    contacts: ContactService
    klantbeeld: KlantbeeldService
    feedback: FeedbackService
    search: CustomerSearch
    federation: Federation
    cache: SourceCache
    validator: TokenValidator
    changes: ChangeService  # real-time: inbound notifications, publish_change, the bus
    hub: ChangeHub  # open views of this process, per subject
    moments: ContactMomentService  # registering contact moments (web console)
    identification: IdentificationService  # control questions (web console)
    notifier: Notifier  # outbound text messages and e-mail through NotifyNL (dgkb.notify)
    documents: DocumentCheckService  # identity documents checked at the counter (issue 9 §4)
    assertions: AssertionVerifier  # DigiD/eHerkenning ID tokens of the broker (identity/assertions.py)
    confirmations: ConfirmationService  # "bevestig met DigiD" during a call (issue 9 §3)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


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
        return await get_services(request).validator.actor(credentials.credentials)
    except AuthError as exc:
        raise ApiProblem(
            401, exc.detail, code=exc.code, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None


def trace_context(request: Request) -> Trace:
    """Continue the caller's W3C trace when it sent a valid traceparent."""
    return Trace.from_traceparent(request.headers.get("traceparent"))


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


ServicesDep = Annotated[Services, Depends(get_services)]
ActorDep = Annotated[Actor, Depends(current_actor)]
TraceDep = Annotated[Trace, Depends(trace_context)]
