"""The whole decision table, computed by Cedar at start-up, so that no request waits for Cedar.

Why: a decision is a pure function of a finite input space — the register is finite — but that space
as a product is large (16 purposes × 14 categories × 8 roles × 6 assurance ranks × 3 subject kinds ×
consent × shielding × organisation × channel: millions of points), and one uncached Cedar batch costs
~1 ms on the request path. The space factorises, though: each policy in `policies.cedar` reads only a
few request inputs (the role, the assurance rank, the consent, …). Those inputs are read off each
policy's own syntax tree (`policy_inputs`), not written down by hand, and each policy is then evaluated
by Cedar *on its own* (a policy set of one) over just those inputs, per purpose and category: a few
thousand small evaluations once, instead of one batch per new request.

A request's per-category result is composed with Cedar's own semantics — permitted iff some permit
applies and no forbid does; the determining policies are the permits that applied (permitted) or the
forbids that applied (denied) — so `CedarPolicyEngine` builds the same `Decision` from it as from a
live Cedar call. Cedar stays the source of truth: `tests/policy/test_table.py` proves table = Cedar
over the whole input space the register spans (including unknown organisations, consent to other
categories and channels on grants without channel rules).

Two facts about the request context the factorisation relies on, both checked by that test:
- `consented` is only ever asked whether it contains the category being decided;
- an organisation outside the register is indistinguishable from any other such organisation (the
  policies compare organisations only with the purpose's, and carry no literals).
An evaluation error of one policy on one input is kept in the table and raised when a request hits it:
failing closed at decision time, exactly as a live Cedar call would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import cedarpy

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.policy.decision import DecisionRequest, PolicyEvaluationError
from dgkb.policy.entities import (
    ACTION,
    category_uid,
    channel_rule_uid,
    entity_ref,
    grant_uid,
    purpose_uid,
    role_uid,
)

__all__ = ["DecisionTable", "TableBuildError", "policy_inputs"]

# The request inputs a policy can read, by how it reaches them in Cedar. `purpose`, `grant` and the
# resource are fixed per (purpose, category) and so part of every table key.
PRINCIPAL: Final = "principal"
CONTEXT_INPUTS: Final = frozenset(
    {"assuranceRank", "subjectKind", "shielded", "consented", "organisation", "channelRule", "objected"}
)
FIXED_CONTEXT: Final = frozenset({"purpose", "grant"})
INPUT_ORDER: Final = (PRINCIPAL, *sorted(CONTEXT_INPUTS))

# An organisation the register does not know: every such OIN decides alike (see the module docstring).
UNKNOWN_ORGANISATION: Final = "onbekende-organisatie"
# The order of the inputs in a composed key (after purpose and category), as `evaluate` builds it.
_COMPOSED_INPUTS: Final = (
    PRINCIPAL,
    "assuranceRank",
    "subjectKind",
    "shielded",
    "organisation",
    "consented",
    "channelRule",
    "objected",
)
COMPOSED_MAX: Final = 200_000
_ERROR: Final = "error"


class TableBuildError(RuntimeError):
    """A policy reads something the table does not know how to enumerate."""


def policy_inputs(policy: Mapping[str, Any]) -> frozenset[str]:
    """The request inputs one policy (Cedar's JSON form) reads: `principal` and context attributes."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("Var") == PRINCIPAL:
                found.add(PRINCIPAL)
            for op in (".", "has"):
                inner = node.get(op)
                if isinstance(inner, dict) and inner.get("left") == {"Var": "context"}:
                    found.add(str(inner["attr"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(policy.get("conditions", []))
    if policy.get("principal", {}).get("op") != "All":
        found.add(PRINCIPAL)
    unknown = found - CONTEXT_INPUTS - FIXED_CONTEXT - {PRINCIPAL}
    if unknown:
        raise TableBuildError(f"policy leest onbekende invoer {sorted(unknown)}")
    if policy.get("resource", {}).get("op") != "All" or policy.get("action", {}).get("op") not in (
        "All",
        "==",
    ):
        raise TableBuildError("policy beperkt resource of actie in de scope; dat kent de tabel niet")
    return frozenset(found - FIXED_CONTEXT)


@dataclass(frozen=True, slots=True)
class _Policy:
    key: str  # Cedar's own id (unique; two policies may share an @id, i.e. a reason)
    id: str  # the @id annotation: what a decision reports
    permit: bool
    inputs: tuple[str, ...]  # in INPUT_ORDER
    policy_set: Any  # cedarpy.PolicySet with just this policy


class DecisionTable:
    """Per (purpose, category) and policy: the input values for which that policy applies."""

    def __init__(self, register: Register, catalogue: Catalogue, policy_text: str, entities: Any) -> None:
        self._catalogue_ids = catalogue.ids
        self._organisations = frozenset(va.organisatie.oin for va in register.verwerkingsactiviteiten)
        self._policies = self._split(policy_text)
        self._channel_bound = frozenset(
            (va.id, c)
            for va in register.verwerkingsactiviteiten
            for c, a in va.categorieen.items()
            if a.channel_bound
        )
        # (purpose id, category id, policy id) → {input values: True (applies) | False | _ERROR}
        self._cells: dict[tuple[str, str, str], dict[tuple[Any, ...], bool | str]] = {}
        # every category result composed so far, keyed on all its inputs (a dict lookup per category
        # on the request path; filled from the cells, never from Cedar)
        self._composed: dict[tuple[Any, ...], tuple[bool, tuple[str, ...]]] = {}
        self.evaluations = 0
        purposes = [va for va in register.verwerkingsactiviteiten if va.systeemtaak is None]
        for policy in self._policies:
            self._fill(policy, purposes, entities)

    # -- request path ----------------------------------------------------------------------------

    def evaluate(
        self, request: DecisionRequest, purpose: Verwerkingsactiviteit, categories: Sequence[str]
    ) -> dict[str, tuple[bool, tuple[str, ...]]]:
        """Per category: permitted, and the determining policy ids (as Cedar's diagnostics would)."""
        organisation = request.organisation
        if organisation is not None and organisation not in self._organisations:
            organisation = UNKNOWN_ORGANISATION
        shared = (
            request.role,
            request.assurance.rank,
            request.subject_kind,
            request.subject_shielded,
            organisation,
        )
        out: dict[str, tuple[bool, tuple[str, ...]]] = {}
        for category in categories:
            key = (
                purpose.id,
                category,
                *shared,
                category in request.consented_categories,
                request.channel if (purpose.id, category) in self._channel_bound else None,
                request.objected,
            )
            result = self._composed.get(key)
            if result is None:
                result = self._compose(key)
            out[category] = result
        return out

    def _compose(self, key: tuple[Any, ...]) -> tuple[bool, tuple[str, ...]]:
        """One category's result from the per-policy cells, memoised on all of its inputs."""
        purpose_id, category = key[0], key[1]
        values = dict(zip(_COMPOSED_INPUTS, key[2:], strict=True))
        permits: list[str] = []
        forbids: list[str] = []
        for policy in self._policies:
            applies = self._cells[(purpose_id, category, policy.key)][
                tuple(values[name] for name in policy.inputs)
            ]
            if applies == _ERROR:
                raise PolicyEvaluationError(f"Cedar-fout bij {category}: {policy.id}")
            if applies:
                (permits if policy.permit else forbids).append(policy.id)
        allowed = bool(permits) and not forbids
        result = (allowed, tuple(sorted(permits if allowed else forbids)))
        if len(self._composed) >= COMPOSED_MAX:  # bounded: the product space is large in theory
            self._composed.clear()
        self._composed[key] = result
        return result

    # -- build -----------------------------------------------------------------------------------

    @staticmethod
    def _split(policy_text: str) -> list[_Policy]:
        parsed = json.loads(cedarpy.policies_to_json_str(policy_text))
        if parsed.get("templates"):
            raise TableBuildError("policy-templates kent de tabel niet")
        policies = []
        for key, body in parsed["staticPolicies"].items():
            policy_id = body["annotations"]["id"]
            inputs = policy_inputs(body)
            alone = {"staticPolicies": {key: body}, "templates": {}, "templateLinks": []}
            policies.append(
                _Policy(
                    key=key,
                    id=policy_id,
                    permit=body["effect"] == "permit",
                    inputs=tuple(name for name in INPUT_ORDER if name in inputs),
                    policy_set=cedarpy.PolicySet.from_json_str(json.dumps(alone)),
                )
            )
        return policies

    def _domain(self, name: str, purpose: Verwerkingsactiviteit, category: str) -> list[Any]:
        if name == PRINCIPAL:
            return list(Role)
        if name == "assuranceRank":
            return sorted({a.rank for a in Assurance})
        if name == "subjectKind":
            return list(SubjectKind)
        if name in ("shielded", "consented", "objected"):
            return [False, True]
        if name == "organisation":
            return [None, UNKNOWN_ORGANISATION, *sorted(self._organisations)]
        # channelRule: only a grant the register restricts per channel has rules (None = unknown
        # channel); on any other grant the context never carries one, whatever the channel
        return [*Kanaal, None] if (purpose.id, category) in self._channel_bound else [None]

    def _points(
        self, policy: _Policy, purpose: Verwerkingsactiviteit, category: str
    ) -> Iterator[tuple[Any, ...]]:
        return itertools.product(*(self._domain(name, purpose, category) for name in policy.inputs))

    def _context(
        self, purpose: Verwerkingsactiviteit, category: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A schema-valid context; inputs the policy does not read get a fixed value."""
        context: dict[str, Any] = {
            "purpose": entity_ref(purpose_uid(purpose.id)),
            "grant": entity_ref(grant_uid(purpose.id, category)),
            "assuranceRank": values.get("assuranceRank", 0),
            "subjectKind": values.get("subjectKind", SubjectKind.BSN).value,
            "shielded": values.get("shielded", False),
            "consented": [entity_ref(category_uid(category))] if values.get("consented") else [],
            "objected": values.get("objected", False),
        }
        organisation = values.get("organisation", purpose.organisatie.oin)
        if organisation is not None:
            context["organisation"] = organisation
        if (purpose.id, category) in self._channel_bound:
            channel: Kanaal | None = values.get("channelRule")
            context["channelRule"] = entity_ref(channel_rule_uid(purpose.id, category, channel))
        return context

    def _fill(self, policy: _Policy, purposes: Sequence[Verwerkingsactiviteit], entities: Any) -> None:
        keys: list[tuple[tuple[str, str, str], tuple[Any, ...]]] = []
        batch: list[dict[str, Any]] = []
        for purpose in purposes:
            for category in self._catalogue_ids:
                for point in self._points(policy, purpose, category):
                    values = dict(zip(policy.inputs, point, strict=True))
                    keys.append(((purpose.id, category, policy.key), point))
                    batch.append(
                        {
                            "principal": role_uid(values.get(PRINCIPAL, Role.KCM)),
                            "action": ACTION,
                            "resource": category_uid(category),
                            "context": self._context(purpose, category, values),
                        }
                    )
        results = cedarpy.is_authorized_batch(batch, policy.policy_set, entities)
        self.evaluations += len(batch)
        for (cell, point), result in zip(keys, results, strict=True):
            applies: bool | str
            if result.diagnostics.errors:
                applies = _ERROR
            elif policy.permit:
                applies = bool(result.allowed)
            else:  # a lone forbid is the only policy that can be a reason for the (default) deny
                applies = policy.key in result.diagnostics.reasons
            self._cells.setdefault(cell, {})[point] = applies
