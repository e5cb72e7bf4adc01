"""Haal Centraal BRP Reisdocumenten bevragen 2.0 simulator.

`POST /haalcentraal/api/reisdocumenten/reisdocumenten` serves `ZoekMetBurgerservicenummer` (every
travel document of a holder, also surrendered or lost ones, as the real API does) and
`RaadpleegMetReisdocumentnummer`. Like the real API it requires `type` and `fields` (1..25 paths),
rejects unknown or automatically delivered field paths, unknown parameters, missing required parameters
and values outside the spec's patterns with one 400 listing every error in `invalidParams`; returns only
the requested fields; adds `houder.geheimhoudingPersoonsgegevens` on its own when it applies; and
answers "nothing" with an empty `reisdocumenten` list. An API key header (`X-Api-Key` by default) is
required when `api_key` is given.

Test switches: `/_sim/behaviour` (latencyMs, fail, failureRate), `/_sim/requests`, `/_sim/last-request`.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, problem, sim_routes
from dgkb.simulators.haalcentraal import Invalid, bad_request, check_fields, datum, invalid, project
from dgkb.simulators.world import Reisdocument, World

__all__ = ["BASE_PATH", "SUPPORTED_FIELDS", "create_app"]

BASE_PATH = "/haalcentraal/api/reisdocumenten"

# The `fields` paths of a Reisdocument (Reisdocumenten API 2.0.0), without inOnderzoek.
SUPPORTED_FIELDS: frozenset[str] = frozenset(
    {
        "reisdocumentnummer",
        "soort",
        "soort.code",
        "soort.omschrijving",
        "datumEindeGeldigheid",
        "inhoudingOfVermissing",
        "inhoudingOfVermissing.datum",
        "inhoudingOfVermissing.aanduiding",
        "inhoudingOfVermissing.aanduiding.code",
        "inhoudingOfVermissing.aanduiding.omschrijving",
        "houder",
        "houder.burgerservicenummer",
    }
)
# Delivered on their own when they apply; asking for them is an error, as in the BRP APIs.
AUTOMATIC_FIELDS = frozenset({"houder.geheimhoudingPersoonsgegevens", "houder.opschortingBijhouding"})
_FIELD = re.compile(r"^[a-zA-Z0-9\._]{1,200}$")
_BSN = re.compile(r"^[0-9]{9}$")
_NUMMER = re.compile(r"^[A-Z0-9]{9}$")
_PARAMS = {
    "ZoekMetBurgerservicenummer": "burgerservicenummer",
    "RaadpleegMetReisdocumentnummer": "reisdocumentnummer",
}
_AANDUIDING = {"I": "ingehouden, ingeleverd", "R": "van rechtswege vervallen", "V": "vermist"}


def document_json(doc: Reisdocument, shielded: bool) -> dict[str, Any]:
    """The full Reisdocument of the spec (before projection on `fields`)."""
    body: dict[str, Any] = {
        "reisdocumentnummer": doc.reisdocumentnummer,
        "soort": {"code": doc.soort_code, "omschrijving": doc.soort_omschrijving},
        "datumEindeGeldigheid": datum(doc.datum_einde_geldigheid),
        "houder": {"burgerservicenummer": doc.houder_bsn},
    }
    if doc.inhouding_of_vermissing is not None and doc.datum_inhouding_of_vermissing is not None:
        code = doc.inhouding_of_vermissing
        body["inhoudingOfVermissing"] = {
            "datum": datum(doc.datum_inhouding_of_vermissing),
            "aanduiding": {"code": code, "omschrijving": _AANDUIDING[code]},
        }
    if shielded:
        body["houder"]["geheimhoudingPersoonsgegevens"] = True
    return body


def _check_fields(fields: Any) -> list[Invalid]:
    return check_fields(
        fields,
        allowed=SUPPORTED_FIELDS,
        automatic=AUTOMATIC_FIELDS.__contains__,
        pattern=_FIELD,
        max_items=25,
    )


def _validate(body: Any) -> list[Invalid]:
    if not isinstance(body, dict):
        return [invalid("type", "required", "Parameter is verplicht.")]
    kind = body.get("type")
    if kind is None:
        return [invalid("type", "required", "Parameter is verplicht.")]
    if kind not in _PARAMS:
        return [invalid("type", "value", "Waarde is geen geldige zoek type.")]
    param = _PARAMS[kind]
    errors = _check_fields(body.get("fields"))
    for name in body:
        if name not in ("type", "fields", param):
            errors.append(invalid(name, "unknownParam", "Parameter is niet verwacht."))
    value = body.get(param)
    if value is None:
        errors.append(invalid(param, "required", "Parameter is verplicht."))
    elif param == "burgerservicenummer":
        if not isinstance(value, str) or not _BSN.match(value):
            errors.append(invalid(param, "pattern", "Waarde voldoet niet aan patroon."))
    elif not isinstance(value, list) or len(value) != 1:
        errors.append(invalid(param, "array", "Parameter is geen array met 1 item."))
    elif not isinstance(value[0], str) or not _NUMMER.match(value[0]):
        errors.append(invalid(f"{param}.0", "pattern", "Waarde voldoet niet aan patroon."))
    return errors


def create_app(
    world: World,
    *,
    latency_ms: int = 0,
    api_key: str | None = None,
    api_key_header: str = "X-Api-Key",
) -> Starlette:
    """The Reisdocumenten API over the world's travel documents."""
    behaviour = Behaviour(latency_ms=latency_ms)
    by_bsn: dict[str, tuple[Reisdocument, ...]] = {p.bsn: p.reisdocumenten for p in world.persons}
    by_nummer = {d.reisdocumentnummer: d for p in world.persons for d in p.reisdocumenten}
    shielded = {p.bsn for p in world.persons if p.geheimhouding > 0}

    async def reisdocumenten(request: Request) -> Response:
        instance = request.url.path
        if api_key is not None and request.headers.get(api_key_header) != api_key:
            return problem(401, "Niet correct geauthenticeerd.", code="authentication", instance=instance)
        try:
            body = await request.json()
        except ValueError:
            return bad_request([invalid("type", "required", "Parameter is verplicht.")], instance)
        errors = _validate(body)
        if errors:
            return bad_request(errors, instance)
        kind = body["type"]
        if kind == "ZoekMetBurgerservicenummer":
            docs = by_bsn.get(body["burgerservicenummer"], ())
        else:
            found = by_nummer.get(body["reisdocumentnummer"][0])
            docs = (found,) if found is not None else ()
        fields: list[str] = body["fields"]
        answer = []
        for doc in docs:
            hidden = doc.houder_bsn in shielded
            item = project(document_json(doc, hidden), fields)
            if hidden:  # automatic field: delivered whether asked or not
                item.setdefault("houder", {})["geheimhoudingPersoonsgegevens"] = True
            answer.append(item)
        return JSONResponse({"type": kind, "reisdocumenten": answer})

    return Starlette(
        routes=[
            Route(f"{BASE_PATH}/reisdocumenten", reisdocumenten, methods=["POST"]),
            *sim_routes(behaviour),
        ],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )
