"""A simulator that can be put back in its pristine state while its server keeps running.

`Resettable(factory)` is an ASGI app around the simulator app `factory()` builds. `POST /_sim/reset`
builds a fresh one from the factory and swaps it in: everything the old one held (its data and
writes, `/_sim/behaviour` switches, recorded requests, subscriptions, scheduled notifications) is
gone, without a server restart. No simulator module needs to know about it.

The wrapped app's lifespan runs while the wrapper's does (serve the wrapper with `lifespan="on"`):
a reset first shuts the old app's lifespan down (its background work: the Notificaties scheduler, a
source's publisher of change notifications), then starts the new app's. A request already in flight
finishes on the old app; requests after the reset reach the new one.

A simulator that has served no request since it was built is still pristine: its reset builds
nothing and answers `{"reset": false}` (so resetting every simulator before each test costs little
for the ones the test did not touch); otherwise `{"reset": true}`.

Used by the tests, which share one set of simulator servers for the whole session and reset them
before each test (`dgkb.runner.running_simulators(..., resettable=True)`, `reset_simulators`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RESET_PATH", "Resettable"]

RESET_PATH = "/_sim/reset"


class _Lifespan:
    """Drives one ASGI app's lifespan protocol by hand: `start` sends startup and waits for its
    answer; `stop` sends shutdown and waits for the app to finish."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.state: dict[str, Any] = {}

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        try:
            await self._app(scope, self._to_app.get, self._from_app.put)
        except Exception as exc:  # answered below: start() or stop() raises it
            await self._from_app.put({"type": "_ended", "error": exc})
        else:
            await self._from_app.put({"type": "_ended", "error": None})

    async def _answer(self, expected: str) -> None:
        message = await self._from_app.get()
        if message["type"] == expected:
            return
        error = message.get("error")
        detail = message.get("message") or (repr(error) if error else message["type"])
        raise RuntimeError(f"simulator lifespan: {detail}") from error

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        try:
            await self._answer("lifespan.startup.complete")
        except BaseException:
            await self._finish()
            raise

    async def stop(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await self._answer("lifespan.shutdown.complete")
        finally:
            await self._finish()

    async def _finish(self) -> None:
        if self._task is not None:
            if not self._task.done():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Resettable:
    """The simulator `factory()` builds, rebuilt on `POST /_sim/reset` (see the module docstring)."""

    def __init__(self, factory: Callable[[], ASGIApp]) -> None:
        self._factory = factory
        self._app = factory()
        self._used = False
        self._lifespan: _Lifespan | None = None  # the current app's, while the wrapper's runs
        self._running = False
        self._lock = asyncio.Lock()

    @property
    def app(self) -> ASGIApp:
        """The simulator app serving requests now."""
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["path"] == RESET_PATH and scope["method"] == "POST":
            reset = await self.reset()
            await JSONResponse({"reset": reset})(scope, receive, send)
            return
        self._used = True
        lifespan = self._lifespan
        if lifespan is not None and lifespan.state:
            scope = {**scope, "state": dict(lifespan.state)}
        await self._app(scope, receive, send)

    async def reset(self) -> bool:
        """Swap in a freshly built app (its lifespan started when the wrapper's runs); False when the
        current one has served nothing since it was built (it is pristine)."""
        async with self._lock:
            if not self._used:
                return False
            if self._lifespan is not None:
                old, self._lifespan = self._lifespan, None
                await old.stop()
            app = self._factory()
            if self._running:
                lifespan = _Lifespan(app)
                await lifespan.start()
                self._lifespan = lifespan
            self._app = app
            self._used = False
            return True

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    async with self._lock:
                        lifespan = _Lifespan(self._app)
                        await lifespan.start()
                        self._lifespan = lifespan
                        self._running = True
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                async with self._lock:
                    self._running = False
                    current, self._lifespan = self._lifespan, None
                    try:
                        if current is not None:
                            await current.stop()
                    except Exception as exc:
                        await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                        return
                await send({"type": "lifespan.shutdown.complete"})
                return
