"""Conformance against the official specs in ../shared/reference (issue 3 §6).

Every simulator runs on a real socket (`running_simulators(base_port=0)`), the real adapters are built
from config/sources.yaml (`load_configuration` + `build_adapter`, base URLs rebased onto the running
simulators) and driven through realistic calls. Afterwards every request a simulator received and
every answer it gave (recorded by `simulators.common`, read from `GET /_sim/requests`) is validated
with openapi-core against the official spec: path, method, query/header parameters and body of the
request; status, content type and body of the response.

Spec fix-ups, in memory only (the files in ../shared are never changed):

- `servers` is replaced by one server `http://sim<prefix>`, the path prefix the simulator serves the API
  under (BRP `/haalcentraal/api/brp`, Reisdocumenten `/haalcentraal/api/reisdocumenten`, Zaken
  `/zaken/api/v1`, Klantinteracties `/klantinteracties/api/v1`, Producten `/producten/api/v0`); the
  recorded requests are replayed against host `http://sim`.
- Zaken 1.5.1 `$ref`s five Catalogi schemas by URL (raw.githubusercontent.com …/ztc/…/openapi.yaml, in
  `*Embedded` schemas of `expand`). The Catalogi spec is not in the reference set and the tests never go
  online, so each such `$ref` becomes `{"type": "object"}` (only the expanded zaaktype etc. are then
  unchecked: only their shape as objects).
- `nullable: true` next to `allOf: [$ref]` (drf-spectacular, Open Klant / Open Zaak) becomes
  `anyOf: [$ref, null]`, so null is accepted as intended (see `_nullable_refs`).
- `oneOf: [EmptyObject, XExpanded]` in Zaken's `_expand` schemas becomes `anyOf`: `EmptyObject` has no
  `additionalProperties: false`, so every expanded object matches both and `oneOf` rejects the very
  answer the spec describes (see `_empty_or_expanded`).
- A media type with a charset parameter (`application/json; charset=utf-8`, Haal Centraal) also accepts
  the bare `application/json` (JSON has no charset parameter, RFC 8259 §11).
- `security` is not validated: credentials belong to the installation's sources.yaml (API key headers,
  ZGW JWT, bearer/token), not to the adapters or simulators under test. Everything else is.

The BRP spec models request and response variants with a `type` discriminator, which generic
validators accept too much of, so BRP exchanges are also validated with jsonschema (draft 2020-12, the
spec is OAS 3.1) against the variant schema named by `type`, plus: no parameter outside that variant,
every `fields` path in fields-filtered-Persoon.csv (raadplegen) or fields-filtered-PersoonBeperkt.csv
(zoeken), and every path of every returned persoon in fields-Persoon.csv / fields-PersoonBeperkt.csv.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dgkb.composition.root import load_configuration
from dgkb.runner import rebase_sources, running_simulators
from dgkb.settings import Settings
from dgkb.simulators.world import World, build_world
from dgkb.sources.base import SourceAdapter
from dgkb.sources.registry import build_adapter

HOST = "http://sim"
HEADERS = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "x-doelbinding": "Klantcontact afhandelen",
    "x-verwerking": "https://register.voorbeeldstad.nl/verwerkingen/kcc-algemene-vraag",
    "x-origin-oin": "00000001001234567000",
}


@dataclass(frozen=True)
class SpecInfo:
    file: str
    prefix: str  # path prefix of the API at the simulator


SPECS: dict[str, SpecInfo] = {
    "brp": SpecInfo("brp-personen/openapi.yaml", "/haalcentraal/api/brp"),
    "reisdocumenten": SpecInfo("brp-reisdocumenten/openapi.yaml", "/haalcentraal/api/reisdocumenten"),
    "zaken": SpecInfo("zaken/openapi-1.5.1.yaml", "/zaken/api/v1"),
    "klantinteracties": SpecInfo("klantinteracties/openapi.yaml", "/klantinteracties/api/v1"),
    "producten": SpecInfo("producten/producten-openapi.yaml", "/producten/api/v0"),
}


def _drop_external_refs(node: Any) -> Any:
    """Replace every `$ref` to another document (http…) by an open object schema."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return {"type": "object"}
        return {k: _drop_external_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_drop_external_refs(v) for v in node]
    return node


def _nullable_refs(node: Any) -> Any:
    """`{allOf: [{$ref: X}], nullable: true}` (drf-spectacular's way to say "X or null", used by the
    Open Klant and Open Zaak specs) means null is allowed, but under OAS 3.0.3 `nullable` does not reach
    into `allOf`, so strict validators reject every null. Say it explicitly: `anyOf: [X, null]`."""
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if node.get("nullable") is True and isinstance(all_of, list) and len(all_of) == 1:
            ref = all_of[0].get("$ref", "") if isinstance(all_of[0], dict) else ""
            if ref.startswith("#/components/schemas/"):
                extra = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
                return {**extra, "anyOf": [{"$ref": ref}, {"nullable": True, "enum": [None]}]}
        return {k: _nullable_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_nullable_refs(v) for v in node]
    return node


def _bare_media_types(node: Any) -> None:
    """`content: {"application/json; charset=utf-8": …}` (Haal Centraal): also accept the same media type
    without the charset parameter — JSON has no charset parameter (RFC 8259 §11), both mean the same."""
    if isinstance(node, dict):
        content = node.get("content")
        if isinstance(content, dict):
            for media_type, value in list(content.items()):
                content.setdefault(media_type.split(";")[0].strip(), value)
        for value in node.values():
            _bare_media_types(value)
    elif isinstance(node, list):
        for value in node:
            _bare_media_types(value)


