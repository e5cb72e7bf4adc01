"""The precomputed decision table equals Cedar, and the request path never calls Cedar.

Cedar (`decide_uncached`) is the source of truth; `decide` answers from the table that Cedar filled
at start-up (`dgkb.policy.table`). These tests try to find any request on which the two differ:
every purpose of the register (and DGKB's own system purposes, and an unknown one), every role,
assurance, subject kind, organisation (the register's, an unknown one, none), channel, consent to
any set of categories, any subset of categories (and unknown ones).
"""

from __future__ import annotations

import itertools
import json

import cedarpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.policy.decision import DecisionRequest, PolicyEvaluationError
from dgkb.policy.engine import CedarPolicyEngine, load_policy_text
from dgkb.policy.table import PRINCIPAL, DecisionTable, TableBuildError, policy_inputs


@pytest.fixture(scope="module")
def space(register: Register, catalogue: Catalogue) -> dict[str, list[object]]:
    oins = sorted({va.organisatie.oin for va in register.verwerkingsactiviteiten})
    return {
        "purposes": [va.id for va in register.verwerkingsactiviteiten] + ["https://example.org/onbekend"],
        "organisations": [None, *oins, "00000009999999999000", ""],
        "categories": [*catalogue.ids, "onbekend.x"],
    }


