"""Prometheus metrics of one DGKB process, and how they are served.

What is counted (docs/productie.md says what each means and which alerts to set):

- `dgkb_http_request_duration_seconds{method,route,status}`: every HTTP request, by the route's
  template (`/api/v1/contacten/{contact_id}/klantbeeld`), never the concrete path: a contact id or a
  BSN in a path never becomes a label. Requests that match no route share `route="(geen route)"`.
- `dgkb_source_request_duration_seconds{source,outcome}` and `dgkb_source_errors_total{source,reason}`:
  each call to a source, by source id and outcome (`ok`, `niet-gevonden`, `timeout`, `onbereikbaar`,
  …); `reason` is the stable error code (`source.timeout`, `source.breaker_open`).
- `dgkb_source_breaker_state{source}` (0 closed, 1 half-open, 2 open) and
  `dgkb_source_breaker_opened_total{source}`.
- `dgkb_policy_decisions_total{result,reason}`: one per category decided; `reason` is the first
  denial reason code (empty for a permit).
- `dgkb_audit_write_seconds`: how long a request waits for its access-log records to be committed;
  `dgkb_audit_write_failures_total`: record sets whose transaction failed (the request failed closed).
- `dgkb_sse_streams_open`: live views (event streams) open now.
- `dgkb_cache_lookups_total{result}` (`hit`, `miss`, `unavailable`) and
  `dgkb_redis_failures_total{client,kind}`.

Cost per request matters (CPU per view is measured in instructions): label children are bound once
(`HttpMetrics.child`, `SourceMetrics`), so the hot path is a dict lookup and an `observe`.

Several workers (`dgkb run --workers N`) share one directory of memory-mapped files
(prometheus-client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR): `prepare_multiprocess_dir` makes
it before the workers start, and `registry()` reads all of them, so whoever answers a scrape reports
the sum over the workers. The variable must be set before prometheus_client is first imported in a
worker; the supervisor sets it before it spawns them.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
NO_ROUTE = "(geen route)"

# seconds; a view waits for its slowest source (deadline 2 s by default), most requests take ms
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# an access-log commit is a few ms on PostgreSQL; tens of ms means the database is struggling
AUDIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

HTTP_REQUESTS = Histogram(
    "dgkb_http_request_duration_seconds",
    "Duur van HTTP-verzoeken per route-sjabloon (nooit het concrete pad), methode en status",
    ("method", "route", "status"),
    buckets=LATENCY_BUCKETS,
)
SOURCE_REQUESTS = Histogram(
    "dgkb_source_request_duration_seconds",
    "Duur van aanroepen van een bron (inclusief de ene herhaling), per bron en uitkomst",
    ("source", "outcome"),
    buckets=LATENCY_BUCKETS,
)
SOURCE_ERRORS = Counter(
    "dgkb_source_errors_total",
    "Mislukte aanroepen van een bron per bron en stabiele foutcode",
    ("source", "reason"),
)
BREAKER_STATE = Gauge(
    "dgkb_source_breaker_state",
    "Stroomonderbreker per bron: 0 gesloten, 1 half-open, 2 open (de slechtste over de workers)",
    ("source",),
    multiprocess_mode="livemax",
)
BREAKER_OPENED = Counter(
    "dgkb_source_breaker_opened_total", "Hoe vaak de stroomonderbreker van een bron openging", ("source",)
)
DECISIONS = Counter(
    "dgkb_policy_decisions_total",
    "Beslissingen per categorie: toegestaan of geweigerd, met de eerste redencode van een weigering",
    ("result", "reason"),
)
AUDIT_WRITES = Histogram(
    "dgkb_audit_write_seconds",
    "Hoe lang een verzoek wacht tot zijn regels in het toegangslog vastliggen (commit)",
    buckets=AUDIT_BUCKETS,
)
AUDIT_FAILURES = Counter(
    "dgkb_audit_write_failures_total",
    "Regels voor het toegangslog die niet vastgelegd konden worden (het verzoek faalde gesloten)",
)
SSE_STREAMS = Gauge(
    "dgkb_sse_streams_open", "Open live klantbeelden (event streams)", multiprocess_mode="livesum"
)
CACHE_LOOKUPS = Counter(
    "dgkb_cache_lookups_total", "Opzoekingen in de broncache: hit, miss of unavailable", ("result",)
)
REDIS_FAILURES = Counter(
    "dgkb_redis_failures_total",
    "Redis-aanroepen die niet lukten: error, timeout, of bypassed (Redis even met rust gelaten)",
    ("client", "kind"),
)

CACHE_HIT = CACHE_LOOKUPS.labels("hit")
CACHE_MISS = CACHE_LOOKUPS.labels("miss")
CACHE_UNAVAILABLE = CACHE_LOOKUPS.labels("unavailable")

# The breaker's states as gauge values (dgkb.federation.breaker.BreakerState values).
BREAKER_VALUES = {"gesloten": 0.0, "half-open": 1.0, "open": 2.0}


class HttpMetrics:
    """The request histogram's children, bound once per (method, route template, status)."""

    __slots__ = ("_children",)

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], Any] = {}

    def child(self, method: str, route: str, status: int) -> Any:
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = HTTP_REQUESTS.labels(method, route, str(status))
        return child


