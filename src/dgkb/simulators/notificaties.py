"""Notificaties API 1.0 routing component (as Open Notificaties), for the demo and the tests.

`/api/v1/kanaal` (list, create, read), `/api/v1/abonnement` (list, create, read, update, partial
update, delete) and `POST /api/v1/notificaties`: the message is validated, answered 200 at once and
delivered in the background to every abonnement on its kanaal whose filters match the kenmerken —
`POST {callbackUrl}` with `Authorization: {auth}` — retried (3 attempts) on failure. Creating or
changing an abonnement first sends the `kanaal: "test"` probe to its callbackUrl, as Open
Notificaties does; a callback that does not answer 2xx is refused (400). Kanalen `zaken` and
`klantcontacten` exist from the start.

Authentication, with `zgw_auth` (as `dgkb run` starts it; without, requests need no token, as the
tests use it): a ZGW JWT of a known client, checked as Open Notificaties checks it
(dgkb.simulators.common has every rule). Beyond the spec, which only asks for a JWT: a token whose
`iat` is JWT_EXPIRY (+ leeway) old is a 403 `jwt-expired` — Open Notificaties' JWT_EXPIRY, default
3600 s, and TIME_LEEWAY (since 1.11; JWT_LEEWAY before), default 0, both configurable here (source: Open
Notificaties' environment configuration reference and changelog). Deviations: no token is a 403
`permission_denied` where the spec lists 401, as the ZGW reference implementations answer
(VNG-Realisatie/gemma-zaken#1495); the scopes the spec names per operation (`notificaties.consumeren`,
`notificaties.publiceren`, looked up in the Autorisaties API) are not checked.

Test routes besides the common ones: `GET /_sim/deliveries` (kanaal, resourceUrl, callbackUrl,
status, attempts, ms — no message bodies), `DELETE /_sim/deliveries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import (
    Behaviour,
    SimulatorMiddleware,
    ZgwJwtMiddleware,
    ZgwJwtVerifier,
    problem,
    sim_routes,
)

__all__ = ["API_PATH", "create_app"]

API_PATH = "/api/v1"
API_VERSION = "1.0.0"
MESSAGE_FIELDS = ("kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum")
RETRY_DELAYS = (0.0, 0.5, 2.0)


def create_app(
    *,
    latency_ms: int = 0,
    kanalen: tuple[str, ...] = ("zaken", "klantcontacten"),
    zgw_auth: ZgwJwtVerifier | None = None,
) -> Starlette:
    """The routing component; with `zgw_auth` every API request needs a ZGW JWT it accepts."""
    behaviour = Behaviour(latency_ms=latency_ms)
    kanaal_store: dict[str, dict[str, Any]] = {}
    abonnementen: dict[str, dict[str, Any]] = {}
    deliveries: deque[dict[str, Any]] = deque(maxlen=1000)
    tasks: set[asyncio.Task[None]] = set()
    client: dict[str, httpx.AsyncClient] = {}

    def http() -> httpx.AsyncClient:
        if "c" not in client:
            client["c"] = httpx.AsyncClient(timeout=5)
        return client["c"]

    for naam in kanalen:
        kanaal_store[str(uuid.uuid4())] = {"naam": naam, "documentatieLink": "", "filters": []}

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{API_PATH}"

    def ok(body: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers={"API-version": API_VERSION})

    def kanaal_json(b: str, key: str) -> dict[str, Any]:
        return {"url": f"{b}/kanaal/{key}", **kanaal_store[key]}

    def abonnement_json(b: str, key: str) -> dict[str, Any]:
        return {"url": f"{b}/abonnement/{key}", **abonnementen[key]}

    def invalid(name: str, reason: str) -> Response:
        return problem(
            400,
            "Bad Request",
            reason,
            code="invalid",
            invalid_params=[{"name": name, "code": "invalid", "reason": reason}],
        )

    async def body_of(request: Request) -> dict[str, Any] | None:
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    # --- kanalen ------------------------------------------------------------------------------
    async def list_kanalen(request: Request) -> Response:
        naam = request.query_params.get("naam")
        b = base(request)
        return ok([kanaal_json(b, k) for k, v in kanaal_store.items() if naam is None or v["naam"] == naam])

    async def create_kanaal(request: Request) -> Response:
        data = await body_of(request)
        if data is None or not isinstance(data.get("naam"), str) or not data["naam"]:
            return invalid("naam", "naam is verplicht")
        if any(v["naam"] == data["naam"] for v in kanaal_store.values()):
            return invalid("naam", "kanaal bestaat al")
        key = str(uuid.uuid4())
        kanaal_store[key] = {
            "naam": data["naam"],
            "documentatieLink": str(data.get("documentatieLink", "")),
            "filters": [str(f) for f in data.get("filters", []) if isinstance(f, str)],
        }
        return ok(kanaal_json(base(request), key), 201)

    async def read_kanaal(request: Request) -> Response:
        key = request.path_params["uuid"]
        if key not in kanaal_store:
            return problem(404, "Not Found", "kanaal niet gevonden", code="not_found")
        return ok(kanaal_json(base(request), key))

    # --- abonnementen -------------------------------------------------------------------------
    async def validate_abonnement(data: dict[str, Any] | None, partial: bool) -> dict[str, Any] | Response:
        if data is None:
            return invalid("body", "body moet een JSON-object zijn")
        required = () if partial else ("callbackUrl", "auth", "kanalen")
        for name in required:
            if name not in data:
                return invalid(name, f"{name} is verplicht")
        clean: dict[str, Any] = {}
        if "callbackUrl" in data:
            if not isinstance(data["callbackUrl"], str) or not data["callbackUrl"].startswith("http"):
                return invalid("callbackUrl", "geen geldige URL")
            clean["callbackUrl"] = data["callbackUrl"]
        if "auth" in data:
            if not isinstance(data["auth"], str) or not data["auth"]:
                return invalid("auth", "auth is verplicht")
            clean["auth"] = data["auth"]
        if "kanalen" in data:
            if not isinstance(data["kanalen"], list):
                return invalid("kanalen", "lijst verwacht")
            known = {v["naam"] for v in kanaal_store.values()}
            groups = []
            for group in data["kanalen"]:
                naam = group.get("naam") if isinstance(group, dict) else None
                if naam not in known:
                    return invalid("kanalen", f"onbekend kanaal {naam!r}")
                filters = group.get("filters") or {}
                if not isinstance(filters, dict):
                    return invalid("kanalen.filters", "object verwacht")
                groups.append({"naam": naam, "filters": {str(k): str(v) for k, v in filters.items()}})
            clean["kanalen"] = groups
        return clean

    async def probe(callback: str, auth: str) -> bool:
        """Open Notificaties checks a callback with a `test` message before accepting it."""
        message = {
            "kanaal": "test",
            "hoofdObject": "http://some.hoofdobject.nl/",
            "resource": "some_resource",
            "resourceUrl": "http://some.resource.nl/",
            "actie": "create",
            "aanmaakdatum": datetime.now(UTC).isoformat(),
            "kenmerken": {},
        }
        try:
            resp = await http().post(callback, json=message, headers={"Authorization": auth})
        except httpx.HTTPError:
            return False
        return resp.is_success

    async def list_abonnementen(request: Request) -> Response:
        b = base(request)
        return ok([abonnement_json(b, k) for k in abonnementen])

    async def create_abonnement(request: Request) -> Response:
        clean = await validate_abonnement(await body_of(request), partial=False)
        if isinstance(clean, Response):
            return clean
        if not await probe(clean["callbackUrl"], clean["auth"]):
            return invalid("callbackUrl", "de callback-URL antwoordt niet goed op een testbericht")
        key = str(uuid.uuid4())
        abonnementen[key] = clean
        return ok(abonnement_json(base(request), key), 201)

    async def read_abonnement(request: Request) -> Response:
        key = request.path_params["uuid"]
        if key not in abonnementen:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        return ok(abonnement_json(base(request), key))

    async def update_abonnement(request: Request) -> Response:
        key = request.path_params["uuid"]
        if key not in abonnementen:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        clean = await validate_abonnement(await body_of(request), partial=request.method == "PATCH")
        if isinstance(clean, Response):
            return clean
        merged = {**abonnementen[key], **clean}
        if not await probe(merged["callbackUrl"], merged["auth"]):
            return invalid("callbackUrl", "de callback-URL antwoordt niet goed op een testbericht")
        abonnementen[key] = merged
        return ok(abonnement_json(base(request), key))

    async def delete_abonnement(request: Request) -> Response:
        if abonnementen.pop(request.path_params["uuid"], None) is None:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        return Response(status_code=204)

    # --- notificaties -------------------------------------------------------------------------
    def matches(abonnement: dict[str, Any], message: dict[str, Any]) -> bool:
        kenmerken = message.get("kenmerken") or {}
        return any(
            g["naam"] == message["kanaal"] and all(kenmerken.get(k) == v for k, v in g["filters"].items())
            for g in abonnement["kanalen"]
        )

    async def deliver(abonnement: dict[str, Any], message: dict[str, Any]) -> None:
        record: dict[str, Any] = {
            "kanaal": message["kanaal"],
            "resourceUrl": message["resourceUrl"],
            "callbackUrl": abonnement["callbackUrl"],
            "status": None,
            "attempts": 0,
        }
        started = time.perf_counter()
        for delay in RETRY_DELAYS:
            await asyncio.sleep(delay)
            record["attempts"] += 1
            try:
                resp = await http().post(
                    abonnement["callbackUrl"], json=message, headers={"Authorization": abonnement["auth"]}
                )
                record["status"] = resp.status_code
                if resp.is_success:
                    break
            except httpx.HTTPError as exc:
                record["status"] = type(exc).__name__
        record["ms"] = round((time.perf_counter() - started) * 1000, 1)
        deliveries.append(record)

    async def publish(request: Request) -> Response:
        message = await body_of(request)
        if message is None:
            return invalid("body", "body moet een JSON-object zijn")
        for name in MESSAGE_FIELDS:
            if not isinstance(message.get(name), str) or not message[name]:
                return invalid(name, f"{name} is verplicht")
        if not any(v["naam"] == message["kanaal"] for v in kanaal_store.values()):
            return invalid("kanaal", "onbekend kanaal")
        for abonnement in list(abonnementen.values()):
            if matches(abonnement, message):
                task = asyncio.create_task(deliver(abonnement, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        return ok(message)

    async def list_deliveries(request: Request) -> Response:
        return JSONResponse(list(deliveries))

    async def clear_deliveries(request: Request) -> Response:
        deliveries.clear()
        return Response(status_code=204)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        for task in list(tasks):
            task.cancel()
        if "c" in client:
            await client.pop("c").aclose()

    p = API_PATH
    routes = [
        *sim_routes(behaviour),
        Route("/_sim/deliveries", list_deliveries, methods=["GET"]),
        Route("/_sim/deliveries", clear_deliveries, methods=["DELETE"]),
        Route(f"{p}/kanaal", list_kanalen, methods=["GET"]),
        Route(f"{p}/kanaal", create_kanaal, methods=["POST"]),
        Route(f"{p}/kanaal/{{uuid}}", read_kanaal, methods=["GET"]),
        Route(f"{p}/abonnement", list_abonnementen, methods=["GET"]),
        Route(f"{p}/abonnement", create_abonnement, methods=["POST"]),
        Route(f"{p}/abonnement/{{uuid}}", read_abonnement, methods=["GET"]),
        Route(f"{p}/abonnement/{{uuid}}", update_abonnement, methods=["PUT", "PATCH"]),
        Route(f"{p}/abonnement/{{uuid}}", delete_abonnement, methods=["DELETE"]),
        Route(f"{p}/notificaties", publish, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(ZgwJwtMiddleware, verifier=zgw_auth),
        ],
        lifespan=lifespan,
    )
