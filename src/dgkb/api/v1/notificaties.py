"""Real-time: inbound change notifications and the event stream of an open contact.

    POST /notificaties                        ZGW Notificaties API 1.0 consumer (204); kanaal "test" = probe
    POST /cloudevents                         CloudEvents NL GOV, structured or binary content mode (204)
    GET  /contacten/{id}/gebeurtenissen       text/event-stream: `bijgewerkt` with the changed categories
                                              this contact's purpose permits; a heartbeat every 15 s

Inbound messages are authenticated with the shared secret configured for the subscription
(DGKB_NOTIFICATIES_TOKEN), not with user tokens. Refusals are logged with a reason code only.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.openapi_constraints import NO_NUL
from dgkb.api.problems import ApiProblem
from dgkb.composition.deps import (
    ChangesDep,
    ContactsDep,
    HubDep,
    KlantbeeldDep,
    PseudonymizerDep,
)
from dgkb.composition.live_view import live_view_response
from dgkb.events.cloudevents import RFC3339_PATTERN, CloudEventError, parse
from dgkb.events.notificaties import TEST_KANAAL, Notificatie
from dgkb.gateway import SourceUnavailable

router = APIRouter(tags=["gebeurtenissen"])
log = logging.getLogger("dgkb.events")

_token_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="notificatieToken",
    description="Het gedeelde geheim van het abonnement (DGKB_NOTIFICATIES_TOKEN) of een JWT daarmee",
)

INBOUND_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Geen geldig bericht (problem+json met invalidParams)"},
    401: {"description": "Geen of een onjuist token"},
    503: {
        "description": "De bron van het hoofdobject is niet bereikbaar; bied het bericht later opnieuw aan"
    },
}


async def _sender(
    request: Request,
    changes: ChangesDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_token_scheme)],
) -> None:
    if not changes.authentic(request.headers.get("authorization")):
        log.warning("inkomend bericht geweigerd op %s: geen geldig token", request.url.path)
        raise ApiProblem(
            401,
            "Stuur het token van het abonnement mee in de Authorization-header.",
            code="notificaties.unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="dgkb-notificaties"'},
        )


SenderDep = Annotated[None, Depends(_sender)]

# A CloudEvent 1.0 in structured mode, as DGKB accepts it (dgkb.events.cloudevents.check_structured):
# the required attributes, the optional ones with their types, data or data_base64 (not both),
# extension attributes by their rule (lower-case letters and digits, at most 20; text, integer, boolean).
_ATTRIBUTE = {"type": "string", "minLength": 1}
CLOUDEVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["specversion", "id", "source", "type"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": _ATTRIBUTE,
        "source": _ATTRIBUTE,
        "type": _ATTRIBUTE,
        "subject": _ATTRIBUTE,
        "time": {
            "type": "string",
            "format": "date-time",
            "pattern": RFC3339_PATTERN,
        },
        "datacontenttype": _ATTRIBUTE,
        "dataschema": _ATTRIBUTE,
        "data": {"description": "De gegevens van de gebeurtenis: willekeurige JSON, ongelezen doorgegeven"},
        "data_base64": {
            "type": "string",
            "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        },
    },
    "not": {"required": ["data", "data_base64"]},
    "propertyNames": {"pattern": "^(?:[a-z0-9]{1,20}|data_base64)$"},
    "additionalProperties": {
        "anyOf": [{"type": "string", "pattern": NO_NUL}, {"type": "integer"}, {"type": "boolean"}]
    },
}


def _invalid(exc: ValidationError) -> ApiProblem:
    params = [
        {"name": ".".join(str(p) for p in e["loc"]) or "body", "code": e["type"], "reason": e["msg"]}
        for e in exc.errors()
    ]
    return ApiProblem(
        400, "Dit is geen geldige notificatie.", code="notificaties.invalid", invalid_params=params
    )


@router.post(
    "/notificaties",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=INBOUND_RESPONSES,
    summary="Ontvang een notificatie (ZGW Notificaties API 1.0, afnemer)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Notificatie.model_json_schema()}},
        }
    },
)
async def ontvang_notificatie(request: Request, changes: ChangesDep, _: SenderDep) -> Response:
    try:
        data = json.loads(await request.body())
    except ValueError:
        log.warning("notificatie geweigerd: geen JSON")
        raise ApiProblem(400, "De body is geen JSON.", code="notificaties.invalid") from None
    try:
        message = Notificatie.model_validate(data)
    except ValidationError as exc:
        log.warning("notificatie geweigerd: ongeldig (%d fouten)", exc.error_count())
        raise _invalid(exc) from None
    if message.kanaal == TEST_KANAAL:  # the routing component's probe (a whole message, as the standard's)
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    try:
        handled = await changes.handle_notificatie(message)
    except SourceUnavailable as exc:
        log.warning("notificatie %s/%s: bron %s onbereikbaar", message.kanaal, message.resource, exc.source)
        raise ApiProblem(
            503, "De bron van deze notificatie is nu niet bereikbaar.", code="notificaties.source_unavailable"
        ) from None
    log.info(
        "notificatie %s/%s/%s: %s (%d gebeurtenissen)",
        message.kanaal,
        message.resource,
        message.actie,
        handled.outcome.value,
        len(handled.events),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/cloudevents",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**INBOUND_RESPONSES, 415: {"description": "Geen CloudEvent (structured of binary)"}},
    summary="Ontvang een CloudEvent (NL GOV-profiel), structured of binary content mode",
    description="Structured mode: de body is het CloudEvent (application/cloudevents+json). Binary mode "
    "(de attributen als ce-*-headers, de body is `data`) kan ook, maar laat zich niet als schema "
    "beschrijven. Een bekend type (nl.brp.verhuisd, nl.overheid.zaken.*, nl.overheid.klantinteracties.*) "
    "moet zijn klant, zaak of klantcontact noemen; anders 400.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/cloudevents+json": {"schema": CLOUDEVENT_SCHEMA}},
        }
    },
)
async def ontvang_cloudevent(request: Request, changes: ChangesDep, _: SenderDep) -> Response:
    headers = dict(request.headers)
    binary = any(k.startswith("ce-") for k in headers)
    if not binary and not headers.get("content-type", "").startswith("application/cloudevents+json"):
        log.warning("cloudevent geweigerd: geen CloudEvents-content-type")
        raise ApiProblem(
            415,
            "Stuur een CloudEvent: application/cloudevents+json, of binary mode met ce-*-headers.",
            code="cloudevents.unsupported_media_type",
        )
    try:
        handled = await changes.handle_cloudevent(parse(headers, await request.body()))
    except CloudEventError as exc:
        log.warning("cloudevent geweigerd: %s", exc)
        raise ApiProblem(400, str(exc), code="cloudevents.invalid") from None
    except SourceUnavailable as exc:
        log.warning("cloudevent: bron %s onbereikbaar", exc.source)
        raise ApiProblem(
            503, "De bron van deze gebeurtenis is nu niet bereikbaar.", code="cloudevents.source_unavailable"
        ) from None
    log.info("cloudevent: %s (%d gebeurtenissen)", handled.outcome.value, len(handled.events))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/contacten/{contact_id}/gebeurtenissen",
    responses={
        200: {
            "description": "Server-Sent Events: `bijgewerkt` (data: categorieen, bron, op; met een id), "
            "`beeindigd`. Wie opnieuw verbindt met de header `Last-Event-ID` krijgt eerst de gemiste "
            "gebeurtenissen, gefilterd op wat het doel van het contact nu toestaat; zonder die header "
            "doet `?sinds=` (dezelfde vorm) hetzelfde. Bron `nalevering`: een trage bron heeft alsnog "
            "geantwoord; lees het klantbeeld opnieuw voor de onderdelen met `nogBezig`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        400: {"description": "Ongeldige invoer"},
        401: {"description": "Niet ingelogd"},
        403: {"description": "Geen toegang; `reden` zegt waarom (problem+json)"},
        404: {"description": "Contact niet gevonden"},
    },
    response_class=StreamingResponse,
    summary="Wijzigingen in het klantbeeld van dit contact, als ze gebeuren (Server-Sent Events)",
)
async def gebeurtenissen(
    contact_id: str,
    request: Request,
    actor: ActorDep,
    contacts: ContactsDep,
    klantbeeld: KlantbeeldDep,
    hub: HubDep,
    pseudonymizer: PseudonymizerDep,
    trace: TraceDep,
) -> StreamingResponse:
    context = await contacts.context_for(actor, contact_id, trace=trace)
    return live_view_response(
        request,
        actor,
        context,
        contacts=contacts,
        klantbeeld=klantbeeld,
        hub=hub,
        pseudonymizer=pseudonymizer,
    )
