"""The policy decision point: Cedar over entities built from the register, deny by default.

`CedarPolicyEngine.decide` answers, per category, whether this purpose / role / organisation /
channel / assurance / consent situation may read it, with all denial reasons and a Dutch
explanation. A decision is a pure function of its inputs (no personal data among them) and of the
register version, so the request path never waits for Cedar: at start-up Cedar fills the whole
decision table (`table.py`, memoised per register and policy set for the process), `decide` composes
a decision from it and memoises that in a bounded LRU. `decide_uncached` asks Cedar live (all
categories of a request in one batch call): the source of truth the table is tested against, and
what the benchmark compares with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import cedarpy

from dgkb.domain.catalogue import Catalogue
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.policy.decision import (
    CategoryDecision,
    Decision,
    DecisionRequest,
    PolicyEvaluationError,
    ReasonCode,
)
from dgkb.policy.entities import (
    ACTION,
    SCHEMA,
    build_entities,
    category_uid,
    channel_rule_uid,
    entity_ref,
    grant_uid,
    purpose_uid,
    role_uid,
)
from dgkb.policy.explanations import ExplanationContext, explain
from dgkb.policy.table import DecisionTable
from dgkb.telemetry.metrics import DECISIONS

__all__ = [
    "POLICY_REASONS",
    "REASON_ORDER",
    "CedarPolicyEngine",
    "PolicyEvaluationError",
    "load_policy_text",
]

# @id of each forbid policy in policies.cedar → the reason it stands for.
POLICY_REASONS: Final[dict[str, ReasonCode]] = {
    "forbid-category-not-in-purpose": ReasonCode.CATEGORY_NOT_IN_PURPOSE,
    "forbid-role-not-allowed": ReasonCode.ROLE_NOT_ALLOWED,
    "forbid-assurance-too-low": ReasonCode.ASSURANCE_TOO_LOW,
    "forbid-consent-required": ReasonCode.CONSENT_REQUIRED,
    "forbid-subject-shielded": ReasonCode.SUBJECT_SHIELDED,
    "forbid-subject-kind-not-applicable": ReasonCode.SUBJECT_KIND_NOT_APPLICABLE,
    "forbid-organisation-mismatch": ReasonCode.ORGANISATION_MISMATCH,
    "forbid-channel-not-allowed": ReasonCode.CHANNEL_NOT_ALLOWED,
    "forbid-objection": ReasonCode.OBJECTION,
}
PERMIT_POLICY: Final = "permit-category-in-purpose"

# Most actionable first: reasons[0] is the step to take first, since resolving a later reason
# cannot help while an earlier one stands (choose the right purpose before asking for DigiD, verify
# the identity before asking consent). Reasons nobody can resolve in this contact (geheimhouding,
# a business has no family) come before the ones the agent can resolve. The channel comes before
# the assurance: on a channel that may not show the category no login helps, and a channel's own
# minimum already names the login it needs.
REASON_ORDER: Final[tuple[ReasonCode, ...]] = (
    ReasonCode.PURPOSE_UNKNOWN,
    ReasonCode.CATEGORY_UNKNOWN,
    ReasonCode.ORGANISATION_MISMATCH,
    ReasonCode.CATEGORY_NOT_IN_PURPOSE,
    ReasonCode.SUBJECT_KIND_NOT_APPLICABLE,
    ReasonCode.SUBJECT_SHIELDED,
    ReasonCode.OBJECTION,
    ReasonCode.ROLE_NOT_ALLOWED,
    ReasonCode.CHANNEL_NOT_ALLOWED,
    ReasonCode.ASSURANCE_TOO_LOW,
    ReasonCode.CONSENT_REQUIRED,
)
_RANK: Final = {code: i for i, code in enumerate(REASON_ORDER)}

DEFAULT_CACHE_SIZE: Final = 4096

# The decision table per (entities, policy text) fingerprint: every app built in one process over the
# same register (tests build hundreds) shares one table. Bounded: a register change adds one entry.
_TABLES: dict[str, DecisionTable] = {}
_TABLES_LOCK = threading.Lock()
_TABLES_MAX: Final = 8
CATEGORY_MEMO_MAX: Final = 100_000

Evaluate = Callable[
    [DecisionRequest, Verwerkingsactiviteit, list[str]], dict[str, tuple[bool, tuple[str, ...]]]
]


def _table_for(
    register: Register, catalogue: Catalogue, text: str, entities_json: str, entities: Any
) -> DecisionTable:
    key = hashlib.sha256(f"{entities_json}\x00{text}".encode()).hexdigest()
    with _TABLES_LOCK:
        table = _TABLES.get(key)
        if table is None:
            table = DecisionTable(register, catalogue, text, entities)
            if len(_TABLES) >= _TABLES_MAX:
                _TABLES.pop(next(iter(_TABLES)))
            _TABLES[key] = table
        return table


def load_policy_text() -> str:
    """The fixed policy set shipped with the package (`policies.cedar`)."""
    return resources.files("dgkb.policy").joinpath("policies.cedar").read_text(encoding="utf-8")


def _policy_ids(policy_text: str) -> dict[str, str]:
    """Cedar's positional ids (policy0, …) → our @id annotations; every policy must have one."""
    parsed = json.loads(cedarpy.policies_to_json_str(policy_text))
    ids: dict[str, str] = {}
    for cedar_id, body in parsed["staticPolicies"].items():
        annotation = body.get("annotations", {}).get("id")
        if not annotation:
            raise PolicyEvaluationError(f"policy {cedar_id} heeft geen @id-annotatie")
        ids[cedar_id] = annotation
    unknown = set(ids.values()) - set(POLICY_REASONS) - {PERMIT_POLICY}
    if unknown:
        raise PolicyEvaluationError(f"onbekende policy-id's zonder reden: {sorted(unknown)}")
    return ids


