"""What every simulator shares: artificial latency, failure switches, request recording, problems.

`POST /_sim/behaviour {"latencyMs": int, "fail": "none"|"503"|"500"|"hang", "failureRate": 0..1}`
switches a running simulator to slow or broken (keys left out keep their value; `failureRate` makes that
fraction of requests answer 503, deterministically: the same sequence of pass/fail after every POST
that sets it, seed `FAILURE_SEED`), `GET /_sim/requests` and `GET /_sim/last-request` show what the simulator
received (method, path, query, headers, JSON body) and what it answered (`response`: status,
contentType, JSON body), so tests can prove an adapter asked for no more than it was allowed to and
check requests and answers against the specs, and `DELETE /_sim/requests` forgets them.

ZGW JWT authentication (`ZgwJwtVerifier`, `ZgwJwtMiddleware`) for the simulators of ZGW components
(Zaken, Notificaties), checked as Open Zaak and Open Notificaties check it. The ZGW specs say only that
a JWT bearer token is required ("JWT-Claims"); the rules below come from those implementations
(commonground-api-common, `vng_api_common`): beyond the specs, not against them, except where a
deviation is marked.

- `Authorization: Bearer <JWT>`, HS256, signed with the secret of the client its `client_id` names.
- The token needs an `iat` (`jwt-missing-iat-claim`). One whose `iat` is `expiry` + `leeway` seconds
  old or older is refused (`jwt-expired`): Open Zaak's and Open Notificaties' `JWT_EXPIRY`, default
  3600. So is one whose `iat` or `nbf` lies more than `leeway` in the future, or whose `exp` has passed
  (`jwt-immaturesignatureerror`, `jwt-expiredsignatureerror`): their `JWT_LEEWAY`, renamed
  `TIME_LEEWAY` in Open Zaak (open-zaak/open-zaak#2039) and Open Notificaties 1.11, default 0. Source:
  the environment configuration reference in their documentation.
- Every refusal is a 403 problem with such a `code`, also a request without a token
  (`permission_denied`), as Open Zaak answers (open-zaak/open-zaak#291, VNG-Realisatie/gemma-zaken#1495).
  Deviation: the specs list 401 for a request that is not authenticated.
- Scopes (`ZgwAutorisatie`, granted through the Autorisaties API in Open Zaak): a client named in
  `autorisaties` has only those scopes, each for one zaaktype; a client not named there may do all
  (in Open Zaak: an Applicatie with `heeft_alle_autorisaties`). A simulator asks `zgw_allows` before
  a write (the Zaken simulator: `zaken.aanmaken` for POST /zaken, `zaken.bijwerken` for POST /rollen);
  an operation without the scope is a 403 `permission_denied`, as Open Zaak answers. Deviation: reads
  are not checked against the scopes (`zaken.lezen`, `notificaties.consumeren`, …) and lists are not
  narrowed to the client's zaaktypen. `/_sim/…` needs no token.

`NotificatiePublisher` is how a simulated source (Zaken, Klantinteracties) publishes its change
notifications to a Notificaties API after a write, in the background, as Open Zaak and Open Klant do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "FAILURE_SEED",
    "FAIL_MODES",
    "JWT_EXPIRY_SECONDS",
    "JWT_LEEWAY_SECONDS",
    "Behaviour",
    "NotificatiePublisher",
    "RecordedRequest",
    "SimulatorMiddleware",
    "ZgwAutorisatie",
    "ZgwJwtMiddleware",
    "ZgwJwtVerifier",
    "permission_denied",
    "problem",
    "sim_routes",
    "zgw_allows",
    "zgw_authorization",
]

FAIL_MODES = ("none", "503", "500", "hang")
HANG_SECONDS = 120.0
FAILURE_SEED = 2026


@dataclass(slots=True)
class RecordedRequest:
    """One received request and, once sent, the answer: status, content type and JSON body (None
    while the request is still being handled, e.g. hanging). The bodies are kept raw and parsed
    only when a test asks: parsing every answer would make the simulators, not DGKB, what a
    benchmark measures."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw_body: bytes
    status: int | None = None
    response_content_type: str | None = None
    raw_response: bytes | None = None

    @property
    def body(self) -> Any:
        return _json_or_text(self.raw_body)

    @property
    def response_body(self) -> Any:
        return None if self.raw_response is None else _json_or_text(self.raw_response)

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "response": {
                "status": self.status,
                "contentType": self.response_content_type,
                "body": self.response_body,
            },
        }


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


