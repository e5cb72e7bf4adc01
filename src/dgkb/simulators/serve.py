"""Run an ASGI app with uvicorn on a real socket inside the current event loop.

Used by the tests, the benchmarks and `dgkb run` to start simulators next to DGKB. The server does not
install signal handlers (several may run side by side; the host process owns the signals). The ASGI
lifespan is off unless asked for (`lifespan="on"`): DGKB's own app is started by the tests themselves,
while a simulator with background work (the Notificaties scheduler) needs its startup and shutdown.

The socket is bound here, before uvicorn starts: a port taken by another process is a PortInUse naming
the port and what should have run there, instead of uvicorn's exit from inside a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import AsyncIterator, Generator, Mapping
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

__all__ = [
    "BackgroundServer",
    "Lifespan",
    "PortInUse",
    "bind_socket",
    "serve_all_in_background",
    "serve_in_background",
]

Lifespan = Literal["on", "off", "auto"]


class PortInUse(RuntimeError):
    """A port DGKB should serve on is taken by another process."""

    def __init__(self, port: int, host: str, what: str, hint: str = "") -> None:
        message = (
            f"Poort {port} op {host} is al in gebruik door een ander proces; {what} kan daar niet starten."
        )
        super().__init__(f"{message} {hint}".strip())
        self.port = port
        self.host = host
        self.what = what


def bind_socket(host: str, port: int, what: str, hint: str = "") -> socket.socket:
    """A listening-ready socket bound to host:port (0 = a free port), as uvicorn would bind it;
    PortInUse when another process holds the port."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a TIME_WAIT port is free
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(port, host, what, hint) from None
        raise
    return sock


class BackgroundServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it, and stops as soon
    as it is told to (`should_exit`) instead of at uvicorn's next 0.1 s tick: tests stop one per test."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._exit = asyncio.Event()
        super().__init__(config)

    @property
    def should_exit(self) -> bool:
        return self._exit.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if value:
            self._exit.set()
        else:
            self._exit.clear()

    async def main_loop(self) -> None:
        """uvicorn's main loop (a tick every 0.1 s), woken at once when `should_exit` is set."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown (stop accepting, ask every connection to close, wait up to
        `timeout_graceful_shutdown` for connections and tasks, then the lifespan's shutdown) without
        its fixed 0.1 s pauses: it looks every 5 ms, so a test's server is gone in milliseconds."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                # uvicorn signals no event when its connections and tasks are done: look every 5 ms
                while (state.connections or state.tasks) and not self.force_exit:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
        except TimeoutError:
            for task in state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def _start(
    app: ASGIApp, port: int, host: str, startup_timeout: float, what: str, lifespan: Lifespan = "off"
) -> tuple[BackgroundServer, asyncio.Task[None], str]:
    sock = bind_socket(host, port, what)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan=lifespan,
        access_log=False,
        proxy_headers=False,  # the peer is the client (uvicorn would trust X-Forwarded-For from 127.0.0.1)
        timeout_graceful_shutdown=1,
    )
    server = BackgroundServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise the start-up error
                raise RuntimeError("uvicorn stopped during start-up")
            if loop.time() > deadline:
                server.should_exit = True
                raise TimeoutError("uvicorn did not start in time")
            await asyncio.sleep(0.01)
    except BaseException:
        sock.close()
        raise
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://{host}:{bound_port}"


async def _stop(running: list[tuple[BackgroundServer, asyncio.Task[None], str]]) -> None:
    """Stop servers all at once: each uvicorn shutdown polls every 0.1 s, so stopping ten
    simulators one after another costs seconds per test."""
    for server, _, _ in running:
        server.should_exit = True
    await asyncio.gather(*(task for _, task, _ in running))


@contextlib.asynccontextmanager
async def serve_in_background(
    app: ASGIApp,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 10.0,
    lifespan: Lifespan = "off",
) -> AsyncIterator[tuple[BackgroundServer, str]]:
    """Serve `app` on `host:port` (0 = a free port) as a task; yield the server and its base URL
    (e.g. "http://127.0.0.1:53211"); stop the server on exit."""
    server, task, url = await _start(app, port, host, startup_timeout, "de server", lifespan)
    try:
        yield server, url
    finally:
        await _stop([(server, task, url)])


@contextlib.asynccontextmanager
async def serve_all_in_background(
    apps: Mapping[str, tuple[ASGIApp, int]],
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 10.0,
    lifespan: Lifespan = "off",
) -> AsyncIterator[dict[str, str]]:
    """Serve several apps (name -> (app, port)); yield name -> base URL; stop them all together.
    PortInUse (naming the app) when a port is taken; the ones already started are stopped again."""
    running: list[tuple[BackgroundServer, asyncio.Task[None], str]] = []
    try:
        for name, (app, port) in apps.items():
            running.append(await _start(app, port, host, startup_timeout, f"'{name}'", lifespan))
        yield {name: url for name, (_, _, url) in zip(apps, running, strict=True)}
    finally:
        await _stop(running)
