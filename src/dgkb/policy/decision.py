"""Decision request/response types of the policy engine, independent of Cedar."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.roles import Role


class PolicyEvaluationError(RuntimeError):
    """Cedar reported an evaluation error: a bug in policies or entities. Never treated as a permit."""

    code = "policy.evaluation_error"


class ReasonCode(StrEnum):
    PURPOSE_UNKNOWN = "PURPOSE_UNKNOWN"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    CATEGORY_NOT_IN_PURPOSE = "CATEGORY_NOT_IN_PURPOSE"
    CATEGORY_UNKNOWN = "CATEGORY_UNKNOWN"
    ASSURANCE_TOO_LOW = "ASSURANCE_TOO_LOW"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    SUBJECT_SHIELDED = "SUBJECT_SHIELDED"
    SUBJECT_KIND_NOT_APPLICABLE = "SUBJECT_KIND_NOT_APPLICABLE"
    ORGANISATION_MISMATCH = "ORGANISATION_MISMATCH"
    CHANNEL_NOT_ALLOWED = "CHANNEL_NOT_ALLOWED"
    OBJECTION = "OBJECTION"  # the customer objected to this (proactive) purpose (art. 21 AVG)


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    purpose_id: str
    role: Role
    assurance: Assurance
    subject_kind: SubjectKind = SubjectKind.BSN
    subject_shielded: bool = False
    consented_categories: frozenset[str] = frozenset()
    # The customer objected to this purpose and the objection is in force (a proactive purpose: at
    # once); every category is then denied (OBJECTION).
    objected: bool = False
    # OIN of the actor's organisation. None is a deny (ORGANISATION_MISMATCH), never a wildcard:
    # every caller passes the organisation of the actor it decides for.
    organisation: str | None = None
    # The channel of the contact (kanaalinzet). None = unknown: the strictest channel rule of each
    # category applies (a category the register restricts to some channels is denied).
    channel: Kanaal | None = None
    # None = every category of the catalogue
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CategoryDecision:
    category: str
    permitted: bool
    fields: tuple[str, ...] = ()  # permitted fields (empty when denied)
    sources: tuple[str, ...] | None = None  # allowed source ids; None = any configured source
    reasons: tuple[ReasonCode, ...] = ()  # all reasons that deny, most actionable first
    explanation: str | None = None  # Dutch, for the agent ("Voor dit contact is ... onvoldoende")
    policy_ids: tuple[str, ...] = ()  # Cedar policies that decided

    @property
    def reason(self) -> ReasonCode | None:
        return self.reasons[0] if self.reasons else None


@dataclass(frozen=True, slots=True)
class Decision:
    purpose_id: str
    register_version: str
    categories: tuple[CategoryDecision, ...] = field(default=())

    @property
    def permitted(self) -> tuple[CategoryDecision, ...]:
        return tuple(c for c in self.categories if c.permitted)

    @property
    def denied(self) -> tuple[CategoryDecision, ...]:
        return tuple(c for c in self.categories if not c.permitted)

    def for_category(self, category: str) -> CategoryDecision | None:
        for c in self.categories:
            if c.category == category:
                return c
        return None


class PolicyEngine(Protocol):
    """Decides per category for one purpose/role/assurance/consent situation. Pure and fast."""

    def decide(self, request: DecisionRequest) -> Decision: ...
