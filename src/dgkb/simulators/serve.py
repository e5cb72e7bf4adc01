"""Run an ASGI app with uvicorn on a real socket inside the current event loop.

Used by the tests, the benchmarks and `dgkb run` to start simulators next to DGKB. The server does not
install signal handlers (several may run side by side; the host process owns the signals).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["BackgroundServer", "serve_in_background"]


class BackgroundServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_in_background(
    app: ASGIApp, port: int = 0, *, host: str = "127.0.0.1", startup_timeout: float = 10.0
) -> AsyncIterator[tuple[BackgroundServer, str]]:
    """Serve `app` on `host:port` (0 = a free port) as a task; yield the server and its base URL
    (e.g. "http://127.0.0.1:53211"); stop the server on exit."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = BackgroundServer(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout
    while not server.started:
        if task.done():
            task.result()  # re-raise the start-up error
            raise RuntimeError("uvicorn stopped during start-up")
        if loop.time() > deadline:
            server.should_exit = True
            raise TimeoutError("uvicorn did not start in time")
        await asyncio.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield server, f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        await task
