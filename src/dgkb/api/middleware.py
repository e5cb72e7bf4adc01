"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path).

- `API-Version` on every response (NL API Design Rules).
- A body size limit: oversized requests get 413 problem+json before the app reads them.
- Baseline security headers.
"""

from __future__ import annotations

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
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _reject(scope, send, self.max_bytes)
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
