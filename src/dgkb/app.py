"""Application factory: configuration → services → FastAPI app. The lifespan owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from dgkb import __version__
from dgkb.api import health as health_probes
from dgkb.api import problems
from dgkb.api.authzen import router as authzen_router
from dgkb.api.dev_issuer import DevIssuer, dev_issuer_router
from dgkb.api.middleware import (
    API_VERSION_HEADER,
    API_VERSION_HEADER_OPENAPI,
    ApiHeadersMiddleware,
    BodyLimitMiddleware,
    InFlight,
    InFlightMiddleware,
)
from dgkb.api.openapi_constraints import document_constraints, document_rate_limits
from dgkb.api.ratelimit import ClientAddress, RateLimiter, RateLimits, parse_networks, parse_rate_limits
from dgkb.api.telemetry import RequestTelemetry, metrics_route
from dgkb.api.test_broker import TEST_BROKER_PATH, TestBroker, test_broker_router
from dgkb.api.v1 import (
    bevestigingen,
    bronnen,
    contacten,
    contactmomenten,
    feedback,
    identiteitsbewijzen,
    register,
    status,
    toegangslog,
    toestemmingen,
    zoeken,
)
from dgkb.api.v1 import notificaties as notificaties_api
from dgkb.composition.root import (
    BuiltInIssuer,
    Services,
    build_services,
    load_configuration,
    staff_token_validator,
    test_broker_key_file,
)
from dgkb.domain.errors import InvalidConfiguration
from dgkb.events.service import start_realtime
from dgkb.federation.redis_guard import RedisGuard
from dgkb.identity.broker_client import PublicLogin
from dgkb.settings import Settings
from dgkb.store.db import Database, is_sqlite
from dgkb.telemetry import metrics, tracing
from dgkb.web import install as install_web

log = logging.getLogger("dgkb")

API_PREFIX = "/api/v1"


async def _housekeeping(services: Services, interval: float) -> None:
    """Every `interval` s: close idle contacts (dropping their identifiers), log consent expiries and
    forget the addresses of Mijn profiel verifications whose code expired."""
    while True:
        await asyncio.sleep(interval)
        try:
            await services.contacts.sweep_expired()
            await services.consent.sweep_expired()  # each expiry an audit record, once
            await services.assertions.purge_used_nonces()  # only of tokens that expired anyway
            await services.profile.sweep_expired()  # Mijn profiel: no pending address past its code
        except Exception as exc:  # keep running; the next round retries
            log.warning("housekeeping failed: %s", type(exc).__name__)


async def _meten(services: Services, settings: Settings) -> None:
    """Meten en leren in the background: sample the sources' health every `meten_gezondheid_seconds`
    and aggregate the events for the dashboard every `meten_aggregatie_seconds` (0 = not here), then
    draw the charts of the latest periods so the first look finds them ready. Failures are logged and
    retried next round; nothing here holds up a request."""
    sample, aggregate = settings.meten_gezondheid_seconds, settings.meten_aggregatie_seconds
    if not sample and not aggregate:
        return
    loop = asyncio.get_running_loop()
    next_sample = loop.time() + sample
    next_run = loop.time() + aggregate
    warmed = False
    while True:
        waits = [t for t, on in ((next_sample, sample), (next_run, aggregate)) if on]
        await asyncio.sleep(max(0.0, min(waits) - loop.time()))
        now = loop.time()
        try:
            if sample and now >= next_sample:
                next_sample = now + sample
                await services.health_sampler.sample()
            if aggregate and now >= next_run:
                next_run = now + aggregate
                report = await services.dashboard.aggregate()
                if report.blocks or not warmed:
                    warmed = True
                    organisations = report.organisations or tuple(
                        sorted({va.organisatie.oin for va in services.register.verwerkingsactiviteiten})
                    )
                    await services.dashboard.warm(organisations)
        except Exception as exc:  # keep running; the next round retries
            log.warning("meten en leren failed: %s", type(exc).__name__)


class _Telemetry:
    """What the lifespan starts for operating: the metrics port (unless the supervisor of several
    workers serves it: dgkb.runner.serve_workers) and the trace exporter, when configured."""

    def __init__(self, metrics_server: metrics.MetricsServer | None, traced: bool) -> None:
        self.metrics_server = metrics_server
        self._traced = traced

    def stop(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.close()
        if self._traced:
            tracing.stop()


def _start_telemetry(settings: Settings) -> _Telemetry:
    server = None
    if settings.metrics_port and metrics.multiprocess_dir() is None:
        server = metrics.MetricsServer(settings.metrics_host, settings.metrics_port)
    traced = tracing.start(settings.otlp_endpoint, service_version=__version__)
    return _Telemetry(server, traced)


def database_pool(settings: Settings) -> dict[str, int]:
    """The connection pool of this process on PostgreSQL (per worker, see Settings); SQLite keeps
    its own fixed pool."""
    if is_sqlite(settings.database_url):
        return {}
    return {"pool_size": settings.database_pool_size, "max_overflow": settings.database_max_overflow}


def rate_limiter_of(settings: Settings) -> RateLimiter:
    """The rate limiter of this process: shared through Redis when configured (guarded by its own
    short timeouts: a Redis outage falls back to this process's memory, never a failed request)."""
    guard = None
    if settings.redis_url:
        guard = RedisGuard(
            settings.redis_url,
            name="ratelimit",
            connect_timeout=settings.redis_connect_timeout_seconds,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_after_seconds,
            log_interval=settings.error_log_interval_seconds,
        )
    return RateLimiter(parse_rate_limits(settings.rate_limits), redis=guard)


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
            key_file=settings.dev_issuer_key_file
            or (
                settings.config_dir.parent / "var" / "dev-issuer-key.pem"
                if settings.env.value == "development"
                else None
            ),
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

    rate_limiter = rate_limiter_of(settings)
    client_address = ClientAddress(parse_networks(settings.trusted_proxies))

    in_flight = InFlight()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url, **database_pool(settings))
        services = build_services(
            settings,
            config,
            database=database,
            test_broker=BuiltInIssuer(test_broker.issuer, test_broker.jwks()) if test_broker else None,
        )
        app.state.services = services
        telemetry = _start_telemetry(settings)
        app.state.metrics_server = telemetry.metrics_server
        task = asyncio.create_task(_housekeeping(services, 60.0))
        # Mijn berichten: the notices of new messages, sent from the outbox with retries
        notices = asyncio.create_task(services.messages.run_notices())
        meten_task = asyncio.create_task(_meten(services, settings))
        stop_realtime = await start_realtime(
            services.changes, services.klantbeeld, settings.reconcile_seconds
        )
        if settings.drain_signal:
            # a granian worker (dgkb.runner.serve_workers): the supervisor asks for a drain first
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGUSR1, lambda: _spawn_drain(app, in_flight, settings.shutdown_grace_seconds)
            )
        try:
            yield
        finally:
            # Told to stop. Under uvicorn the requests have finished by now (it waits for them);
            # a granian worker gets here at once, its requests still running on this loop: end the
            # event streams (reconnect hint) and let the rest finish before their services close.
            begin_shutdown(app)
            if not await in_flight.drained(settings.shutdown_grace_seconds):
                log.warning("shutdown: %d requests still running after the grace period", in_flight.count)
            for background in (task, notices, meten_task):
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
            await stop_realtime()
            await services.aclose()
            await rate_limiter.aclose()
            await database.dispose()
            # in a thread: the exporter sends what it still holds, which may take its timeout
            await asyncio.to_thread(telemetry.stop)

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
        # every route's rate limit (api/ratelimit.py), checked before the route's own dependencies
        dependencies=[Depends(RateLimits(rate_limiter, client_address))],
    )
    app.state.rate_limiter = rate_limiter  # its counters: requests limited, Redis fallbacks
    app.state.dev_issuer = dev_issuer  # None in production; tests mint crafted tokens with it
    # the staff's OIDC access tokens (API bearer tokens and console logins) are checked with this
    app.state.validator = staff_token_validator(
        settings, BuiltInIssuer(dev_issuer.issuer, dev_issuer.jwks()) if dev_issuer else None
    )
    app.state.test_broker = test_broker  # None in production; tests mint crafted assertions with it
    # the customer's own DigiD login on the public "bevestig met DigiD" pages (web/routes/bevestigen.py)
    app.state.public_login = PublicLogin(
        public_url=settings.public_url,
        issuer=settings.digid_issuer or None,
        client_id=settings.digid_audience.split(",")[0].strip() or "dgkb",
        test_broker_path=TEST_BROKER_PATH if test_broker is not None else None,
    )
    failures = problems.install(app, log_interval=settings.error_log_interval_seconds)
    app.state.failures = failures  # counts of requests answered 503 (database) and 500
    app.include_router(status.router, prefix=API_PREFIX)
    app.include_router(contacten.router, prefix=API_PREFIX)
    app.include_router(contactmomenten.router, prefix=API_PREFIX)
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
    app.include_router(health_probes.router)  # /health/live, /health/ready: operational, not API
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
    token = settings.metrics_token.get_secret_value()
    if token:
        if len(token) < 16:
            raise InvalidConfiguration(
                "DGKB_METRICS_TOKEN: minstens 16 tekens (wie het raadt, ziet de metrics)",
                field="DGKB_METRICS_TOKEN",
            )
        app.include_router(metrics_route(token))
    install_web(app, settings)  # the console: pages, static files, security headers
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiHeadersMiddleware)
    # an unhandled error is answered and logged once here, never re-raised to the server
    app.add_middleware(problems.FailureGuard, failures=failures)
    # outermost: request id, trace and latency of every request, the 500s of FailureGuard included
    app.add_middleware(RequestTelemetry)
    app.add_middleware(InFlightMiddleware, tracker=in_flight)  # what a shutdown waits for
    app.openapi = lambda: _openapi(app, base_url=settings.base_url)  # type: ignore[method-assign]
    return app