def order_reasons(reasons: set[ReasonCode]) -> tuple[ReasonCode, ...]:
    """Sort denial reasons most actionable first (see REASON_ORDER)."""
    return tuple(sorted(reasons, key=_RANK.__getitem__))


class CedarPolicyEngine:
    """PolicyEngine over one register version; build a new one when the register changes."""

    def __init__(
        self,
        register: Register,
        catalogue: Catalogue,
        *,
        policies: str | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.register = register
        self.catalogue = catalogue
        self.register_version = register.fingerprint
        # DGKB's own tasks (`systeemtaak`) read within an employee's decision, never by one of their
        # own: to the PDP they are unknown purposes, so nothing is ever permitted under them
        self._purposes = {va.id: va for va in register.verwerkingsactiviteiten if va.systeemtaak is None}
        self._categories = catalogue.by_id
        self._all_categories = catalogue.ids
        text = policies if policies is not None else load_policy_text()
        self._policy_ids = _policy_ids(text)
        validation = cedarpy.validate_policies(text, SCHEMA)
        if not validation.validation_passed:  # fail at start-up, not at the first request
            raise PolicyEvaluationError(f"policies passen niet bij het schema: {validation.errors}")
        self._policies = cedarpy.PolicySet.from_str(text)
        entities_json = json.dumps(build_entities(register, catalogue))
        self._entities = cedarpy.Entities.from_json_str(entities_json, schema=SCHEMA)
        # Kanaalinzet: the grants the register restricts per channel; only they get a channel rule.
        self._channel_bound = frozenset(
            (va.id, c)
            for va in register.verwerkingsactiviteiten
            for c, a in va.categorieen.items()
            if a.channel_bound
        )
        self.table = _table_for(register, catalogue, text, entities_json, self._entities)
        self._category_memo: dict[tuple[Any, ...], CategoryDecision] = {}
        # functools' LRU is bounded, C-implemented and safe to call from several threads.
        self._cached = lru_cache(maxsize=cache_size)(self._decide_key)
        self._cache_size = cache_size
        self._counted: dict[int, tuple[Decision, tuple[tuple[Any, int], ...]]] = {}

    # -- public -------------------------------------------------------------------------------

    def decide(self, request: DecisionRequest) -> Decision:
        """Decide per category from the decision table, memoised on the decision inputs (no
        personal data in the key). Counted in `dgkb_policy_decisions_total`."""
        decision = self._cached(self._cache_key(request))
        entry = self._counted.get(id(decision))
        if entry is None or entry[0] is not decision:
            entry = self._count_of(decision)
        for child, n in entry[1]:
            child.inc(n)
        return decision

    def _count_of(self, decision: Decision) -> tuple[Decision, tuple[tuple[Any, int], ...]]:
        """What one decision adds to the metrics, per (result, first reason): worked out once per
        memoised decision, so a request pays an increment per distinct outcome, not per category."""
        tally = Counter(
            ("permit", "") if c.permitted else ("deny", c.reason.value if c.reason else "")
            for c in decision.categories
        )
        entry = (decision, tuple((DECISIONS.labels(*key), n) for key, n in tally.items()))
        if len(self._counted) >= self._cache_size:  # bounded like the decision memo
            self._counted.clear()
        self._counted[id(decision)] = entry  # the decision is kept in the entry: its id stays its own
        return entry

    def decide_from_table(self, request: DecisionRequest) -> Decision:
        """Decide per category from the precomputed table (what `decide` memoises)."""
        return self._decide(request, self.table.evaluate, self._category_memo)

    def decide_uncached(self, request: DecisionRequest) -> Decision:
        """Decide per category by asking Cedar now (one batch call for all categories)."""
        return self._decide(request, self._evaluate)

    def _decide(
        self,
        request: DecisionRequest,
        evaluate: Evaluate,
        memo: dict[tuple[Any, ...], CategoryDecision] | None = None,
    ) -> Decision:
        categories = _unique(request.categories if request.categories is not None else self._all_categories)
        purpose = self._purposes.get(request.purpose_id)
        if purpose is None:  # no Cedar call needed: nothing can be permitted
            return self._decision(
                request,
                [self._denied(request, c, None, self._unknown_purpose_reasons(c), ()) for c in categories],
            )
        known = [c for c in categories if c in self._categories]
        results = evaluate(request, purpose, known) if known else {}
        decisions: list[CategoryDecision] = []
        for category_id in categories:
            if category_id not in self._categories:
                unknown = {ReasonCode.CATEGORY_UNKNOWN}
                decisions.append(self._denied(request, category_id, purpose, unknown, ()))
                continue
            # Everything a category's decision (and its explanation) depends on; consent to other
            # categories does not. Building explanations is most of a decision's cost.
            memo_key = (
                request.purpose_id,
                category_id,
                request.role,
                request.assurance,
                request.subject_kind,
                request.subject_shielded,
                request.organisation,
                request.channel,
                category_id in request.consented_categories,
                request.objected,
            )
            decided = memo.get(memo_key) if memo is not None else None
            if decided is None:
                decided = self._category(request, purpose, category_id, *results[category_id])
                if memo is not None:
                    if len(memo) >= CATEGORY_MEMO_MAX:
                        memo.clear()
                    memo[memo_key] = decided
            decisions.append(decided)
        return self._decision(request, decisions)

    def _category(
        self,
        request: DecisionRequest,
        purpose: Verwerkingsactiviteit,
        category_id: str,
        allowed: bool,
        policy_ids: tuple[str, ...],
    ) -> CategoryDecision:
        if allowed:
            return self._permitted(purpose, category_id, policy_ids)
        # The forbids that applied are the reasons; none applied means no permit did either (deny by
        # default), which only happens for a category outside the purpose.
        reasons = {POLICY_REASONS[p] for p in policy_ids if p in POLICY_REASONS}
        reasons = reasons or {ReasonCode.CATEGORY_NOT_IN_PURPOSE}
        return self._denied(request, category_id, purpose, reasons, policy_ids)

    def cache_clear(self) -> None:
        self._cached.cache_clear()

    def cache_info(self) -> Any:
        """Hits, misses and size of the decision cache (for the benchmark and /metrics)."""
        return self._cached.cache_info()

    # -- internals ----------------------------------------------------------------------------

    def _cache_key(self, request: DecisionRequest) -> tuple[str, DecisionRequest]:
        """Normalised: only consent for categories that need consent can change the decision."""
        purpose = self._purposes.get(request.purpose_id)
        relevant = frozenset(purpose.toestemmingVereist) if purpose is not None else frozenset()
        consented = request.consented_categories & relevant
        if consented != request.consented_categories:
            request = dataclasses.replace(request, consented_categories=consented)
        return (self.register_version, request)

    def _unknown_purpose_reasons(self, category_id: str) -> set[ReasonCode]:
        if category_id in self._categories:
            return {ReasonCode.PURPOSE_UNKNOWN}
        return {ReasonCode.PURPOSE_UNKNOWN, ReasonCode.CATEGORY_UNKNOWN}

    def _decide_key(self, key: tuple[str, DecisionRequest]) -> Decision:
        return self.decide_from_table(key[1])

    def _evaluate(
        self, request: DecisionRequest, purpose: Verwerkingsactiviteit, categories: list[str]
    ) -> dict[str, tuple[bool, tuple[str, ...]]]:
        context: dict[str, Any] = {
            "purpose": entity_ref(purpose_uid(purpose.id)),
            "assuranceRank": request.assurance.rank,
            "subjectKind": request.subject_kind.value,
            "shielded": request.subject_shielded,
            "consented": [entity_ref(category_uid(c)) for c in sorted(request.consented_categories)],
            "objected": request.objected,
        }
        if request.organisation is not None:
            context["organisation"] = request.organisation
        principal = role_uid(request.role)
        batch = [
            {
                "principal": principal,
                "action": ACTION,
                "resource": category_uid(c),
                "context": {**context, "grant": entity_ref(grant_uid(purpose.id, c))},
            }
            for c in categories
        ]
        for item, c in zip(batch, categories, strict=True):
            if (purpose.id, c) in self._channel_bound:
                item["context"]["channelRule"] = entity_ref(channel_rule_uid(purpose.id, c, request.channel))
        results = cedarpy.is_authorized_batch(batch, self._policies, self._entities)
        out: dict[str, tuple[bool, tuple[str, ...]]] = {}
        for category_id, result in zip(categories, results, strict=True):
            errors = result.diagnostics.errors
            if errors:
                raise PolicyEvaluationError(f"Cedar-fout bij {category_id}: {errors}")
            policy_ids = tuple(sorted(self._policy_ids.get(p, p) for p in result.diagnostics.reasons))
            out[category_id] = (bool(result.allowed), policy_ids)
        return out

    def _permitted(
        self, purpose: Verwerkingsactiviteit, category_id: str, policy_ids: tuple[str, ...]
    ) -> CategoryDecision:
        access = purpose.categorieen[category_id]
        fields = access.velden if access.velden is not None else self._categories[category_id].velden
        return CategoryDecision(
            category=category_id,
            permitted=True,
            fields=tuple(fields),
            sources=access.bronnen,
            policy_ids=policy_ids,
        )

    def _denied(
        self,
        request: DecisionRequest,
        category_id: str,
        purpose: Verwerkingsactiviteit | None,
        reasons: set[ReasonCode],
        policy_ids: tuple[str, ...],
    ) -> CategoryDecision:
        ordered = order_reasons(reasons)
        ctx = ExplanationContext(
            request=request,
            category_id=category_id,
            register=self.register,
            purpose=purpose,
            category=self._categories.get(category_id),
        )
        return CategoryDecision(
            category=category_id,
            permitted=False,
            reasons=ordered,
            explanation=explain(ordered[0], ctx),
            policy_ids=policy_ids,
        )

    def _decision(self, request: DecisionRequest, categories: list[CategoryDecision]) -> Decision:
        return Decision(
            purpose_id=request.purpose_id,
            register_version=self.register_version,
            categories=tuple(categories),
        )


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
