"""Per request: a request id, the W3C trace, the latency histogram and (when configured) a server span.

`RequestTelemetry` is the outermost middleware (it also times the 500s that FailureGuard answers):
- the request id is the caller's `X-Request-ID` when it looks like an id (see `_usable`), else one of
  this process (a random prefix and a counter); it goes back in the response's `X-Request-ID`;
- the request's `Trace` continues the caller's `traceparent` (or starts one) and is the server
  span's ids when traces are exported; api/deps.py and web/deps.py read it (telemetry.requests);
- the request id and trace id are in every log line written while the request runs (JSON logs);
- the duration goes to `dgkb_http_request_duration_seconds` under the route's template, never the
  concrete path.

`/metrics` on the application's own port (`metrics_route`) exists only when DGKB_METRICS_TOKEN is set
and answers only with that token as Bearer; the usual place is DGKB_METRICS_PORT on 127.0.0.1.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import re
import secrets
import time

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dgkb.api.problems import ApiProblem
from dgkb.domain.context import Trace
from dgkb.telemetry import metrics
from dgkb.telemetry.logs import REQUEST
from dgkb.telemetry.requests import TRACE_SCOPE_KEY
from dgkb.telemetry.tracing import TRACING
from dgkb.throttled_log import ThrottledLog

REQUEST_ID_HEADER = b"x-request-id"
# An id, not a message: letters, digits and -_.:, 8–64 long, and no run of 8 or more digits — a
# caller's id is logged with every line, so a BSN (9 digits) must not ride in on it.
_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_DIGITS = re.compile(r"\d{8}")
_failures = ThrottledLog(logging.getLogger("dgkb.telemetry"))


def _usable(value: bytes) -> str | None:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    if _ID_SHAPE.fullmatch(text) and not _DIGITS.search(text):
        return text
    return None


class RequestTelemetry:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.http = metrics.HttpMetrics()
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._templates: dict[int, tuple[object, str]] = {}  # route -> its full template, once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id: str | None = None
        traceparent: str | None = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                request_id = _usable(value)
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        if request_id is None:
            request_id = f"{self._prefix}-{next(self._counter):x}"
        method: str = scope["method"]
        tracer = TRACING.active
        span = None
        if tracer is not None:
            span = tracer.server(method, traceparent)
            scope[TRACE_SCOPE_KEY] = Trace(trace_id=span.trace_id, span_id=span.span_id)
        # without traces the request's Trace is made only when something asks for it (telemetry.requests)
        token = REQUEST.set((request_id, scope))
        header = (REQUEST_ID_HEADER, request_id.encode())
        status = 500  # what FailureGuard answers when nothing was sent

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST.reset(token)
            try:
                template = self._template_of(scope)
                self.http.child(method, template, status).observe(time.perf_counter() - started)
                if span is not None:
                    span.finish(template, status)
            except Exception as exc:  # counting must never fail a request that was answered
                _failures.warning(type(exc).__name__, "request telemetry failed (%s)", type(exc).__name__)

    def _template_of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return metrics.NO_ROUTE
        # routes are not hashable (APIRoute): keyed by identity, the route kept so its id stays its own
        entry = self._templates.get(id(route))
        if entry is None or entry[0] is not route:
            entry = self._templates[id(route)] = (route, _template(route, scope))
        return entry[1]


def _template(route: object, scope: Scope) -> str:
    """The full path template of the route that answered (`/api/v1/contacten/{contact_id}`).

    The router gives the matched route with its path relative to where it was included (`/api/v1`
    is the prefix of an included router): the prefix is the part of the concrete path before what
    the route's own pattern matches. It is static text when the route's own parameters are all the
    request's path parameters; otherwise it held a value, and only the relative template is used."""
    relative = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(relative, str) or not relative:
        return metrics.NO_ROUTE
    regex = getattr(route, "path_regex", None)
    path: str = scope.get("path", "")
    own = set(getattr(route, "param_convertors", {}) or {})
    if regex is None or set(scope.get("path_params", {}) or {}) - own:
        return relative
    for i, char in enumerate(path):
        if char == "/" and regex.match(path[i:]):
            return path[:i] + relative
    return relative


def metrics_route(token: str) -> APIRouter:
    """GET /metrics on the application's port, for a scraper that presents `token` as Bearer."""
    expected = f"Bearer {token}".encode()
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    def scrape(request: Request) -> Response:  # sync: reading the workers' files runs in a thread
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise ApiProblem(
                401,
                "De metrics vragen om het token van de beheerder (DGKB_METRICS_TOKEN) als Bearer.",
                code="auth.metrics_token",
                headers={"WWW-Authenticate": 'Bearer realm="dgkb-metrics"'},
            )
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return router


__all__ = ["REQUEST_ID_HEADER", "TRACE_SCOPE_KEY", "RequestTelemetry", "metrics_route"]
