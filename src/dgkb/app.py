"""Application factory: configuration → services → FastAPI app. The lifespan owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from dgkb import __version__
from dgkb.api import problems
from dgkb.api.auth import TokenValidator
from dgkb.api.authzen import router as authzen_router
from dgkb.api.deps import Services
from dgkb.api.dev_issuer import DevIssuer, dev_issuer_router
from dgkb.api.middleware import (
    API_VERSION_HEADER,
    API_VERSION_HEADER_OPENAPI,
    ApiHeadersMiddleware,
    BodyLimitMiddleware,
)
from dgkb.api.test_broker import TEST_BROKER_PATH, TestBroker, test_broker_router
from dgkb.api.v1 import (
    bevestigingen,
    bronnen,
    contacten,
    feedback,
    identiteitsbewijzen,
    register,
    status,
    toegangslog,
    toestemmingen,
    zoeken,
)
from dgkb.api.v1 import notificaties as notificaties_api
from dgkb.audit.writer import AuditWriter
from dgkb.consent.service import ConsentService
from dgkb.contacts.confirmation import ConfirmationService
from dgkb.contacts.documents import DocumentCheckService
from dgkb.contacts.identification import IdentificationService
from dgkb.contacts.moment import ContactMomentService, parse_options
from dgkb.contacts.service import ContactService
from dgkb.demo_secrets import refuse_demo_secrets_in_production
from dgkb.domain.assurance import IdentificationMethod
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.events.service import build_changes, start_realtime
from dgkb.federation.cache import MemoryCache, RedisCache, SourceCache
from dgkb.federation.fanout import Federation
from dgkb.federation.sourceset import SourceSet
from dgkb.feedback.service import FeedbackService
from dgkb.feedback.source import KIND as FEEDBACK_KIND
from dgkb.feedback.source import FeedbackSource
from dgkb.identity.acr import AcrTable, load_acr_table
from dgkb.identity.assertions import AssertionVerifier, BrokerConfig
from dgkb.identity.broker_client import PublicLogin
from dgkb.identity.jwks import KeySet
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.notify import build_notifier, notify_config
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.search.service import CustomerSearch
from dgkb.settings import Settings, load_catalogue, load_register, load_yaml
from dgkb.sources.base import SourceAdapter
from dgkb.sources.config import SourceConfig, SourcesConfig, parse_sources
from dgkb.sources.registry import build_adapter, known_kinds
from dgkb.store.db import Database
from dgkb.web import install as install_web

log = logging.getLogger("dgkb")

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Configuration:
    catalogue: Catalogue
    register: Register
    sources: SourcesConfig
    # which level a DigiD/eHerkenning login yields per `acr` (config/acr.yaml); empty = always `geen`
    acr: AcrTable = field(default_factory=lambda: AcrTable(levels={}))


def load_configuration(
    settings: Settings, source_overrides: Mapping[str, str] | None = None
) -> Configuration:
    """Read and cross-validate catalogue, sources and register; raises InvalidConfiguration with
    every problem, each naming file and path (used at start-up and by `dgkb check`). In production
    a built-in key or demo secret is such a problem too (dgkb.demo_secrets)."""
    catalogue = load_catalogue(settings)
    sources_path = settings.config_files["sources"]
    sources = parse_sources(
        load_yaml(sources_path),
        catalogue=catalogue,
        known_kinds=known_kinds() | {FEEDBACK_KIND},
        source=sources_path.name,
    )
    if source_overrides:
        sources = SourcesConfig(
            sources=tuple(
                s.model_copy(update={"baseUrl": source_overrides[s.id]}) if s.id in source_overrides else s
                for s in sources.sources
            )
        )
    register_ = load_register(settings, catalogue, source_ids=sources.ids)
    acr = load_acr_table(settings.config_files["acr"])
    config = Configuration(catalogue=catalogue, register=register_, sources=sources, acr=acr)
    notify_config(settings)  # DGKB_NOTIFY_*: InvalidConfiguration naming the setting
    refuse_demo_secrets_in_production(settings, config)
    return config


def identification_purposes(register_: Register) -> dict[str, str]:
    """Organisation OIN -> its identification purpose (`identificatie: true` in the register)."""
    found = {va.organisatie.oin: va.id for va in register_.verwerkingsactiviteiten if va.identificatie}
    if found:
        return found
    raise InvalidConfiguration(
        "register.yaml: verwerkingsactiviteiten: er moet een identificatiedoel zijn "
        "(een verwerkingsactiviteit met 'identificatie: true')",
        field="register.yaml",
    )


def _audiences(value: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in value.split(",") if a.strip())


def brokers(settings: Settings, test_broker: TestBroker | None) -> list[BrokerConfig]:
    """The DigiD and eHerkenning brokers DGKB trusts: the configured ones (issuer and JWKS URL both
    required), else outside production the built-in test broker; in production none unless set."""
    found: list[BrokerConfig] = []
    digid_claims = _audiences(settings.digid_bsn_claim) or ("bsn",)
    for method, issuer, jwks_url, audience, subject_claims, prefix in (
        (
            IdentificationMethod.DIGID,
            settings.digid_issuer,
            settings.digid_jwks_url,
            settings.digid_audience,
            digid_claims,
            "DGKB_DIGID",
        ),
        (
            IdentificationMethod.EHERKENNING,
            settings.eherkenning_issuer,
            settings.eherkenning_jwks_url,
            settings.eherkenning_audience,
            (settings.eherkenning_kvk_claim,),
            "DGKB_EHERKENNING",
        ),
    ):
        extra: dict[str, Any] = {}
        if method is IdentificationMethod.EHERKENNING:
            extra = {
                "vestiging_claim": settings.eherkenning_vestiging_claim,
                "acting_person_claim": settings.eherkenning_acting_person_claim,
            }
        if issuer:
            if not jwks_url:
                raise InvalidConfiguration(
                    f"{prefix}_JWKS_URL is verplicht als {prefix}_ISSUER is gezet", field=f"{prefix}_JWKS_URL"
                )
            keys = KeySet(url=jwks_url)
            test = TEST_BROKER_PATH in issuer
        elif test_broker is not None and not settings.is_production:
            issuer, keys, test = test_broker.issuer, KeySet(static=test_broker.jwks()), True
        else:
            continue
        found.append(
            BrokerConfig(
                method=method,
                issuer=issuer,
                audiences=_audiences(audience) or ("dgkb",),
                keys=keys,
                subject_claims=subject_claims,
                test_broker=test,
                **extra,
            )
        )
    return found


def build_services(
    settings: Settings,
    config: Configuration,
    *,
    database: Database,
    dev_issuer: DevIssuer | None,
    test_broker: TestBroker | None = None,
) -> Services:
    pseudonymizer = Pseudonymizer(settings.pseudonym_keyring())

    def build(source: SourceConfig) -> SourceAdapter:
        # DGKB's own stores need the database; every other kind is a pure HTTP adapter.
        if source.kind == FEEDBACK_KIND:
            return FeedbackSource(source, database=database, pseudonymizer=pseudonymizer)
        return build_adapter(source)

    sources = SourceSet(config.sources, build)
    engine = CedarPolicyEngine(config.register, config.catalogue)
    audit = AuditWriter(database, pseudonymizer)
    assertions = AssertionVerifier(
        brokers=brokers(settings, test_broker),
        acr=config.acr,
        database=database,
        leeway_seconds=settings.assertion_leeway_seconds,
        max_age_seconds=settings.assertion_max_age_seconds,
    )
    consent = ConsentService(database, pseudonymizer, config.register, sources=sources, auditor=audit)
    contacts = ContactService(
        database=database,
        register=config.register,
        sources=sources,
        pseudonymizer=pseudonymizer,
        auditor=audit,
        engine=engine,
        idle_timeout=timedelta(seconds=settings.session_idle_seconds),
        identification_purposes=identification_purposes(config.register),
        assertions=assertions,
    )
    feedback_ = FeedbackService(
        database=database, pseudonymizer=pseudonymizer, register=config.register, audit=audit
    )
    cache: SourceCache = RedisCache(settings.redis_url) if settings.redis_url else MemoryCache()
    federation = Federation(
        concurrency={sid: cfg.concurrency for sid, cfg in sources.configs.items()}, cache=cache
    )
    klantbeeld = KlantbeeldService(
        catalogue=config.catalogue,
        register=config.register,
        engine=engine,
        sources=sources,
        consent=consent,
        auditor=audit,
        federation=federation,
        pseudonymizer=pseudonymizer,
        request_budget=settings.source_deadline_seconds,
    )
    if dev_issuer is not None and not settings.oidc_issuer:
        keys = KeySet(static=dev_issuer.jwks())
        issuer = dev_issuer.issuer
    else:
        if not settings.oidc_issuer or not settings.oidc_jwks_url:
            raise InvalidConfiguration(
                "DGKB_OIDC_ISSUER en DGKB_OIDC_JWKS_URL zijn verplicht in productie", field="DGKB_OIDC_ISSUER"
            )
        keys = KeySet(url=settings.oidc_jwks_url)
        issuer = settings.oidc_issuer
    validator = TokenValidator(
        issuer=issuer,
        audience=settings.oidc_audience,
        keys=keys,
        role_claim=settings.oidc_role_claim,
        organisation_claim=settings.oidc_organisation_claim,
        unit_claim=settings.oidc_unit_claim,
        employee_claim=settings.oidc_employee_claim,
    )
    changes = build_changes(settings, invalidator=federation, pseudonymizer=pseudonymizer, sources=sources)
    notifier = build_notifier(settings)
    return Services(
        database=database,
        catalogue=config.catalogue,
        register=config.register,
        sources=sources,
        engine=engine,
        pseudonymizer=pseudonymizer,
        audit=audit,
        consent=consent,
        contacts=contacts,
        klantbeeld=klantbeeld,
        feedback=feedback_,
        search=CustomerSearch(sources=sources, register=config.register, audit=audit),
        federation=federation,
        cache=cache,
        validator=validator,
        changes=changes,
        hub=changes.hub,
        notifier=notifier,  # outbound messages through NotifyNL (dgkb.notify)
        moments=ContactMomentService(
            register=config.register,
            sources=sources,
            contacts=contacts,
            auditor=audit,
            changes=changes,
            options=parse_options(load_yaml(settings.config_dir / "onderwerpen.yaml")),
        ),
        identification=IdentificationService(
            register=config.register, sources=sources, contacts=contacts, auditor=audit
        ),
        documents=DocumentCheckService(
            register=config.register, sources=sources, contacts=contacts, auditor=audit
        ),
        assertions=assertions,
        confirmations=ConfirmationService(
            database=database,
            contacts=contacts,
            register=config.register,
            sources=sources,
            pseudonymizer=pseudonymizer,
            auditor=audit,
            notifier=notifier,
            assertions=assertions,
            changes=changes,
        ),
    )


async def _housekeeping(services: Services, interval: float) -> None:
    """Every `interval` s: close idle contacts (dropping their identifiers) and log consent expiries."""
    while True:
        await asyncio.sleep(interval)
        try:
            await services.contacts.sweep_expired()
            await services.consent.sweep_expired()  # each expiry an audit record, once
            await services.assertions.purge_used_nonces()  # only of tokens that expired anyway
        except Exception as exc:  # keep running; the next round retries
            log.warning("housekeeping failed: %s", type(exc).__name__)


def test_broker_key_file(settings: Settings) -> Path | None:
    """In development the test broker's key survives restarts (and is shared with the CLI)."""
    if settings.env.value != "development":
        return None
    return settings.config_dir.parent / "var" / "test-broker-key.pem"