_drains: set[asyncio.Task[None]] = set()


def _spawn_drain(app: FastAPI, in_flight: InFlight, grace: float) -> None:
    task = asyncio.create_task(_drain_then_stop(app, in_flight, grace))
    _drains.add(task)
    task.add_done_callback(_drains.discard)


async def _drain_then_stop(app: FastAPI, in_flight: InFlight, grace: float) -> None:
    """SIGUSR1 in a granian worker, from its supervisor at SIGTERM: end the event streams (reconnect
    hint), refuse readiness, let the requests in progress finish, then stop this worker the way granian
    does (SIGTERM to itself). granian on its own closes every open connection at once, streams and
    views in progress alike (tests/test_shutdown.py)."""
    begin_shutdown(app)
    if not await in_flight.drained(grace):
        log.warning("shutdown: %d requests still running after the grace period", in_flight.count)
    os.kill(os.getpid(), signal.SIGTERM)


def begin_shutdown(app: FastAPI) -> None:
    """The server was told to stop (SIGTERM): end every open event stream of this process now, each with
    a reconnect hint (events.stream.RECONNECT), so its client moves to another node while requests in
    progress finish. Servers wait for open connections before the lifespan ends: streams that never
    end by themselves would hold the shutdown until the grace period runs out. Call on the app's loop."""
    app.state.stopping = True  # /health/ready answers 503: the load balancer sends nothing new
    services = getattr(app.state, "services", None)
    if services is not None:
        services.hub.close()


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
    document_constraints(schema, problem_content=problem_content)  # NUL, 413 (api/openapi_constraints.py)
    # 429: every operation but the status (the same paths api/ratelimit.py leaves free)
    document_rate_limits(schema, problem_content=problem_content, free_paths=frozenset({"/status"}))
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
