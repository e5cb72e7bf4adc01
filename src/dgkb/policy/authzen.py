"""AuthZEN (OpenID Authorization API 1.0, NLGov profile) shapes over our PolicyEngine.

Pure translation, no HTTP: the API layer serves `POST /access/v1/evaluation` and `/evaluations`
with these models and functions, so an external PEP can ask DGKB's PDP, and an external PDP with
the same interface could replace ours.

One evaluation asks: may this subject (a role within an organisation) `read` this resource (a
catalogue category) for this purpose (`context.purpose`, a verwerkingsactiviteit id), given the
customer's identity assurance, kind, secrecy indication and recorded consents? The answer carries
the reason codes for administrators, a Dutch explanation for users, and the permitted fields and
sources (what the PEP may fetch).

The answer is for the caller (`bind_to_caller`): the subject's role and organisation are the
caller's token's. A caller that names another role or organisation gets a `SubjectMismatch` (403
problem+json naming the field); one that names none gets its token's. Only a registered policy
enforcement point (a token with role `pep`) asks on behalf of others: its subject properties are
taken as given, and a subject without an organisation is denied (ORGANISATION_MISMATCH), never
answered for every organisation. `subject.id` is informational and not checked.

`context.channel` (a kanaal, e.g. `chat`) is part of the decision (kanaalinzet); without it the
strictest channel rule of each category applies.

Invalid roles, assurance levels, subject kinds, channels or resource types raise a pydantic
`ValidationError` whose location names the field; the API layer turns it into a 400 problem+json.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.alias_generators import to_camel

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.roles import Role
from dgkb.policy.decision import CategoryDecision, DecisionRequest, PolicyEngine

__all__ = [
    "AuthzenAction",
    "AuthzenResource",
    "AuthzenSubject",
    "EvaluationContext",
    "EvaluationItem",
    "EvaluationOptions",
    "EvaluationRequest",
    "EvaluationResponse",
    "EvaluationsRequest",
    "EvaluationsResponse",
    "EvaluationsSemantic",
    "ResponseContext",
    "SubjectMismatch",
    "SubjectProperties",
    "bind_to_caller",
    "evaluate",
    "evaluate_many",
    "to_decision_request",
    "to_response",
]

_OIN = r"^\d{20}$"


class _Model(BaseModel):
    """JSON edge: lowerCamelCase aliases, snake_case in Python; unknown keys are ignored (AuthZEN
    lets a PEP send properties the PDP does not use)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SubjectProperties(_Model):
    role: Role
    # OIN; None = the caller's own (a PEP that names none is denied, see bind_to_caller)
    organisation: str | None = Field(default=None, pattern=_OIN)


class AuthzenSubject(_Model):
    """The actor: an employee (`user`) or a registered system (`system`)."""

    type: Literal["user", "system"] = "user"
    id: str = Field(min_length=1)
    properties: SubjectProperties


class AuthzenResource(_Model):
    """A catalogue category, e.g. `{"type": "category", "id": "klant.basis"}`."""

    type: Literal["category"] = "category"
    id: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)


class AuthzenAction(_Model):
    name: Literal["read"] = "read"
    properties: dict[str, Any] = Field(default_factory=dict)


class EvaluationContext(_Model):
    purpose: str = Field(min_length=1)  # verwerkingsactiviteit id from the register
    assurance: Assurance = Assurance.GEEN
    subject_kind: SubjectKind = SubjectKind.BSN
    shielded: StrictBool = False  # JSON true/false only, as documented: not "yes" or 1
    consent: tuple[str, ...] = ()  # categories the customer has consented to
    channel: Kanaal | None = None  # the contact's channel; None = the strictest channel rule applies


class EvaluationRequest(_Model):
    """Body of `POST /access/v1/evaluation`."""

    subject: AuthzenSubject
    resource: AuthzenResource
    action: AuthzenAction
    context: EvaluationContext


class EvaluationItem(EvaluationRequest):
    """One entry of `evaluations`; what it omits comes from the top level of the batch request."""


