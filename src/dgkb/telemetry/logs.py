"""Logs: the human format by default (development), one JSON object per line when configured
(DGKB_LOG_FORMAT=json), each with the request id and trace id of the request it belongs to.

No personal data: DGKB's own log calls name types, codes and route templates only
(dgkb.throttled_log, dgkb.api.problems). The JSON formatter adds the exception's type and the
frames of its traceback, never its message (a message may hold a BSN from an SQL parameter or a
URL), and third-party loggers that write URLs at INFO (httpx) are held at WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, Literal

from dgkb.telemetry.requests import scope_trace

LogFormat = Literal["text", "json"]

# (request id, ASGI scope) of the request being handled; set by dgkb.api.telemetry. The scope, not
# the trace id: the trace is made only when a log line (or a route) asks for it.
REQUEST: ContextVar[tuple[str, MutableMapping[str, Any]] | None] = ContextVar("dgkb_request", default=None)

# loggers that write request URLs (with a BSN in a path or query) at INFO
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "aiohttp.access", "uvicorn.access", "_granian.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, trace_id, and for an
    exception its type and traceback frames (no message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = REQUEST.get()
        if ids is not None:
            entry["request_id"] = ids[0]
            entry["trace_id"] = scope_trace(ids[1]).trace_id
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    seconds = int(created)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((created - seconds) * 1000):03d}Z"
    )


def configure(log_format: LogFormat, level: str = "INFO") -> None:
    """Set up the root logger for `json`; `text` leaves Python's default as it is (the current
    development format). Idempotent: a second call replaces the handler it installed."""
    if log_format != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "dgkb_json", False):
            root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def json_handler() -> logging.Handler:
    """A handler writing JSON lines to stderr, marked so that `configure` replaces it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.dgkb_json = True  # type: ignore[attr-defined]
    return handler


def granian_log_config(log_format: LogFormat, level: str = "INFO") -> dict[str, object] | None:
    """granian's logging config for its workers and supervisor in JSON mode (None: its own)."""
    if log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": f"{__name__}.json_handler"}},
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {"_granian": {"level": "WARNING"}, "granian.access": {"level": "WARNING"}},
    }


__all__ = [
    "QUIET_LOGGERS",
    "REQUEST",
    "JsonFormatter",
    "LogFormat",
    "configure",
    "granian_log_config",
    "json_handler",
]
