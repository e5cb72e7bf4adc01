"""The Zaken simulator's endpoints: `ZakenRoutes` holds the store, the behaviour switches, the
publisher and the page size, and each method is one Starlette endpoint (app.py maps them to paths)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dgkb.simulators.common import (
    Behaviour,
    NotificatiePublisher,
    permission_denied,
    problem,
    sim_routes,
    zgw_allows,
)
from dgkb.simulators.zaken.serialise import (
    API_VERSION,
    BRONORGANISATIE,
    CATALOGI_PATH,
    ZAKEN_PATH,
    expanded_zaak_json,
    resultaat_json,
    resultaattype_json,
    rol_json,
    roltype_json,
    status_json,
    status_notificatie,
    statustype_json,
    zaak_json,
    zaak_notificatie,
    zaaktype_json,
    zio_json,
)
from dgkb.simulators.zaken.state import Rol, ZaakState, ZakenStore, last_segment
from dgkb.simulators.zaken.validation import error, is_url, parse_date, rol_errors, zaak_errors

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


def content_crs_problem(request: Request) -> Response | None:
    """A write of a zaak (it may carry a zaakgeometrie) needs `Content-Crs: EPSG:4326`: 412 without,
    415 for another CRS, as Open Zaak answers."""
    crs = request.headers.get("content-crs")
    if crs is None:
        return problem(
            412,
            "Precondition failed",
            "'Content-Crs' header ontbreekt",
            code="precondition_failed",
            instance=request.url.path,
        )
    if crs != "EPSG:4326":
        return problem(
            415,
            "Unsupported media type",
            f"CRS '{crs}' is niet ondersteund",
            code="unsupported_media_type",
            instance=request.url.path,
        )
    return None


def invalid(request: Request, params: list[dict[str, Any]]) -> Response:
    return problem(
        400,
        "Invalid input.",
        "Invalid input.",
        code="invalid",
        instance=request.url.path,
        invalid_params=params,
    )


async def json_object(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 Open Zaak gives for anything else."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return invalid(request, [error("nonFieldErrors", "parse_error", "Geen geldig JSON-object.")])
    return body


def _path_uuid(value: Any, path: str) -> str | None:
    """The uuid of a URL of this API whose path is `path`/<uuid> (on whatever host the client used)."""
    if not isinstance(value, str) or not is_url(value):
        return None
    own = urlsplit(value).path.rstrip("/")
    prefix, _, last = own.rpartition("/")
    return last if prefix == path else None


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

    async def create_zaak(self, request: Request) -> Response:
        """`POST /zaken` (scope `zaken.aanmaken` for the zaaktype): a new zaak, checked as Open Zaak
        checks it (dgkb.simulators.zaken.validation); 201 with the zaak and its URL in `Location`."""
        for check in (crs_problem, content_crs_problem):
            if (p := check(request)) is not None:
                return p
        body = await json_object(request)
        if isinstance(body, Response):
            return body
        ref = body.get("zaaktype")
        if not zgw_allows(request.scope, {"zaken.aanmaken"}, ref if isinstance(ref, str) else None):
            return permission_denied(request.url.path)
        zaaktype_uuid = _path_uuid(ref, f"{CATALOGI_PATH}/zaaktypen")
        zaaktype = self.store.zaaktypen.get(zaaktype_uuid) if zaaktype_uuid else None
        bron = body.get("bronorganisatie")
        ident = body.get("identificatie")
        taken = bool(ident) and any(
            st.zaak.identificatie == ident and (st.bronorganisatie or BRONORGANISATIE) == bron
            for st in self.store.states.values()
        )
        errors = zaak_errors(body, zaaktype is not None, taken)
        if errors:
            return invalid(request, errors)
        assert zaaktype is not None
        now = datetime.now(UTC)
        startdatum = parse_date(str(body["startdatum"]))
        assert startdatum is not None
        st = self.store.create_zaak(
            zaaktype,
            identificatie=str(ident) if ident else self.store.next_identificatie(now.year),
            omschrijving=str(body.get("omschrijving") or ""),
            toelichting=str(body.get("toelichting") or ""),
            startdatum=startdatum,
            bronorganisatie=str(bron),
            verantwoordelijke_organisatie=str(body["verantwoordelijkeOrganisatie"]),
            today=now.date(),
        )
        b = base(request)
        created = zaak_json(b, st)
        self.publisher.publish(zaak_notificatie(b, st, "zaak", created["url"], "create", now))
        return JSONResponse(
            created,
            status_code=201,
            headers={"API-version": API_VERSION, "Content-Crs": "EPSG:4326", "Location": created["url"]},
        )

    async def create_rol(self, request: Request) -> Response:
        """`POST /rollen` (scope `zaken.bijwerken` for the zaak's zaaktype, `zaken.geforceerd-bijwerken`
        once the zaak is closed): a betrokkene of a zaak, its omschrijving from its roltype."""
        body = await json_object(request)
        if isinstance(body, Response):
            return body
        zaak_uuid = _path_uuid(body.get("zaak"), f"{ZAKEN_PATH}/zaken")
        st = self.store.states.get(zaak_uuid) if zaak_uuid else None
        roltype = self.store.roltypen.get(_path_uuid(body.get("roltype"), f"{CATALOGI_PATH}/roltypen") or "")
        fits = None if st is None else roltype is not None and roltype[1].uuid == st.zaak.zaaktype_uuid
        if st is not None:
            scopes = {"zaken.geforceerd-bijwerken"} | ({"zaken.bijwerken"} if st.einddatum is None else set())
            if not zgw_allows(request.scope, scopes, st.zaak.zaaktype_uuid):
                return permission_denied(request.url.path)
        errors = rol_errors(body, zaak_found=st is not None, roltype_fits=fits)
        if errors:
            return invalid(request, errors)
        assert st is not None
        assert roltype is not None
        now = datetime.now(UTC)
        identificatie = body.get("betrokkeneIdentificatie")
        rol = Rol(
            str(uuid.uuid4()),
            roltype[0],
            str(body["betrokkeneType"]),
            dict(identificatie) if isinstance(identificatie, dict) else {},
            roltoelichting=str(body["roltoelichting"]),
            registratiedatum=now,
        )
        self.store.add_rol(st, rol)
        b = base(request)
        created = rol_json(b, st, rol)
        self.publisher.publish(zaak_notificatie(b, st, "rol", created["url"], "create", now))
        return JSONResponse(
            created, status_code=201, headers={"API-version": API_VERSION, "Location": created["url"]}
        )

    # --- Catalogi API -------------------------------------------------------------------------
    async def list_zaaktypen(self, request: Request) -> Response:
        """Filters `identificatie` and `status` (definitief | concept | alles; every zaaktype here is
        published, as the spec's default `definitief` lists)."""
        q = request.query_params
        items = list(self.store.catalogus)
        if (ident := q.get("identificatie")) is not None:
            items = [zt for zt in items if zt.identificatie == ident]
        if q.get("status") == "concept":
            items = []
        b = base(request)
        return paginate(request, [zaaktype_json(b, zt) for zt in items], self.page_size)

    async def list_roltypen(self, request: Request) -> Response:
        """Filters `zaaktype` (URL), `zaaktypeIdentificatie` and `omschrijvingGeneriek`."""
        q = request.query_params
        items = list(self.store.roltypen.values())
        if (zaaktype := q.get("zaaktype")) is not None:
            items = [(g, zt) for g, zt in items if zt.uuid == last_segment(zaaktype)]
        if (ident := q.get("zaaktypeIdentificatie")) is not None:
            items = [(g, zt) for g, zt in items if zt.identificatie == ident]
        if (generiek := q.get("omschrijvingGeneriek")) is not None:
            items = [(g, zt) for g, zt in items if g == generiek]
        b = base(request)
        return paginate(request, [roltype_json(b, g, zt) for g, zt in items], self.page_size)

    async def get_roltype(self, request: Request) -> Response:
        found = self.store.roltypen.get(request.path_params["uuid"])
        return not_found(request) if found is None else ok(roltype_json(base(request), *found))

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

    async def set_opschorting(self, request: Request) -> Response:
        """Test helper, as the team in its zaaksysteem: suspend the zaak (`{"indicatie": true,
        "reden": "…"}`, Awb 4:15: it waits for the customer) or resume it (`{"indicatie": false}`);
        published as Open Zaak publishes a partial update of the zaak."""
        st = self.store.states.get(request.path_params["uuid"])
        if st is None:
            return not_found(request)
        body = await json_object(request)
        if isinstance(body, Response):
            return body
        indicatie, reden = body.get("indicatie"), body.get("reden", "")
        if not isinstance(indicatie, bool) or not isinstance(reden, str) or len(reden) > 200:
            return invalid(
                request,
                [
                    error(
                        "opschorting",
                        "invalid",
                        "indicatie true of false, reden een tekst van hoogstens 200 tekens",
                    )
                ],
            )
        if indicatie and not reden:
            return invalid(request, [error("opschorting.reden", "required", "Dit veld is vereist.")])
        st.opschorting = reden if indicatie else None
        b = base(request)
        body_out = zaak_json(b, st)
        self.publisher.publish(
            zaak_notificatie(b, st, "zaak", body_out["url"], "partial_update", datetime.now(UTC))
        )
        return ok(body_out, crs=True)

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
