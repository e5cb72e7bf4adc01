"""AuthZEN evaluation / evaluations mapping onto the policy engine."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor
from dgkb.domain.roles import Role
from dgkb.policy.authzen import (
    EvaluationRequest,
    EvaluationsRequest,
    SubjectMismatch,
    bind_to_caller,
    evaluate,
    evaluate_many,
    to_decision_request,
)
from dgkb.policy.decision import ReasonCode
from dgkb.policy.engine import CedarPolicyEngine

G = "https://register.voorbeeldstad.nl/verwerkingen/"
BELASTINGEN = G + "gemeentelijke-belastingen"
WATERSCHAPSBELASTING = "https://register.voorbeeldwaarden.nl/verwerkingen/waterschapsbelasting"
GEMEENTE = "00000001001234567000"
WATERSCHAP = "00000001009876543000"


def body(category: str = "klant.basis", **context: Any) -> dict[str, Any]:
    return {
        "subject": {
            "type": "user",
            "id": "kcm-0042",
            "properties": {"role": "kcm", "organisation": GEMEENTE},
        },
        "resource": {"type": "category", "id": category},
        "action": {"name": "read"},
        "context": {"purpose": BELASTINGEN, "assurance": "controlevragen", "channel": "telefoon", **context},
    }


def test_request_translates_to_a_decision_request() -> None:
    req = EvaluationRequest.model_validate(
        body("dossier.financieel", subjectKind="kvk", shielded=True, consent=["klant.familie"])
    )
    dr = to_decision_request(req)
    assert dr.purpose_id == BELASTINGEN
    assert dr.role == "kcm"
    assert dr.assurance == "controlevragen"
    assert dr.subject_kind == "kvk"
    assert dr.subject_shielded is True
    assert dr.consented_categories == frozenset({"klant.familie"})
    assert dr.organisation == GEMEENTE
    assert dr.categories == ("dossier.financieel",)


def test_permit_carries_fields_and_sources(engine: CedarPolicyEngine) -> None:
    res = evaluate(engine, EvaluationRequest.model_validate(body("klant.basis")))
    assert res.decision is True
    dumped = res.model_dump(by_alias=True, exclude_none=True)
    assert dumped["context"]["fields"][:3] == ("naam", "verblijfplaats", "adressering")
    assert "geboorte" not in dumped["context"]["fields"]
    assert "brp" in dumped["context"]["sources"]
    assert dumped["context"]["registerVersion"] == engine.register_version
    assert "reason_user" not in dumped["context"]


def test_deny_carries_codes_and_dutch_reason(engine: CedarPolicyEngine) -> None:
    res = evaluate(engine, EvaluationRequest.model_validate(body("dossier.financieel")))
    assert res.decision is False
    ctx = res.model_dump(mode="json", by_alias=True)["context"]
    assert ctx["reason_admin"]["code"] == ReasonCode.ASSURANCE_TOO_LOW
    assert ctx["reason_admin"]["reasons"] == ["ASSURANCE_TOO_LOW"]
    assert ctx["reason_admin"]["policies"] == ["forbid-assurance-too-low"]
    assert "DigiD midden" in ctx["reason_user"]["nl"]
    assert ctx["fields"] == []


def test_unknown_purpose_is_a_deny_not_an_error(engine: CedarPolicyEngine) -> None:
    res = evaluate(engine, EvaluationRequest.model_validate(body(purpose="https://example.org/x")))
    assert res.decision is False
    assert res.context.reason_admin is not None
    assert res.context.reason_admin["code"] == "PURPOSE_UNKNOWN"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (
            lambda b: b["subject"]["properties"].__setitem__("role", "koning"),
            ("subject", "properties", "role"),
        ),
        (lambda b: b["context"].__setitem__("assurance", "paspoort"), ("context", "assurance")),
        (lambda b: b["context"].__setitem__("subjectKind", "iban"), ("context", "subjectKind")),
        (lambda b: b["resource"].__setitem__("type", "document"), ("resource", "type")),
        (lambda b: b["action"].__setitem__("name", "delete"), ("action", "name")),
        (
            lambda b: b["subject"]["properties"].__setitem__("organisation", "42"),
            ("subject", "properties", "organisation"),
        ),
        (lambda b: b["context"].pop("purpose"), ("context", "purpose")),
    ],
)
def test_invalid_values_are_validation_errors_naming_the_field(change: Any, loc: tuple[str, ...]) -> None:
    b = body()
    change(b)
    with pytest.raises(ValidationError) as err:
        EvaluationRequest.model_validate(b)
    assert [tuple(e["loc"]) for e in err.value.errors()] == [loc]


def test_batch_takes_defaults_and_overrides(engine: CedarPolicyEngine) -> None:
    top = body()
    req = EvaluationsRequest.model_validate(
        {
            "subject": top["subject"],
            "action": top["action"],
            "context": top["context"],
            "evaluations": [
                {"resource": {"type": "category", "id": "klant.basis"}},
                {"resource": {"type": "category", "id": "dossier.financieel"}},
                {
                    "resource": {"type": "category", "id": "dossier.financieel"},
                    "context": {"purpose": BELASTINGEN, "assurance": "digid-midden", "channel": "telefoon"},
                },
                {
                    "resource": {"type": "category", "id": "dossier.financieel"},
                    "context": {"purpose": WATERSCHAPSBELASTING, "assurance": "digid-midden"},
                },
            ],
        }
    )
    res = evaluate_many(engine, req)
    assert [e.decision for e in res.evaluations] == [True, False, True, False]
    assert res.evaluations[2].context.sources == ("gemeente-belastingen", "gemeente-boetes")
    assert res.evaluations[3].context.reason_admin is not None
    assert res.evaluations[3].context.reason_admin["code"] == "ORGANISATION_MISMATCH"


def test_batch_equals_single_evaluations(engine: CedarPolicyEngine) -> None:
    categories = ["klant.basis", "dossier.financieel", "klant.familie", "contact.historie", "x.y"]
    top = body()
    many = evaluate_many(
        engine,
        EvaluationsRequest.model_validate(
            {
                **{k: top[k] for k in ("subject", "action", "context")},
                "evaluations": [{"resource": {"type": "category", "id": c}} for c in categories],
            }
        ),
    )
    singles = [evaluate(engine, EvaluationRequest.model_validate(body(c))) for c in categories]
    assert list(many.evaluations) == singles


def test_batch_entry_missing_a_part_names_the_entry() -> None:
    top = body()
    with pytest.raises(ValidationError) as err:
        EvaluationsRequest.model_validate(
            {
                "subject": top["subject"],
                "evaluations": [{"resource": top["resource"], "action": top["action"]}],
            }
        )
    assert ("evaluations", 0, "context") in [tuple(e["loc"]) for e in err.value.errors()]


def test_batch_needs_at_least_one_evaluation() -> None:
    with pytest.raises(ValidationError):
        EvaluationsRequest.model_validate({"evaluations": []})


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("execute_all", [True, False, True]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ],
)
def test_batch_semantics(engine: CedarPolicyEngine, semantic: str, expected: list[bool]) -> None:
    top = body()
    req = EvaluationsRequest.model_validate(
        {
            **{k: top[k] for k in ("subject", "action", "context")},
            "evaluations": [
                {"resource": {"type": "category", "id": c}}
                for c in ("klant.basis", "dossier.financieel", "contact.historie")
            ],
            "options": {"evaluations_semantic": semantic},
        }
    )
    assert [e.decision for e in evaluate_many(engine, req).evaluations] == expected


# -- the answer is for the caller (issue 8 §5) --------------------------------------------------------

WIM = Actor(id="kcm-wim", role=Role.KCM, organisation=WATERSCHAP)
ANNA = Actor(id="kcm-anna", role=Role.KCM, organisation=GEMEENTE)
PORTAAL = Actor(id="pep-portaal", role=Role.PEP, organisation=GEMEENTE)


def _without_organisation(**context: Any) -> dict[str, Any]:
    b = body("dossier.financieel", assurance="digid-hoog", **context)
    del b["subject"]["properties"]["organisation"]
    return b


def test_missing_organisation_is_denied_not_a_wildcard(engine: CedarPolicyEngine) -> None:
    req = EvaluationRequest.model_validate(_without_organisation())
    assert to_decision_request(req).organisation is None
    res = evaluate(engine, req)
    assert res.decision is False
    assert res.context.reason_admin is not None
    assert res.context.reason_admin["code"] == "ORGANISATION_MISMATCH"


def test_the_caller_s_organisation_is_used_when_the_body_names_none(engine: CedarPolicyEngine) -> None:
    req = bind_to_caller(EvaluationRequest.model_validate(_without_organisation()), WIM)
    assert req.subject.properties.organisation == WATERSCHAP
    res = evaluate(engine, req)
    assert res.decision is False  # the water board asks about a municipal purpose
    assert res.context.reason_admin is not None
    assert res.context.reason_admin["code"] == "ORGANISATION_MISMATCH"
    own = bind_to_caller(EvaluationRequest.model_validate(_without_organisation()), ANNA)
    assert evaluate(engine, own).decision is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["subject"]["properties"].__setitem__("role", "behandelaar"), "subject.properties.role"),
        (
            lambda b: b["subject"]["properties"].__setitem__("organisation", GEMEENTE),
            "subject.properties.organisation",
        ),
    ],
)
def test_a_caller_cannot_ask_for_another_role_or_organisation(change: Any, field: str) -> None:
    b = _without_organisation()
    change(b)
    with pytest.raises(SubjectMismatch) as err:
        bind_to_caller(EvaluationRequest.model_validate(b), WIM)
    assert err.value.field == field
    assert err.value.status == 403


def test_a_pep_asks_for_others_as_given(engine: CedarPolicyEngine) -> None:
    b = body("dossier.financieel", assurance="digid-midden")
    b["subject"]["properties"]["role"] = "behandelaar"
    req = EvaluationRequest.model_validate(b)
    assert bind_to_caller(req, PORTAAL) is req
    assert evaluate(engine, req).decision is True
    water = bind_to_caller(EvaluationRequest.model_validate(_without_organisation()), PORTAAL)
    assert water.subject.properties.organisation is None  # not filled in: denied, not a wildcard
    assert evaluate(engine, water).decision is False


def test_batch_is_bound_to_the_caller_per_entry(engine: CedarPolicyEngine) -> None:
    top = _without_organisation()
    other = copy.deepcopy(top["subject"])
    other["properties"]["role"] = "behandelaar"
    data = {
        **{k: top[k] for k in ("subject", "action", "context")},
        "evaluations": [
            {"resource": {"type": "category", "id": "klant.basis"}},
            {"resource": top["resource"], "subject": other},
        ],
    }
    with pytest.raises(SubjectMismatch) as err:
        bind_to_caller(EvaluationsRequest.model_validate(data), ANNA)
    assert err.value.field == "evaluations.1.subject.properties.role"
    first_only = {**data, "evaluations": data["evaluations"][:1]}
    municipal = copy.deepcopy(first_only)
    municipal["subject"]["properties"]["organisation"] = GEMEENTE
    with pytest.raises(SubjectMismatch) as top_err:
        bind_to_caller(EvaluationsRequest.model_validate(municipal), WIM)
    assert top_err.value.field == "subject.properties.organisation"  # the default, as it was sent
    bound = bind_to_caller(EvaluationsRequest.model_validate(first_only), ANNA)
    assert [e.subject.properties.organisation for e in bound.evaluations] == [GEMEENTE]
    assert [e.decision for e in evaluate_many(engine, bound).evaluations] == [True]


def test_channel_is_part_of_the_evaluation(engine: CedarPolicyEngine) -> None:
    chat = EvaluationRequest.model_validate(
        body("dossier.financieel", assurance="digid-midden", channel="chat")
    )
    assert to_decision_request(chat).channel is Kanaal.CHAT
    res = evaluate(engine, chat)
    assert res.decision is False
    assert res.context.reason_admin is not None
    assert res.context.reason_admin["code"] == "CHANNEL_NOT_ALLOWED"
    assert res.context.reason_user is not None
    assert res.context.reason_user["nl"].startswith("Via de chat")
    phone = EvaluationRequest.model_validate(body("dossier.financieel", assurance="digid-midden"))
    assert evaluate(engine, phone).decision is True
    with pytest.raises(ValidationError) as err:
        EvaluationRequest.model_validate(body(channel="fax"))
    assert [tuple(e["loc"]) for e in err.value.errors()] == [("context", "channel")]
