"""The request context every access to personal data carries: who, for whom, why, how sure, how."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """The employee or system acting. Goes to the internal access log only, never to LDV records."""

    id: str
    role: Role
    organisation: str  # OIN of the organisation the actor works for
    organisation_unit: str | None = None
    name: str | None = None
    # Who vouches for this identity (the token's `iss`): a contact belongs to (issuer, id, organisation),
    # so a token of another identity provider with the same `sub` never opens it.
    issuer: str | None = None
    # The medewerker identificatie in the zaaksysteem (configurable claim; defaults to `id`).
    employee_id: str | None = None

    @property
    def medewerker_identificatie(self) -> str:
        return self.employee_id or self.id


@dataclass(frozen=True, slots=True)
class Trace:
    """W3C trace context: one trace id per user request, a span id per processing."""

    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))
    span_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"

    def child(self) -> Trace:
        return Trace(trace_id=self.trace_id)

    @classmethod
    def from_traceparent(cls, header: str | None) -> Trace:
        """Continue an inbound trace when the header is valid, else start a new one."""
        if header:
            parts = header.strip().split("-")
            if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
                try:
                    int(parts[1], 16)
                    int(parts[2], 16)
                except ValueError:
                    return cls()
                if parts[1] != "0" * 32:
                    return cls(trace_id=parts[1].lower())
        return cls()


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Nothing reads personal data without one of these."""

    actor: Actor
    subject: Subject
    purpose_id: str
    assurance: Assurance
    channel: Kanaal
    trace: Trace
    contact_id: str | None = None
    subject_shielded: bool = False  # BRP secrecy indication, learnt during identification
