"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path).

- `API-Version` on every response (NL API Design Rules).
- A body size limit: oversized requests get 413 problem+json before the app reads them.
- Baseline security headers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dgkb import __version__

API_VERSION_HEADER = "API-Version"
# How the header is documented on every response in the OpenAPI document (app.py).
API_VERSION_HEADER_OPENAPI: dict[str, Any] = {
    "description": "De volledige versie van de API (semver), op elk antwoord.",
    "schema": {"type": "string", "example": __version__},
}


# On every response. Starlette answers unhandled errors (500) outside the user middleware, so
# problems.py adds these to that response itself.
API_HEADERS: dict[str, str] = {
    API_VERSION_HEADER: __version__,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ApiHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, api_version: str = __version__) -> None:
        self.app = app
        headers = {**API_HEADERS, API_VERSION_HEADER: api_version}
        self.extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.extra if k not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Requests whose body is larger than `max_bytes` get 413 problem+json before the app sees them.

    A declared Content-Length over the limit is refused at once. A body without one (chunked) is
    read here first, up to the limit, and handed to the app only when it fits: raising from inside
    the app's `receive` would surface as the framework's own 400 ("error parsing the body")."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is not None and declared > self.max_bytes:
                    await _reject(scope, send, self.max_bytes)
                    return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            body = await _read_within(receive, self.max_bytes)
            if body is None:
                await _reject(scope, send, self.max_bytes)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _reject(scope, send, self.max_bytes)


# How much of an oversized body without Content-Length is still read (and dropped) before the 413,
# as a multiple of the limit: a client that is still sending cannot read an early answer on a
# connection that closes under it, but nobody may make the server read without end either.
_DRAIN_FACTOR = 16


async def _read_within(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than `limit` (or the client left). An
    oversized body is read on, and dropped, up to `_DRAIN_FACTOR` × `limit`, so the client gets to
    read the 413."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif chunks:
            chunks = []  # over the limit: keep nothing
        if not message.get("more_body", False):
            return b"".join(chunks) if size <= limit else None
        if size > limit * _DRAIN_FACTOR:
            return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the buffered body once, then what the connection says (disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _TooLarge(Exception):
    pass


async def _reject(scope: Scope, send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "type": "https://dgkb.nl/problemen/request.too_large",
        "title": "Verzoek te groot",
        "status": 413,
        "detail": f"De body is groter dan {limit} bytes.",
        "instance": scope.get("path", ""),
        "code": "request.too_large",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                # the unread rest of the body is still on the wire: this connection cannot be reused
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class InFlight:
    """The HTTP requests this process is answering now, so a shutdown can wait for them. uvicorn waits
    for open connections itself; a granian worker runs the app's lifespan shutdown as soon as it is
    told to stop, with requests still in progress on the loop (see dgkb.app's lifespan)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self) -> None:
        self.count += 1
        self._idle.clear()

    def finished(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def drained(self, seconds: float) -> bool:
        """Until no request is in progress (True), or `seconds` passed (False)."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True


class InFlightMiddleware:
    def __init__(self, app: ASGIApp, *, tracker: InFlight) -> None:
        self.app = app
        self.tracker = tracker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.tracker.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.tracker.finished()
