"""The Cedar policy engine over the shipped register: reasons, purpose binding, cache."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.policy.decision import CategoryDecision, DecisionRequest, PolicyEngine, ReasonCode
from dgkb.policy.engine import (
    POLICY_REASONS,
    REASON_ORDER,
    CedarPolicyEngine,
    PolicyEvaluationError,
    load_policy_text,
)

GEMEENTE = "00000001001234567000"
WATERSCHAP = "00000001009876543000"
G = "https://register.voorbeeldstad.nl/verwerkingen/"
KCC_ID = G + "kcc-identificatie"
ALGEMEEN = G + "kcc-algemene-vraag"
LOPEND = G + "vraag-lopende-zaak"
BELASTINGEN = G + "gemeentelijke-belastingen"
WMO = G + "wmo-aanvraag"
MIJN = G + "mijn-omgeving"
WATERSCHAPSBELASTING = "https://register.voorbeeldwaarden.nl/verwerkingen/waterschapsbelasting"


def req(purpose: str = ALGEMEEN, **kw: object) -> DecisionRequest:
    base: dict[str, object] = {
        "role": Role.KCM,
        "assurance": Assurance.CONTROLEVRAGEN,
        "organisation": GEMEENTE,
        "channel": Kanaal.TELEFOON,
    }
    base.update(kw)
    return DecisionRequest(purpose_id=purpose, **base)  # type: ignore[arg-type]


def one(
    engine: CedarPolicyEngine, category: str, purpose: str = ALGEMEEN, **kw: object
) -> tuple[ReasonCode, ...]:
    decision = engine.decide_uncached(req(purpose, categories=(category,), **kw))
    (cd,) = decision.categories
    assert cd.category == category
    return cd.reasons


def test_engine_fits_the_protocol(engine: CedarPolicyEngine) -> None:
    protocol_engine: PolicyEngine = engine
    assert protocol_engine.decide(req()).purpose_id == ALGEMEEN


def test_permitted_categories_carry_register_fields_and_sources(
    engine: CedarPolicyEngine, register: Register
) -> None:
    decision = engine.decide_uncached(req(ALGEMEEN))
    basis = decision.for_category("klant.basis")
    assert basis is not None
    assert basis.permitted
    access = register.get(ALGEMEEN).categorieen["klant.basis"]  # type: ignore[union-attr]
    assert basis.fields == access.velden
    assert basis.sources == access.bronnen
    assert "geboorte" not in basis.fields
    assert basis.reasons == ()
    assert basis.explanation is None
    assert basis.policy_ids == ("permit-category-in-purpose",)
    historie = decision.for_category("contact.historie")
    assert historie is not None
    assert historie.permitted
    assert historie.fields == (
        "nummer",
        "kanaal",
        "onderwerp",
        "inhoud",
        "indicatieContactGelukt",
        "plaatsgevondenOp",
        "zaken",
    )  # all catalogue fields
    assert historie.sources is None
    assert decision.register_version == engine.register.fingerprint
    assert {c.category for c in decision.permitted} == {
        "klant.basis",
        "klant.contactgegevens",
        "klant.voorkeurskanaal",
        "contact.historie",
        "contact.open-verzoeken",
    }


def test_no_categories_means_every_catalogue_category(
    engine: CedarPolicyEngine, catalogue: Catalogue
) -> None:
    decision = engine.decide_uncached(req(ALGEMEEN))
    assert tuple(c.category for c in decision.categories) == catalogue.ids


def test_identification_works_without_assurance(engine: CedarPolicyEngine) -> None:
    decision = engine.decide(req(KCC_ID, assurance=Assurance.GEEN, categories=("klant.basis",)))
    (basis,) = decision.categories
    assert basis.permitted
    assert basis.fields[:4] == ("burgerservicenummer", "naam", "geboorte", "verblijfplaats")


# -- every reason is reachable ---------------------------------------------------------------------


def test_purpose_unknown_denies_every_category(engine: CedarPolicyEngine, catalogue: Catalogue) -> None:
    decision = engine.decide_uncached(req("https://example.org/onbekend"))
    assert len(decision.categories) == len(catalogue.ids)
    assert all(c.reasons == (ReasonCode.PURPOSE_UNKNOWN,) for c in decision.categories)
    assert all(not c.permitted and c.explanation for c in decision.categories)


def test_category_unknown(engine: CedarPolicyEngine) -> None:
    assert one(engine, "klant.schoenmaat") == (ReasonCode.CATEGORY_UNKNOWN,)
    decision = engine.decide_uncached(req("https://example.org/onbekend", categories=("klant.schoenmaat",)))
    assert decision.categories[0].reasons == (ReasonCode.PURPOSE_UNKNOWN, ReasonCode.CATEGORY_UNKNOWN)


def test_category_not_in_purpose(engine: CedarPolicyEngine) -> None:
    assert one(engine, "dossier.financieel", ALGEMEEN) == (ReasonCode.CATEGORY_NOT_IN_PURPOSE,)


def test_role_not_allowed(engine: CedarPolicyEngine) -> None:
    assert one(engine, "klant.basis", ALGEMEEN, role=Role.BEHANDELAAR) == (ReasonCode.ROLE_NOT_ALLOWED,)
    # kcm may use the Wmo purpose, but not the income category (category-level roles).
    reasons = one(
        engine,
        "klant.werk-en-inkomen",
        WMO,
        assurance=Assurance.DIGID_MIDDEN,
        consented_categories=frozenset({"klant.werk-en-inkomen"}),
    )
    assert reasons == (ReasonCode.ROLE_NOT_ALLOWED,)


def test_assurance_too_low_per_category(engine: CedarPolicyEngine) -> None:
    decision = engine.decide_uncached(req(BELASTINGEN))
    basis = decision.for_category("klant.basis")
    financieel = decision.for_category("dossier.financieel")
    assert basis is not None
    assert basis.permitted
    assert financieel is not None
    assert financieel.reasons == (ReasonCode.ASSURANCE_TOO_LOW,)
    assert financieel.explanation is not None
    assert "controlevragen onvoldoende" in financieel.explanation
    assert "DigiD (minimaal DigiD midden)" in financieel.explanation
    assert one(engine, "dossier.financieel", BELASTINGEN, assurance=Assurance.DIGID_MIDDEN) == ()
    assert one(engine, "dossier.financieel", BELASTINGEN, assurance=Assurance.EHERKENNING_EH2PLUS) == ()


def test_assurance_too_low_per_purpose(engine: CedarPolicyEngine) -> None:
    assert one(engine, "klant.basis", ALGEMEEN, assurance=Assurance.GEEN) == (ReasonCode.ASSURANCE_TOO_LOW,)
    # Mijn omgeving: DigiD Basis shows one's own name, but money needs Midden (a category's minimum)
    assert one(engine, "klant.basis", MIJN, role=Role.BURGER, assurance=Assurance.DIGID_BASIS) == ()
    assert one(engine, "dossier.financieel", MIJN, role=Role.BURGER, assurance=Assurance.DIGID_BASIS) == (
        ReasonCode.ASSURANCE_TOO_LOW,
    )
    assert one(engine, "klant.basis", MIJN, role=Role.BURGER, assurance=Assurance.CONTROLEVRAGEN) == (
        ReasonCode.ASSURANCE_TOO_LOW,
    )


def test_consent_required_and_withdrawn(engine: CedarPolicyEngine) -> None:
    base = {"role": Role.BEHANDELAAR, "assurance": Assurance.DIGID_MIDDEN}
    given_consent = frozenset({"klant.werk-en-inkomen", "klant.familie"})
    assert one(engine, "klant.werk-en-inkomen", WMO, consented_categories=given_consent, **base) == ()
    withdrawn = given_consent - {"klant.werk-en-inkomen"}
    assert one(engine, "klant.werk-en-inkomen", WMO, consented_categories=withdrawn, **base) == (
        ReasonCode.CONSENT_REQUIRED,
    )
    before = engine.decide(req(WMO, consented_categories=given_consent, **base))
    assert "klant.werk-en-inkomen" in {c.category for c in before.permitted}  # via the cache
    after = engine.decide(req(WMO, consented_categories=withdrawn, **base)).for_category(
        "klant.werk-en-inkomen"
    )
    assert after is not None
    assert after.reasons == (ReasonCode.CONSENT_REQUIRED,)
    assert after.explanation is not None
    assert "vraag toestemming en leg die vast" in after.explanation


def test_subject_shielded(engine: CedarPolicyEngine) -> None:
    assert one(engine, "klant.basis", ALGEMEEN, subject_shielded=True) == (ReasonCode.SUBJECT_SHIELDED,)
    # purposes that may process shielded persons: identification, Wmo handling, the person's own view
    assert one(engine, "klant.basis", KCC_ID, subject_shielded=True) == ()
    assert (
        one(
            engine,
            "klant.basis",
            MIJN,
            role=Role.BURGER,
            assurance=Assurance.DIGID_MIDDEN,
            subject_shielded=True,
        )
        == ()
    )


def test_subject_kind_not_applicable(engine: CedarPolicyEngine) -> None:
    reasons = one(engine, "klant.familie", WMO, role=Role.BEHANDELAAR, subject_kind=SubjectKind.KVK)
    assert reasons == (ReasonCode.SUBJECT_KIND_NOT_APPLICABLE,)
    assert one(engine, "klant.contactgegevens", ALGEMEEN, subject_kind=SubjectKind.KVK) == ()


def test_organisation_mismatch(engine: CedarPolicyEngine) -> None:
    assert one(engine, "klant.basis", WATERSCHAPSBELASTING, organisation=GEMEENTE) == (
        ReasonCode.ORGANISATION_MISMATCH,
    )
    assert one(engine, "klant.basis", WATERSCHAPSBELASTING, organisation=WATERSCHAP) == ()


def test_missing_organisation_is_a_deny_not_a_wildcard(engine: CedarPolicyEngine) -> None:
    # issue 8 §5: a request without an organisation used to be permitted for any organisation
    for purpose, category in ((WATERSCHAPSBELASTING, "klant.basis"), (ALGEMEEN, "klant.basis")):
        decision = engine.decide_uncached(req(purpose, categories=(category,), organisation=None))
        (cd,) = decision.categories
        assert not cd.permitted
        assert cd.reasons == (ReasonCode.ORGANISATION_MISMATCH,)
        assert cd.policy_ids == ("forbid-organisation-mismatch",)
        assert cd.explanation is not None
        assert "noemt geen organisatie" in cd.explanation
    # the municipal tax purpose with the highest assurance: still nothing without an organisation
    financieel = engine.decide(
        req(
            BELASTINGEN, assurance=Assurance.DIGID_HOOG, organisation=None, categories=("dossier.financieel",)
        )
    )
    assert financieel.permitted == ()


# -- kanaalinzet: the channel is part of the decision (issue 8 §9) -----------------------------------


def _category(engine: CedarPolicyEngine, category: str, purpose: str, **kw: object) -> CategoryDecision:
    (cd,) = engine.decide_uncached(req(purpose, categories=(category,), **kw)).categories
    return cd


def test_financial_data_over_chat_needs_a_stronger_login(engine: CedarPolicyEngine) -> None:
    midden = {"assurance": Assurance.DIGID_MIDDEN}
    assert _category(engine, "dossier.financieel", BELASTINGEN, channel=Kanaal.TELEFOON, **midden).permitted
    for channel in (Kanaal.CHAT, Kanaal.EMAIL):
        denied = _category(engine, "dossier.financieel", BELASTINGEN, channel=channel, **midden)
        assert not denied.permitted
        assert denied.reasons == (ReasonCode.CHANNEL_NOT_ALLOWED,)
        assert denied.policy_ids == ("forbid-channel-not-allowed",)
        assert denied.explanation is not None
        assert "is DigiD midden onvoldoende voor belastingaanslagen" in denied.explanation
        assert "DigiD (minimaal DigiD substantieel)" in denied.explanation
        assert denied.explanation.startswith("Via ")
    chat = _category(
        engine, "dossier.financieel", BELASTINGEN, channel=Kanaal.CHAT, assurance=Assurance.DIGID_SUBSTANTIEEL
    )
    assert chat.permitted
    # the rest of the purpose is not channel-bound
    assert _category(engine, "klant.basis", BELASTINGEN, channel=Kanaal.CHAT).permitted


def test_financial_data_never_over_social_media(engine: CedarPolicyEngine) -> None:
    denied = _category(
        engine, "dossier.financieel", BELASTINGEN, channel=Kanaal.SOCIAL_MEDIA, assurance=Assurance.DIGID_HOOG
    )
    assert denied.reasons == (ReasonCode.CHANNEL_NOT_ALLOWED,)
    assert denied.explanation is not None
    assert "wordt niet getoond via sociale media (alleen via de telefoon, de balie" in denied.explanation


def test_special_categories_not_at_the_public_counter(engine: CedarPolicyEngine) -> None:
    base: dict[str, object] = {
        "role": Role.BEHANDELAAR,
        "assurance": Assurance.DIGID_MIDDEN,
        "consented_categories": frozenset({"klant.werk-en-inkomen"}),
    }
    for category in ("klant.werk-en-inkomen", "klant.familie"):
        assert _category(engine, category, WMO, channel=Kanaal.TELEFOON, **base).permitted
        balie = _category(engine, category, WMO, channel=Kanaal.BALIE, **base)
        assert balie.reasons == (ReasonCode.CHANNEL_NOT_ALLOWED,)
        assert balie.explanation is not None
        assert "wordt niet getoond via de balie" in balie.explanation
    assert _category(engine, "klant.basis", WMO, channel=Kanaal.BALIE, **base).permitted


def test_unknown_channel_gets_the_strictest_rule(engine: CedarPolicyEngine) -> None:
    denied = _category(
        engine, "dossier.financieel", BELASTINGEN, channel=None, assurance=Assurance.DIGID_HOOG
    )
    assert denied.reasons == (ReasonCode.CHANNEL_NOT_ALLOWED,)
    assert denied.explanation is not None
    assert "kanaal van dit contact is onbekend" in denied.explanation
    assert _category(engine, "klant.basis", BELASTINGEN, channel=None).permitted


def test_channel_comes_before_assurance(engine: CedarPolicyEngine) -> None:
    reasons = one(engine, "dossier.financieel", BELASTINGEN, channel=Kanaal.CHAT)
    assert reasons == (ReasonCode.CHANNEL_NOT_ALLOWED, ReasonCode.ASSURANCE_TOO_LOW)


def test_channel_is_part_of_the_cache_key(register: Register, catalogue: Catalogue) -> None:
    engine = CedarPolicyEngine(register, catalogue)
    by_phone = req(BELASTINGEN, assurance=Assurance.DIGID_MIDDEN, categories=("dossier.financieel",))
    assert engine.decide(by_phone).categories[0].permitted
    by_chat = dataclasses.replace(by_phone, channel=Kanaal.CHAT)
    assert not engine.decide(by_chat).categories[0].permitted
    assert engine.cache_info().misses == 2


def test_every_reason_code_is_reachable_and_ordered() -> None:
    assert set(REASON_ORDER) == set(ReasonCode)
    assert set(POLICY_REASONS.values()) | {ReasonCode.PURPOSE_UNKNOWN, ReasonCode.CATEGORY_UNKNOWN} == set(
        ReasonCode
    )


def test_all_reasons_are_collected_most_actionable_first(engine: CedarPolicyEngine) -> None:
    reasons = one(
        engine,
        "klant.werk-en-inkomen",
        WMO,
        role=Role.KCM,
        assurance=Assurance.CONTROLEVRAGEN,
        subject_kind=SubjectKind.KVK,
        organisation=WATERSCHAP,
    )
    assert reasons == (
        ReasonCode.ORGANISATION_MISMATCH,
        ReasonCode.SUBJECT_KIND_NOT_APPLICABLE,
        ReasonCode.ROLE_NOT_ALLOWED,
        ReasonCode.ASSURANCE_TOO_LOW,
        ReasonCode.CONSENT_REQUIRED,
    )
    # choosing the right purpose comes before asking for DigiD
    assert one(engine, "dossier.financieel", ALGEMEEN, assurance=Assurance.GEEN) == (
        ReasonCode.CATEGORY_NOT_IN_PURPOSE,
        ReasonCode.ASSURANCE_TOO_LOW,
    )


# -- deny by default ---------------------------------------------------------------------------------


def test_without_the_permit_nothing_is_permitted(register: Register, catalogue: Catalogue) -> None:
    forbids_only = load_policy_text().replace(
        '@id("permit-category-in-purpose")\npermit', '@id("forbid-category-not-in-purpose")\nforbid'
    )
    assert "permit (" not in forbids_only
    engine = CedarPolicyEngine(register, catalogue, policies=forbids_only)
    decision = engine.decide_uncached(req(ALGEMEEN))
    assert decision.permitted == ()


def test_with_only_the_permit_a_foreign_category_is_still_denied(
    register: Register, catalogue: Catalogue
) -> None:
    permit_only = load_policy_text().split("// Mirrors the permit")[0]
    engine = CedarPolicyEngine(register, catalogue, policies=permit_only)
    decision = engine.decide_uncached(req(ALGEMEEN, categories=("dossier.financieel", "klant.basis")))
    financieel, basis = decision.categories
    assert financieel.reasons == (ReasonCode.CATEGORY_NOT_IN_PURPOSE,)
    assert financieel.policy_ids == ()
    assert basis.permitted


def test_policies_without_id_are_refused(register: Register, catalogue: Catalogue) -> None:
    with pytest.raises(PolicyEvaluationError):
        CedarPolicyEngine(register, catalogue, policies="permit (principal, action, resource);")
    with pytest.raises(PolicyEvaluationError):
        CedarPolicyEngine(
            register, catalogue, policies='@id("iets-anders") forbid (principal, action, resource);'
        )


def test_policies_that_do_not_fit_the_schema_are_refused(register: Register, catalogue: Catalogue) -> None:
    broken = load_policy_text() + (
        '\n@id("forbid-subject-shielded")\n'
        "forbid (principal, action, resource) when { context.nietBestaand };\n"
    )
    with pytest.raises(PolicyEvaluationError, match="schema"):
        CedarPolicyEngine(register, catalogue, policies=broken)


def test_cedar_evaluation_errors_fail_closed(register: Register, catalogue: Catalogue) -> None:
    # Type-correct but overflows at run time: Cedar skips an erroring policy, we refuse to decide.
    overflow = load_policy_text().replace(
        "context.shielded && !context.purpose.shieldingAllowed",
        "context.assuranceRank + 9223372036854775807 > 1 && !context.purpose.shieldingAllowed",
    )
    engine = CedarPolicyEngine(register, catalogue, policies=overflow)
    with pytest.raises(PolicyEvaluationError, match="Cedar-fout"):
        engine.decide_uncached(req(ALGEMEEN))


# -- the start guide's water board example ----------------------------------------------------------

requests = st.builds(
    DecisionRequest,
    purpose_id=st.sampled_from(
        [
            ALGEMEEN,
            LOPEND,
            BELASTINGEN,
            WMO,
            MIJN,
            KCC_ID,
            WATERSCHAPSBELASTING,
            "https://example.org/onbekend",
        ]
    ),
    role=st.sampled_from(list(Role)),
    assurance=st.sampled_from(list(Assurance)),
    subject_kind=st.sampled_from(list(SubjectKind)),
    subject_shielded=st.booleans(),
    consented_categories=st.frozensets(st.sampled_from(["klant.werk-en-inkomen", "klant.familie", "x.y"])),
    organisation=st.sampled_from([None, GEMEENTE, WATERSCHAP]),
    channel=st.sampled_from([None, *Kanaal]),
    categories=st.one_of(
        st.none(),
        st.lists(
            st.sampled_from(
                [
                    "klant.basis",
                    "dossier.financieel",
                    "dossier.rechten-en-plichten",
                    "klant.werk-en-inkomen",
                    "klant.familie",
                    "contact.historie",
                    "onbekend.x",
                ]
            ),
            max_size=5,
        ).map(tuple),
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_water_board_never_sees_municipal_dossier_data(
    engine: CedarPolicyEngine, request: DecisionRequest
) -> None:
    request = dataclasses.replace(request, purpose_id=WATERSCHAPSBELASTING)
    decision = engine.decide(request)
    for cd in decision.permitted:
        assert cd.category in {"klant.basis", "klant.contactgegevens", "dossier.financieel"}
        assert cd.sources is not None
        assert not any(s.startswith("gemeente-") for s in cd.sources)
        if cd.category == "dossier.financieel":
            assert cd.sources == ("waterschap-belastingen",)


def test_water_board_call_permits_its_own_levies_only(engine: CedarPolicyEngine) -> None:
    decision = engine.decide_uncached(
        req(WATERSCHAPSBELASTING, assurance=Assurance.DIGID_MIDDEN, organisation=WATERSCHAP)
    )
    permitted = {c.category: c for c in decision.permitted}
    assert set(permitted) == {"klant.basis", "klant.contactgegevens", "dossier.financieel"}
    assert permitted["dossier.financieel"].sources == ("waterschap-belastingen",)
    rechten = decision.for_category("dossier.rechten-en-plichten")
    assert rechten is not None
    assert rechten.explanation is not None
    assert "hoort niet bij het doel 'Waterschapsbelasting'" in rechten.explanation


# -- batch, cache ------------------------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_batch_equals_individual(engine: CedarPolicyEngine, request: DecisionRequest) -> None:
    batch = engine.decide_uncached(request)
    for cd in batch.categories:
        single = engine.decide_uncached(dataclasses.replace(request, categories=(cd.category,)))
        assert single.categories == (cd,)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_cached_equals_uncached(engine: CedarPolicyEngine, request: DecisionRequest) -> None:
    assert engine.decide(request) == engine.decide_uncached(request)
    assert engine.decide(request) == engine.decide_uncached(request)  # second time from the cache


def test_cache_is_bounded_and_hits(register: Register, catalogue: Catalogue) -> None:
    engine = CedarPolicyEngine(register, catalogue, cache_size=2)
    for purpose in (ALGEMEEN, LOPEND, WMO, ALGEMEEN):
        engine.decide(req(purpose))
    info = engine.cache_info()
    assert info.currsize == 2
    engine.decide(req(ALGEMEEN))
    assert engine.cache_info().hits == info.hits + 1
    engine.cache_clear()
    assert engine.cache_info().currsize == 0


def test_irrelevant_consent_shares_a_cache_entry(register: Register, catalogue: Catalogue) -> None:
    engine = CedarPolicyEngine(register, catalogue)
    engine.decide(req(ALGEMEEN))
    engine.decide(req(ALGEMEEN, consented_categories=frozenset({"klant.werk-en-inkomen"})))
    assert engine.cache_info().hits == 1


def test_duplicate_categories_are_decided_once(engine: CedarPolicyEngine) -> None:
    decision = engine.decide_uncached(req(ALGEMEEN, categories=("klant.basis", "klant.basis")))
    assert len(decision.categories) == 1
