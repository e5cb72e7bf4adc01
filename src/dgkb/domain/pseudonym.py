"""Keyed pseudonyms (HMAC-SHA256) for subject ids in logs, cache keys and indexes.

A bare hash would be useless: the BSN space (10^9, 11-proef) is enumerated in seconds. Every value
carries the key id beside it so keys can rotate: new values use the current key, lookups try all.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from dgkb.domain.identifiers import Subject, SubjectKind


@dataclass(frozen=True, slots=True)
class Pseudonym:
    key_id: str
    value: str  # hex HMAC

    def __str__(self) -> str:
        return f"{self.key_id}:{self.value}"


@dataclass(frozen=True, slots=True, init=False, repr=False)
class PseudonymousSubject(Subject):
    """A subject DGKB knows only by a stored pseudonym, never by the plain identifier: e.g. the
    customer of a consent that expires long after the contact ended. It can be logged about (its
    pseudonym is reused as is) but never sent to a source: its `value` is empty."""

    pseudonym: Pseudonym

    def __init__(self, kind: SubjectKind, pseudonym: Pseudonym) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "value", "")
        object.__setattr__(self, "pseudonym", pseudonym)


class Pseudonymizer:
    def __init__(self, keyring: list[tuple[str, bytes]]) -> None:
        if not keyring:
            raise ValueError("pseudonymizer needs at least one key")
        self._keyring = keyring

    @property
    def current_key_id(self) -> str:
        return self._keyring[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the ring's keys, current first (never the secrets)."""
        return tuple(key_id for key_id, _ in self._keyring)

    def pseudonym(self, subject: Subject) -> Pseudonym:
        if isinstance(subject, PseudonymousSubject):
            return subject.pseudonym  # made earlier, possibly under a key since rotated
        key_id, secret = self._keyring[0]
        return Pseudonym(key_id, self._mac(secret, subject))

    def all_pseudonyms(self, subject: Subject) -> list[Pseudonym]:
        """The subject's pseudonym under every key still in the ring (for searching old records)."""
        if isinstance(subject, PseudonymousSubject):
            return [subject.pseudonym]
        return [Pseudonym(kid, self._mac(secret, subject)) for kid, secret in self._keyring]

    def matches(self, subject: Subject, value: str) -> bool:
        """Is `value` (a stored pseudonym) this subject's under any key of the ring? A pseudonym
        stored before a key rotation, or by a node still on the previous current key, still
        matches: comparing with `pseudonym(subject)` alone would call it another subject."""
        return any(hmac.compare_digest(p.value, value) for p in self.all_pseudonyms(subject))

    @staticmethod
    def _mac(secret: bytes, subject: Subject) -> str:
        message = f"{subject.kind.value}:{subject.value}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()
