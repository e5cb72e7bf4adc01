"""The OpenTelemetry SDK behind `dgkb.telemetry.tracing`: imported only when traces are exported.

A TracerProvider of DGKB's own (not the global one: a process may build several apps, as the
tests do), a batch processor (export in a thread of its own, off the request path) and the
OTLP/HTTP protobuf exporter. The span ids of source calls are the ones DGKB already sent in their
`traceparent` header: an id generator that hands out the id it is told to, when told.
"""

from __future__ import annotations

import os
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACES_PATH = "/v1/traces"

# (trace id, span id) the next span must have: set around one start_span call, never longer
_FORCED: ContextVar[tuple[int, int] | None] = ContextVar("dgkb_forced_span_ids", default=None)
_PROPAGATOR = TraceContextTextMapPropagator()


class _GivenIds(RandomIdGenerator):
    def generate_span_id(self) -> int:
        forced = _FORCED.get()
        return forced[1] if forced is not None else super().generate_span_id()

    def generate_trace_id(self) -> int:
        forced = _FORCED.get()
        return forced[0] if forced is not None else super().generate_trace_id()


def _ids(traceparent: str | None) -> tuple[int, int] | None:
    """(trace id, span id) of a W3C traceparent DGKB rendered, or None."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id = int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    return (trace_id, span_id) if trace_id and span_id else None


def traces_url(endpoint: str) -> str:
    """DGKB_OTLP_ENDPOINT is the collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT is); the
    traces path is added unless it is there."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class _Server:
    __slots__ = ("_span", "_token", "span_id", "trace_id")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        ctx = span.get_span_context()
        self.trace_id = format(ctx.trace_id, "032x")
        self.span_id = format(ctx.span_id, "016x")
        # current while the request runs: source-call spans (in tasks that copy this context) are
        # its children
        self._token = otel_context.attach(trace.set_span_in_context(span))

    def finish(self, route: str, status: int) -> None:
        span = self._span
        span.update_name(f"{span.name} {route}")  # type: ignore[attr-defined]
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(self._token)


class _Source:
    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def finish(self, outcome: str, error: str | None) -> None:
        span = self._span
        span.set_attribute("dgkb.source.outcome", outcome)
        if error is not None:
            span.set_attribute("error.type", error)  # a stable code (source.timeout), no message
            span.set_status(Status(StatusCode.ERROR, error))
        span.end()


class OtlpTracer:
    """dgkb.telemetry.tracing.Tracer over the OpenTelemetry SDK and an OTLP/HTTP exporter."""

    def __init__(self, endpoint: str | None, *, service_version: str) -> None:
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still apply (Resource.create reads them)
        resource = Resource.create(
            {
                SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", "dgkb"),
                SERVICE_VERSION: service_version,
                SERVICE_INSTANCE_ID: f"{os.uname().nodename}:{os.getpid()}",
            }
        )
        self._provider = TracerProvider(resource=resource, id_generator=_GivenIds())
        exporter = OTLPSpanExporter(endpoint=traces_url(endpoint) if endpoint else None)
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("dgkb", service_version)

    def server(self, method: str, traceparent: str | None) -> _Server:
        parent = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else Context()
        span = self._tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
            record_exception=False,  # an exception's message may hold personal data
            set_status_on_exception=False,
        )
        return _Server(span)

    def source(self, source_id: str, traceparent: str | None) -> _Source:
        forced = _ids(traceparent)
        parent: Context | None = None  # the current span (the request's)
        if forced is not None:
            current = trace.get_current_span().get_span_context()
            if not current.is_valid or current.trace_id != forced[0]:
                # a call in a trace of its own (a system task, a check): a root with that trace id
                parent = Context()
        token = _FORCED.set(forced)
        try:
            span = self._tracer.start_span(
                f"bron {source_id}",
                context=parent,
                kind=SpanKind.CLIENT,
                attributes={"dgkb.source": source_id},
                record_exception=False,
                set_status_on_exception=False,
            )
        finally:
            _FORCED.reset(token)
        return _Source(span)

    def force_flush(self) -> bool:
        return self._provider.force_flush()

    def shutdown(self) -> None:
        self._provider.shutdown()


__all__ = ["OtlpTracer", "traces_url"]
