"""Recording pseudonymised events for meten en leren, under each organisation's registered purpose.

What an event holds is chosen so that it says something about the service and nothing about a person:
channel, onderwerp (an id from onderwerpen.yaml; free text becomes "overig"), outcome, whether the
question was answered, where the customer was referred to (an organisation from the configured list,
else "anders"), the handling time, the team — never a BSN, a name, free text or an employee. The
customer is a pseudonym under the meten key (Settings.meten_keyring), which differs from the access
log's, and the time is kept to the hour: the access log knows the exact moment of each registration.

Recording is a processing of the customer's data under the meten-en-leren purpose, by DGKB itself: it
is logged (LDV + access, as the system) before the event is written. It never fails what caused it: a
registration that reached Klantinteracties stays registered when the event cannot be written (the
dashboard misses one event; the warning says which kind, nothing about whom).

Feedback (ratings, complaints, reports) is recorded as events too, not aggregated from DGKB's own
feedback rows: those rows carry the access log's pseudonym and free text, and live under the
complaint's retention; the events carry neither and live under the meten-en-leren retention, so the
aggregation never reads a complaint file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dgkb.audit.records import retention_until
from dgkb.audit.writer import AuditWriter
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.periods import local_day, month_of, week_of
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.store.db import Database
from dgkb.store.meten import ContactEventRow, FeedbackEventRow

log = logging.getLogger("dgkb.meten")

OVERIG = "overig"  # an onderwerp that matches none of the configured ones
ANDERS = "anders"  # a referral to an organisation that is not in the configured list
ONBEKEND = "onbekend"  # no team / no channel known
MAX_DURATION = timedelta(hours=4)  # longer is a contact left open, not handling time


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One saved question of a contact moment, as meten en leren keeps it."""

    onderwerp: str  # id from onderwerpen.yaml
    uitkomst: str
    beantwoord: bool | None = None
    doorverwezen_naar: str | None = None


def categorise(text: str | None, onderwerpen: Mapping[str, str]) -> str:
    """The configured onderwerp id a free text is about (its id, or the longest name it contains),
    else "overig": what is kept of a complaint's or rating's subject, never the text itself."""
    if not text:
        return OVERIG
    folded = text.casefold().strip()
    if folded in onderwerpen:
        return folded
    best, length = OVERIG, 0
    for ident, naam in onderwerpen.items():
        name = naam.casefold()
        if name in folded and len(name) > length:
            best, length = ident, len(name)
    return best