def requests(space: dict[str, list[object]]) -> st.SearchStrategy[DecisionRequest]:
    categories = st.sampled_from(space["categories"])
    return st.builds(
        DecisionRequest,
        purpose_id=st.sampled_from(space["purposes"]),
        role=st.sampled_from(list(Role)),
        assurance=st.sampled_from(list(Assurance)),
        subject_kind=st.sampled_from(list(SubjectKind)),
        subject_shielded=st.booleans(),
        consented_categories=st.frozensets(categories, max_size=6),
        objected=st.booleans(),
        organisation=st.sampled_from(space["organisations"]),
        channel=st.sampled_from([None, *Kanaal]),
        categories=st.one_of(st.none(), st.lists(categories, max_size=8).map(tuple)),
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_table_equals_cedar(
    engine: CedarPolicyEngine, space: dict[str, list[object]], data: st.DataObject
) -> None:
    request = data.draw(requests(space))
    assert engine.decide_from_table(request) == engine.decide_uncached(request)


def test_table_equals_cedar_on_every_purpose_role_and_assurance(
    engine: CedarPolicyEngine, register: Register
) -> None:
    """Exhaustive over the dimensions that matter most, on the agent's own organisation."""
    compared = 0
    for va, role, assurance in itertools.product(register.verwerkingsactiviteiten, Role, Assurance):
        request = DecisionRequest(
            purpose_id=va.id,
            role=role,
            assurance=assurance,
            organisation=va.organisatie.oin,
            channel=Kanaal.TELEFOON,
            consented_categories=frozenset(va.toestemmingVereist),
        )
        assert engine.decide_from_table(request) == engine.decide_uncached(request), request
        compared += 1
    assert compared == len(register.verwerkingsactiviteiten) * len(Role) * len(Assurance)


def test_every_channel_on_every_channel_bound_grant(engine: CedarPolicyEngine, register: Register) -> None:
    bound = [
        (va, c)
        for va in register.verwerkingsactiviteiten
        for c, a in va.categorieen.items()
        if a.channel_bound
    ]
    assert bound, "the shipped register restricts at least one grant per channel"
    for (va, category), channel, assurance in itertools.product(bound, [None, *Kanaal], Assurance):
        request = DecisionRequest(
            purpose_id=va.id,
            role=va.rollen[0],
            assurance=assurance,
            organisation=va.organisatie.oin,
            channel=channel,
            categories=(category,),
        )
        assert engine.decide_from_table(request) == engine.decide_uncached(request), request


def test_the_request_path_never_calls_cedar(
    register: Register, catalogue: Catalogue, space: dict[str, list[object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = CedarPolicyEngine(register, catalogue)

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("Cedar called on the request path")

    monkeypatch.setattr(cedarpy, "is_authorized_batch", refuse)
    for purpose in space["purposes"]:
        for role in Role:
            decision = engine.decide(
                DecisionRequest(purpose_id=str(purpose), role=role, assurance=Assurance.DIGID_MIDDEN)
            )
            assert len(decision.categories) == len(catalogue.ids)
    with pytest.raises(AssertionError, match="Cedar called"):
        engine.decide_uncached(
            DecisionRequest(purpose_id=str(space["purposes"][0]), role=Role.KCM, assurance=Assurance.GEEN)
        )


def test_the_table_is_built_once_per_register_and_policy_set(
    register: Register, catalogue: Catalogue
) -> None:
    first = CedarPolicyEngine(register, catalogue)
    assert CedarPolicyEngine(register, catalogue).table is first.table
    other_policies = load_policy_text().replace("// Mirrors the permit", "// (the same rules, other text)")
    assert CedarPolicyEngine(register, catalogue, policies=other_policies).table is not first.table


def _inputs(text: str) -> dict[str, frozenset[str]]:
    parsed = json.loads(cedarpy.policies_to_json_str(text))
    return {body["annotations"]["id"]: policy_inputs(body) for body in parsed["staticPolicies"].values()}


def test_the_inputs_of_each_policy_are_read_off_the_policy_itself() -> None:
    inputs = _inputs(load_policy_text())
    assert inputs["permit-category-in-purpose"] == frozenset()
    assert inputs["forbid-role-not-allowed"] == {PRINCIPAL}
    assert inputs["forbid-assurance-too-low"] == {"assuranceRank"}
    assert inputs["forbid-consent-required"] == {"consented"}
    assert inputs["forbid-subject-shielded"] == {"shielded"}
    assert inputs["forbid-subject-kind-not-applicable"] == {"subjectKind"}
    assert inputs["forbid-organisation-mismatch"] == {"organisation"}
    assert inputs["forbid-channel-not-allowed"] == {"channelRule", "assuranceRank"}
    assert inputs["forbid-objection"] == {"objected"}
    # a principal constrained in the scope is an input too
    scoped = '@id("x") forbid (principal == Dgkb::Role::"burger", action, resource);'
    assert _inputs(scoped)["x"] == {PRINCIPAL}


def test_a_policy_the_table_cannot_enumerate_is_refused() -> None:
    scoped = '@id("x") forbid (principal, action, resource == Dgkb::Category::"klant.basis");'
    parsed = json.loads(cedarpy.policies_to_json_str(scoped))
    with pytest.raises(TableBuildError):
        policy_inputs(next(iter(parsed["staticPolicies"].values())))


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(load_policy_text().split("// Mirrors the permit")[0], id="permit-only"),
        pytest.param(
            load_policy_text().replace(
                '@id("permit-category-in-purpose")\npermit', '@id("forbid-category-not-in-purpose")\nforbid'
            ),
            id="forbids-only",
        ),
    ],
)
def other_engine(
    register: Register, catalogue: Catalogue, request: pytest.FixtureRequest
) -> CedarPolicyEngine:
    return CedarPolicyEngine(register, catalogue, policies=request.param)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_other_policy_sets_also_equal_cedar(
    other_engine: CedarPolicyEngine, space: dict[str, list[object]], data: st.DataObject
) -> None:
    request = data.draw(requests(space))
    assert other_engine.decide_from_table(request) == other_engine.decide_uncached(request)


def test_an_evaluation_error_in_the_table_fails_closed_at_decision_time(
    register: Register, catalogue: Catalogue
) -> None:
    overflow = load_policy_text().replace(
        "context.shielded && !context.purpose.shieldingAllowed",
        "context.assuranceRank + 9223372036854775807 > 1 && !context.purpose.shieldingAllowed",
    )
    engine = CedarPolicyEngine(register, catalogue, policies=overflow)  # builds: errors are kept
    request = DecisionRequest(
        purpose_id=register.verwerkingsactiviteiten[0].id, role=Role.KCM, assurance=Assurance.DIGID_MIDDEN
    )
    with pytest.raises(PolicyEvaluationError):
        engine.decide(request)
    with pytest.raises(PolicyEvaluationError):
        engine.decide_uncached(request)


def test_the_table_is_filled_by_cedar_a_few_thousand_times(engine: CedarPolicyEngine) -> None:
    # the factorisation is what makes a whole table affordable at start-up
    assert isinstance(engine.table, DecisionTable)
    assert 0 < engine.table.evaluations < 20_000
