"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded by the `st run` process).

A BSN must pass the 11-proef, which the OpenAPI document states in words but no JSON Schema can
express: a generated 9-digit BSN gets its last digit (or, when no last digit works, an earlier
one) set so that it passes. Nothing else is changed: a BSN that is invalid on purpose (not 9
digits) stays as generated."""

from __future__ import annotations

import re
from typing import Any

import schemathesis

from dgkb.domain.errors import DomainError
from dgkb.search.query import parse_query

NINE_DIGITS = re.compile(r"^ *(?:[0-9] *){9}$")
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def passes(digits: str) -> bool:
    return sum(w * int(d) for w, d in zip(WEIGHTS, digits, strict=True)) % 11 == 0 and digits != "0" * 9


def elfproef(value: str) -> str:
    digits = value.replace(" ", "")
    for position in range(8, -1, -1):  # the last digit first: one of ten nearly always fits
        for d in "0123456789":
            candidate = digits[:position] + d + digits[position + 1 :]
            if passes(candidate):
                return candidate
    return "999993653"


def fix_bsns(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: elfproef(v) if k == "bsn" and isinstance(v, str) and NINE_DIGITS.match(v) else fix_bsns(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [fix_bsns(v) for v in value]
    return value


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    # map_case, not map_body: the coverage phase applies case hooks only
    if isinstance(case.body, dict | list):
        case.body = fix_bsns(case.body)
    return case


def _positive(case: schemathesis.Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
    """Positive cases that no JSON Schema can make valid are left out (negative ones all run):
    - the free-text `zoekterm` is a small query language (dates that exist, the 11-proef, a
      number's length: dgkb.search.query); generated text it refuses is not a valid search;
    - an `idToken` is valid only when the broker signed it: a generated one never is (the tests of
      tests/api/test_assurance.py sends real ones)."""
    if not _positive(case) or not isinstance(case.body, dict):
        return True
    path = case.operation.path
    if path == "/klantzoekopdrachten" and isinstance(case.body.get("zoekterm"), str):
        try:
            parse_query(case.body["zoekterm"])
        except DomainError:
            return False
    return not (path == "/contacten/{contact_id}/identificatie" and case.body.get("idToken") is not None)
