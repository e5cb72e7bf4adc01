"""Objections (bezwaar, art. 21 AVG): a customer objects to a processing purpose, recorded as
subject (pseudonym) × purpose.

- the customer objects themself, in Mijn omgeving (role burger, their own contact on the channel
  mijn-omgeving), to a purpose of that contact's organisation; "all proactive purposes of this
  organisation" is a shortcut for one objection per proactive purpose (`proactief` in the register);
- to a proactive purpose the objection is in force at once: the PDP denies every read under it for
  that customer (reason OBJECTION; KlantbeeldService feeds `objected` into the decision, as it does
  consent). To any other purpose it is recorded `in-behandeling` for the privacy officer, who decides
  (the archive/AVG issue builds the decision; an upheld objection gets a status in IN_FORCE);
- making an objection is a processing of the customer's data: audited (LDV + access record) under
  the purpose objected to, before it is stored. Objecting twice to the same purpose adds nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dgkb.audit.writer import AuditWriter
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.store.db import Database
from dgkb.store.tables import ObjectionRow

__all__ = [
    "IN_FORCE",
    "OBJECTED",
    "PENDING",
    "Objection",
    "ObjectionError",
    "ObjectionForbidden",
    "ObjectionService",
]

IN_FORCE_AT_ONCE = "van-kracht"  # an objection to a proactive purpose
PENDING = "in-behandeling"  # waits for the privacy officer
UPHELD = "toegewezen"  # the privacy officer upheld it (set by the archive/AVG issue's handling)
# The statuses under which the PDP denies reads under the purpose for the customer.
IN_FORCE = frozenset({IN_FORCE_AT_ONCE, UPHELD})
# At most one objection per subject × purpose has one of these (a partial unique index, migration
# 0015, store/tables.py: keep the three in step).
OPEN = frozenset({IN_FORCE_AT_ONCE, PENDING, UPHELD})
DUPLICATE = "dubbel"  # a second open row that a race made before migration 0015; not shown
OBJECTED = "bezwaar gemaakt"  # the name of its audit record
MAX_EXPLANATION = 2000


class ObjectionError(DomainError):
    code = "objection.invalid"


class ObjectionForbidden(DomainError):
    code = "objection.forbidden"
    status = 403


@dataclass(frozen=True, slots=True)
class Objection:
    id: str
    processing_activity_id: str
    organisation: str
    proactive: bool
    status: str
    explanation: str | None
    created_at: datetime
    decided_at: datetime | None
    subject_key: str  # the pseudonym, for the privacy officer; never the identifier


def _to_objection(row: ObjectionRow) -> Objection:
    return Objection(
        id=row.id,
        processing_activity_id=row.processing_activity_id,
        organisation=row.organisation,
        proactive=row.proactive,
        status=row.status,
        explanation=row.explanation,
        created_at=row.created_at,
        decided_at=row.decided_at,
        subject_key=row.subject_key,
    )


class ObjectionService:
    def __init__(
        self, database: Database, pseudonymizer: Pseudonymizer, register: Register, *, auditor: AuditWriter
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._auditor = auditor

    def _keys(self, subject: Subject) -> list[str]:
        return [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]

    # --- what can be objected to ------------------------------------------------------------------
    def objectable(self, organisation: str) -> tuple[Verwerkingsactiviteit, ...]:
        """The organisation's purposes a customer can object to: all but their own view."""
        return tuple(
            va for va in self._register.for_organisation(organisation) if Role.BURGER not in va.rollen
        )

    def proactive(self, organisation: str) -> tuple[Verwerkingsactiviteit, ...]:
        return tuple(va for va in self.objectable(organisation) if va.proactief)

    # --- the decision path ------------------------------------------------------------------------
    async def objected(self, subject: Subject, purpose_id: str) -> bool:
        """Is an objection of this subject to this purpose in force (the PDP then denies)? A pending
        objection counts once the purpose is proactive (the register may have changed since)."""
        purpose = self._register.get(purpose_id)
        statuses = set(IN_FORCE) | ({PENDING} if purpose is not None and purpose.proactief else set())
        async with self._db.read() as session:
            found = await session.scalar(
                select(ObjectionRow.id)
                .where(
                    ObjectionRow.subject_key.in_(self._keys(subject)),
                    ObjectionRow.processing_activity_id == purpose_id,
                    ObjectionRow.status.in_(sorted(statuses)),
                )
                .limit(1)
            )
        return found is not None

    # --- the customer's own -----------------------------------------------------------------------
    async def list_for(self, context: RequestContext) -> list[Objection]:
        """The objections of the context's customer to purposes of the actor's organisation."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ObjectionRow)
                .where(
                    ObjectionRow.subject_key.in_(self._keys(context.subject)),
                    ObjectionRow.organisation == context.actor.organisation,
                    ObjectionRow.status != DUPLICATE,
                )
                .order_by(ObjectionRow.created_at.desc())
            )
            return [_to_objection(r) for r in rows]

    async def object(
        self,
        context: RequestContext,
        purpose_ids: Sequence[str],
        *,
        explanation: str | None = None,
        at: datetime | None = None,
    ) -> list[Objection]:
        """The customer of this (own, Mijn omgeving) contact objects to these purposes of its
        organisation. Returns the objections, new or already there."""
        if (
            context.actor.role is not Role.BURGER
            or context.channel is not Kanaal.MIJN_OMGEVING
            or context.contact_id is None
        ):
            raise ObjectionForbidden(
                "Bezwaar maakt de klant zelf, ingelogd in Mijn omgeving.", field="contactId"
            )
        if not purpose_ids:
            raise ObjectionError("kies het doel waartegen u bezwaar maakt.", field="doel")
        text = (explanation or "").strip() or None
        if text is not None and len(text) > MAX_EXPLANATION:
            raise ObjectionError(f"gebruik ten hoogste {MAX_EXPLANATION} tekens.", field="toelichting")
        allowed = {va.id: va for va in self.objectable(context.actor.organisation)}
        purposes = []
        for purpose_id in dict.fromkeys(purpose_ids):
            purpose = allowed.get(purpose_id)
            if purpose is None:
                raise ObjectionError("kies een doel uit de lijst.", field="doel")
            purposes.append(purpose)
        now = at or datetime.now(UTC)
        keys = self._keys(context.subject)
        async with self._db.read() as session:
            existing = {
                r.processing_activity_id: r
                for r in await session.scalars(
                    select(ObjectionRow).where(
                        ObjectionRow.subject_key.in_(keys),
                        ObjectionRow.processing_activity_id.in_([p.id for p in purposes]),
                        ObjectionRow.status.in_(sorted(OPEN)),
                    )
                )
            }
        result = []
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        for purpose in purposes:
            if purpose.id in existing:
                result.append(_to_objection(existing[purpose.id]))
                continue
            # Log before it takes effect, under the purpose objected to.
            await self._auditor.record_processing(
                context=dataclasses.replace(context, purpose_id=purpose.id),
                name=OBJECTED,
                categories=[],
                started_at=now,
                ended_at=datetime.now(UTC),
            )
            row = ObjectionRow(
                id=str(uuid.uuid4()),
                subject_key=pseudonym.value,
                key_id=pseudonym.key_id,
                subject_kind=context.subject.kind.value,
                organisation=purpose.organisatie.oin,
                processing_activity_id=purpose.id,
                proactive=purpose.proactief,
                status=IN_FORCE_AT_ONCE if purpose.proactief else PENDING,
                explanation=text,
                channel=context.channel.value,
                contact_id=context.contact_id,
                created_at=now,
                decided_at=now if purpose.proactief else None,
            )
            try:
                async with self._db.transaction() as session:
                    session.add(row)
            except IntegrityError:
                # The same objection sent at the same moment (a double click, two tabs): the other
                # request inserted it after our read above; the partial unique index over the open
                # statuses let only one in. Answer with that one: it is already objected.
                found = await self._open(keys, purpose.id)
                if found is None:
                    raise
                result.append(found)
                continue
            result.append(_to_objection(row))
        return result

    async def _open(self, keys: Sequence[str], purpose_id: str) -> Objection | None:
        async with self._db.read() as session:
            row = await session.scalar(
                select(ObjectionRow)
                .where(
                    ObjectionRow.subject_key.in_(keys),
                    ObjectionRow.processing_activity_id == purpose_id,
                    ObjectionRow.status.in_(sorted(OPEN)),
                )
                .limit(1)
            )
            return None if row is None else _to_objection(row)

    # --- the privacy officer ----------------------------------------------------------------------
    async def pending(self, organisation: str, *, limit: int = 100) -> list[Objection]:
        """Objections of the organisation waiting for the privacy officer, oldest first."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ObjectionRow)
                .where(ObjectionRow.organisation == organisation, ObjectionRow.status == PENDING)
                .order_by(ObjectionRow.created_at)
                .limit(limit)
            )
            return [_to_objection(r) for r in rows]
