"""Simulators on real sockets, and a small OpenAPI schema checker (jsonschema is not a dependency).

The checker covers what the reference specs use for responses: $ref, allOf, oneOf/anyOf with or without
a discriminator, type (3.0 `nullable` and 3.1 type lists), properties, required, items, enum, pattern,
minLength/maxLength, minimum/maximum. Formats are not checked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from dgkb.simulators import brp, klantinteracties, zaken
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World, build_world

KI_TOKEN = "ki-test-token"  # the Klantinteracties simulator's API token (Open Klant: `Token …`)
KI_AUTH = {"Authorization": f"Token {KI_TOKEN}"}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class OpenApi:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def errors(self, value: Any, schema_name: str) -> list[str]:
        found: list[str] = []
        self._check(value, {"$ref": f"#/components/schemas/{schema_name}"}, "$", found, dispatch=True)
        return found

    def _check(
        self, value: Any, schema: dict[str, Any], path: str, out: list[str], *, dispatch: bool
    ) -> None:
        if "$ref" in schema:
            target = self.resolve(schema["$ref"])
            self._check(value, target, path, out, dispatch=dispatch)
            return
        if value is None and schema.get("nullable"):
            return
        disc = schema.get("discriminator")
        if disc and dispatch and isinstance(value, dict) and "mapping" in disc:
            tag = value.get(disc["propertyName"])
            if tag not in disc["mapping"]:
                out.append(f"{path}: unknown {disc['propertyName']} {tag!r}")
                return
            self._check(value, {"$ref": disc["mapping"][tag]}, path, out, dispatch=False)
            if "oneOf" in schema or "anyOf" in schema:
                return
        for sub in schema.get("allOf", []):
            self._check(value, sub, path, out, dispatch=False)
        for key in ("oneOf", "anyOf"):
            if (
                key in schema
                and not disc
                and not any(not self._sub_errors(value, sub, path) for sub in schema[key])
            ):
                out.append(f"{path}: matches none of {key}")
        types = schema.get("type")
        if types is not None:
            options = types if isinstance(types, list) else [types]
            if not any(_TYPES[t](value) for t in options):
                out.append(f"{path}: expected {types}, got {type(value).__name__}")
                return
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{path}: {value!r} not in {schema['enum']}")
        if isinstance(value, str):
            if "pattern" in schema and not re.search(schema["pattern"], value):
                out.append(f"{path}: {value!r} does not match {schema['pattern']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(f"{path}: longer than {schema['maxLength']}")
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(f"{path}: shorter than {schema['minLength']}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(f"{path}: below {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                out.append(f"{path}: above {schema['maximum']}")
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    out.append(f"{path}: missing required {name}")
            for name, sub in schema.get("properties", {}).items():
                if name in value:
                    self._check(value[name], sub, f"{path}.{name}", out, dispatch=True)
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                self._check(item, schema["items"], f"{path}[{i}]", out, dispatch=True)

    def _sub_errors(self, value: Any, schema: dict[str, Any], path: str) -> list[str]:
        found: list[str] = []
        self._check(value, schema, path, found, dispatch=True)
        return found


@cache
def _load(path: Path) -> OpenApi:
    return OpenApi(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def openapi(shared_reference: Path) -> Callable[[str], OpenApi]:
    """openapi("zaken/openapi-1.5.1.yaml") -> checker over that spec."""
    return lambda relative: _load(shared_reference / relative)


@pytest.fixture(scope="session")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
async def brp_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(brp.create_app(world)) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def zaken_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(zaken.create_app(world)) as (_, url):
        yield url


@pytest.fixture(scope="module")
async def ki_url(world: World) -> AsyncIterator[str]:
    async with serve_in_background(klantinteracties.create_app(world, token=KI_TOKEN)) as (_, url):
        yield url


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield c
