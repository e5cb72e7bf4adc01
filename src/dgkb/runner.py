"""`dgkb run`: the API and, in the demo, the simulators of every source, in one process.

Simulators get their own real sockets (ports from DGKB_SIMULATOR_BASE_PORT, default 8101), so the
demo exercises the real HTTP adapters exactly as production does. The Zaken and Notificaties
simulators check ZGW JWTs as Open Zaak and Open Notificaties do (`DEMO_ZGW_CLIENTS`); DGKB's
abonnement at the routing component is retried with backoff until it answers. The demo's
config/sources.yaml names the simulators as `{simulator.<name>}`, resolved from the same base port, so
a second demo with another base port talks to its own simulators; a port taken by another process
stops the start with a PortInUse naming it.

`dgkb run --workers N` (`serve_workers`) is the production server: N granian worker processes share
one port, each with its own app lifespan (database pool, NATS and Redis connections); the supervisor
checks the configuration and migrates once, and keeps the simulators (when started) in its own
process. Several workers need NATS and Redis (`require_shared_infrastructure`). docs/productie.md
says why granian and which HTTP limits it enforces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from concurrent.futures import Future
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from starlette.types import ASGIApp
from uvicorn.config import LOGGING_CONFIG

from dgkb.api.dev_issuer import DEMO_ACCOUNTS
from dgkb.app import begin_shutdown, create_app
from dgkb.events.notificaties import Backoff, abonneer
from dgkb.events.routing_auth import ApiAuth, notificaties_api_auth
from dgkb.events.service import inbound_token
from dgkb.notify.config import DEMO_API_KEY as NOTIFY_DEMO_API_KEY
from dgkb.settings import SIMULATOR_PORTS, Settings, load_yaml, require_shared_infrastructure
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
from dgkb.simulators.common import ZgwJwtVerifier, zgw_authorization
from dgkb.simulators.notificaties import API_PATH as NOTIFICATIES_PATH
from dgkb.simulators.resettable import RESET_PATH, Resettable
from dgkb.simulators.serve import PortInUse, bind_socket, serve_all_in_background
from dgkb.simulators.world import World, build_world
from dgkb.sources.config import expand_simulator
from dgkb.store.migrate import upgrade, upgrade_async
from dgkb.telemetry import logs, metrics

# DGKB's ZGW client in the demo (client id, secret): config/sources.yaml has it for source `zaken`,
# and DGKB subscribes with it at the local Notificaties simulator when DGKB_NOTIFICATIES_API_CLIENT_ID,
# …_SECRET and …_AUTH are not set (one client for every ZGW component, as an Autorisaties API has it).
DEMO_ZGW_CLIENT = ("dgkb-demo", "demo-zgw-geheim-niet-voor-productie")
# the Zaken simulator's own client at the Notificaties simulator (Open Zaak publishes with its own)
ZAKEN_SIMULATOR_CLIENT = ("zaken-simulator", "demo-zaken-simulator-geheim-niet-voor-productie")
# Open Klant's API token in the demo (`Authorization: Token …`), as config/sources.yaml carries it
DEMO_OPENKLANT_TOKEN = "demo-openklant-token"
# …and the Klantinteracties simulator's (Open Klant publishes with a client of its own too)
KLANTINTERACTIES_SIMULATOR_CLIENT = (
    "klantinteracties-simulator",
    "demo-klantinteracties-simulator-geheim-niet-voor-productie",
)
# client id -> secret: whom the Zaken and Notificaties simulators of `dgkb run` accept
DEMO_ZGW_CLIENTS = dict([DEMO_ZGW_CLIENT])
# DGKB's abonnement while the routing component is down: 1, 2, 4 … s, then every minute, until it answers
SUBSCRIBE_BACKOFF = Backoff(first=1.0, factor=2.0, maximum=60.0, retries=None)


def simulator_factories(
    world: World,
    latency_ms: int = 0,
    notificaties_url: Callable[[], str | None] | None = None,
    *,
    zgw_clients: Mapping[str, str] | None = None,
    notificaties_seconds: float = notificaties.DEFAULT_INTERVAL_SECONDS,
) -> dict[str, Callable[[], ASGIApp]]:
    """Name -> a function building that simulator afresh (`simulator_apps` builds them all once;
    dgkb.simulators.resettable rebuilds one on a reset). Every source simulator over one coherent
    fictitious world, a Notificaties routing component (a delivery round every `notificaties_seconds`,
    0 = only on `POST /_sim/scheduler`) and a NotifyNL service (outbound messages, demo key of
    dgkb.notify); the Zaken simulator publishes status changes and the Klantinteracties simulator
    every write of a partij, interne taak or klantcontact to `notificaties_url()` (…/api/v1). With
    `zgw_clients` (client id -> secret, e.g. DEMO_ZGW_CLIENTS) the Zaken and Notificaties simulators
    accept only ZGW JWTs of those clients, as Open Zaak and Open Notificaties do (JWT_EXPIRY 3600 s,
    no leeway), and the simulators publish with their own clients; without, no token at all."""
    bsns = [p.bsn for p in world.persons]
    kvks = list(world.kvk_nummers)
    zaken_auth = notificaties_auth = None
    publisher_auth: str | Callable[[], str] = ""
    klantinteracties_publisher_auth: str | Callable[[], str] = ""
    if zgw_clients is not None:
        zaken_auth = ZgwJwtVerifier(dict(zgw_clients))
        notificaties_auth = ZgwJwtVerifier(
            {**zgw_clients, **dict([ZAKEN_SIMULATOR_CLIENT, KLANTINTERACTIES_SIMULATOR_CLIENT])}
        )
        publisher_auth = zgw_authorization(*ZAKEN_SIMULATOR_CLIENT)
        klantinteracties_publisher_auth = zgw_authorization(*KLANTINTERACTIES_SIMULATOR_CLIENT)
    return {
        # plus the persons of `dgkb simulators import-gba`, when imported (see simulators.gba_import)
        "brp": lambda: brp.create_app(gba_import.with_imported_persons(world), latency_ms=latency_ms),
        "zaken": lambda: zaken.create_app(
            world,
            latency_ms=latency_ms,
            notificaties_url=notificaties_url,
            notificaties_auth=publisher_auth,
            zgw_auth=zaken_auth,
        ),
        # Open Klant's API token (`Authorization: Token …`), as config/sources.yaml carries it
        "klantinteracties": lambda: klantinteracties.create_app(
            world,
            token=DEMO_OPENKLANT_TOKEN,
            latency_ms=latency_ms,
            notificaties_url=notificaties_url,
            notificaties_auth=klantinteracties_publisher_auth,
        ),
        "gemeente-belastingen": lambda: belastingen.create_app(
            bsns, kvks, organisation="gemeente", kind="belastingen", latency_ms=latency_ms
        ),
        "gemeente-boetes": lambda: belastingen.create_app(
            bsns, kvks, organisation="gemeente", kind="boetes", latency_ms=latency_ms
        ),
        "waterschap-belastingen": lambda: belastingen.create_app(
            bsns, kvks, organisation="waterschap", kind="belastingen", latency_ms=latency_ms
        ),
        "reisdocumenten": lambda: reisdocumenten.create_app(
            world, latency_ms=latency_ms, api_key="demo-reisdocumenten-sleutel"
        ),
        "kvk": lambda: kvk.create_app(world, latency_ms=latency_ms, api_key="demo-kvk-sleutel"),
        "producten": lambda: producten.create_app(world, latency_ms=latency_ms, token="demo-producten-token"),
        "notificaties": lambda: notificaties.create_app(
            latency_ms=latency_ms, interval_seconds=notificaties_seconds, zgw_auth=notificaties_auth
        ),
        "notifynl": lambda: notifynl.create_app(api_key=NOTIFY_DEMO_API_KEY, latency_ms=latency_ms),
    }


def simulator_apps(
    world: World,
    latency_ms: int = 0,
    notificaties_url: Callable[[], str | None] | None = None,
    *,
    zgw_clients: Mapping[str, str] | None = None,
    notificaties_seconds: float = notificaties.DEFAULT_INTERVAL_SECONDS,
) -> dict[str, ASGIApp]:
    """Every simulator of `simulator_factories`, built."""
    factories = simulator_factories(
        world,
        latency_ms,
        notificaties_url,
        zgw_clients=zgw_clients,
        notificaties_seconds=notificaties_seconds,
    )
    return {name: build() for name, build in factories.items()}


@contextlib.asynccontextmanager
async def running_simulators(
    base_port: int,
    latency_ms: int = 0,
    world: World | None = None,
    *,
    zgw_clients: Mapping[str, str] | None = None,
    notificaties_seconds: float = notificaties.DEFAULT_INTERVAL_SECONDS,
    resettable: bool = False,
) -> AsyncIterator[dict[str, str]]:
    """Start all simulators (`zgw_clients`: see simulator_apps); yield source id -> base URL
    (host:port only). The Notificaties routing component delivers in a round every
    `notificaties_seconds` (Open Notificaties' default 20 s; 0 = only when `POST /_sim/scheduler` asks).
    `resettable`: each simulator also answers `POST /_sim/reset` by putting itself back in its
    pristine state (dgkb.simulators.resettable; `reset_simulators` resets them all), so tests can
    share one set of servers."""
    urls: dict[str, str] = {}

    def routing_component() -> str | None:
        return f"{urls['notificaties']}{NOTIFICATIES_PATH}" if "notificaties" in urls else None

    factories = simulator_factories(
        world or build_world(),
        latency_ms,
        notificaties_url=routing_component,
        zgw_clients=zgw_clients,
        notificaties_seconds=notificaties_seconds,
    )
    apps = {name: Resettable(build) if resettable else build() for name, build in factories.items()}
    ports = {name: base_port + SIMULATOR_PORTS[name] if base_port else 0 for name in apps}
    async with contextlib.AsyncExitStack() as stack:
        try:
            served = await stack.enter_async_context(
                serve_all_in_background(
                    {name: (app, ports[name]) for name, app in apps.items()}, lifespan="on"
                )
            )
        except PortInUse as exc:
            last = base_port + max(SIMULATOR_PORTS.values())
            raise PortInUse(
                exc.port,
                exc.host,
                f"de simulator {exc.what}",
                hint=f"Stop dat proces, of kies een andere DGKB_SIMULATOR_BASE_PORT (nu {base_port}: "
                f"de simulatoren gebruiken de poorten {base_port}–{last}).",
            ) from None
        urls.update(served)
        yield urls


async def reset_simulators(urls: Mapping[str, str], client: httpx.AsyncClient | None = None) -> None:
    """Put every simulator of `running_simulators(..., resettable=True)` back in its pristine state:
    the sources first (their change notifications still on their way are cancelled), then the
    Notificaties routing component (what it received, its abonnementen, its deliveries). With
    `client`, through that client."""
    if client is None:
        async with httpx.AsyncClient(timeout=10) as own:
            await reset_simulators(urls, own)
        return
    last = [name for name in ("notificaties",) if name in urls]

    async def reset(name: str) -> None:
        # A reset is idempotent: a kept-alive connection the simulator closed meanwhile (a ReadError
        # on reuse) is simply tried again on a new one.
        for attempt in range(3):
            try:
                (await client.post(f"{urls[name]}{RESET_PATH}")).raise_for_status()
                return
            except httpx.TransportError:
                if attempt == 2:
                    raise

    await asyncio.gather(*(reset(name) for name in urls if name not in last))
    for name in last:
        await reset(name)


def rebase_sources(settings: Settings, urls: dict[str, str]) -> dict[str, str]:
    """Source id -> base URL with scheme/host/port swapped for the running simulator's (path kept),
    for tests and benchmarks that start simulators on free ports."""
    simulators = {name: settings.simulator_url(name) for name in SIMULATOR_PORTS}
    overrides = {}
    for src in load_yaml(settings.config_files["sources"])["sources"]:
        if src["id"] in urls:
            sim = urlsplit(urls[src["id"]])
            own = urlsplit(expand_simulator(src["baseUrl"], simulators))
            overrides[src["id"]] = urlunsplit((sim.scheme, sim.netloc, own.path, own.query, ""))
    return overrides


async def run_all(settings: Settings, *, with_simulators: bool, latency_ms: int, console: Console) -> None:
    """Migrate, then serve the API (and the simulators); PortInUse naming the port when the API's or a
    simulator's port is taken by another process (nothing is left running then)."""
    logs.configure(settings.log_format, settings.log_level)
    await upgrade_async(settings.database_url)
    app = create_app(settings)
    local_routing = with_simulators and not settings.notificaties_api_url
    # before anything starts: a client id without secret (or the reverse) is refused here
    auth = notificaties_api_auth(settings, default_client=DEMO_ZGW_CLIENT if local_routing else None)
    api_socket = bind_socket(
        settings.host, settings.port, "de API", hint="Stop dat proces, of kies een andere poort (--port)."
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(api_socket.close)  # uvicorn closes it too; closing twice is harmless
        if with_simulators:
            urls = await stack.enter_async_context(_demo_simulators(settings, latency_ms))
            console.print(f"[green]Simulatoren[/green]: {', '.join(f'{k} {v}' for k, v in urls.items())}")
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            # JSON logs: uvicorn's loggers write through the root logger's JSON handler
            log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
            loop="auto",
            http="auto",
            # the client is the peer; X-Forwarded-For only from DGKB_TRUSTED_PROXIES (api/ratelimit.py)
            proxy_headers=False,
            # requests in progress get this long after SIGTERM; event streams end at once (GracefulServer)
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
        server = GracefulServer(config, on_exit=lambda: begin_shutdown(app))
        _banner(settings, console)
        api_url = settings.notificaties_api_url or (
            f"{urls['notificaties']}{NOTIFICATIES_PATH}" if with_simulators else ""
        )
        subscribing = asyncio.create_task(
            _subscribe_when_up(lambda: _uvicorn_started(server), settings, api_url, auth, console)
        )
        try:
            await server.serve(sockets=[api_socket])
        finally:
            subscribing.cancel()


class GracefulServer(uvicorn.Server):
    """uvicorn, told to stop (SIGTERM, SIGINT), first calls `on_exit` on its loop: the app ends its event
    streams with a reconnect hint (dgkb.app.begin_shutdown); uvicorn meanwhile stops accepting and
    waits for the requests in progress (at most `timeout_graceful_shutdown`), then ends the lifespan.
    A stop asked for by a signal is a clean exit (status 0), not death by that signal."""

    def __init__(self, config: uvicorn.Config, *, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit_called = False

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and not self._exit_called:
            self._exit_called = True
            # a signal handler interrupts the loop anywhere: hand the work to the loop itself
            self._loop.call_soon_threadsafe(self._on_exit)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # uvicorn raises the signal again once it is done, so the process dies by it (status
            # -15): the shutdown was orderly, so the process ends normally instead
            self._captured_signals.clear()


async def _uvicorn_started(server: uvicorn.Server) -> None:
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
        await asyncio.sleep(0.05)


async def _subscribe_when_up(
    started: Callable[[], Awaitable[None]], settings: Settings, api_url: str, auth: ApiAuth, console: Console
) -> None:
    """Once the API listens (`started()` resolves): take DGKB's abonnement at the Notificaties API (the
    routing component probes the callback first), so the demo is event-driven end to end. While the
    routing component is down this keeps trying (SUBSCRIBE_BACKOFF); a refusal is logged and ends it."""
    if not api_url:
        return
    await started()
    try:
        result = await subscribe(settings, api_url, auth)
        kanalen = ", ".join(str(k.get("naam")) for k in result.get("kanalen", []))
        console.print(f"[green]Abonnement[/green] op notificaties ({kanalen}) bij {api_url}")
    except Exception as exc:
        reason = (
            f"HTTP {exc.response.status_code}"
            if isinstance(exc, httpx.HTTPStatusError)
            else type(exc).__name__
        )
        logging.getLogger("dgkb").warning("abonneren op notificaties mislukt: %s", reason)


async def subscribe(
    settings: Settings, api_url: str, auth: ApiAuth, *, backoff: Backoff = SUBSCRIBE_BACKOFF
) -> dict[str, Any]:
    """DGKB's abonnement (callback {public url}/api/v1/notificaties) at the Notificaties API `api_url`,
    as `dgkb run` takes it: `auth` from dgkb.events.routing_auth, retried with `backoff` while the
    routing component is down."""
    return await abonneer(
        api_url,
        callback_url=f"{settings.base_url}/api/v1/notificaties",
        callback_auth=f"Bearer {inbound_token(settings)}",
        api_auth=auth,
        backoff=backoff,
    )


# -- several workers (production) -------------------------------------------------------------------

# A worker told to stop ends its event streams and lets its requests finish for the grace period
# (DGKB_SHUTDOWN_GRACE_SECONDS, dgkb.app's lifespan); granian kills one still running this much later.
WORKER_KILL_MARGIN_SECONDS = 3
T = TypeVar("T")


def worker_app() -> FastAPI:
    """The app of one worker of `serve_workers`: granian calls this in every worker process, with the
    settings from the environment the supervisor passed on (DGKB_HOST and DGKB_PORT included)."""
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    return create_app(settings)


class _LoopThread:
    """An event loop in a thread of the supervisor: the simulators and the abonnement run there while
    granian's supervisor owns the main thread (and its signals)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="dgkb-supervisor-loop", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.submit(coro).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


async def _listening(settings: Settings) -> None:
    """Resolves once a worker answers on the API port."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    host = "[::1]" if host == "::" else host
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                await client.get(f"http://{host}:{settings.port}/api/v1/status")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)


def _demo_simulators(
    settings: Settings, latency_ms: int
) -> contextlib.AbstractAsyncContextManager[dict[str, str]]:
    """The local simulators of `dgkb run` (either server), on their fixed demo ports."""
    return running_simulators(
        settings.simulator_base_port,
        latency_ms,
        zgw_clients=DEMO_ZGW_CLIENTS,
        notificaties_seconds=settings.simulator_notificaties_seconds,
    )


def _draining_granian(grace: float) -> type[Any]:
    """granian's server, stopping its workers gracefully. granian stops a worker with SIGTERM, and the
    worker closes every open connection at once: event streams without their reconnect hint, views in
    progress without their answer. So first SIGUSR1 to every worker, which ends its streams with the
    hint, answers 503 on /health/ready and lets its requests finish (dgkb.app._drain_then_stop), then
    stops itself; granian's own stop (terminate, kill after the margin) for any still there.
    Overrides granian's `_stop_workers` (internal, granian 2.x; tests/test_shutdown.py pins it)."""
    from granian import Granian

    class _DrainingGranian(Granian):  # type: ignore[misc,valid-type]
        def _stop_workers(self) -> None:
            workers = list(self.wrks)
            for worker in workers:
                worker.interrupt_by_parent = True  # its exit is expected: no respawn, no error line
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(worker.inner.pid, signal.SIGUSR1)
            deadline = time.monotonic() + grace + WORKER_KILL_MARGIN_SECONDS
            for worker in workers:
                worker.join(max(deadline - time.monotonic(), 0.001))
            super()._stop_workers()

    return _DrainingGranian


def serve_workers(
    settings: Settings, *, workers: int, with_simulators: bool, latency_ms: int, console: Console
) -> None:
    """`dgkb run --workers N`: N granian worker processes on one port, until SIGINT/SIGTERM. Checks
    the configuration and migrates once, here; keeps the simulators (when started) and DGKB's
    abonnement in this supervisor process. InvalidConfiguration or PortInUse before anything runs."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings, HTTP2Settings
    from granian.log import LogLevels

    require_shared_infrastructure(settings, workers)
    logs.configure(settings.log_format, settings.log_level)
    # Every worker builds its own app; this one checks the configuration before any worker starts
    # (InvalidConfiguration) and writes the development keys (dev issuer, test broker) the workers share.
    create_app(settings)
    local_routing = with_simulators and not settings.notificaties_api_url
    auth = notificaties_api_auth(settings, default_client=DEMO_ZGW_CLIENT if local_routing else None)
    bind_socket(
        settings.host, settings.port, "de API", hint="Stop dat proces, of kies een andere poort (--port)."
    ).close()  # granian binds it itself; this only names a taken port in Dutch
    upgrade(settings.database_url)
    # the workers read their settings from the environment: the command line's host and port too
    os.environ["DGKB_HOST"] = settings.host
    os.environ["DGKB_PORT"] = str(settings.port)
    # The workers' metrics go to files in one directory, emptied for this run (prometheus-client's
    # multiprocess mode: the variable must be set before a worker first imports it); this
    # supervisor serves their sum on the metrics port, so a scrape never depends on one worker.
    metrics_dir, own_dir = metrics.prepare_multiprocess_dir(os.environ.get(metrics.MULTIPROC_ENV))
    os.environ[metrics.MULTIPROC_ENV] = str(metrics_dir)
    # spawn, not fork: a worker must not inherit the simulators' sockets and threads of this process
    multiprocessing.set_start_method("spawn", force=True)
    os.environ["DGKB_DRAIN_SIGNAL"] = "true"  # the workers drain on SIGUSR1 (_DrainingGranian)
    server = _draining_granian(settings.shutdown_grace_seconds)(
        "dgkb.runner:worker_app",
        factory=True,
        interface=Interfaces.ASGI,  # with the lifespan: every worker its own pools and connections
        address=settings.host,
        port=settings.port,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.auto,
        backlog=settings.http_backlog,
        backpressure=settings.http_max_concurrency,
        http1_settings=HTTP1Settings(
            header_read_timeout=round(settings.http_header_timeout_seconds * 1000),
            max_buffer_size=settings.http_max_header_bytes,
        ),
        http2_settings=HTTP2Settings(max_headers_size=settings.http_max_header_bytes),
        log_level=LogLevels.warning,
        log_dictconfig=logs.granian_log_config(settings.log_format, settings.log_level),
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.shutdown_grace_seconds + WORKER_KILL_MARGIN_SECONDS,
    )
    background = _LoopThread()
    stack = contextlib.AsyncExitStack()
    metrics_server = None
    try:
        if settings.metrics_port:
            metrics_server = metrics.MetricsServer(
                settings.metrics_host, settings.metrics_port, metrics.registry(str(metrics_dir))
            )
        urls: dict[str, str] = {}
        if with_simulators:
            urls = background.run(stack.enter_async_context(_demo_simulators(settings, latency_ms)))
            console.print(f"[green]Simulatoren[/green]: {', '.join(f'{k} {v}' for k, v in urls.items())}")
        _banner(settings, console, workers=workers)
        api_url = settings.notificaties_api_url or (
            f"{urls['notificaties']}{NOTIFICATIES_PATH}" if with_simulators else ""
        )
        subscribing = background.submit(
            _subscribe_when_up(lambda: _listening(settings), settings, api_url, auth, console)
        )
        try:
            server.serve()
        finally:
            subscribing.cancel()
    finally:
        background.run(stack.aclose())
        background.stop()
        if metrics_server is not None:
            metrics_server.close()
        if own_dir:
            metrics.remove_multiprocess_dir(metrics_dir)


def _banner(settings: Settings, console: Console, *, workers: int = 0) -> None:
    base = settings.base_url
    processes = f" ({workers} workers)" if workers else ""
    console.print(f"\n[bold]DGKB draait[/bold] op {base}{processes}")
    console.print(f"  API en OpenAPI: {base}/api/v1/openapi.json  (docs: {base}/api/v1/docs)")
    console.print(f"  AuthZEN PDP:    {base}/access/v1/evaluation")
    if settings.metrics_port:
        console.print(f"  Metrics:        http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    if not settings.is_production:
        console.print(f'  Demo-inlog:     POST {base}/dev-issuer/token  {{"gebruiker": "kcm-anna"}}')
        table = Table("gebruiker", "naam", "rol")
        for a in DEMO_ACCOUNTS:
            table.add_row(a.username, a.name, a.role)
        console.print(table)
    console.print("Stoppen: Ctrl+C\n")


__all__ = [
    "DEMO_OPENKLANT_TOKEN",
    "DEMO_ZGW_CLIENT",
    "DEMO_ZGW_CLIENTS",
    "SIMULATOR_PORTS",
    "SUBSCRIBE_BACKOFF",
    "GracefulServer",
    "PortInUse",
    "rebase_sources",
    "require_shared_infrastructure",
    "reset_simulators",
    "run_all",
    "running_simulators",
    "serve_workers",
    "simulator_apps",
    "simulator_factories",
    "subscribe",
    "worker_app",
]
