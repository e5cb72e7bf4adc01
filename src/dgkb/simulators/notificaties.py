"""Notificaties API 1.0 routing component, as Open Notificaties 1.16 behaves, for the demo and the tests.

`/api/v1/kanaal` (list, create, read), `/api/v1/abonnement` (list, create, read, update, partial
update, delete) and `POST /api/v1/notificaties`. A published message is validated and answered 200 at
once, but not delivered at once: it is scheduled, and a scheduler round every `interval_seconds`
delivers what is due to every abonnement on its kanaal whose filters match the kenmerken —
`POST {callbackUrl}` with `Authorization: {auth}`. A failed delivery is retried in a later round with
exponential backoff. Creating or changing an abonnement first sends the `kanaal: "test"` probe to its
callbackUrl; a callback that does not answer 2xx is refused (400). The kanalen of `DEFAULT_KANALEN`
exist from the start, with the filters their components register.

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
status, attempts, ms — no message bodies), `DELETE /_sim/deliveries`, `GET /_sim/scheduled` (the
messages waiting for a round: kanaal, resource, resourceUrl, actie, attempt, due) and
`POST /_sim/scheduler` (run one round now, as the beat would; answers the deliveries it made).
`interval_seconds=0` runs no rounds by itself: only `POST /_sim/scheduler` does (deterministic tests).

How Open Notificaties deviates from the Notificaties API 1.0 spec
(`../shared/reference/notificaties/openapi.yaml`, VNG-Realisatie/notificaties-api 1.0.0), modelled here:

- Empty kenmerk values are accepted, although the spec gives a kenmerk `minLength: 1`: the shared
  serializer has `allow_blank=True` (maykinmedia/notifications-api-common
  notifications_api_common/api/serializers.py, `NotificatieSerializer.kenmerken`; Open Notificaties
  CHANGELOG 1.2.2 "Fixed a bug allowing for empty kenmerk values").
- A kenmerk value must be a string as the spec says, but the check is Django REST framework's
  `CharField`: a boolean is refused (400, `kenmerken.<naam>` "Not a valid string.", code `invalid`),
  null is refused (code `null`), and a number is accepted and forwarded as a string. Open Klant sends
  booleans and null in the kenmerken of kanaal `klantcontacten`, so Open Notificaties refuses those
  messages (see dgkb.simulators.klantinteracties).
- `aanmaakdatum` may not lie in the future (`UntilNowValidator`, same serializer).
- The kenmerken of a message must be consistent with the filters of its kanaal: the one set of names
  must contain the other (`Kanaal.match_filter_names`; open-zaak/open-notificaties
  src/nrc/datamodel/models.py and src/nrc/api/serializers.py `MessageSerializer.validate`), else 400
  `kenmerken_inconsistent`. The same holds for the filters of an abonnement (400
  `inconsistent-abonnement-filters`). Names are compared after snake_case conversion, as the
  camelCase parser does (a component registers `interne_notitie`, a message carries `interneNotitie`).
- An abonnement filter only applies to a kenmerk the message carries, and `*` matches any value
  (`FilterGroup.match_pattern`, src/nrc/datamodel/models.py).
- Delivery is not synchronous: a message becomes a scheduled notification, delivered by the
  `execute_notifications` beat task every `NOTIFICATION_SEC_INTERVAL` seconds (default 20, at least 5;
  open-zaak/open-notificaties src/nrc/conf/includes/base.py `CELERY_BEAT_SCHEDULE`, src/nrc/api/tasks.py).
  Whom a message goes to is decided when its round runs, not when it was published. A consumer must
  therefore expect notifications seconds late and reconcile (DGKB: `DGKB_RECONCILE_SECONDS`).
- A failed delivery is retried for the failed abonnementen only, `factor * base**attempt` seconds later
  (at most `backoff_max`), at most `max_retries` times (defaults since Open Notificaties 1.12.0: 25 s,
  base 4, 52000 s, 7 retries; CHANGELOG 1.12.0, `handle_result` in src/nrc/api/tasks.py).
- A kanaal is created by the component that publishes on it (`register_kanalen` of
  notifications-api-common: naam, documentatieLink, filters = its kenmerken); a second `POST` with
  the same naam is refused (400, unique naam). The experimental PUT/PATCH of a kanaal (Open
  Notificaties 1.8) is not modelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
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

__all__ = ["API_PATH", "DEFAULT_INTERVAL_SECONDS", "DEFAULT_KANALEN", "create_app"]

API_PATH = "/api/v1"
API_VERSION = "1.0.0"
# NOTIFICATION_SEC_INTERVAL of Open Notificaties (default 20 s, at least 5 s there)
DEFAULT_INTERVAL_SECONDS = 20.0
# the kanalen as their components register them (filters = the kanaal's kenmerken, snake_case)
DEFAULT_KANALEN: dict[str, tuple[str, ...]] = {
    # Open Zaak: KANAAL_ZAKEN (open-zaak src/openzaak/components/zaken/api/kanalen.py)
    "zaken": ("bronorganisatie", "zaaktype", "vertrouwelijkheidaanduiding"),
    # Open Klant 2.x: src/openklant/components/klantinteracties/kanalen.py
    "klantcontacten": ("hoofd_onderwerp_type", "indicatie_contact_gelukt", "verdere_actie_ondernomen"),
    "partijen": ("nummer", "interne_notitie", "soort_partij"),
    "internetaken": ("nummer", "gevraagde_handeling", "toelichting", "status"),
}
MESSAGE_TEXT_FIELDS = (("kanaal", 50), ("resource", 100), ("actie", 100))
MESSAGE_URL_FIELDS = ("hoofdObject", "resourceUrl")
KENMERK_MAX_LENGTH = 1000


def snake(name: str) -> str:
    """camelCase -> snake_case, as djangorestframework-camel-case's parser does to incoming keys."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def consistent(kanaal_filters: Sequence[str], names: Sequence[str]) -> bool:
    """`Kanaal.match_filter_names`: one set of names contains the other."""
    own, other = {snake(f) for f in kanaal_filters}, {snake(n) for n in names}
    return own <= other or own >= other


