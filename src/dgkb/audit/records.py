# SPDX-License-Identifier: EUPL-1.2
"""What goes into the three audit logs, built as plain column mappings (no I/O).

- LDV record (Logboek Dataverwerkingen): the processing, about one data subject. No employee.
- decision record: the AuthZEN-shaped policy request and the per-category answer.
- access record: the internal access log, with the employee/system; linked by trace id + span id.

The audit layer sits beside the policy layer (DESIGN §4), so it takes decisions by shape
(`DecisionLike`), not by importing `dgkb.policy`.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.pseudonym import Pseudonym


class AuditUnavailable(DomainError):
    """The audit log could not be written. The caller fails the request and shows nothing."""

    code = "audit.unavailable"
    status = 500  # the API answers 500 problem+json: nothing is shown without its log record


class Outcome(StrEnum):
    DELIVERED = "delivered"
    DENIED = "denied"
    ERROR = "error"


class CategoryDecisionLike(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def permitted(self) -> bool: ...
    @property
    def fields(self) -> Sequence[str]: ...
    @property
    def reasons(self) -> Sequence[str]: ...
    @property
    def policy_ids(self) -> Sequence[str]: ...


class DecisionLike(Protocol):
    """The shape of `dgkb.policy.decision.Decision` the decision log needs. Immutable, as that frozen
    dataclass is: the log encodes the answer of one decision object once (`_response_text`)."""

    @property
    def purpose_id(self) -> str: ...
    @property
    def register_version(self) -> str: ...
    @property
    def categories(self) -> Sequence[CategoryDecisionLike]: ...


_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)


@lru_cache(maxsize=64)  # a register has a handful of bewaartermijnen; each view asks for one
def _duration(duration: str) -> tuple[int, ...]:
    match = _DURATION.match(duration)
    if not match:
        raise ValueError(f"bewaartermijn {duration!r} is not an ISO 8601 duration such as P1Y or P6M")
    return tuple(int(g) if g else 0 for g in match.groups())


def retention_until(start: datetime | date, duration: str) -> date:
    """The date until which a record is kept: `start` plus an ISO 8601 duration (P7Y, P6M, P2W, P30D).

    Years and months are calendar steps (31 January + P1M = 28/29 February); a time part counts too."""
    years, months, weeks, days, hours, minutes, seconds = _duration(duration)
    moment = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
    total_months = moment.month - 1 + months + 12 * years
    year, month = moment.year + total_months // 12, total_months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    moment = moment.replace(year=year, month=month, day=day)
    moment += timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return moment.date()


def json_text(value: Any) -> str:
    """Deterministic JSON text (sorted keys, compact) so stored text and its hash are stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_string: Callable[[str], str] = json.encoder.encode_basestring


def _categories(values: Collection[str]) -> str:
    """`json_text` of the sorted distinct values; joined by hand for strings (four lists per view,
    and json.dumps sets up a new encoder for each call)."""
    ordered = sorted(set(values))
    try:
        return "[" + ",".join(map(_string, ordered)) + "]"
    except TypeError:  # not all strings: the general encoder
        return json_text(ordered)


def ldv_content(
    *,
    context: RequestContext,
    pseudonym: Pseudonym,
    span_id: str,
    name: str,
    started_at: datetime,
    ended_at: datetime,
    outcome: Outcome,
    categories: Collection[str],
    retention: str,
) -> dict[str, Any]:
    """One LDV record. Deliberately no actor, role, organisation unit or contact id."""
    return {
        "trace_id": context.trace.trace_id,
        "span_id": span_id,
        "parent_span_id": context.trace.span_id,
        "name": name,
        "start_time": started_at,
        "end_time": ended_at,
        "status_code": "ERROR" if outcome is Outcome.ERROR else "OK",
        "processing_activity_id": context.purpose_id,
        "data_subject_id": pseudonym.value,
        "data_subject_id_type": context.subject.kind.value,
        "key_id": pseudonym.key_id,
        "categories": _categories(categories),
        "retention_until": retention_until(ended_at, retention),
    }


# The policy engine hands out the same (immutable) decision object for the same question, and its
# answer is most of a decision record's text: encode it once per decision, not once per view. Keyed by
# identity; an entry keeps its decision alive, so an id is never reused while it is in here.
_RESPONSES: dict[int, tuple[DecisionLike, str]] = {}
_RESPONSES_MAX = 1024


