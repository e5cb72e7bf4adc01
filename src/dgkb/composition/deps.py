"""Route dependencies: one per application service, as `Annotated` aliases (the way Polar does).

A route names the one or few services it uses (`contacts: ContactsDep`), never the whole
`Services`. Each dependency returns that service from the `Services` that the app's lifespan built
once with `build_services` (on `app.state.services`), so the API and the console share every
instance.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dgkb.audit.access_log import AccessLog
from dgkb.composition.root import Services
from dgkb.consent.objections import ObjectionService
from dgkb.consent.service import ConsentService
from dgkb.contacts.confirmation import ConfirmationService
from dgkb.contacts.documents import DocumentCheckService
from dgkb.contacts.identification import IdentificationService
from dgkb.contacts.moment import ContactMomentService
from dgkb.contacts.service import ContactService
from dgkb.dashboard.service import DashboardService
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.events.hub import ChangeHub
from dgkb.events.service import ChangeService
from dgkb.federation.fanout import Federation
from dgkb.federation.sourceset import SourceSet
from dgkb.feedback.service import FeedbackService
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.messages.service import MessageService
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.profile.service import ProfileService
from dgkb.search.service import CustomerSearch
from dgkb.store.db import Database
from dgkb.store.health import Health

__all__ = [
    "AccessLogDep",
    "CatalogueDep",
    "ChangesDep",
    "ConfirmationsDep",
    "ConsentDep",
    "ContactsDep",
    "DashboardDep",
    "DatabaseDep",
    "DocumentsDep",
    "EngineDep",
    "FederationDep",
    "FeedbackDep",
    "HealthDep",
    "HubDep",
    "IdentificationDep",
    "KlantbeeldDep",
    "MessagesDep",
    "MomentsDep",
    "ObjectionsDep",
    "ProfileDep",
    "PseudonymizerDep",
    "RegisterDep",
    "SearchDep",
    "SourcesDep",
]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# async: FastAPI runs a plain `def` dependency in a worker thread; these only read an attribute.


async def _contacts(request: Request) -> ContactService:
    return _services(request).contacts


async def _dashboard(request: Request) -> DashboardService:
    return _services(request).dashboard


DashboardDep = Annotated[DashboardService, Depends(_dashboard)]


async def _klantbeeld(request: Request) -> KlantbeeldService:
    return _services(request).klantbeeld


async def _consent(request: Request) -> ConsentService:
    return _services(request).consent


async def _objections(request: Request) -> ObjectionService:
    return _services(request).objections


async def _search(request: Request) -> CustomerSearch:
    return _services(request).search


async def _feedback(request: Request) -> FeedbackService:
    return _services(request).feedback


async def _moments(request: Request) -> ContactMomentService:
    return _services(request).moments


async def _identification(request: Request) -> IdentificationService:
    return _services(request).identification


async def _documents(request: Request) -> DocumentCheckService:
    return _services(request).documents


async def _confirmations(request: Request) -> ConfirmationService:
    return _services(request).confirmations


async def _changes(request: Request) -> ChangeService:
    return _services(request).changes


async def _hub(request: Request) -> ChangeHub:
    return _services(request).hub


async def _access_log(request: Request) -> AccessLog:
    return _services(request).access_log


async def _health(request: Request) -> Health:
    return _services(request).health


async def _register(request: Request) -> Register:
    return _services(request).register


async def _catalogue(request: Request) -> Catalogue:
    return _services(request).catalogue


async def _engine(request: Request) -> CedarPolicyEngine:
    return _services(request).engine


async def _sources(request: Request) -> SourceSet:
    return _services(request).sources


async def _federation(request: Request) -> Federation:
    return _services(request).federation


async def _pseudonymizer(request: Request) -> Pseudonymizer:
    return _services(request).pseudonymizer


async def _database(request: Request) -> Database:
    return _services(request).database


# application services
ContactsDep = Annotated[ContactService, Depends(_contacts)]
KlantbeeldDep = Annotated[KlantbeeldService, Depends(_klantbeeld)]
ConsentDep = Annotated[ConsentService, Depends(_consent)]
ObjectionsDep = Annotated[ObjectionService, Depends(_objections)]  # bezwaar (Mijn omgeving, privacy)
SearchDep = Annotated[CustomerSearch, Depends(_search)]
FeedbackDep = Annotated[FeedbackService, Depends(_feedback)]
MomentsDep = Annotated[ContactMomentService, Depends(_moments)]
IdentificationDep = Annotated[IdentificationService, Depends(_identification)]
DocumentsDep = Annotated[DocumentCheckService, Depends(_documents)]
ConfirmationsDep = Annotated[ConfirmationService, Depends(_confirmations)]
ChangesDep = Annotated[ChangeService, Depends(_changes)]  # inbound notifications and CloudEvents
HubDep = Annotated[ChangeHub, Depends(_hub)]  # the open views of this process (SSE)
AccessLogDep = Annotated[AccessLog, Depends(_access_log)]  # reading and verifying the audit logs
HealthDep = Annotated[Health, Depends(_health)]  # /api/v1/status

# configuration and policy, read-only
RegisterDep = Annotated[Register, Depends(_register)]
CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
EngineDep = Annotated[CedarPolicyEngine, Depends(_engine)]  # AuthZEN evaluations
SourcesDep = Annotated[SourceSet, Depends(_sources)]  # the configured sources
FederationDep = Annotated[Federation, Depends(_federation)]  # breaker state and health per source

# infrastructure a route needs directly
PseudonymizerDep = Annotated[Pseudonymizer, Depends(_pseudonymizer)]  # the hub's subject key (SSE)
DatabaseDep = Annotated[Database, Depends(_database)]  # console sessions, login codes of built-in issuers


async def _messages(request: Request) -> MessageService:
    return _services(request).messages


async def _profile(request: Request) -> ProfileService:
    return _services(request).profile


MessagesDep = Annotated[MessageService, Depends(_messages)]
ProfileDep = Annotated[ProfileService, Depends(_profile)]
