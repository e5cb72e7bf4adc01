"""Open Producten simulator: `GET /producten/api/v0/producten/` and `/producten/api/v0/producten/{id}/`.

The products (permits, passes, subsidies) of the world's persons and companies, in the shape of the
Open Producten API (reference/producten/producten-openapi.yaml, 0.0.x). Filters of the spec that are
served: `status`, `product_type__code`, `start_datum[__gte|__lte]`, `eind_datum[__gte|__lte]`, `page`,
`page_size` (max 100); plus the owner filters of later Open Producten versions, which the 0.0.x spec
lacks: `eigenaren__bsn`, `eigenaren__kvk_nummer`. Like Django REST framework it ignores unknown query
parameters, answers bad values with 400 `{"<param>": ["<message>"]}` and a missing or wrong
`Authorization: Token …` header with 403 `{"detail": …}` (when `token` is given). Every product type
also carries `naam` (as in later versions). Test switches as in `simulators.common`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, sim_routes
from dgkb.simulators.world import Product, World

__all__ = ["BASE_PATH", "FILTERS", "create_app"]

BASE_PATH = "/producten/api/v0"
MAX_PAGE_SIZE = 100
_STATUSES = ("initieel", "gereed", "actief", "ingetrokken", "geweigerd", "verlopen")
FILTERS = (
    "status",
    "product_type__code",
    "start_datum",
    "start_datum__gte",
    "start_datum__lte",
    "eind_datum",
    "eind_datum__gte",
    "eind_datum__lte",
    "eigenaren__bsn",
    "eigenaren__kvk_nummer",
    "page",
    "page_size",
)
_COMPARISONS: tuple[tuple[str, Callable[[date, date], bool]], ...] = (
    ("", operator.eq),
    ("__gte", operator.ge),
    ("__lte", operator.le),
)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _stamp(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def product_json(base: str, p: Product) -> dict[str, Any]:
    """One Product of the spec."""
    t = p.producttype
    eigenaar: dict[str, Any] = {"id": p.uuid[:24] + "0" * 12}
    if p.eigenaar_bsn is not None:
        eigenaar["bsn"] = p.eigenaar_bsn
    if p.eigenaar_kvk is not None:
        eigenaar["kvk_nummer"] = p.eigenaar_kvk
    return {
        "id": p.uuid,
        "url": f"{base}{BASE_PATH}/producten/{p.uuid}",
        "product_type": {
            "id": t.uuid,
            "code": t.code,
            "naam": t.naam,
            "keywords": list(t.keywords),
            "uniforme_product_naam": t.uniforme_product_naam,
            "toegestane_statussen": list(t.toegestane_statussen),
            "gepubliceerd": True,
            "aanmaak_datum": "2024-01-15T09:00:00Z",
            "update_datum": "2024-01-15T09:00:00Z",
        },
        "eigenaren": [eigenaar],
        "gepubliceerd": True,
        "aanmaak_datum": _stamp(p.aanmaak_datum),
        "update_datum": _stamp(p.update_datum),
        "start_datum": p.start_datum.isoformat() if p.start_datum else None,
        "eind_datum": p.eind_datum.isoformat() if p.eind_datum else None,
        "status": p.status,
        "prijs": t.prijs,
        "frequentie": t.frequentie,
        "verbruiksobject": None,
        "dataobject": None,
    }


def _date_filter(name: str, value: str) -> date | str:
    """The parsed date, or the error message."""
    if not _DATE.match(value):
        return "Voer een geldige datum in."
    try:
        return date.fromisoformat(value)
    except ValueError:
        return "Voer een geldige datum in."


def create_app(world: World, *, latency_ms: int = 0, token: str | None = None) -> Starlette:
    """The Open Producten API over the world's products."""
    behaviour = Behaviour(latency_ms=latency_ms)
    products = world.producten()
    by_id = {p.uuid: p for p in products}

    def forbidden(request: Request) -> Response | None:
        if token is not None and request.headers.get("authorization") != f"Token {token}":
            return JSONResponse({"detail": "Authenticatiegegevens zijn niet opgegeven."}, status_code=403)
        return None

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def list_producten(request: Request) -> Response:
        if (denied := forbidden(request)) is not None:
            return denied
        q = request.query_params
        errors: dict[str, list[str]] = {}
        dates: dict[str, date] = {}
        for name in (
            "start_datum",
            "start_datum__gte",
            "start_datum__lte",
            "eind_datum",
            "eind_datum__gte",
            "eind_datum__lte",
        ):
            if name in q:
                parsed = _date_filter(name, q[name])
                if isinstance(parsed, str):
                    errors[name] = [parsed]
                else:
                    dates[name] = parsed
        if "status" in q and q["status"] not in _STATUSES:
            errors["status"] = [f"Selecteer een geldige keuze. {q['status']} is geen beschikbare keuze."]
        page_size = MAX_PAGE_SIZE
        page = 1
        for name in ("page", "page_size"):
            if name in q:
                if not q[name].isascii() or not q[name].isdigit() or int(q[name]) < 1:
                    errors[name] = ["Een geldig geheel getal is vereist."]
                elif name == "page":
                    page = int(q[name])
                else:
                    page_size = min(int(q[name]), MAX_PAGE_SIZE)
        if errors:
            return JSONResponse(errors, status_code=400)

        def keep(p: Product) -> bool:
            if "eigenaren__bsn" in q and p.eigenaar_bsn != q["eigenaren__bsn"]:
                return False
            if "eigenaren__kvk_nummer" in q and p.eigenaar_kvk != q["eigenaren__kvk_nummer"]:
                return False
            if "status" in q and p.status != q["status"]:
                return False
            if "product_type__code" in q and p.producttype.code != q["product_type__code"]:
                return False
            for field, value in (("start_datum", p.start_datum), ("eind_datum", p.eind_datum)):
                for suffix, ok in _COMPARISONS:
                    wanted = dates.get(field + suffix)
                    if wanted is not None and (value is None or not ok(value, wanted)):
                        return False
            return True

        found = [p for p in products if keep(p)]
        last = max(1, -(-len(found) // page_size))
        if page > last:
            return JSONResponse({"detail": "Ongeldige pagina."}, status_code=404)
        base = base_url(request)
        chunk = found[(page - 1) * page_size : page * page_size]
        return JSONResponse(
            {
                "count": len(found),
                "next": str(request.url.include_query_params(page=page + 1)) if page < last else None,
                "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
                "results": [product_json(base, p) for p in chunk],
            }
        )

    async def read_product(request: Request) -> Response:
        if (denied := forbidden(request)) is not None:
            return denied
        product = by_id.get(request.path_params["id"])
        if product is None:
            return JSONResponse({"detail": "Niet gevonden."}, status_code=404)
        return JSONResponse(product_json(base_url(request), product))

    return Starlette(
        routes=[
            Route(f"{BASE_PATH}/producten/", list_producten, methods=["GET"]),
            Route(f"{BASE_PATH}/producten/{{id}}/", read_product, methods=["GET"]),
            *sim_routes(behaviour),
        ],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )
