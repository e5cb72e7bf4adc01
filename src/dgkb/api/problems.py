"""RFC 9457 problem details: the single place where errors become HTTP responses.

Every 4xx/5xx leaves DGKB as application/problem+json with status, title, detail, type, instance,
and — for bad input — `invalidParams` naming each field (as the ZGW and Haal Centraal APIs do).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dgkb.api.middleware import API_HEADERS
from dgkb.domain.errors import DomainError
from dgkb.store.errors import database_unavailable
from dgkb.throttled_log import ThrottledLog

log = logging.getLogger("dgkb.api")

PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5  # a database outage: when to try again
TYPE_BASE = "https://dgkb.nl/problemen/"

TITLES = {
    400: "Ongeldige invoer",
    401: "Niet geauthenticeerd",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    406: "Formaat niet ondersteund",
    409: "Conflict",
    413: "Verzoek te groot",
    415: "Mediatype niet ondersteund",
    422: "Ongeldige invoer",
    429: "Te veel verzoeken",
    500: "Interne fout",
    503: "Dienst niet beschikbaar",
}


# The body of every error response, for the OpenAPI document (components/schemas; app.py refers
# every 4xx/5xx response to `Problem`).
OPENAPI_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail", "instance", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "URI van het soort probleem"},
            "title": {"type": "string", "description": "Korte, vaste omschrijving van het soort probleem"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "De HTTP-status"},
            "detail": {"type": "string", "description": "Wat er in dit geval misging, voor mensen"},
            "instance": {"type": "string", "description": "Het pad van het verzoek"},
            "code": {"type": "string", "description": "Stabiele code, bijv. request.invalid"},
            "invalidParams": {
                "type": "array",
                "description": "Bij ongeldige invoer: elk ongeldig veld",
                "items": {"$ref": "#/components/schemas/InvalidParam"},
            },
            "reden": {"type": "string", "description": "Stabiele reden van een weigering"},
            "veld": {"type": "string", "description": "Het veld waar een weigering over gaat"},
            "bron": {"type": "string", "description": "Bij een onbereikbare bron: welke (bron-id)"},
        },
    },
    "InvalidParam": {
        "title": "InvalidParam",
        "type": "object",
        "required": ["name", "code", "reason"],
        "properties": {
            "name": {"type": "string", "description": "Het veld, in punt-notatie"},
            "code": {"type": "string", "description": "Stabiele code van de fout"},
            "reason": {"type": "string", "description": "Uitleg voor mensen"},
        },
    },
}


class ApiProblem(Exception):
    """Raise anywhere in the API layer to answer with a problem; `code` becomes the type URI."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str,
        title: str | None = None,
        invalid_params: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.title = title or TITLES.get(status, "Fout")
        self.invalid_params = invalid_params
        self.extra = extra or {}
        self.headers = headers


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    code: str,
    title: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title or TITLES.get(status, "Fout"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if invalid_params:
        body["invalidParams"] = invalid_params
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc_to_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI, *, log_interval: float = 60.0) -> Failures:
    """Every error becomes a problem; `log_interval`: seconds between two log lines about the same
    kind of failure (an outage fails every request the same way). Add the returned Failures as the
    outermost middleware, `app.add_middleware(FailureGuard, failures=...)`, after all others."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.detail,
            code=exc.code,
            title=exc.title,
            invalid_params=exc.invalid_params,
            extra=exc.extra,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        params = []
        for err in exc.errors():
            loc = err.get("loc", ())
            if err.get("type") == "json_invalid":
                return problem_response(
                    request,
                    400,
                    "De body is geen geldige JSON.",
                    code="request.malformed_json",
                    invalid_params=[{"name": "body", "code": "json_invalid", "reason": "geen geldige JSON"}],
                )
            msg = str(err.get("msg", "ongeldig"))
            ctx = err.get("ctx") or {}
            if "error" in ctx and isinstance(ctx["error"], DomainError):
                msg = ctx["error"].message
            elif msg.startswith("Value error, "):
                msg = msg.removeprefix("Value error, ")
            params.append({"name": _loc_to_name(loc), "code": str(err.get("type", "invalid")), "reason": msg})
        names = ", ".join(p["name"] for p in params)
        return problem_response(
            request, 400, f"Ongeldige invoer in: {names}.", code="request.invalid", invalid_params=params
        )

    @app.exception_handler(ValidationError)
    async def _pydantic(request: Request, exc: ValidationError) -> JSONResponse:
        params = [
            {"name": _loc_to_name(e["loc"]), "code": e["type"], "reason": e["msg"]} for e in exc.errors()
        ]
        return problem_response(
            request, 400, "Ongeldige invoer.", code="request.invalid", invalid_params=params
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = int(getattr(exc, "status", 400))
        reason = getattr(exc, "reason", None)
        invalid = (
            [{"name": exc.field, "code": exc.code, "reason": exc.message}]
            if exc.field and status == 400
            else None
        )
        extra = {"reden": reason} if reason else {}
        if exc.field and status != 400:
            extra["veld"] = exc.field
        source = getattr(exc, "source", None)  # SourceUnavailable: which source did not answer
        if isinstance(source, str):
            extra["bron"] = source
        return problem_response(
            request, status, exc.message, code=exc.code, invalid_params=invalid, extra=extra
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Fout")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Deze URL bestaat niet."
        if exc.status_code == 405:
            detail = "Deze methode is hier niet toegestaan."
        return problem_response(
            request,
            exc.status_code,
            detail,
            code=f"http.{exc.status_code}",
            headers=getattr(exc, "headers", None),
        )

    failures = Failures(ThrottledLog(log, log_interval))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Only reached for an error of FailureGuard itself: every other one stops there.
        return failures.answer(request, exc)

    return failures


class Failures:
    """Turns an exception nobody handled into a problem: 503 with Retry-After when the database
    cannot be reached (the request may succeed in a moment), 500 otherwise. Logs one line per
    error type per interval, with the type and the route's template only: an exception's message
    may hold personal data (a BSN in an SQL parameter), a concrete path or query request data."""

    def __init__(self, throttled: ThrottledLog) -> None:
        self._log = throttled
        self.unavailable = 0  # requests answered 503 because the database was unreachable
        self.errors = 0  # requests answered 500

    def answer(self, request: Request, exc: BaseException) -> JSONResponse:
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]  # a task group's wrapping (a streaming response) says nothing
        kind = type(exc).__name__
        route = getattr(request.scope.get("route"), "path", "") or "?"
        # the response goes out past the middleware that adds these: add them here
        if database_unavailable(exc):
            self.unavailable += 1
            self._log.warning(
                f"unavailable:{kind}", "database unavailable (%s): answering 503 (first on %s)", kind, route
            )
            return problem_response(
                request,
                503,
                "De dienst is tijdelijk niet beschikbaar. Probeer het zo opnieuw.",
                code="server.unavailable",
                headers={**API_HEADERS, "Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.errors += 1
        self._log.error(f"error:{kind}:{route}", "unhandled %s on %s %s", kind, request.method, route)
        return problem_response(
            request, 500, "Er ging iets mis aan onze kant.", code="server.error", headers=API_HEADERS
        )


class FailureGuard:
    """The outermost middleware: an exception that no handler took is answered here (Failures) and
    goes no further. Starlette's own last handler answers too, but then re-raises the exception for
    the server, which logs it again with its message and traceback (issue 13: 45 MB of them in a
    22 s database outage). When the response had already started (an event stream), it is ended."""

    def __init__(self, app: ASGIApp, *, failures: Failures) -> None:
        self.app = app
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            response = self.failures.answer(Request(scope), exc)
            try:
                if not started:
                    await response(scope, receive, send)
                else:  # the status went out long ago: end the body (a stream) cleanly
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:  # the client is gone: nothing more to say
                return
