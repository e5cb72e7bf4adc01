"""OpenTelemetry traces, exported over OTLP/HTTP only when an endpoint is configured.

`TRACING.active` is None unless `start()` found an endpoint (DGKB_OTLP_ENDPOINT, or the standard
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT): then, and only then, the
OpenTelemetry SDK is imported (`dgkb.telemetry.otlp`). Without one, a request pays one attribute
read and a comparison with None; nothing of OpenTelemetry is loaded.

The ids are DGKB's own W3C trace context (`dgkb.domain.context.Trace`): the server span of a request
has the trace id and span id that the request's `Trace` carries, and the span of each source call
has exactly the span id of the `traceparent` that call sent to the source
(`dgkb.federation.headers`), so a source that traces continues DGKB's trace under the right parent.

Span attributes are method, route template, status, source id, outcome and error code: never a
path, a query, a header value, an exception message or anything of the person asked about.
"""

from __future__ import annotations

import os
from typing import Protocol

from dgkb.domain.errors import InvalidConfiguration

OTEL_ENDPOINT_ENV = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class ServerSpan(Protocol):
    """The span of one HTTP request, current while the request is handled."""

    trace_id: str  # 32 hex
    span_id: str  # 16 hex

    def finish(self, route: str, status: int) -> None: ...


class SourceSpan(Protocol):
    def finish(self, outcome: str, error: str | None) -> None: ...


class Tracer(Protocol):
    def server(self, method: str, traceparent: str | None) -> ServerSpan: ...

    def source(self, source_id: str, traceparent: str | None) -> SourceSpan: ...

    def shutdown(self) -> None:
        """Export what is still buffered, then stop."""
        ...


class _Tracing:
    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active: Tracer | None = None


TRACING = _Tracing()


def endpoint_configured(setting: str) -> bool:
    """Is there anywhere to send traces: DGKB's own setting or the standard variables?"""
    return bool(setting) or any(os.environ.get(name) for name in OTEL_ENDPOINT_ENV)


def start(setting: str, *, service_version: str) -> bool:
    """Export traces when an endpoint is configured (see the module docstring); True if this call
    started them (the caller stops them). Nothing is imported or started otherwise."""
    if TRACING.active is not None or not endpoint_configured(setting):
        return False
    # Imported here on purpose: the SDK and the exporter (protobuf, requests, a thread) cost memory
    # and start-up time that an installation without a trace collector should never pay; they are
    # the optional extra `dgkb[otlp]`.
    try:
        from dgkb.telemetry.otlp import OtlpTracer
    except ImportError as exc:
        raise InvalidConfiguration(
            f"traces zijn ingesteld (DGKB_OTLP_ENDPOINT of OTEL_EXPORTER_OTLP_ENDPOINT), maar de "
            f"OpenTelemetry-pakketten ontbreken ({exc.name}): installeer dgkb[otlp]",
            field="DGKB_OTLP_ENDPOINT",
        ) from None

    TRACING.active = OtlpTracer(setting or None, service_version=service_version)
    return True


def stop() -> None:
    tracer, TRACING.active = TRACING.active, None
    if tracer is not None:
        tracer.shutdown()


__all__ = ["TRACING", "ServerSpan", "SourceSpan", "Tracer", "endpoint_configured", "start", "stop"]
