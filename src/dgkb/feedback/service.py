"""Recording ratings, complaints and reports for the subject of an open contact.

Recording is a processing of personal data like reading is, so each write is logged (LDV + access)
before it is confirmed.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dgkb.audit.writer import AuditWriter
from dgkb.domain.context import Actor, RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.store.db import Database
from dgkb.store.feedback import FeedbackRepository
from dgkb.store.tables import FeedbackItemRow, FeedbackStatusRow, RatingRow


class FeedbackSoort(StrEnum):
    KLACHT = "klacht"
    MELDING = "melding"


class FeedbackStatus(StrEnum):
    ONTVANGEN = "ontvangen"
    IN_BEHANDELING = "in-behandeling"
    AFGEHANDELD = "afgehandeld"
    INGETROKKEN = "ingetrokken"


_CLOSED = {FeedbackStatus.AFGEHANDELD, FeedbackStatus.INGETROKKEN}
_CATEGORY = {FeedbackSoort.KLACHT: "feedback.klachten", FeedbackSoort.MELDING: "feedback.meldingen"}
_PREFIX = {FeedbackSoort.KLACHT: "KL", FeedbackSoort.MELDING: "ME"}


class FeedbackNotFound(DomainError):
    code = "feedback.not_found"
    status = 404


class FeedbackConflict(DomainError):
    code = "feedback.closed"
    status = 409


@dataclass(frozen=True, slots=True)
class Recorded:
    id: str
    nummer: str | None
    status: str | None
    vastgelegd_op: datetime


class FeedbackService:
    def __init__(
        self, *, database: Database, pseudonymizer: Pseudonymizer, register: Register, audit: AuditWriter
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._audit = audit
        self._repo = FeedbackRepository()

    def _retention(self, purpose_id: str) -> str:
        purpose = self._register.get(purpose_id)
        return purpose.bewaartermijn if purpose else "P1Y"

    async def _log(self, context: RequestContext, name: str, category: str, at: datetime) -> None:
        await self._audit.record_processing(
            context=context,
            name=name,
            retention=self._retention(context.purpose_id),
            categories=[category],
            started_at=at,
            ended_at=datetime.now(UTC),
        )

    async def is_empty(self) -> bool:
        """True when nothing has been recorded yet (the demo seed runs only then)."""
        async with self._db.sessions() as session:
            return await self._repo.count_items(session) == 0

    async def record_rating(
        self, context: RequestContext, *, score: int, toelichting: str | None, onderwerp: str | None
    ) -> Recorded:
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        row = RatingRow(
            id=str(uuid.uuid4()),
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=context.subject.kind.value,
            organisation=context.actor.organisation,
            score=score,
            toelichting=toelichting,
            kanaal=context.channel.value,
            onderwerp=onderwerp,
            contact_id=context.contact_id,
            recorded_by=context.actor.id,
            recorded_at=now,
        )
        await self._log(context, "beoordeling vastleggen", "beleving.oordeel", now)
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return Recorded(row.id, None, None, now)

    async def submit(
        self,
        context: RequestContext,
        *,
        soort: FeedbackSoort,
        onderwerp: str,
        omschrijving: str,
        locatie: str | None,
    ) -> Recorded:
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        item = FeedbackItemRow(
            id=str(uuid.uuid4()),
            nummer=f"{_PREFIX[soort]}-{now:%Y}-{secrets.token_hex(4).upper()}",
            soort=soort.value,
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=context.subject.kind.value,
            organisation=context.actor.organisation,
            onderwerp=onderwerp,
            omschrijving=omschrijving,
            locatie=locatie,
            kanaal=context.channel.value,
            status=FeedbackStatus.ONTVANGEN.value,
            contact_id=context.contact_id,
            ingediend_op=now,
        )
        history = FeedbackStatusRow(
            item_id=item.id, status=item.status, toelichting=None, gezet_door=context.actor.id, gezet_op=now
        )
        await self._log(context, f"{soort.value} vastleggen", _CATEGORY[soort], now)
        async with self._db.transaction() as session:
            await self._repo.add(session, item)
            await self._repo.add(session, history)
        return Recorded(item.id, item.nummer, item.status, now)

    async def set_status(
        self, actor: Actor, item_id: str, *, status: FeedbackStatus, toelichting: str | None
    ) -> Recorded:
        """Back office moves a complaint or report on; a closed one stays closed."""
        now = datetime.now(UTC)
        try:
            uuid.UUID(item_id)
        except ValueError:
            raise FeedbackNotFound("Klacht of melding niet gevonden.", field="id") from None
        async with self._db.transaction() as session:
            item = await self._repo.item(session, item_id)
            if item is None or item.organisation != actor.organisation:
                raise FeedbackNotFound("Klacht of melding niet gevonden.", field="id")
            if FeedbackStatus(item.status) in _CLOSED:
                raise FeedbackConflict(f"Deze {item.soort} is al {item.status}.", field="status")
            item.status = status.value
            if status in _CLOSED:
                item.afgehandeld_op = now
            await self._repo.add(
                session,
                FeedbackStatusRow(
                    item_id=item.id,
                    status=status.value,
                    toelichting=toelichting,
                    gezet_door=actor.id,
                    gezet_op=now,
                ),
            )
        return Recorded(item.id, item.nummer, item.status, now)
