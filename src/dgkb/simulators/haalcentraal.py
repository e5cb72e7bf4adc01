"""What the Haal Centraal simulators (BRP Personen, BRP Reisdocumenten) share: the `Datum` shape,
`fields` projection and the 400 problem with `invalidParams` of the VNG validation codes."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from starlette.responses import Response

from dgkb.simulators.common import problem

Invalid = dict[str, str]

MAANDEN = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def datum(d: date) -> dict[str, Any]:
    """A `Datum` as Haal Centraal returns it (with its `type` discriminator and the long form)."""
    return {
        "type": "Datum",
        "datum": d.isoformat(),
        "langFormaat": f"{d.day} {MAANDEN[d.month - 1]} {d.year}",
    }


def project(value: Any, paths: list[str]) -> Any:
    """Keep only the dotted `paths` of a JSON value; lists are projected item by item. An object with a
    `type` discriminator keeps it, as the real API does."""
    if isinstance(value, list):
        return [project(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    wanted: dict[str, list[str] | None] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if not rest or wanted.get(head, []) is None:
            wanted[head] = None  # the whole value
        else:
            wanted.setdefault(head, []).append(rest)  # type: ignore[union-attr]
    result: dict[str, Any] = {}
    if "type" in value:
        result["type"] = value["type"]
    for key, sub in wanted.items():
        if key in value:
            result[key] = value[key] if sub is None else project(value[key], sub)
    return result


def invalid(name: str, code: str, reason: str) -> Invalid:
    return {
        "type": f"https://www.vng.nl/realisatie/api/validaties/{code}",
        "name": name,
        "code": code,
        "reason": reason,
    }


def bad_request(errors: list[Invalid], instance: str) -> Response:
    names = ", ".join(dict.fromkeys(e["name"].split(".")[0] for e in errors))
    return problem(
        400,
        "Een of meerdere parameters zijn niet correct.",
        f"De foutieve parameter(s) zijn {names}.",
        code="paramsValidation",
        instance=instance,
        invalid_params=errors,
    )


def check_fields(
    fields: Any,
    *,
    allowed: Collection[str],
    automatic: Callable[[str], bool],
    pattern: re.Pattern[str],
    max_items: int,
) -> list[Invalid]:
    """Validate a `fields` parameter as the Haal Centraal APIs do: required, an array of 1..max paths,
    each matching the pattern, known, and not one of the fields the API delivers automatically."""
    if fields is None:
        return [invalid("fields", "required", "Parameter is verplicht.")]
    if not isinstance(fields, list):
        return [invalid("fields", "array", "Parameter is geen array.")]
    if not fields:
        return [invalid("fields", "minItems", "Array bevat minder dan 1 items.")]
    if len(fields) > max_items:
        return [invalid("fields", "maxItems", f"Array bevat meer dan {max_items} items.")]
    errors = []
    for i, path in enumerate(fields):
        if not isinstance(path, str) or not pattern.match(path):
            errors.append(invalid(f"fields.{i}", "pattern", "Waarde voldoet niet aan patroon."))
        elif automatic(path) or path not in allowed:
            errors.append(invalid(f"fields.{i}", "fields", "Parameter bevat een niet bestaande veldnaam."))
    return errors
