"""`dgkb run`: the API and, in the demo, the simulators of every source, in one process.

Simulators get their own real sockets (ports from DGKB_SIMULATOR_BASE_PORT, default 8101), so the
demo exercises the real HTTP adapters exactly as production does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from rich.console import Console
from rich.table import Table
from starlette.types import ASGIApp

from dgkb.api.dev_issuer import DEMO_ACCOUNTS
from dgkb.app import create_app
from dgkb.events.notificaties import abonneer
from dgkb.events.service import inbound_token
from dgkb.notify.config import DEMO_API_KEY as NOTIFY_DEMO_API_KEY
from dgkb.notify.config import SIMULATOR_PORT_OFFSET as NOTIFYNL_PORT_OFFSET
from dgkb.settings import Settings, load_yaml
from dgkb.simulators import (
    belastingen,
    brp,
    gba_import,
    klantinteracties,
    kvk,
    notificaties,
    notifynl,
    producten,
    reisdocumenten,
    zaken,
)
from dgkb.simulators.notificaties import API_PATH as NOTIFICATIES_PATH
from dgkb.simulators.serve import serve_all_in_background
from dgkb.simulators.world import World, build_world
from dgkb.store.migrate import upgrade_async

# Port offset from the base port per simulator; config/sources.yaml uses the same ports.
SIMULATOR_PORTS = {
    "brp": 0,
    "zaken": 1,
    "klantinteracties": 2,
    "gemeente-belastingen": 3,
    "gemeente-boetes": 4,
    "waterschap-belastingen": 5,
    "reisdocumenten": 6,
    "kvk": 7,
    "producten": 8,
    "notificaties": 9,
    "notifynl": NOTIFYNL_PORT_OFFSET,  # outbound messages (dgkb.notify defaults to it)
}


def simulator_apps(
    world: World, latency_ms: int = 0, notificaties_url: Callable[[], str | None] | None = None
) -> dict[str, ASGIApp]:
    """Every source simulator over one coherent fictitious world, a Notificaties routing component
    and a NotifyNL service (outbound messages, demo key of dgkb.notify); the Zaken simulator publishes
    status changes to `notificaties_url()` (…/api/v1)."""
    bsns = [p.bsn for p in world.persons]
    kvks = list(world.kvk_nummers)
    return {
        # plus the persons of `dgkb simulators import-gba`, when imported (see simulators.gba_import)
        "brp": brp.create_app(gba_import.with_imported_persons(world), latency_ms=latency_ms),
        "zaken": zaken.create_app(world, latency_ms=latency_ms, notificaties_url=notificaties_url),
        # Open Klant's API token (`Authorization: Token …`), as config/sources.yaml carries it
        "klantinteracties": klantinteracties.create_app(
            world, token="demo-openklant-token", latency_ms=latency_ms
        ),
        "gemeente-belastingen": belastingen.create_app(
            bsns, kvks, organisation="gemeente", kind="belastingen", latency_ms=latency_ms
        ),
        "gemeente-boetes": belastingen.create_app(
            bsns, kvks, organisation="gemeente", kind="boetes", latency_ms=latency_ms
        ),
        "waterschap-belastingen": belastingen.create_app(
            bsns, kvks, organisation="waterschap", kind="belastingen", latency_ms=latency_ms
        ),
        "reisdocumenten": reisdocumenten.create_app(
            world, latency_ms=latency_ms, api_key="demo-reisdocumenten-sleutel"
        ),
        "kvk": kvk.create_app(world, latency_ms=latency_ms, api_key="demo-kvk-sleutel"),
        "producten": producten.create_app(world, latency_ms=latency_ms, token="demo-producten-token"),
        "notificaties": notificaties.create_app(latency_ms=latency_ms),
        "notifynl": notifynl.create_app(api_key=NOTIFY_DEMO_API_KEY, latency_ms=latency_ms),
    }


@contextlib.asynccontextmanager
async def running_simulators(
    base_port: int, latency_ms: int = 0, world: World | None = None
) -> AsyncIterator[dict[str, str]]:
    """Start all simulators; yield source id -> base URL (host:port only)."""
    urls: dict[str, str] = {}

    def routing_component() -> str | None:
        return f"{urls['notificaties']}{NOTIFICATIES_PATH}" if "notificaties" in urls else None

    apps = simulator_apps(world or build_world(), latency_ms, notificaties_url=routing_component)
    ports = {name: base_port + SIMULATOR_PORTS[name] if base_port else 0 for name in apps}
    async with serve_all_in_background({name: (app, ports[name]) for name, app in apps.items()}) as served:
        urls.update(served)
        yield urls


def rebase_sources(settings: Settings, urls: dict[str, str]) -> dict[str, str]:
    """Source id -> base URL with scheme/host/port swapped for the running simulator's (path kept),
    for tests and benchmarks that start simulators on free ports."""
    overrides = {}
    for src in load_yaml(settings.config_files["sources"])["sources"]:
        if src["id"] in urls:
            sim = urlsplit(urls[src["id"]])
            own = urlsplit(src["baseUrl"])
            overrides[src["id"]] = urlunsplit((sim.scheme, sim.netloc, own.path, own.query, ""))
    return overrides


async def run_all(settings: Settings, *, with_simulators: bool, latency_ms: int, console: Console) -> None:
    await upgrade_async(settings.database_url)
    app = create_app(settings)
    async with contextlib.AsyncExitStack() as stack:
        if with_simulators:
            urls = await stack.enter_async_context(
                running_simulators(settings.simulator_base_port, latency_ms)
            )
            console.print(f"[green]Simulatoren[/green]: {', '.join(f'{k} {v}' for k, v in urls.items())}")
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            loop="auto",
            http="auto",
            timeout_graceful_shutdown=3,  # open event streams (SSE) never end by themselves
        )
        server = uvicorn.Server(config)
        _banner(settings, console)
        api_url = settings.notificaties_api_url or (
            f"{urls['notificaties']}{NOTIFICATIES_PATH}" if with_simulators else ""
        )
        subscribing = asyncio.create_task(_subscribe_when_up(server, settings, api_url, console))
        try:
            await server.serve()
        finally:
            subscribing.cancel()


async def _subscribe_when_up(
    server: uvicorn.Server, settings: Settings, api_url: str, console: Console
) -> None:
    """Once the API listens: take DGKB's abonnement at the Notificaties API (the routing component
    probes the callback first), so the demo is event-driven end to end."""
    if not api_url:
        return
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
        await asyncio.sleep(0.05)
    try:
        await abonneer(
            api_url,
            callback_url=f"{settings.base_url}/api/v1/notificaties",
            callback_auth=f"Bearer {inbound_token(settings)}",
            api_auth=settings.notificaties_api_auth.get_secret_value(),
        )
        console.print(f"[green]Abonnement[/green] op notificaties (zaken, klantcontacten) bij {api_url}")
    except Exception as exc:
        logging.getLogger("dgkb").warning("abonneren op notificaties mislukt: %s", type(exc).__name__)


def _banner(settings: Settings, console: Console) -> None:
    base = settings.base_url
    console.print(f"\n[bold]DGKB draait[/bold] op {base}")
    console.print(f"  API en OpenAPI: {base}/api/v1/openapi.json  (docs: {base}/api/v1/docs)")
    console.print(f"  AuthZEN PDP:    {base}/access/v1/evaluation")
    if not settings.is_production:
        console.print(f'  Demo-inlog:     POST {base}/dev-issuer/token  {{"gebruiker": "kcm-anna"}}')
        table = Table("gebruiker", "naam", "rol")
        for a in DEMO_ACCOUNTS:
            table.add_row(a.username, a.name, a.role)
        console.print(table)
    console.print("Stoppen: Ctrl+C\n")


__all__ = ["SIMULATOR_PORTS", "run_all", "running_simulators", "simulator_apps"]
