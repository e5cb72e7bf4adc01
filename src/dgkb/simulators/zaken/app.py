"""`create_app`: the Zaken + Catalogi simulator wired together (store, routes, middleware, lifespan)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from dgkb.simulators.common import (
    Behaviour,
    NotificatiePublisher,
    SimulatorMiddleware,
    ZgwJwtMiddleware,
    ZgwJwtVerifier,
    sim_routes,
)
from dgkb.simulators.world import World
from dgkb.simulators.zaken.routes import ZakenRoutes
from dgkb.simulators.zaken.serialise import CATALOGI_PATH, ZAKEN_PATH
from dgkb.simulators.zaken.state import ZakenStore


def create_app(
    world: World,
    *,
    latency_ms: int = 0,
    page_size: int = 100,
    notificaties_url: str | Callable[[], str | None] | None = None,
    notificaties_auth: str | Callable[[], str] = "",
    zgw_auth: ZgwJwtVerifier | None = None,
) -> Starlette:
    """The Zaken + Catalogi simulator over `world`; `page_size` is 100 as in Open Zaak. With
    `notificaties_url` (the base URL of a Notificaties API, …/api/v1, or a function giving it once
    known) a status set through `/_sim/zaken/{uuid}/status` is published there on kanaal `zaken`, with
    `notificaties_auth` (an Authorization value, or a function giving a fresh one per message). With
    `zgw_auth` every API request needs a ZGW JWT it accepts."""
    behaviour = Behaviour(latency_ms=latency_ms)
    publisher = NotificatiePublisher(notificaties_url, notificaties_auth)
    api = ZakenRoutes(ZakenStore(world), behaviour, publisher, page_size)
    z, c = ZAKEN_PATH, CATALOGI_PATH
    routes = [
        Route("/_sim/behaviour", api.set_behaviour, methods=["POST"]),
        Route("/_sim/behaviour", api.get_behaviour, methods=["GET"]),
        *sim_routes(behaviour),
        Route("/_sim/zaken/{uuid}/status", api.set_status, methods=["POST"]),
        Route("/_sim/zaken/{uuid}/opschorting", api.set_opschorting, methods=["POST"]),
        Route(f"{z}/zaken", api.list_zaken, methods=["GET"]),
        Route(f"{z}/zaken", api.create_zaak, methods=["POST"]),
        Route(f"{z}/zaken/{{uuid}}", api.get_zaak, methods=["GET"]),
        Route(f"{z}/statussen", api.list_statussen, methods=["GET"]),
        Route(f"{z}/statussen/{{uuid}}", api.get_status, methods=["GET"]),
        Route(f"{z}/rollen", api.list_rollen, methods=["GET"]),
        Route(f"{z}/rollen", api.create_rol, methods=["POST"]),
        Route(f"{z}/rollen/{{uuid}}", api.get_rol, methods=["GET"]),
        Route(f"{z}/resultaten", api.list_resultaten, methods=["GET"]),
        Route(f"{z}/resultaten/{{uuid}}", api.get_resultaat, methods=["GET"]),
        Route(f"{z}/zaakinformatieobjecten", api.list_zaakinformatieobjecten, methods=["GET"]),
        Route(f"{z}/zaakinformatieobjecten/{{uuid}}", api.get_zaakinformatieobject, methods=["GET"]),
        Route(f"{c}/zaaktypen", api.list_zaaktypen, methods=["GET"]),
        Route(f"{c}/zaaktypen/{{uuid}}", api.get_zaaktype, methods=["GET"]),
        Route(f"{c}/statustypen/{{uuid}}", api.get_statustype, methods=["GET"]),
        Route(f"{c}/roltypen", api.list_roltypen, methods=["GET"]),
        Route(f"{c}/roltypen/{{uuid}}", api.get_roltype, methods=["GET"]),
        Route(f"{c}/resultaattypen/{{uuid}}", api.get_resultaattype, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await publisher.aclose()

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(ZgwJwtMiddleware, verifier=zgw_auth),
        ],
        lifespan=lifespan,
    )