def create_app(
    settings: Settings | None = None, *, source_overrides: Mapping[str, str] | None = None
) -> FastAPI:
    settings = settings or Settings()
    config = load_configuration(settings, source_overrides)
    dev_issuer = None
    if not settings.is_production:
        dev_issuer = DevIssuer(
            issuer=f"{settings.base_url}/dev-issuer",
            audience=settings.oidc_audience,
            key_file=settings.config_dir.parent / "var" / "dev-issuer-key.pem"
            if settings.env.value == "development"
            else None,
            production=settings.is_production,
        )
    test_broker = None
    if not settings.is_production:
        test_broker = TestBroker(
            issuer=f"{settings.base_url}{TEST_BROKER_PATH}",
            audience=settings.digid_audience,
            acr=config.acr,
            key_file=test_broker_key_file(settings),
            production=settings.is_production,
            bsn_claim=settings.digid_bsn_claim,
            kvk_claim=settings.eherkenning_kvk_claim,
            vestiging_claim=settings.eherkenning_vestiging_claim,
            acting_person_claim=settings.eherkenning_acting_person_claim,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        services = build_services(
            settings, config, database=database, dev_issuer=dev_issuer, test_broker=test_broker
        )
        app.state.services = services
        task = asyncio.create_task(_housekeeping(services, 60.0))
        stop_realtime = await start_realtime(
            services.changes, services.klantbeeld, settings.reconcile_seconds
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await stop_realtime()
            await services.sources.aclose()
            await services.cache.aclose()
            await database.dispose()

    app = FastAPI(
        title="DGKB — Doelmatig Geïntegreerd Klantbeeld",
        version=__version__,
        description="Doelgebonden klantbeeld over live bronnen, met het verwerkingsregister als beleid.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        contact={"name": "DGKB", "url": "https://dgkb.nl", "email": "dgkb@example.org"},
        # NL API Design Rules /core/uri-version: the major version is part of the server URL, so the
        # documented paths are relative to /api/v1 (see _openapi).
        servers=[{"url": f"{settings.base_url}{API_PREFIX}", "description": "deze installatie"}],
    )
    app.state.dev_issuer = dev_issuer  # None in production; tests mint crafted tokens with it
    app.state.test_broker = test_broker  # None in production; tests mint crafted assertions with it
    # the customer's own DigiD login on the public "bevestig met DigiD" pages (web/routes/bevestigen.py)
    app.state.public_login = PublicLogin(
        public_url=settings.public_url,
        issuer=settings.digid_issuer or None,
        client_id=settings.digid_audience.split(",")[0].strip() or "dgkb",
        test_broker_path=TEST_BROKER_PATH if test_broker is not None else None,
    )
    problems.install(app)
    app.include_router(status.router, prefix=API_PREFIX)
    app.include_router(contacten.router, prefix=API_PREFIX)
    app.include_router(identiteitsbewijzen.router, prefix=API_PREFIX)
    app.include_router(bevestigingen.router, prefix=API_PREFIX)
    app.include_router(toestemmingen.router, prefix=API_PREFIX)
    app.include_router(register.router, prefix=API_PREFIX)
    app.include_router(toegangslog.router, prefix=API_PREFIX)
    app.include_router(feedback.router, prefix=API_PREFIX)
    app.include_router(bronnen.router, prefix=API_PREFIX)
    app.include_router(zoeken.router, prefix=API_PREFIX)
    app.include_router(notificaties_api.router, prefix=API_PREFIX)
    app.include_router(authzen_router)
    if dev_issuer is not None:
        app.include_router(
            dev_issuer_router(
                dev_issuer,
                {
                    "role": settings.oidc_role_claim,
                    "organisation": settings.oidc_organisation_claim,
                    "unit": settings.oidc_unit_claim,
                },
            )
        )
    if test_broker is not None:
        app.include_router(test_broker_router(test_broker))
    install_web(app, settings)  # the console: pages, static files, security headers
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiHeadersMiddleware)
    app.openapi = lambda: _openapi(app, base_url=settings.base_url)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, *, base_url: str) -> dict[str, Any]:
    """The OpenAPI document, conforming to the NL API Design Rules (tests/api/test_openapi_lint.py
    runs the official linter on it). FastAPI's output is adjusted to what the API actually does."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        contact=app.contact,
        servers=app.servers,
    )
    _relative_paths(schema, base_url)
    _document_responses(schema)
    app.openapi_schema = schema
    return schema


def _relative_paths(schema: dict[str, Any], base_url: str) -> None:
    """/api/v1/x is documented as /x under the server URL .../api/v1. Paths outside /api/v1 (the
    AuthZEN endpoints at /access/v1/..., prescribed by that standard) keep their full path and get
    the bare base URL as their own server."""
    paths: dict[str, Any] = {}
    for path, item in schema.get("paths", {}).items():
        if path.startswith(API_PREFIX + "/"):
            paths[path.removeprefix(API_PREFIX)] = item
        else:
            paths[path] = {"servers": [{"url": base_url, "description": "deze installatie"}], **item}
    schema["paths"] = paths


HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def _document_responses(schema: dict[str, Any]) -> None:
    """Every response carries the API-Version header (ApiHeadersMiddleware sends it) and every error
    is problem+json (api/problems.py). FastAPI's 422 is dropped: invalid input is answered with 400."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {})[API_VERSION_HEADER] = copy.deepcopy(API_VERSION_HEADER_OPENAPI)
    components.setdefault("schemas", {}).update(copy.deepcopy(problems.OPENAPI_SCHEMAS))
    header_ref = {"$ref": f"#/components/headers/{API_VERSION_HEADER}"}
    problem_content = {problems.PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code, response in responses.items():
                response.setdefault("headers", {})[API_VERSION_HEADER] = copy.deepcopy(header_ref)
                if code[:1] in ("4", "5"):
                    response["content"] = copy.deepcopy(problem_content)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
            components["schemas"].pop(unused, None)
