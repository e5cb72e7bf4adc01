"""The trace of the request being handled, shared by the API, the console and the logs.

`dgkb.api.telemetry.RequestTelemetry` puts the request's `Trace` in the ASGI scope when traces are
exported (the server span's ids). Otherwise the trace is made when first asked for — by a route's
trace dependency or a log line — from the caller's `traceparent`, and kept in the scope, so every
asker gets the same one and a request that needs none pays nothing for it (a new trace is two
random ids: a few µs).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

from dgkb.domain.context import Trace

TRACE_SCOPE_KEY = "dgkb.trace"


def scope_trace(scope: MutableMapping[str, Any]) -> Trace:
    """The trace of the request of this ASGI scope (made and kept on first use)."""
    trace = scope.get(TRACE_SCOPE_KEY)
    if isinstance(trace, Trace):
        return trace
    header = None
    for name, value in scope.get("headers", ()):
        if name == b"traceparent":
            header = value.decode("latin-1")
            break
    trace = scope[TRACE_SCOPE_KEY] = Trace.from_traceparent(header)
    return trace


def request_trace(connection: HTTPConnection) -> Trace:
    """The request's trace (see `scope_trace`)."""
    return scope_trace(connection.scope)


__all__ = ["TRACE_SCOPE_KEY", "request_trace", "scope_trace"]
