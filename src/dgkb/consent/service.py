"""Consent records: given, withdrawn, expiring; the policy engine sees the consented categories."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.store.consent import ConsentRepository
from dgkb.store.db import Database
from dgkb.store.tables import ConsentRow


class ConsentError(DomainError):
    code = "consent.invalid"


class ConsentNotFound(DomainError):
    code = "consent.not_found"
    status = 404


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    processing_activity_id: str
    categories: tuple[str, ...]
    channel: str
    given_at: datetime
    expires_at: datetime | None
    withdrawn_at: datetime | None

    def active_at(self, at: datetime) -> bool:
        return (
            self.given_at <= at
            and (self.withdrawn_at is None or self.withdrawn_at > at)
            and (self.expires_at is None or self.expires_at > at)
        )


def _to_consent(row: ConsentRow) -> Consent:
    return Consent(
        id=row.id,
        processing_activity_id=row.processing_activity_id,
        categories=tuple(json.loads(row.categories)),
        channel=row.channel,
        given_at=row.given_at,
        expires_at=row.expires_at,
        withdrawn_at=row.withdrawn_at,
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class ConsentService:
    def __init__(self, database: Database, pseudonymizer: Pseudonymizer, register: Register) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._repo = ConsentRepository()

    def _keys(self, subject: Subject) -> list[str]:
        return [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]

    async def consented_categories(
        self, subject: Subject, purpose_id: str, *, at: datetime
    ) -> frozenset[str]:
        """The categories this subject has consented to for this purpose, in force at `at`."""
        async with self._db.sessions() as session:
            rows = await self._repo.active(
                session, subject_keys=self._keys(subject), processing_activity_id=purpose_id, at=at
            )
        return frozenset(cat for row in rows for cat in json.loads(row.categories))

    async def give(
        self,
        subject: Subject,
        *,
        purpose_id: str,
        categories: Sequence[str],
        channel: str,
        recorded_by: str | None,
        contact_id: str | None = None,
        expires_at: datetime | None = None,
        at: datetime | None = None,
    ) -> Consent:
        purpose = self._register.get(purpose_id)
        if purpose is None:
            raise ConsentError(f"onbekende verwerkingsactiviteit {purpose_id}", field="verwerkingsactiviteit")
        if not categories:
            raise ConsentError("noem minstens één categorie", field="categorieen")
        for cat in categories:
            if cat not in purpose.toestemmingVereist:
                raise ConsentError(
                    f"categorie {cat} vraagt bij dit doel geen toestemming (wel: "
                    f"{', '.join(purpose.toestemmingVereist) or 'geen'})",
                    field="categorieen",
                )
        now = at or datetime.now(UTC)
        if expires_at is not None and expires_at <= now:
            raise ConsentError("vervaldatum ligt in het verleden", field="vervaltOp")
        pseudonym = self._pseudonymizer.pseudonym(subject)
        row = ConsentRow(
            id=str(uuid.uuid4()),
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=subject.kind.value,
            processing_activity_id=purpose_id,
            categories=json.dumps(sorted(set(categories))),
            channel=channel,
            recorded_by=recorded_by,
            contact_id=contact_id,
            given_at=now,
            expires_at=expires_at,
            withdrawn_at=None,
        )
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return _to_consent(row)

    async def withdraw(self, subject: Subject, consent_id: str, *, at: datetime | None = None) -> Consent:
        """Withdrawal takes effect on the next decision (decisions read consent every time)."""
        now = at or datetime.now(UTC)
        if not _is_uuid(consent_id):
            raise ConsentNotFound("toestemming niet gevonden voor deze klant", field="id")
        async with self._db.transaction() as session:
            row = await self._repo.get(session, consent_id)
            if row is None or row.subject_key not in self._keys(subject):
                raise ConsentNotFound("toestemming niet gevonden voor deze klant", field="id")
            if row.withdrawn_at is None:
                row.withdrawn_at = now
        return _to_consent(row)

    async def list_for(self, subject: Subject) -> list[Consent]:
        async with self._db.sessions() as session:
            rows = await self._repo.for_subject(session, subject_keys=self._keys(subject))
        return [_to_consent(r) for r in rows]