class MetenRecorder:
    def __init__(
        self,
        *,
        database: Database,
        pseudonymizer: Pseudonymizer,
        register: Register,
        audit: AuditWriter,
        repeat_days: int,
        onderwerpen: Mapping[str, str],
        doorverwijzen: Sequence[str],
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer  # the meten key ring, not the access log's
        self._register = register
        self._audit = audit
        self.repeat_window = timedelta(days=repeat_days)
        self.onderwerpen = dict(onderwerpen)
        self._doorverwijzen = {d.casefold(): d for d in doorverwijzen}
        self.recorded = 0  # events written by this process (tests, metrics)
        self.failed = 0  # events lost because recording failed

    def purpose(self, organisation: str) -> Verwerkingsactiviteit | None:
        return self._register.system_purpose(organisation, "meten-en-leren")

    def _referral(self, naar: str | None) -> str | None:
        if not naar or not naar.strip():
            return None
        return self._doorverwijzen.get(naar.strip().casefold(), ANDERS)

    async def _log(
        self, context: RequestContext, purpose: Verwerkingsactiviteit, name: str, category: str
    ) -> None:
        """The recording, logged as DGKB's own processing of this customer under meten en leren."""
        now = datetime.now(UTC)
        system = RequestContext(
            actor=Actor(
                id="dgkb-meten-en-leren", role=Role.SYSTEEM, organisation=purpose.organisatie.oin, name="DGKB"
            ),
            subject=context.subject,
            purpose_id=purpose.id,
            assurance=context.assurance,
            channel=context.channel,
            # DGKB's own processing, in its own trace (as reconciliation): the employee's trace shows
            # what the employee did
            trace=Trace(),
        )
        await self._audit.record_processing(
            context=system, name=name, categories=[category], started_at=now, ended_at=now
        )

    async def record_contact(
        self,
        context: RequestContext,
        events: Sequence[ContactEvent],
        *,
        team: str | None,
        started_at: datetime | None,
        now: datetime | None = None,
    ) -> int:
        """One event per saved question of a registration; the handling time (from the start of the
        contact) goes with the first, so an average per team counts each contact once. Returns the
        number written (0 when the organisation registered no meten-en-leren purpose)."""
        if not events:
            return 0
        try:
            return await self._record_contact(context, events, team=team, started_at=started_at, now=now)
        except Exception as exc:  # a side channel: the registration itself stands
            self.failed += len(events)
            log.warning(
                "meten en leren: %d contact events not recorded (%s)", len(events), type(exc).__name__
            )
            return 0

    async def _record_contact(
        self,
        context: RequestContext,
        events: Sequence[ContactEvent],
        *,
        team: str | None,
        started_at: datetime | None,
        now: datetime | None,
    ) -> int:
        organisation = context.actor.organisation
        purpose = self.purpose(organisation)
        if purpose is None:
            return 0
        now = now or datetime.now(UTC)
        duration = None
        if started_at is not None and timedelta(0) <= now - started_at <= MAX_DURATION:
            duration = int((now - started_at).total_seconds())
        await self._log(
            context, purpose, "contactgebeurtenis vastleggen (meten en leren)", "contact.historie"
        )
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        day = local_day(now)
        keep = retention_until(day, purpose.bewaartermijn)
        async with self._db.transaction() as session:
            # earlier contacts of this customer about these onderwerpen within the window (before this
            # registration: its own questions are one contact)
            earlier = dict(
                (
                    await session.execute(
                        select(ContactEventRow.onderwerp, func.count())
                        .where(
                            ContactEventRow.organisation == organisation,
                            ContactEventRow.klant == pseudonym.value,
                            ContactEventRow.onderwerp.in_({e.onderwerp for e in events}),
                            ContactEventRow.occurred_at >= hour - self.repeat_window,
                        )
                        .group_by(ContactEventRow.onderwerp)
                    )
                ).all()
            )
            session.add_all(
                ContactEventRow(
                    organisation=organisation,
                    occurred_at=hour,
                    dag=day,
                    week=week_of(day),
                    maand=month_of(day),
                    kanaal=context.channel.value,
                    onderwerp=event.onderwerp,
                    uitkomst=event.uitkomst,
                    beantwoord=event.beantwoord,
                    doorverwezen_naar=self._referral(event.doorverwezen_naar),
                    duur_seconden=duration if i == 0 else None,
                    team=(team or "").strip()[:200] or None,
                    herhaald=int(earlier.get(event.onderwerp, 0)) >= 2,
                    klant=pseudonym.value,
                    key_id=pseudonym.key_id,
                    bewaren_tot=keep,
                )
                for i, event in enumerate(events)
            )
        self.recorded += len(events)
        return len(events)

    async def record_feedback(
        self,
        context: RequestContext,
        *,
        soort: str,
        fase: str,
        onderwerp: str | None,
        kanaal: str | None,
        score: int | None = None,
        waardering: int | None = None,
        doorlooptijd_dagen: float | None = None,
        now: datetime | None = None,
    ) -> bool:
        """A rating given (soort oordeel, fase gegeven), or a complaint or report submitted or closed
        (fase ingediend / afgehandeld, with its throughput time)."""
        try:
            organisation = context.actor.organisation
            purpose = self.purpose(organisation)
            if purpose is None:
                return False
            category = {"oordeel": "beleving.oordeel", "klacht": "feedback.klachten"}.get(
                soort, "feedback.meldingen"
            )
            await self._log(context, purpose, f"{soort} vastleggen (meten en leren)", category)
            now = now or datetime.now(UTC)
            pseudonym = self._pseudonymizer.pseudonym(context.subject)
            day = local_day(now)
            row = FeedbackEventRow(
                organisation=organisation,
                occurred_at=now.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
                dag=day,
                week=week_of(day),
                maand=month_of(day),
                soort=soort,
                fase=fase,
                kanaal=kanaal,
                onderwerp=categorise(onderwerp, self.onderwerpen),
                score=score,
                waardering=waardering,
                doorlooptijd_dagen=doorlooptijd_dagen,
                klant=pseudonym.value,
                key_id=pseudonym.key_id,
                bewaren_tot=retention_until(day, purpose.bewaartermijn),
            )
            async with self._db.transaction() as session:
                session.add(row)
        except Exception as exc:  # a side channel: the rating or complaint itself stands
            self.failed += 1
            log.warning("meten en leren: %s event not recorded (%s)", soort, type(exc).__name__)
            return False
        self.recorded += 1
        return True
