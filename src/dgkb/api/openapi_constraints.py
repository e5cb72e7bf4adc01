"""What the API enforces, stated in the OpenAPI document (issue 13 defect 5).

Pydantic describes field types and lengths; the rules that live in validators are added here, so a
client (and schemathesis, tests/api/test_schemathesis.py) can see them:

- no NUL character in any text of a request (`Camel._no_nul`; PostgreSQL text cannot hold it):
  a `pattern` on every string of a request body or parameter that has none of its own;
- "exactly one of" rules (`exactly_one`, used in the models' `json_schema_extra`);
- 413 (`BodyLimitMiddleware`) on every operation that takes a body;
- 429 with `Retry-After` (api/ratelimit.py) on every rate-limited operation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

# JSON Schema (ECMA-262) and Python both read \u0000; a pattern is searched, not matched, so anchor it.
NO_NUL = "^[^\\u0000]*$"
NO_NUL_NOTE = "Geen NUL-teken (\\u0000)."

REF_PREFIX = "#/components/schemas/"


def exactly_one(ways: Mapping[str, Sequence[str]]) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` of a model with an "exactly one of these ways" validator: a `oneOf` with a
    branch per way (name -> the properties it needs, all given and not null) in which every
    property of the other ways is absent or null. So `{"bsn": null, "kvkNummer": "…"}` is the
    kvkNummer way, and two ways at once, or half of one, match no branch."""

    def extra(schema: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        every = [f for group in ways.values() for f in group]
        branches = []
        for way, needed in ways.items():
            branch = {f: _not_null(properties[f]) if f in needed else {"type": "null"} for f in every}
            branches.append({"title": way, "required": list(needed), "properties": branch})
        schema["oneOf"] = branches

    return extra


def _not_null(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A property's schema without its `null` alternative (pydantic writes `X | None` as anyOf)."""
    options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        return copy.deepcopy(dict(options[0]))
    return {k: copy.deepcopy(v) for k, v in prop.items() if k not in ("default", "title", "description")}


ANY_JSON = "JsonZonderNul"
ANY_JSON_REF = {"$ref": REF_PREFIX + ANY_JSON}
# Free-form JSON in a request (AuthZEN properties, CloudEvent data): anything, but no NUL in any text.
ANY_JSON_SCHEMA: dict[str, Any] = {
    "description": "Willekeurige JSON, zonder NUL-teken in tekst of namen",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": ANY_JSON_REF},
        {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": ANY_JSON_REF},
    ],
}


def document_constraints(schema: dict[str, Any], *, problem_content: Mapping[str, Any]) -> None:
    """Add the NUL pattern to the strings of every request schema and parameter, and the 413
    response to every operation with a request body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ANY_JSON] = copy.deepcopy(ANY_JSON_SCHEMA)
    request_refs: set[str] = set()
    for operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            _forbid_nul(parameter.get("schema", {}), components, request_refs)
        body = operation.get("requestBody")
        if body is None:
            continue
        for media in body.get("content", {}).values():
            _forbid_nul(media.get("schema", {}), components, request_refs)
        operation.setdefault("responses", {}).setdefault(
            "413",
            {
                "description": "De body is groter dan de ingestelde limiet (DGKB_MAX_BODY_BYTES)",
                "content": copy.deepcopy(dict(problem_content)),
            },
        )


RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Na hoeveel seconden het venster van de limiet opnieuw begint",
    "schema": {"type": "integer", "minimum": 1},
}


def document_rate_limits(
    schema: dict[str, Any], *, problem_content: Mapping[str, Any], free_paths: frozenset[str]
) -> None:
    """The 429 response (with Retry-After) on every operation but those of `free_paths` (never limited)."""
    for path, item in schema.get("paths", {}).items():
        if path in free_paths:
            continue
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch") and isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault(
                    "429",
                    {
                        "description": "Te veel verzoeken (limiet per gebruiker of per IP-adres, "
                        "DGKB_RATE_LIMITS)",
                        "headers": {"Retry-After": copy.deepcopy(RETRY_AFTER_HEADER)},
                        "content": copy.deepcopy(dict(problem_content)),
                    },
                )


def _operations(schema: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch") and isinstance(operation, dict):
                yield operation


def _forbid_nul(node: Any, components: Mapping[str, Any], seen: set[str]) -> None:
    """Every string schema under `node` (following $refs into components once) refuses NUL."""
    if isinstance(node, list):
        for item in node:
            _forbid_nul(item, components, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = ref.removeprefix(REF_PREFIX)
        if name not in seen and name in components:
            seen.add(name)
            _forbid_nul(components[name], components, seen)
        return
    if node.get("type") == "string" and "pattern" not in node and "enum" not in node and "const" not in node:
        node["pattern"] = NO_NUL
    if (
        node.get("type") == "object"
        and not node.get("properties")
        and node.get("additionalProperties") is not False
    ):
        # a map (dict[str, X]): its keys are text the API reads too; an object with named
        # properties ignores (or refuses) others by its own rule
        node.setdefault("propertyNames", {"pattern": NO_NUL})
        if node.get("additionalProperties", True) is True:
            node["additionalProperties"] = dict(ANY_JSON_REF)
    for key in ("properties", "patternProperties"):
        subs = node.get(key) or {}
        for name, sub in subs.items():
            if sub == {} or sub is True:  # any JSON at all
                subs[name] = dict(ANY_JSON_REF)
            else:
                _forbid_nul(sub, components, seen)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            _forbid_nul(node[key], components, seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        _forbid_nul(node.get(key), components, seen)
