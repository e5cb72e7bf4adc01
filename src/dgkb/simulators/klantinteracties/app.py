"""`create_app`: the Klantinteracties simulator wired together (store, routes, middleware, lifespan)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, NotificatiePublisher, SimulatorMiddleware, sim_routes
from dgkb.simulators.klantinteracties.auth import TokenAuth
from dgkb.simulators.klantinteracties.routes import KlantinteractiesRoutes
from dgkb.simulators.klantinteracties.serialise import BASE_PATH
from dgkb.simulators.klantinteracties.state import RESOURCES, Store
from dgkb.simulators.world import World


def create_app(
    world: World,
    *,
    token: str,
    latency_ms: int = 0,
    page_size: int = 100,
    extra_addresses: int = 0,
    notificaties_url: str | Callable[[], str | None] | None = None,
    notificaties_auth: str | Callable[[], str] = "",
) -> Starlette:
    """The Klantinteracties simulator over `world`, answering only requests with `Authorization:
    Token <token>`; `extra_addresses` adds that many fictitious digitale adressen without a partij
    (for the search benchmark over 100,000 addresses). With `notificaties_url` (the base URL of a
    Notificaties API, …/api/v1, or a function giving it once known) every write of a partij, interne
    taak or klantcontact is published there."""
    behaviour = Behaviour(latency_ms=latency_ms)
    publisher = NotificatiePublisher(notificaties_url, notificaties_auth)
    api = KlantinteractiesRoutes(Store(world, extra_addresses), publisher, page_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await publisher.aclose()

    p = BASE_PATH
    routes = [
        *sim_routes(behaviour),
        Route(f"{p}/partijen", api.list_partijen, methods=["GET"]),
        Route(f"{p}/digitaleadressen", api.list_digitaleadressen, methods=["GET"]),
        Route(f"{p}/digitaleadressen", api.post_digitaleadressen, methods=["POST"]),
        Route(f"{p}/digitaleadressen/{{uuid}}", api.delete_digitaal_adres, methods=["DELETE"]),
        Route(f"{p}/klantcontacten", api.list_klantcontacten, methods=["GET"]),
        Route(f"{p}/klantcontacten", api.post_klantcontacten, methods=["POST"]),
        Route(f"{p}/betrokkenen", api.list_betrokkenen, methods=["GET"]),
        Route(f"{p}/betrokkenen", api.post_betrokkenen, methods=["POST"]),
        Route(f"{p}/onderwerpobjecten", api.list_onderwerpobjecten, methods=["GET"]),
        Route(f"{p}/onderwerpobjecten", api.post_onderwerpobjecten, methods=["POST"]),
        Route(f"{p}/internetaken", api.list_internetaken, methods=["GET"]),
        Route(f"{p}/internetaken", api.post_internetaken, methods=["POST"]),
        Route(f"{p}/internetaken/{{uuid}}", api.update_internetaak, methods=["PUT", "PATCH"]),
        Route(f"{p}/partijen/{{uuid}}", api.patch_partij, methods=["PATCH"]),
        Route(f"{p}/actoren", api.list_actoren, methods=["GET"]),
        Route("/_sim/notificaties", api.published, methods=["GET"]),
    ]
    for resource in RESOURCES:
        routes.append(
            Route(f"{p}/{resource}/{{uuid}}", functools.partial(api.get_detail, resource), methods=["GET"])
        )
    # recorded (and slowed or broken) first, then refused without the token, as a real server
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(TokenAuth, token=token),
        ],
        lifespan=lifespan,
    )
