"""`create_app`: the Notificaties routing component wired together (store, routes, middleware) with
its scheduler beat in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from dgkb.simulators.common import (
    Behaviour,
    SimulatorMiddleware,
    ZgwJwtMiddleware,
    ZgwJwtVerifier,
    sim_routes,
)
from dgkb.simulators.notificaties.routes import NotificatiesRoutes
from dgkb.simulators.notificaties.serialise import API_PATH
from dgkb.simulators.notificaties.state import (
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_KANALEN,
    NotificatiesStore,
    Retry,
)


def create_app(
    *,
    latency_ms: int = 0,
    kanalen: Mapping[str, Sequence[str]] = DEFAULT_KANALEN,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    retry_backoff_seconds: float = 25.0,
    retry_base: float = 4.0,
    retry_backoff_max_seconds: float = 52000.0,
    max_retries: int = 7,
    zgw_auth: ZgwJwtVerifier | None = None,
) -> Starlette:
    """The routing component with `kanalen` (naam -> filters) registered; with `zgw_auth` every API
    request needs a ZGW JWT it accepts; a scheduler round every
    `interval_seconds` (0: only on `POST /_sim/scheduler`); retry backoff as Open Notificaties'
    `notification_delivery_retry_backoff`, `…_base_factor`, `…_retry_backoff_max`, `…_max_retries`.
    The scheduler runs while the app's lifespan does (serve it with `lifespan="on"`)."""
    behaviour = Behaviour(latency_ms=latency_ms)
    retry = Retry(retry_backoff_seconds, retry_base, retry_backoff_max_seconds, max_retries)
    store = NotificatiesStore(kanalen, retry)
    api = NotificatiesRoutes(store)

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            with contextlib.suppress(Exception):
                await store.run_round()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(beat()) if interval_seconds > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.aclose()

    p = API_PATH
    routes = [
        *sim_routes(behaviour),
        Route("/_sim/deliveries", api.list_deliveries, methods=["GET"]),
        Route("/_sim/deliveries", api.clear_deliveries, methods=["DELETE"]),
        Route("/_sim/scheduled", api.list_scheduled, methods=["GET"]),
        Route("/_sim/scheduler", api.scheduler_round, methods=["POST"]),
        Route(f"{p}/kanaal", api.list_kanalen, methods=["GET"]),
        Route(f"{p}/kanaal", api.create_kanaal, methods=["POST"]),
        Route(f"{p}/kanaal/{{uuid}}", api.read_kanaal, methods=["GET"]),
        Route(f"{p}/abonnement", api.list_abonnementen, methods=["GET"]),
        Route(f"{p}/abonnement", api.create_abonnement, methods=["POST"]),
        Route(f"{p}/abonnement/{{uuid}}", api.read_abonnement, methods=["GET"]),
        Route(f"{p}/abonnement/{{uuid}}", api.update_abonnement, methods=["PUT", "PATCH"]),
        Route(f"{p}/abonnement/{{uuid}}", api.delete_abonnement, methods=["DELETE"]),
        Route(f"{p}/notificaties", api.publish, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(ZgwJwtMiddleware, verifier=zgw_auth),
        ],
        lifespan=lifespan,
    )