def _response_text(decision: DecisionLike) -> str:
    cached = _RESPONSES.get(id(decision))
    if cached is not None and cached[0] is decision:
        return cached[1]
    response = {
        "decisions": {
            c.category: {
                "decision": c.permitted,
                "reasons": [str(r) for r in c.reasons],
                "fields": list(c.fields),
                "policyIds": list(c.policy_ids),
            }
            for c in decision.categories
        }
    }
    text = json_text(response)
    if len(_RESPONSES) >= _RESPONSES_MAX:
        _RESPONSES.clear()  # simpler than LRU order; the next views fill it again
    _RESPONSES[id(decision)] = (decision, text)
    return text


def decision_content(
    *,
    context: RequestContext,
    pseudonym: Pseudonym,
    span_id: str,
    decision: DecisionLike,
    action: str,
    occurred_at: datetime,
    categories_requested: Collection[str],
    consented_categories: Collection[str],
    consent_status: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One decision record: request and response in AuthZEN shape, without the actor's identity."""
    request = {
        "subject": {
            "type": "actor",
            "properties": {"role": context.actor.role.value, "organisation": context.actor.organisation},
        },
        "resource": {"type": "klantbeeld", "properties": {"categories": sorted(set(categories_requested))}},
        "action": {"name": action},
        "context": {
            "purpose": decision.purpose_id,
            "assurance": context.assurance.value,
            "channel": context.channel.value,
            "subjectKind": context.subject.kind.value,
            "subjectShielded": context.subject_shielded,
            "consentedCategories": sorted(set(consented_categories)),
        },
    }
    return {
        "trace_id": context.trace.trace_id,
        "span_id": span_id,
        "occurred_at": occurred_at,
        "processing_activity_id": decision.purpose_id,
        "register_version": decision.register_version,
        "request": json_text(request),
        "response": _response_text(decision),
        "consent_status": None if consent_status is None else json_text(dict(consent_status)),
        "data_subject_id": pseudonym.value,
        "key_id": pseudonym.key_id,
    }


def access_content(
    *,
    context: RequestContext,
    pseudonym: Pseudonym,
    span_id: str,
    occurred_at: datetime,
    outcome: Outcome,
    categories_requested: Collection[str],
    categories_delivered: Collection[str],
    categories_denied: Collection[str],
) -> dict[str, Any]:
    """One internal access record: who, in which role and unit, for which purpose, what outcome."""
    actor = context.actor
    return {
        "trace_id": context.trace.trace_id,
        "span_id": span_id,
        "occurred_at": occurred_at,
        "actor_id": actor.id,
        "actor_role": actor.role.value,
        "organisation": actor.organisation,
        "organisation_unit": actor.organisation_unit,
        "assurance": context.assurance.value,
        "channel": context.channel.value,
        "processing_activity_id": context.purpose_id,
        "contact_id": context.contact_id,
        "data_subject_id": pseudonym.value,
        "key_id": pseudonym.key_id,
        "data_subject_id_type": context.subject.kind.value,
        "categories_requested": _categories(categories_requested),
        "categories_delivered": _categories(categories_delivered),
        "categories_denied": _categories(categories_denied),
        "outcome": outcome.value,
    }


# A processing about no single person (an aggregation run over pseudonymised events): LDV records
# are per data subject, so its records name none. No search by subject ever finds them; a search by
# purpose or actor does.
NO_SUBJECT = "-"
NO_SUBJECT_KIND = "geen"


def aggregate_contents(
    *,
    actor_id: str,
    actor_role: str,
    organisation: str,
    purpose_id: str,
    trace_id: str,
    parent_span_id: str | None,
    span_id: str,
    name: str,
    started_at: datetime,
    ended_at: datetime,
    categories: Collection[str],
    retention: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The LDV and access record of one processing of DGKB itself over many people at once."""
    ldv = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent_span_id,
        "name": name,
        "start_time": started_at,
        "end_time": ended_at,
        "status_code": "OK",
        "processing_activity_id": purpose_id,
        "data_subject_id": NO_SUBJECT,
        "data_subject_id_type": NO_SUBJECT_KIND,
        "key_id": NO_SUBJECT,
        "categories": _categories(categories),
        "retention_until": retention_until(ended_at, retention),
    }
    access = {
        "trace_id": trace_id,
        "span_id": span_id,
        "occurred_at": ended_at,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "organisation": organisation,
        "organisation_unit": None,
        "assurance": "geen",
        "channel": "backoffice",
        "processing_activity_id": purpose_id,
        "contact_id": None,
        "data_subject_id": NO_SUBJECT,
        "key_id": NO_SUBJECT,
        "data_subject_id_type": NO_SUBJECT_KIND,
        "categories_requested": _categories(categories),
        "categories_delivered": _categories(categories),
        "categories_denied": "[]",
        "outcome": Outcome.DELIVERED.value,
    }
    return ldv, access