@dataclass(slots=True)
class Behaviour:
    """Mutable run-time behaviour of one simulator instance."""

    latency_ms: int = 0
    fail: str = "none"
    failure_rate: float = 0.0
    requests: deque[RecordedRequest] = field(default_factory=lambda: deque(maxlen=500))
    _failures: random.Random = field(default_factory=lambda: random.Random(FAILURE_SEED), repr=False)

    def set_failure_rate(self, rate: float) -> None:
        """Set the rate and restart the pseudo-random sequence, so a test run is reproducible."""
        self.failure_rate = rate
        self._failures.seed(FAILURE_SEED)

    def draw_failure(self) -> bool:
        """Whether this request fails by the failure rate (no draw at all when the rate is 0)."""
        return self.failure_rate > 0 and self._failures.random() < self.failure_rate


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    code: str = "",
    instance: str = "",
    invalid_params: list[dict[str, str]] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem response, in the shape the ZGW and Haal Centraal APIs use."""
    body: dict[str, Any] = {
        "type": f"https://www.rfc-editor.org/rfc/rfc9110#section-15.{5 if status < 500 else 6}",
        "code": code or title.lower().replace(" ", ""),
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": instance or "/",
    }
    if invalid_params is not None:
        body["invalidParams"] = invalid_params
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class SimulatorMiddleware:
    """Pure ASGI middleware: records each request, then applies the latency and failure switches."""

    def __init__(self, app: ASGIApp, behaviour: Behaviour) -> None:
        self.app = app
        self.behaviour = behaviour

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        record = self._record(scope, raw)
        response_chunks: list[bytes] = []

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        record.response_content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    record.raw_response = b"".join(response_chunks)
            await send(message)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        behaviour = self.behaviour
        if behaviour.latency_ms > 0:
            await asyncio.sleep(behaviour.latency_ms / 1000)
        # hang: no answer for HANG_SECONDS; once the client gave up there is nobody to answer, so
        # stop hanging then (the server need not wait for it when it stops)
        if behaviour.fail == "hang" and await _client_left(receive, HANG_SECONDS):
            return
        fail = "503" if behaviour.draw_failure() else behaviour.fail
        if fail in ("503", "500"):
            status = int(fail)
            title = "Service Unavailable" if status == 503 else "Internal Server Error"
            await problem(status, title, instance=scope["path"])(scope, replay, send_recorded)
            return
        await self.app(scope, replay, send_recorded)

    def _record(self, scope: Scope, raw: bytes) -> RecordedRequest:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        record = RecordedRequest(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode(),
            headers,
            raw,
        )
        self.behaviour.requests.append(record)
        return record


async def _client_left(receive: Receive, seconds: float) -> bool:
    """Wait `seconds` (the request body already read); True as soon as the client disconnects."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
            return True
    return False


def _state(behaviour: Behaviour) -> dict[str, Any]:
    return {
        "latencyMs": behaviour.latency_ms,
        "fail": behaviour.fail,
        "failureRate": behaviour.failure_rate,
    }


