"""The Zaken simulator's endpoints: `ZakenRoutes` holds the store, the behaviour switches, the
publisher and the page size, and each method is one Starlette endpoint (app.py maps them to paths)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dgkb.simulators.common import Behaviour, NotificatiePublisher, problem, sim_routes
from dgkb.simulators.zaken.serialise import (
    API_VERSION,
    expanded_zaak_json,
    resultaat_json,
    resultaattype_json,
    rol_json,
    status_json,
    status_notificatie,
    statustype_json,
    zaak_json,
    zaaktype_json,
    zio_json,
)
from dgkb.simulators.zaken.state import ZaakState, ZakenStore, last_segment

MAX_PAGE_SIZE = 500


def base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def ok(body: Any, *, crs: bool = False) -> JSONResponse:
    headers = {"API-version": API_VERSION}
    if crs:
        headers["Content-Crs"] = "EPSG:4326"
    return JSONResponse(body, headers=headers)


def not_found(request: Request) -> Response:
    return problem(404, "Niet gevonden.", "Niet gevonden.", code="not_found", instance=request.url.path)


def crs_problem(request: Request) -> Response | None:
    """412 without `Accept-Crs`, 406 for another CRS than EPSG:4326, as Open Zaak answers."""
    crs = request.headers.get("accept-crs")
    if crs is None:
        return problem(
            412,
            "Precondition failed",
            "'Accept-Crs' header ontbreekt",
            code="precondition_failed",
            instance=request.url.path,
        )
    if crs != "EPSG:4326":
        return problem(
            406,
            "CRS not acceptable",
            f"CRS '{crs}' is niet ondersteund",
            code="not_acceptable",
            instance=request.url.path,
        )
    return None


def paginate(
    request: Request,
    items: list[Any],
    page_size: int,
    render: Callable[[Any], Any] = lambda item: item,
) -> Response:
    """One page of `items`; `render` turns only that page's items into JSON (a source ignoring
    its filters must not serialise every zaak of the world for each page)."""
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        return problem(
            404, "Niet gevonden.", "Ongeldige pagina.", code="not_found", instance=request.url.path
        )
    page = int(raw)
    size_raw = request.query_params.get("pageSize", "")
    size = min(int(size_raw), MAX_PAGE_SIZE) if size_raw.isdigit() and int(size_raw) > 0 else page_size
    pages = max(1, -(-len(items) // size))
    if page > pages:
        return problem(
            404, "Niet gevonden.", "Ongeldige pagina.", code="not_found", instance=request.url.path
        )

    def link(n: int) -> str:
        params = dict(request.query_params)
        params["page"] = str(n)
        return f"{base(request)}{request.url.path}?{urlencode(params)}"

    return ok(
        {
            "count": len(items),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [render(item) for item in items[(page - 1) * size : page * size]],
        },
        crs=request.url.path.endswith("/zaken"),
    )


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ZakenRoutes:
    """The endpoints of the Zaken + Catalogi simulator over one store."""

    def __init__(
        self, store: ZakenStore, behaviour: Behaviour, publisher: NotificatiePublisher, page_size: int
    ) -> None:
        self.store = store
        self.behaviour = behaviour
        self.publisher = publisher
        self.page_size = page_size
        common = {(r.path, tuple(sorted(r.methods or ()))): r.endpoint for r in sim_routes(behaviour)}
        self._common_set = common[("/_sim/behaviour", ("POST",))]
        self._common_get = common[("/_sim/behaviour", ("GET", "HEAD"))]

    def _expanded(self, request: Request, b: str, st: ZaakState) -> dict[str, Any]:
        """The zaak with `_expand` for what `expand` asks, unless the ignoreExpand switch is on."""
        names = {n.strip() for n in request.query_params.get("expand", "").split(",")}
        if self.store.switches["ignoreExpand"] or not names - {""}:
            return zaak_json(b, st)
        return expanded_zaak_json(b, self.store, st, names)

    # --- Zaken API ----------------------------------------------------------------------------
    async def list_zaken(self, request: Request) -> Response:
        if (p := crs_problem(request)) is not None:
            return p
        selected = self.store.zaken(request.query_params)
        b = base(request)
        return paginate(request, selected, self.page_size, lambda s: self._expanded(request, b, s))

    async def get_zaak(self, request: Request) -> Response:
        if (p := crs_problem(request)) is not None:
            return p
        st = self.store.states.get(request.path_params["uuid"])
        return not_found(request) if st is None else ok(self._expanded(request, base(request), st), crs=True)

    async def list_statussen(self, request: Request) -> Response:
        pool = self.store.pool(request.query_params.get("zaak"))
        b = base(request)
        items = [status_json(b, st, i) for st in pool for i in range(len(st.statussen))]
        if (statustype := request.query_params.get("statustype")) is not None:
            items = [s for s in items if s["statustype"] == statustype]
        return paginate(request, items, self.page_size)

    async def get_status(self, request: Request) -> Response:
        found = self.store.status(request.path_params["uuid"])
        if found is None:
            return not_found(request)
        st, index = found
        return ok(status_json(base(request), st, index))

    async def list_rollen(self, request: Request) -> Response:
        pairs = self.store.rollen(request.query_params)
        b = base(request)
        return paginate(request, pairs, self.page_size, lambda pair: rol_json(b, *pair))

    async def get_rol(self, request: Request) -> Response:
        found = self.store.rol_index.get(request.path_params["uuid"])
        return not_found(request) if found is None else ok(rol_json(base(request), *found))

    async def list_resultaten(self, request: Request) -> Response:
        pool = self.store.pool(request.query_params.get("zaak"))
        b = base(request)
        return paginate(
            request, [resultaat_json(b, s) for s in pool if s.resultaat is not None], self.page_size
        )

    async def get_resultaat(self, request: Request) -> Response:
        st = self.store.with_resultaat(request.path_params["uuid"])
        return not_found(request) if st is None else ok(resultaat_json(base(request), st))

    async def list_zaakinformatieobjecten(self, request: Request) -> Response:
        """`GET /zaakinformatieobjecten?zaak=…&informatieobject=…`: a plain array, not paginated (the
        spec's response is `type: array`, as Open Zaak serves it). A filter that is not a URL is a 400
        naming it; a URL of no zaak gives an empty list."""
        q = request.query_params
        bad = [n for n in ("zaak", "informatieobject") if n in q and not _is_url(q[n])]
        if bad:
            return problem(
                400,
                "Invalid input.",
                "Invalid input.",
                code="invalid",
                instance=request.url.path,
                invalid_params=[
                    {"name": n, "code": "invalid", "reason": "Voer een geldige URL in."} for n in bad
                ],
            )
        zaak = q.get("zaak")
        pairs = self.store.zaakinformatieobjecten(
            last_segment(zaak) if zaak is not None else None, q.get("informatieobject")
        )
        b = base(request)
        return ok([zio_json(b, st, doc) for st, doc in pairs])

    async def get_zaakinformatieobject(self, request: Request) -> Response:
        found = self.store.zio_index.get(request.path_params["uuid"])
        return not_found(request) if found is None else ok(zio_json(base(request), *found))

    # --- Catalogi API -------------------------------------------------------------------------
    async def list_zaaktypen(self, request: Request) -> Response:
        b = base(request)
        return paginate(request, [zaaktype_json(b, zt) for zt in self.store.world.zaaktypen], self.page_size)

    async def get_zaaktype(self, request: Request) -> Response:
        zt = self.store.zaaktypen.get(request.path_params["uuid"])
        return not_found(request) if zt is None else ok(zaaktype_json(base(request), zt))

    async def get_statustype(self, request: Request) -> Response:
        body = statustype_json(base(request), self.store, request.path_params["uuid"])
        return not_found(request) if body is None else ok(body)

    async def get_resultaattype(self, request: Request) -> Response:
        body = resultaattype_json(base(request), self.store, request.path_params["uuid"])
        return not_found(request) if body is None else ok(body)

    # --- test switches ------------------------------------------------------------------------
    async def set_status(self, request: Request) -> Response:
        """Test helper: give a zaak a new status (closing it when the statustype is an eindstatus)."""
        st = self.store.states.get(request.path_params["uuid"])
        if st is None:
            return not_found(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("statustype"), str):
            return problem(
                400,
                "Bad Request",
                "statustype is verplicht",
                code="invalid",
                invalid_params=[{"name": "statustype", "code": "required", "reason": "verplicht"}],
            )
        found = self.store.statustypen.get(last_segment(body["statustype"]))
        if found is None or found[1].uuid != st.zaak.zaaktype_uuid:
            return problem(
                400,
                "Bad Request",
                "statustype hoort niet bij het zaaktype",
                code="invalid",
                invalid_params=[{"name": "statustype", "code": "invalid", "reason": "onbekend"}],
            )
        statustype, zaaktype = found
        now = datetime.now(UTC)
        raw = body.get("resultaattype")
        self.store.add_status(st, statustype, zaaktype, raw if isinstance(raw, str) else None, now)
        created = status_json(base(request), st, len(st.statussen) - 1)
        self.publisher.publish(status_notificatie(base(request), created, zaaktype, now))
        return JSONResponse(created, status_code=201)

    async def set_behaviour(self, request: Request) -> Response:
        """The common switches plus `ignoreFilters`/`ignoreExpand` (Starlette caches the parsed body,
        so the common handler reads it again)."""
        try:
            data = await request.json()
        except ValueError:
            data = None
        switches = self.store.switches
        mine = {k: v for k, v in data.items() if k in switches} if isinstance(data, dict) else {}
        if bad := [k for k, v in mine.items() if not isinstance(v, bool)]:
            return problem(
                400,
                "Bad Request",
                f"{bad[0]} moet true of false zijn",
                invalid_params=[{"name": k, "code": "invalid", "reason": "boolean"} for k in bad],
            )
        answer: Response = await self._common_set(request)
        if answer.status_code != 200:
            return answer
        switches.update(mine)
        return await self.get_behaviour(request)

    async def get_behaviour(self, request: Request) -> Response:
        answer: Response = await self._common_get(request)
        return JSONResponse({**json.loads(bytes(answer.body)), **self.store.switches})