class EvaluationsSemantic(StrEnum):
    EXECUTE_ALL = "execute_all"
    DENY_ON_FIRST_DENY = "deny_on_first_deny"
    PERMIT_ON_FIRST_PERMIT = "permit_on_first_permit"


class EvaluationOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    evaluations_semantic: EvaluationsSemantic = EvaluationsSemantic.EXECUTE_ALL


class EvaluationsRequest(_Model):
    """Body of `POST /access/v1/evaluations`: top-level subject/resource/action/context are
    defaults; an entry that names one of them replaces the default as a whole."""

    subject: AuthzenSubject | None = None
    resource: AuthzenResource | None = None
    action: AuthzenAction | None = None
    context: EvaluationContext | None = None
    evaluations: tuple[EvaluationItem, ...] = Field(min_length=1)
    options: EvaluationOptions = Field(default_factory=EvaluationOptions)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        """Fill each entry from the top-level defaults before validation, so errors name the entry."""
        if not isinstance(data, dict) or not isinstance(data.get("evaluations"), list):
            return data
        keys = ("subject", "resource", "action", "context")
        defaults = {k: data[k] for k in keys if data.get(k) is not None}
        merged = [{**defaults, **item} if isinstance(item, dict) else item for item in data["evaluations"]]
        return {**data, "evaluations": merged}