@dataclass(slots=True)
class _Scheduled:
    """A published message waiting for a scheduler round (Open Notificaties' ScheduledNotification)."""

    message: dict[str, Any]
    execute_after: float
    attempt: int = 0
    subs: set[str] = field(default_factory=set)  # empty: decided when the round runs


def _param(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


def _kenmerk_errors(kenmerken: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The kenmerken as Django REST framework's DictField(child=CharField(allow_blank=True)) takes
    them: strings (empty too) and numbers (as strings); booleans, null and structures refused."""
    if kenmerken is None:
        return {}, []
    if not isinstance(kenmerken, dict):
        return {}, [_param("kenmerken", "not_a_dict", "Verwachtte een dictionary van items.")]
    clean: dict[str, str] = {}
    errors = []
    for key, value in kenmerken.items():
        name = f"kenmerken.{key}"
        if value is None:
            errors.append(_param(name, "null", "This field may not be null."))
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            errors.append(_param(name, "invalid", "Not a valid string."))
        elif len(str(value)) > KENMERK_MAX_LENGTH:
            errors.append(
                _param(
                    name, "max_length", f"Ensure this field has no more than {KENMERK_MAX_LENGTH} characters."
                )
            )
        else:
            clean[str(key)] = str(value)
    return clean, errors


def create_app(
    *,
    latency_ms: int = 0,
    kanalen: Mapping[str, Sequence[str]] = DEFAULT_KANALEN,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    retry_backoff_seconds: float = 25.0,
    retry_base: float = 4.0,
    retry_backoff_max_seconds: float = 52000.0,
    max_retries: int = 7,
    zgw_auth: ZgwJwtVerifier | None = None,
) -> Starlette:
    """The routing component with `kanalen` (naam -> filters) registered; with `zgw_auth` every API
    request needs a ZGW JWT it accepts; a scheduler round every
    `interval_seconds` (0: only on `POST /_sim/scheduler`); retry backoff as Open Notificaties'
    `notification_delivery_retry_backoff`, `…_base_factor`, `…_retry_backoff_max`, `…_max_retries`.
    The scheduler runs while the app's lifespan does (serve it with `lifespan="on"`)."""
    behaviour = Behaviour(latency_ms=latency_ms)
    kanaal_store: dict[str, dict[str, Any]] = {}
    abonnementen: dict[str, dict[str, Any]] = {}
    deliveries: deque[dict[str, Any]] = deque(maxlen=1000)
    scheduled: list[_Scheduled] = []
    round_lock = asyncio.Lock()
    client: dict[str, httpx.AsyncClient] = {}

    def http() -> httpx.AsyncClient:
        if "c" not in client:
            client["c"] = httpx.AsyncClient(timeout=5)
        return client["c"]

    for naam, filters in kanalen.items():
        kanaal_store[str(uuid.uuid4())] = {"naam": naam, "documentatieLink": "", "filters": list(filters)}

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{API_PATH}"

    def ok(body: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers={"API-version": API_VERSION})

    def kanaal_json(b: str, key: str) -> dict[str, Any]:
        return {"url": f"{b}/kanaal/{key}", **kanaal_store[key]}

    def kanaal_named(naam: Any) -> dict[str, Any] | None:
        return next((v for v in kanaal_store.values() if v["naam"] == naam), None)

    def abonnement_json(b: str, key: str) -> dict[str, Any]:
        shown = {k: v for k, v in abonnementen[key].items() if k != "auth"}  # auth is write-only
        return {"url": f"{b}/abonnement/{key}", **shown}

    def invalid(params: list[dict[str, str]]) -> Response:
        return problem(400, "Bad Request", params[0]["reason"], code="invalid", invalid_params=params)

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
            return invalid([_param("naam", "required", "naam is verplicht")])
        if kanaal_named(data["naam"]) is not None:
            return invalid([_param("naam", "unique", "kanaal met deze Naam bestaat al.")])
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
            return invalid([_param("body", "invalid", "body moet een JSON-object zijn")])
        required = () if partial else ("callbackUrl", "auth")
        for name in required:
            if name not in data:
                return invalid([_param(name, "required", f"{name} is verplicht")])
        clean: dict[str, Any] = {}
        if "callbackUrl" in data:
            if not isinstance(data["callbackUrl"], str) or not data["callbackUrl"].startswith("http"):
                return invalid([_param("callbackUrl", "invalid", "geen geldige URL")])
            clean["callbackUrl"] = data["callbackUrl"]
        if "auth" in data:
            if not isinstance(data["auth"], str) or not data["auth"]:
                return invalid([_param("auth", "required", "auth is verplicht")])
            clean["auth"] = data["auth"]
        if "kanalen" in data:
            if not isinstance(data["kanalen"], list):
                return invalid([_param("kanalen", "not_a_list", "lijst verwacht")])
            groups = []
            for group in data["kanalen"]:
                naam = group.get("naam") if isinstance(group, dict) else None
                kanaal = kanaal_named(naam)
                if kanaal is None:
                    return invalid([_param("naam", "kanaal_naam", "Kanaal met deze naam bestaat niet.")])
                filters = group.get("filters") or {}
                if not isinstance(filters, dict):
                    return invalid([_param("kanalen.filters", "not_a_dict", "object verwacht")])
                values, errors = _kenmerk_errors(filters)
                if errors:
                    return invalid(
                        [{**e, "name": e["name"].replace("kenmerken", "filters", 1)} for e in errors]
                    )
                if values and not consistent(kanaal["filters"], list(values)):
                    return invalid(
                        [
                            _param(
                                "filters",
                                "inconsistent-abonnement-filters",
                                "abonnement filters aren't consistent with kanaal filters",
                            )
                        ]
                    )
                groups.append({"naam": naam, "filters": values})
            clean["kanalen"] = groups
        elif not partial:
            clean["kanalen"] = []
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
            return invalid(
                [
                    _param(
                        "callbackUrl",
                        "invalid-callback-url",
                        "de callback-URL antwoordt niet goed op een testbericht",
                    )
                ]
            )
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
            return invalid(
                [
                    _param(
                        "callbackUrl",
                        "invalid-callback-url",
                        "de callback-URL antwoordt niet goed op een testbericht",
                    )
                ]
            )
        abonnementen[key] = merged
        return ok(abonnement_json(base(request), key))

    async def delete_abonnement(request: Request) -> Response:
        if abonnementen.pop(request.path_params["uuid"], None) is None:
            return problem(404, "Not Found", "abonnement niet gevonden", code="not_found")
        return Response(status_code=204)

    # --- notificaties -------------------------------------------------------------------------
    def matches(abonnement: dict[str, Any], message: dict[str, Any]) -> bool:
        kenmerken = {snake(k): v for k, v in (message.get("kenmerken") or {}).items()}
        return any(
            g["naam"] == message["kanaal"]
            and all(
                snake(k) not in kenmerken or v in ("*", kenmerken[snake(k)]) for k, v in g["filters"].items()
            )
            for g in abonnement["kanalen"]
        )

    def validate_message(message: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        errors = []
        for name, limit in MESSAGE_TEXT_FIELDS:
            value = message.get(name)
            if not isinstance(value, str) or not value:
                errors.append(_param(name, "required", "Dit veld is vereist."))
            elif len(value) > limit:
                errors.append(
                    _param(
                        name, "max_length", f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat."
                    )
                )
        for name in MESSAGE_URL_FIELDS:
            value = message.get(name)
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                errors.append(_param(name, "invalid", "Voer een geldige URL in."))
        raw = message.get("aanmaakdatum")
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            errors.append(_param("aanmaakdatum", "invalid", "Datetime heeft een ongeldig formaat."))
        else:
            if moment.tzinfo is not None and moment > datetime.now(UTC):
                errors.append(_param("aanmaakdatum", "future_not_allowed", "Deze datum ligt in de toekomst."))
        kenmerken, kenmerk_errors = _kenmerk_errors(message.get("kenmerken"))
        errors += kenmerk_errors
        if errors:
            return message, errors
        kanaal = kanaal_named(message["kanaal"])
        if kanaal is None:
            return message, [_param("kanaal", "message_kanaal", "Kanaal met deze naam bestaat niet.")]
        if not consistent(kanaal["filters"], list(kenmerken)):
            return message, [
                _param(
                    "kenmerken", "kenmerken_inconsistent", "Kenmerken aren't consistent with kanaal filters"
                )
            ]
        return {**message, "kenmerken": kenmerken}, []

    async def deliver(key: str, entry: _Scheduled) -> bool:
        """One delivery attempt to one abonnement; True on 2xx."""
        abonnement = abonnementen.get(key)
        if abonnement is None:  # deleted meanwhile: nothing to retry
            return True
        record: dict[str, Any] = {
            "kanaal": entry.message["kanaal"],
            "resourceUrl": entry.message["resourceUrl"],
            "callbackUrl": abonnement["callbackUrl"],
            "status": None,
            "attempts": entry.attempt + 1,
        }
        started = time.perf_counter()
        try:
            resp = await http().post(
                abonnement["callbackUrl"], json=entry.message, headers={"Authorization": abonnement["auth"]}
            )
            record["status"] = resp.status_code
            delivered = resp.is_success
        except httpx.HTTPError as exc:
            record["status"] = type(exc).__name__
            delivered = False
        record["ms"] = round((time.perf_counter() - started) * 1000, 1)
        deliveries.append(record)
        return delivered

    async def run_round() -> list[dict[str, Any]]:
        """`execute_notifications`: deliver every due scheduled message to its abonnementen; keep the
        failed ones for a later round (backoff), drop a message after its last retry."""
        async with round_lock:
            first = len(deliveries)
            now = time.monotonic()
            for entry in [e for e in scheduled if e.execute_after <= now]:
                if entry.attempt > max_retries + 1:
                    scheduled.remove(entry)
                    continue
                subs = entry.subs or {k for k, a in abonnementen.items() if matches(a, entry.message)}
                results = await asyncio.gather(*(deliver(k, entry) for k in sorted(subs)))
                failed = {k for k, done in zip(sorted(subs), results, strict=True) if not done}
                if failed:
                    delay = min(retry_backoff_max_seconds, retry_backoff_seconds * retry_base**entry.attempt)
                    entry.execute_after += delay
                    entry.attempt += 1
                    entry.subs = failed
                else:
                    scheduled.remove(entry)
            return list(deliveries)[first:]

    async def publish(request: Request) -> Response:
        message = await body_of(request)
        if message is None:
            return invalid([_param("nonFieldErrors", "invalid", "body moet een JSON-object zijn")])
        clean, errors = validate_message(message)
        if errors:
            return invalid(errors)
        scheduled.append(_Scheduled(message=clean, execute_after=time.monotonic()))
        return ok(clean)

    async def list_deliveries(request: Request) -> Response:
        return JSONResponse(list(deliveries))

    async def clear_deliveries(request: Request) -> Response:
        deliveries.clear()
        return Response(status_code=204)

    async def list_scheduled(request: Request) -> Response:
        now = time.monotonic()
        return JSONResponse(
            [
                {
                    **{k: e.message.get(k) for k in ("kanaal", "resource", "resourceUrl", "actie")},
                    "attempt": e.attempt,
                    "due": e.execute_after <= now,
                }
                for e in scheduled
            ]
        )

    async def scheduler_round(request: Request) -> Response:
        return JSONResponse(await run_round())

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            with contextlib.suppress(Exception):
                await run_round()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(beat()) if interval_seconds > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if "c" in client:
            await client.pop("c").aclose()

    p = API_PATH
    routes = [
        *sim_routes(behaviour),
        Route("/_sim/deliveries", list_deliveries, methods=["GET"]),
        Route("/_sim/deliveries", clear_deliveries, methods=["DELETE"]),
        Route("/_sim/scheduled", list_scheduled, methods=["GET"]),
        Route("/_sim/scheduler", scheduler_round, methods=["POST"]),
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