def _empty_or_expanded(node: Any) -> Any:
    """`oneOf: [{$ref: EmptyObject}, {$ref: X}]` → `anyOf` (see the module docstring)."""
    if isinstance(node, dict):
        one_of = node.get("oneOf")
        if isinstance(one_of, list) and any(
            isinstance(o, dict) and str(o.get("$ref", "")).endswith("/EmptyObject") for o in one_of
        ):
            node = {**{k: v for k, v in node.items() if k != "oneOf"}, "anyOf": one_of}
        return {k: _empty_or_expanded(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_empty_or_expanded(v) for v in node]
    return node


@cache
def raw_spec(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def openapi_for(path: Path, prefix: str) -> OpenAPI:
    spec = _drop_external_refs(copy.deepcopy(raw_spec(path)))
    spec = _empty_or_expanded(_nullable_refs(spec))
    _bare_media_types(spec)
    spec["servers"] = [{"url": f"{HOST}{prefix}"}]
    spec.pop("security", None)
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    # problem details are JSON too (openapi-core only decodes application/json by itself)
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(spec, config=config)


@dataclass(frozen=True)
class Exchange:
    """One recorded request and the simulator's answer to it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int
    content_type: str
    response: Any

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        resp = data["response"]
        return cls(
            data["method"],
            data["path"],
            data["query"],
            data["headers"],
            data["body"],
            resp["status"],
            resp["contentType"] or "",
            resp["body"],
        )

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''} -> {self.status}"

    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


def _mock_request(x: Exchange) -> MockRequest:
    body = json.dumps(x.body).encode() if x.body is not None else None
    return MockRequest(
        HOST,
        x.method,
        x.path,
        args=x.params(),  # type: ignore[arg-type]  # a list of pairs keeps repeated parameters
        headers=x.headers,
        data=body,
        content_type=x.headers.get("content-type", ""),
    )


def openapi_errors(api: OpenAPI, x: Exchange) -> list[str]:
    """What openapi-core finds wrong with this request and its response (empty: conformant)."""
    errors: list[str] = []
    request = _mock_request(x)
    try:
        api.validate_request(request)
    except Exception as exc:  # every openapi-core validation error, with its causes
        errors.append(f"{x.label}: request: {_explain(exc)}")
    data = json.dumps(x.response).encode() if x.response is not None else b""
    response = MockResponse(data, status_code=x.status, content_type=x.content_type)
    try:
        api.validate_response(request, response)
    except Exception as exc:
        errors.append(f"{x.label}: response: {_explain(exc)}")
    return errors


def _explain(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for sub in getattr(exc, "schema_errors", None) or []:
        parts.append(f"  - {'/'.join(str(p) for p in sub.absolute_path)}: {sub.message[:300]}")
    cause = exc.__cause__
    if cause is not None and cause is not exc:
        parts.append(f"  caused by {_explain(cause)}")
    return "\n".join(parts)


class SimulatorStack:
    """The running simulators and the adapters pointed at them."""

    def __init__(self, world: World, urls: dict[str, str], adapters: dict[str, SourceAdapter]) -> None:
        self.world = world
        self.urls = urls
        self.adapters = adapters
        self.client = httpx.AsyncClient(timeout=10)

    async def exchanges(self, source: str) -> list[Exchange]:
        resp = await self.client.get(f"{self.urls[source]}/_sim/requests")
        resp.raise_for_status()
        return [Exchange.from_json(r) for r in resp.json()]

    async def clear(self, source: str) -> None:
        await self.client.delete(f"{self.urls[source]}/_sim/requests")

    async def behaviour(self, source: str, **switches: object) -> None:
        (await self.client.post(f"{self.urls[source]}/_sim/behaviour", json=switches)).raise_for_status()


@pytest.fixture(scope="module")
async def stack(shared_reference: Path) -> AsyncIterator[SimulatorStack]:
    world = build_world()
    async with running_simulators(0, world=world) as urls:
        settings = Settings()
        config = load_configuration(settings, rebase_sources(settings, urls))
        adapters = {s.id: build_adapter(s) for s in config.sources.sources if s.id in SPECS}
        sims = SimulatorStack(world, urls, adapters)
        try:
            yield sims
        finally:
            await sims.client.aclose()
            for adapter in adapters.values():
                await adapter.aclose()


@pytest.fixture(scope="session")
def spec(shared_reference: Path) -> Any:
    """spec(source id) -> (OpenAPI validator, raw spec dict) for that source's reference spec."""

    def get(source: str) -> tuple[OpenAPI, dict[str, Any]]:
        info = SPECS[source]
        path = shared_reference / info.file
        return openapi_for(path, info.prefix), raw_spec(path)

    return get


def catalogue_fields(category: str) -> tuple[str, ...]:
    """Every field of a catalogue category (config/catalogue.yaml)."""
    data = yaml.safe_load((Settings().config_files["catalogue"]).read_text(encoding="utf-8"))
    for cat in data["categorieen"]:
        if cat["id"] == category:
            return tuple(cat["velden"])
    raise KeyError(category)


def assert_conformant(errors: list[str], checked: int) -> None:
    assert checked > 0, "no exchanges recorded: the adapter sent nothing"
    assert not errors, f"{len(errors)} non-conformant exchange(s) of {checked}:\n" + "\n".join(errors)


def variant_errors(raw: dict[str, Any], schema_name: str, value: Any) -> list[str]:
    """`value` against one named schema of an OAS 3.0 spec (openapi-schema-validator, formats checked):
    for the variant a `type` discriminator names, which generic oneOf validation may not pin down."""
    resource = Resource.from_contents(_nullable_refs(raw), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource("urn:spec", resource)
    validator = OAS30Validator(
        {"$ref": f"urn:spec#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=oas30_format_checker,
    )
    return [
        f"{schema_name} at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator.iter_errors(value)
    ]