class SourceMetrics:
    """The children of one source, bound once: its latency per outcome, errors per code, breaker."""

    __slots__ = ("_durations", "_errors", "breaker_opened", "breaker_state", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._durations: dict[str, Any] = {}
        self._errors: dict[str, Any] = {}
        self.breaker_state = BREAKER_STATE.labels(source)
        self.breaker_opened = BREAKER_OPENED.labels(source)
        self.breaker_state.set(0)

    def observe(self, outcome: str, seconds: float) -> None:
        child = self._durations.get(outcome)
        if child is None:
            child = self._durations[outcome] = SOURCE_REQUESTS.labels(self.source, outcome)
        child.observe(seconds)

    def error(self, reason: str) -> None:
        child = self._errors.get(reason)
        if child is None:
            child = self._errors[reason] = SOURCE_ERRORS.labels(self.source, reason)
        child.inc()

    def breaker(self, state: str) -> None:
        """The breaker of this source moved to `state` (a BreakerState value)."""
        value = BREAKER_VALUES.get(state, 2.0)
        if value == 2.0:
            self.breaker_opened.inc()
        self.breaker_state.set(value)


# -- several processes ------------------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    """The shared directory of the workers' metric files, when this process is one of them."""
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(configured: str | None = None) -> tuple[Path, bool]:
    """The directory for the workers' metric files, emptied: `configured` (the operator's
    PROMETHEUS_MULTIPROC_DIR) or a new temporary one for this run. Returns it and whether it was
    made here (then the caller removes it when the run ends). Files of an earlier run would add
    that run's counts to this one's, so an existing directory is emptied first."""
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        return path, False
    return Path(tempfile.mkdtemp(prefix="dgkb-metrics-")), True


def remove_multiprocess_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


_LIVE_FILE = re.compile(r"gauge_live[a-z]*_(\d+)\.db$")


def _reap_dead_workers(path: str) -> None:
    """A worker that died (and was respawned) left its live gauges behind: they would count its
    open streams forever. Its counters and histograms stay: they are history, not state."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_FILE.search(name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, another user's: not ours to judge
            continue


class _WorkersCollector(Collector):
    def __init__(self, path: str) -> None:
        self._path = path
        self._inner = multiprocess.MultiProcessCollector(None, path=path)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        _reap_dead_workers(self._path)
        collected: Iterable[Metric] = self._inner.collect()  # type: ignore[no-untyped-call]
        return collected


def registry(path: str | None = None) -> CollectorRegistry:
    """What a scrape reports: with a multiprocess directory (given, or this worker's), the sum over
    every worker's files; else this process's own metrics."""
    path = path or multiprocess_dir()
    if path is None:
        return REGISTRY
    combined = CollectorRegistry()
    combined.register(_WorkersCollector(path))
    return combined


def render(reg: CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(reg or registry()), CONTENT_TYPE_LATEST


class MetricsServer:
    """`/metrics` on a port of its own (DGKB_METRICS_PORT), bound to DGKB_METRICS_HOST (127.0.0.1 by
    default): not reachable from outside the host unless the operator opens it. A thread of this
    process (prometheus-client's WSGI server), so it answers while the event loop is busy."""

    def __init__(self, host: str, port: int, reg: CollectorRegistry | None = None) -> None:
        self._server: WSGIServer
        self._thread: threading.Thread
        self._server, self._thread = start_http_server(port, addr=host, registry=reg or registry())

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


__all__ = [
    "AUDIT_FAILURES",
    "AUDIT_WRITES",
    "BREAKER_STATE",
    "CACHE_HIT",
    "CACHE_LOOKUPS",
    "CACHE_MISS",
    "CACHE_UNAVAILABLE",
    "DECISIONS",
    "HTTP_REQUESTS",
    "MULTIPROC_ENV",
    "NO_ROUTE",
    "REDIS_FAILURES",
    "SOURCE_ERRORS",
    "SOURCE_REQUESTS",
    "SSE_STREAMS",
    "HttpMetrics",
    "MetricsServer",
    "SourceMetrics",
    "multiprocess_dir",
    "prepare_multiprocess_dir",
    "registry",
    "remove_multiprocess_dir",
    "render",
]
