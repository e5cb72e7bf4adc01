# SPDX-License-Identifier: EUPL-1.2
"""Audit logs (DESIGN §3.4, §6 LDV, §7): log before you show, fail closed, append-only, hash-chained.

AuditUnavailable (DomainError, code "audit.unavailable")  the log could not be written
InvalidCursor (DomainError, code "audit.cursor_invalid")   a page cursor was tampered with
"""

from dgkb.audit.chain import ChainBreak, VerifyReport, verify
from dgkb.audit.query import (
    AccessEntry,
    DecisionEntry,
    InvalidCursor,
    KeyUsage,
    LdvEntry,
    Page,
    key_usage,
    search_access,
    search_ldv,
)
from dgkb.audit.records import AuditUnavailable, DecisionLike, Outcome, retention_until
from dgkb.audit.writer import AuditWriter

__all__ = [
    "AccessEntry",
    "AuditUnavailable",
    "AuditWriter",
    "ChainBreak",
    "DecisionEntry",
    "DecisionLike",
    "InvalidCursor",
    "KeyUsage",
    "LdvEntry",
    "Outcome",
    "Page",
    "VerifyReport",
    "key_usage",
    "retention_until",
    "search_access",
    "search_ldv",
    "verify",
]