class ResponseContext(BaseModel):
    """Why (reason_admin: codes and policies; reason_user: Dutch text) and, when permitted, what
    the PEP may fetch (fields, sources; sources None = any configured source)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    reason_admin: dict[str, Any] | None = None
    reason_user: dict[str, str] | None = None
    fields: tuple[str, ...] = ()
    sources: tuple[str, ...] | None = None
    register_version: str = Field(serialization_alias="registerVersion")


class EvaluationResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: bool
    context: ResponseContext


class EvaluationsResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    evaluations: tuple[EvaluationResponse, ...]


def to_decision_request(req: EvaluationRequest) -> DecisionRequest:
    """AuthZEN evaluation → our DecisionRequest for one category."""
    return _decision_request(req, (req.resource.id,))


def _decision_request(req: EvaluationRequest, categories: tuple[str, ...]) -> DecisionRequest:
    return DecisionRequest(
        purpose_id=req.context.purpose,
        role=req.subject.properties.role,
        assurance=req.context.assurance,
        subject_kind=req.context.subject_kind,
        subject_shielded=req.context.shielded,
        consented_categories=frozenset(req.context.consent),
        organisation=req.subject.properties.organisation,
        channel=req.context.channel,
        categories=categories,
    )


_Evaluation = TypeVar("_Evaluation", bound=EvaluationRequest)
_Request = TypeVar("_Request", EvaluationRequest, EvaluationsRequest)


class SubjectMismatch(DomainError):
    """A caller that is not a policy enforcement point asked for another role or organisation."""

    code = "authzen.subject_mismatch"
    status = 403
    reason = "SUBJECT_NOT_CALLER"


def _check_subject(subject: AuthzenSubject, caller: Actor, prefix: str) -> None:
    props = subject.properties
    if props.role is not caller.role:
        raise SubjectMismatch(
            f"U kunt alleen een beslissing vragen voor uw eigen rol ({caller.role.value}), niet voor "
            f"'{props.role.value}'; alleen een policy enforcement point vraagt namens anderen.",
            field=f"{prefix}subject.properties.role",
        )
    if props.organisation is not None and props.organisation != caller.organisation:
        raise SubjectMismatch(
            "U kunt alleen een beslissing vragen voor uw eigen organisatie; alleen een policy "
            "enforcement point vraagt namens anderen.",
            field=f"{prefix}subject.properties.organisation",
        )


def _bind(req: _Evaluation, caller: Actor, prefix: str) -> _Evaluation:
    _check_subject(req.subject, caller, prefix)
    props = req.subject.properties
    if props.organisation == caller.organisation:
        return req
    own = props.model_copy(update={"organisation": caller.organisation})
    return req.model_copy(update={"subject": req.subject.model_copy(update={"properties": own})})


def bind_to_caller(req: _Request, caller: Actor) -> _Request:
    """Answer for the caller: role and organisation come from its token (see the module docstring).

    Raises SubjectMismatch naming the field (`subject.properties.role`, or
    `evaluations.<i>.subject.properties.organisation` in a batch) when they differ."""
    if caller.role is Role.PEP:
        return req
    if isinstance(req, EvaluationRequest):
        return _bind(req, caller, "")
    if req.subject is not None:  # the batch default, named as the caller sent it
        _check_subject(req.subject, caller, "")
    items = tuple(_bind(item, caller, f"evaluations.{i}.") for i, item in enumerate(req.evaluations))
    return req.model_copy(update={"evaluations": items})


def to_response(decision: CategoryDecision, register_version: str) -> EvaluationResponse:
    """Our CategoryDecision → AuthZEN response (reasons only when denied)."""
    if decision.permitted:
        context = ResponseContext(
            fields=decision.fields,
            sources=decision.sources,
            register_version=register_version,
            reason_admin={"policies": list(decision.policy_ids)},
        )
    else:
        context = ResponseContext(
            reason_admin={
                "code": decision.reasons[0].value if decision.reasons else None,
                "reasons": [r.value for r in decision.reasons],
                "policies": list(decision.policy_ids),
            },
            reason_user={"nl": decision.explanation} if decision.explanation else None,
            register_version=register_version,
        )
    return EvaluationResponse(decision=decision.permitted, context=context)


def evaluate(engine: PolicyEngine, req: EvaluationRequest) -> EvaluationResponse:
    """`POST /access/v1/evaluation`: one category."""
    decision = engine.decide(to_decision_request(req))
    category = decision.for_category(req.resource.id)
    if category is None:  # pragma: no cover - an engine always answers the category asked
        raise RuntimeError(f"engine gaf geen besluit voor {req.resource.id}")
    return to_response(category, decision.register_version)


def _group_key(item: EvaluationItem) -> tuple[Any, ...]:
    """Entries that differ only in the resource are decided in one engine call."""
    return (item.subject.properties.model_dump_json(), item.context.model_dump_json())


def evaluate_many(engine: PolicyEngine, req: EvaluationsRequest) -> EvaluationsResponse:
    """`POST /access/v1/evaluations`: decide once per situation, all categories in one call."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, item in enumerate(req.evaluations):
        groups.setdefault(_group_key(item), []).append(i)
    answers: dict[int, EvaluationResponse] = {}
    for indexes in groups.values():
        first = req.evaluations[indexes[0]]
        categories = tuple(dict.fromkeys(req.evaluations[i].resource.id for i in indexes))
        decision = engine.decide(_decision_request(first, categories))
        for i in indexes:
            category = decision.for_category(req.evaluations[i].resource.id)
            if category is None:  # pragma: no cover - an engine always answers the categories asked
                raise RuntimeError(f"engine gaf geen besluit voor {req.evaluations[i].resource.id}")
            answers[i] = to_response(category, decision.register_version)
    ordered = [answers[i] for i in range(len(req.evaluations))]
    return EvaluationsResponse(evaluations=_apply_semantic(ordered, req.options.evaluations_semantic))


def _apply_semantic(
    responses: Sequence[EvaluationResponse], semantic: EvaluationsSemantic
) -> tuple[EvaluationResponse, ...]:
    """AuthZEN short-circuit semantics: stop after the first deny / first permit."""
    if semantic is EvaluationsSemantic.EXECUTE_ALL:
        return tuple(responses)
    stop_on = semantic is EvaluationsSemantic.PERMIT_ON_FIRST_PERMIT
    for i, response in enumerate(responses):
        if response.decision is stop_on:
            return tuple(responses[: i + 1])
    return tuple(responses)