def sim_routes(behaviour: Behaviour) -> list[Route]:
    """The `/_sim/…` control routes, bound to one behaviour object."""

    async def set_behaviour(request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            return problem(400, "Bad Request", "body is geen JSON")
        if not isinstance(data, dict):
            return problem(400, "Bad Request", "body moet een object zijn")
        latency = data.get("latencyMs", behaviour.latency_ms)
        fail = data.get("fail", behaviour.fail)
        if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
            return problem(
                400,
                "Bad Request",
                "latencyMs moet een geheel getal >= 0 zijn",
                invalid_params=[{"name": "latencyMs", "code": "invalid", "reason": "int >= 0"}],
            )
        rate = data.get("failureRate", behaviour.failure_rate)
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
            return problem(
                400,
                "Bad Request",
                "failureRate moet een getal van 0 tot en met 1 zijn",
                invalid_params=[{"name": "failureRate", "code": "invalid", "reason": "0..1"}],
            )
        if fail not in FAIL_MODES:
            return problem(
                400,
                "Bad Request",
                f"fail moet een van {', '.join(FAIL_MODES)} zijn",
                invalid_params=[{"name": "fail", "code": "invalid", "reason": "onbekend"}],
            )
        behaviour.latency_ms = latency
        behaviour.fail = fail
        if "failureRate" in data:
            behaviour.set_failure_rate(float(rate))
        return JSONResponse(_state(behaviour))

    async def get_behaviour(request: Request) -> Response:
        return JSONResponse(_state(behaviour))

    async def list_requests(request: Request) -> Response:
        return JSONResponse([r.as_json() for r in behaviour.requests])

    async def clear_requests(request: Request) -> Response:
        behaviour.requests.clear()
        return Response(status_code=204)

    async def last_request(request: Request) -> Response:
        if not behaviour.requests:
            return problem(404, "Not Found", "nog geen verzoeken ontvangen")
        return JSONResponse(behaviour.requests[-1].as_json())

    return [
        Route("/_sim/behaviour", set_behaviour, methods=["POST"]),
        Route("/_sim/behaviour", get_behaviour, methods=["GET"]),
        Route("/_sim/requests", list_requests, methods=["GET"]),
        Route("/_sim/requests", clear_requests, methods=["DELETE"]),
        Route("/_sim/last-request", last_request, methods=["GET"]),
    ]


# Open Zaak's and Open Notificaties' defaults (JWT_EXPIRY; JWT_LEEWAY / TIME_LEEWAY)
JWT_EXPIRY_SECONDS = 3600.0
JWT_LEEWAY_SECONDS = 0.0
_DENIED = "Je hebt geen toestemming om deze actie uit te voeren."


@dataclass(frozen=True, slots=True)
class ZgwAutorisatie:
    """One autorisatie of an Applicatie (Autorisaties API, component `zrc`): `scopes` for the zaken of
    one `zaaktype` (its URL or uuid; compared by uuid, as the simulators render URLs on the host the
    caller used). Open Zaak also limits by `maxVertrouwelijkheidaanduiding`; not modelled here."""

    scopes: frozenset[str]
    zaaktype: str


def _last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ZgwJwtVerifier:
    """Which ZGW JWTs a simulated ZGW component accepts (see the module docstring): `clients` maps
    client id -> secret; `expiry` and `leeway` are the component's JWT_EXPIRY and leeway in seconds;
    `clock` (seconds since the epoch) is injectable, so a test can let minutes pass at once.
    `autorisaties`: client id -> what that client may do; a client not named may do all."""

    clients: Mapping[str, str]
    expiry: float = JWT_EXPIRY_SECONDS
    leeway: float = JWT_LEEWAY_SECONDS
    clock: Callable[[], float] = time.time
    autorisaties: Mapping[str, tuple[ZgwAutorisatie, ...]] = field(default_factory=dict)

    def client_of(self, authorization: str | None) -> str | None:
        """The client id of a token `refusal` accepted (None for anything else)."""
        if self.refusal(authorization) is not None:
            return None
        token = (authorization or "").partition(" ")[2].strip()
        client_id = jwt.decode(token, options={"verify_signature": False}).get("client_id")
        return client_id if isinstance(client_id, str) else None

    def allows(self, client_id: str, scopes: Collection[str], zaaktype: str | None) -> bool:
        """May `client_id` use one of `scopes` for zaken of `zaaktype` (a URL or uuid)?"""
        granted = self.autorisaties.get(client_id)
        if granted is None:
            return True  # heeft_alle_autorisaties
        if not zaaktype:
            return False
        wanted = _last_segment(zaaktype)
        return any(a.scopes & set(scopes) and _last_segment(a.zaaktype) == wanted for a in granted)

    def refusal(self, authorization: str | None) -> tuple[str, str] | None:
        """None when `authorization` carries an acceptable token, else (code, detail)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or not token.strip():
            return "permission_denied", "Geen JWT (Authorization: Bearer …) meegegeven."
        token = token.strip()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return "jwt-decode-error", "De JWT is niet te lezen."
        client_id = unverified.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            return "missing-client-identifier", "De JWT noemt geen client_id."
        secret = self.clients.get(client_id)
        if secret is None:
            return "invalid-client-identifier", "Deze client_id is hier niet bekend."
        try:  # the times are checked below, against `clock`
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidSignatureError:
            return "invalid-jwt-signature", "De handtekening van de JWT klopt niet bij deze client."
        except jwt.InvalidTokenError as exc:
            return f"jwt-{type(exc).__name__.lower()}", "De JWT is ongeldig."
        return self._time_refusal(claims)

    def _time_refusal(self, claims: Mapping[str, Any]) -> tuple[str, str] | None:
        now = self.clock()
        times = {name: claims.get(name) for name in ("iat", "nbf", "exp")}
        if any(isinstance(v, bool) or not isinstance(v, int | float | None) for v in times.values()):
            return "jwt-decodeerror", "iat, nbf en exp moeten getallen zijn."
        iat, nbf, exp = times["iat"], times["nbf"], times["exp"]
        if exp is not None and exp <= now - self.leeway:
            return "jwt-expiredsignatureerror", "De JWT is verlopen (exp)."
        for value in (nbf, iat):
            if value is not None and value > now + self.leeway:
                return "jwt-immaturesignatureerror", "De JWT is nog niet geldig: iat of nbf ligt later."
        if iat is None:
            return "jwt-missing-iat-claim", "De JWT heeft geen iat."
        if now - iat >= self.expiry + self.leeway:
            return "jwt-expired", f"De JWT is verlopen: iat is {self.expiry:g} s of langer geleden."
        return None


class ZgwJwtMiddleware:
    """Pure ASGI middleware: every request outside `/_sim` needs a token `verifier` accepts (no
    verifier: no authentication, as the tests that call a simulator directly use it)."""

    def __init__(self, app: ASGIApp, verifier: ZgwJwtVerifier | None) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.verifier is None or scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        authorization = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"authorization"), None
        )
        refused = self.verifier.refusal(authorization)
        if refused is None:
            # the accepted client, for the scope checks of the routes (`zgw_allows`)
            scope[_ZGW_CLIENT] = (self.verifier, self.verifier.client_of(authorization))
            await self.app(scope, receive, send)
            return
        code, detail = refused
        await problem(403, _DENIED, detail, code=code, instance=scope["path"])(scope, receive, send)


_ZGW_CLIENT = "dgkb.zgw_client"


def zgw_allows(scope: Mapping[str, Any], scopes: Collection[str], zaaktype: str | None) -> bool:
    """May the client of this request (ASGI `scope`) use one of `scopes` for zaken of `zaaktype`?
    Without authentication (no ZgwJwtMiddleware verifier) everything is allowed."""
    found = scope.get(_ZGW_CLIENT)
    if found is None:
        return True
    verifier, client_id = found
    return client_id is not None and bool(verifier.allows(client_id, scopes, zaaktype))


def permission_denied(instance: str) -> JSONResponse:
    """Open Zaak's 403 for an operation outside the client's autorisaties."""
    return problem(403, _DENIED, _DENIED, code="permission_denied", instance=instance)


def zgw_authorization(
    client_id: str, secret: str, *, clock: Callable[[], float] = time.time
) -> Callable[[], str]:
    """`Authorization` values of a simulated ZGW component calling another (Open Zaak publishing to
    Open Notificaties): a token made at each call (the simulators do not import DGKB's client)."""

    def authorization() -> str:
        iat = int(clock())
        claims = {"iss": client_id, "client_id": client_id, "iat": iat}
        return f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"

    return authorization


class NotificatiePublisher:
    """Sends a source's notifications to a Notificaties API (`POST {url}/notificaties`) in the
    background: the write's answer does not wait for it, as with Open Zaak and Open Klant (a Celery
    task after the transaction). `url` is the API's base URL (…/api/v1), or a function giving it
    once known; None = publish nothing. What happened to each message is kept in `log` (kanaal,
    resource, actie, resourceUrl, status: the routing component's HTTP status or the error's name),
    without the message bodies."""

    def __init__(
        self, url: str | Callable[[], str | None] | None, auth: str | Callable[[], str] = ""
    ) -> None:
        self._url = url
        self._auth = auth
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self.sent = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=500)

    def _target(self) -> str | None:
        url = self._url() if callable(self._url) else self._url
        return url.rstrip("/") if url else None

    def publish(self, message: dict[str, Any]) -> None:
        target = self._target()
        if target is None:
            return
        task = asyncio.create_task(self._send(f"{target}/notificaties", message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, url: str, message: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5)
        auth = self._auth() if callable(self._auth) else self._auth  # a ZGW JWT is made per call
        headers = {"Authorization": auth} if auth else {}
        record: dict[str, Any] = {k: message.get(k) for k in ("kanaal", "resource", "actie", "resourceUrl")}
        try:
            resp = await self._client.post(url, json=message, headers=headers)
            record["status"] = resp.status_code
            if resp.is_success:
                self.sent += 1
        except httpx.HTTPError as exc:
            record["status"] = type(exc).__name__
        self.log.append(record)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
