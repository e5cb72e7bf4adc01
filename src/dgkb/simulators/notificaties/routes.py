"""The Notificaties simulator's endpoints: `NotificatiesRoutes` holds the store, and each method is one
Starlette endpoint (app.py maps them to paths)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dgkb.simulators.common import problem
from dgkb.simulators.notificaties.serialise import (
    API_PATH,
    API_VERSION,
    abonnement_json,
    kanaal_json,
    probe_message,
    scheduled_json,
)
from dgkb.simulators.notificaties.state import NotificatiesStore
from dgkb.simulators.notificaties.validation import param, validate_abonnement, validate_message


def base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{API_PATH}"


def ok(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"API-version": API_VERSION})


def invalid(params: list[dict[str, str]]) -> Response:
    return problem(400, "Bad Request", params[0]["reason"], code="invalid", invalid_params=params)


def callback_refused() -> Response:
    return invalid(
        [
            param(
                "callbackUrl",
                "invalid-callback-url",
                "de callback-URL antwoordt niet goed op een testbericht",
            )
        ]
    )


async def body_of(request: Request) -> dict[str, Any] | None:
    try:
        data = await request.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class NotificatiesRoutes:
    """The endpoints of the routing component over one store."""

    def __init__(self, store: NotificatiesStore) -> None:
        self.store = store

    # --- kanalen ------------------------------------------------------------------------------
    async def list_kanalen(self, request: Request) -> Response:
        naam = request.query_params.get("naam")
        b = base(request)
        return ok(
            [kanaal_json(b, k, v) for k, v in self.store.kanalen.items() if naam is None or v["naam"] == naam]
        )

    async def create_kanaal(self, request: Request) -> Response:
        data = await body_of(request)
        if data is None or not isinstance(data.get("naam"), str) or not data["naam"]:
            return invalid([param("naam", "required", "naam is verplicht")])
        if self.store.kanaal_named(data["naam"]) is not None:
            return invalid([param("naam", "unique", "kanaal met deze Naam bestaat al.")])
        key = self.store.add_kanaal(
            {
                "naam": data["naam"],
                "documentatieLink": str(data.get("documentatieLink", "")),
                "filters": [str(f) for f in data.get("filters", []) if isinstance(f, str)],
            }
        )
        return ok(kanaal_json(base(request), key, self.store.kanalen[key]), 201)

    async def read_kanaal(self, request: Request) -> Response:
        key = request.path_params["uuid"]
        if key not in self.store.kanalen:
            return problem(404, "Not Found", "kanaal niet gevonden", code="not_found")
        return ok(kanaal_json(base(request), key, self.store.kanalen[key]))

    # --- abonnementen -------------------------------------------------------------------------
    async def list_abonnementen(self, request: Request) -> Response:
        b = base(request)
        return ok([abonnement_json(b, k, a) for k, a in self.store.abonnementen.items()])

    async def create_abonnement(self, request: Request) -> Response:
        clean = validate_abonnement(self.store, await body_of(request), partial=False)
        if isinstance(clean, list):
            return invalid(clean)
        if not await self.store.probe(clean["callbackUrl"], clean["auth"], probe_message()):
            return callback_refused()
        key = self.store.add_abonnement(clean)
        return ok(abonnement_json(base(request), key, clean), 201)

    async def read_abonnement(self, request: Request) -> Response:
        key = request.path_params["uuid"]
        if key not in self.store.abonnementen:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        return ok(abonnement_json(base(request), key, self.store.abonnementen[key]))

    async def update_abonnement(self, request: Request) -> Response:
        key = request.path_params["uuid"]
        abonnementen = self.store.abonnementen
        if key not in abonnementen:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        clean = validate_abonnement(self.store, await body_of(request), partial=request.method == "PATCH")
        if isinstance(clean, list):
            return invalid(clean)
        merged = {**abonnementen[key], **clean}
        if not await self.store.probe(merged["callbackUrl"], merged["auth"], probe_message()):
            return callback_refused()
        abonnementen[key] = merged
        return ok(abonnement_json(base(request), key, merged))

    async def delete_abonnement(self, request: Request) -> Response:
        if self.store.abonnementen.pop(request.path_params["uuid"], None) is None:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        return Response(status_code=204)

    # --- notificaties -------------------------------------------------------------------------
    async def publish(self, request: Request) -> Response:
        message = await body_of(request)
        if message is None:
            return invalid([param("nonFieldErrors", "invalid", "body moet een JSON-object zijn")])
        clean, errors = validate_message(self.store, message)
        if errors:
            return invalid(errors)
        self.store.schedule(clean)
        return ok(clean)

    # --- test routes --------------------------------------------------------------------------
    async def list_deliveries(self, request: Request) -> Response:
        return JSONResponse(list(self.store.deliveries))

    async def clear_deliveries(self, request: Request) -> Response:
        self.store.deliveries.clear()
        return Response(status_code=204)

    async def list_scheduled(self, request: Request) -> Response:
        now = time.monotonic()
        return JSONResponse([scheduled_json(e, now) for e in self.store.scheduled])

    async def scheduler_round(self, request: Request) -> Response:
        return JSONResponse(await self.store.run_round())
