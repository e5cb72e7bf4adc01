"""The trace of the request being handled, shared by the API and the console.

`dgkb.api.telemetry.RequestTelemetry` puts the request's `Trace` in the ASGI scope (the server span's
ids when traces are exported); the routes' trace dependencies read it from there.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from dgkb.domain.context import Trace

TRACE_SCOPE_KEY = "dgkb.trace"


def request_trace(connection: HTTPConnection) -> Trace:
    """The request's trace; continued from the caller's `traceparent` when no middleware set one."""
    trace = connection.scope.get(TRACE_SCOPE_KEY)
    if isinstance(trace, Trace):
        return trace
    return Trace.from_traceparent(connection.headers.get("traceparent"))


__all__ = ["TRACE_SCOPE_KEY", "request_trace"]
