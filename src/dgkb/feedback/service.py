"""Recording ratings, complaints and reports for the subject of an open contact, and handling
complaints and reports in the back office.

Recording is a processing of personal data like reading is, so each write is logged (LDV + access)
before it is confirmed. Handling is decided against the register (`handling.decide_handling`): only
the roles of the organisation's handling purpose move an item on, and every step is an audit record
under that purpose with the complainant as subject; the step itself (who, when, why, the message to
the customer) is kept in the status history, linked to the audit record by trace id.

Complaints follow Awb chapter 9: acknowledged on receipt (9:6), the complainant may be heard (9:10),
handled within 6 weeks (10 with a complaints committee), extendable once by at most 4 weeks (9:11),
and told the outcome in writing (9:12). Reports (meldingen) have no statutory term.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import update

from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.feedback.handling import (
    MAX_EXTENSION_WEEKS,
    deadline,
    decide_handling,
    exceeded,
    local_date,
    reply_channel,
    term_weeks,
)
from dgkb.meten import MetenRecorder
from dgkb.store.db import Database
from dgkb.store.feedback import FeedbackRepository
from dgkb.store.tables import FeedbackItemRow, FeedbackStatusRow, RatingRow


class FeedbackSoort(StrEnum):
    KLACHT = "klacht"
    MELDING = "melding"


class FeedbackStatus(StrEnum):
    ONTVANGEN = "ontvangen"
    IN_BEHANDELING = "in-behandeling"
    HOORZITTING = "hoorzitting"  # Awb 9:10: the complainant is given the opportunity to be heard
    AFGEHANDELD = "afgehandeld"
    INGETROKKEN = "ingetrokken"


class Bericht(StrEnum):
    """Messages to the customer a handling step calls for."""

    ONTVANGSTBEVESTIGING = "ontvangstbevestiging"  # Awb 9:6
    UITNODIGING_HOREN = "uitnodiging-horen"  # Awb 9:10
    VERDAGING = "verdaging"  # Awb 9:11 lid 2
    UITKOMST = "uitkomst"  # Awb 9:12 (complaint) or terugmelding (report)


# No outbound messaging port yet (a later issue adds NotifyNL): messages wait in the history.
PENDING = "te-verzenden"

_CLOSED = {FeedbackStatus.AFGEHANDELD, FeedbackStatus.INGETROKKEN}
_CLOSED_VALUES = [s.value for s in _CLOSED]
_CATEGORY = {FeedbackSoort.KLACHT: "feedback.klachten", FeedbackSoort.MELDING: "feedback.meldingen"}
_PREFIX = {FeedbackSoort.KLACHT: "KL", FeedbackSoort.MELDING: "ME"}
_LABEL = {FeedbackSoort.KLACHT: "klacht", FeedbackSoort.MELDING: "melding"}


class FeedbackNotFound(DomainError):
    code = "feedback.not_found"
    status = 404


class FeedbackConflict(DomainError):
    code = "feedback.closed"
    status = 409


class FeedbackInvalid(DomainError):
    code = "feedback.invalid"
    status = 400


@dataclass(frozen=True, slots=True)
class Recorded:
    id: str
    nummer: str | None
    status: str | None
    vastgelegd_op: datetime


@dataclass(frozen=True, slots=True)
class Step:
    volgnummer: int | None
    status: str
    gebeurtenis: str | None
    datum: datetime
    toelichting: str | None
    gezet_door: str | None
    rol: str | None
    verwerkingsactiviteit: str | None
    trace_id: str | None
    bericht_soort: str | None
    bericht_tekst: str | None
    bericht_kanaal: str | None
    bericht_status: str | None


@dataclass(frozen=True, slots=True)
class ItemView:
    """A complaint or report as its handler sees it: status, Awb term and the full history."""

    id: str
    nummer: str
    soort: str
    onderwerp: str
    omschrijving: str
    locatie: str | None
    status: str
    ingediend_op: datetime
    afgehandeld_op: datetime | None
    uiterlijke_afhandeldatum: date | None
    termijn_overschreden: bool | None
    verdaagd: bool
    uitkomst: str | None
    statushistorie: tuple[Step, ...]


def term_of(item: FeedbackItemRow, now: datetime) -> tuple[date | None, bool | None]:
    """(uiterlijke afhandeldatum, termijn overschreden) — both None for an item without a term."""
    if item.termijn_weken is None:
        return None, None
    due = deadline(item.ingediend_op, item.termijn_weken, item.verdaging_weken)
    return due, exceeded(due, closed_at=item.afgehandeld_op, now=now)


def outcome_of(history: Sequence[FeedbackStatusRow]) -> str | None:
    """The latest outcome message told to the customer."""
    for step in reversed(history):
        if step.bericht_soort == Bericht.UITKOMST.value:
            return step.bericht_tekst
    return None


def _step(row: FeedbackStatusRow) -> Step:
    return Step(
        volgnummer=row.volgnummer,
        status=row.status,
        gebeurtenis=row.gebeurtenis,
        datum=row.gezet_op,
        toelichting=row.toelichting,
        gezet_door=row.gezet_door,
        rol=row.rol,
        verwerkingsactiviteit=row.processing_activity_id,
        trace_id=row.trace_id,
        bericht_soort=row.bericht_soort,
        bericht_tekst=row.bericht_tekst,
        bericht_kanaal=row.bericht_kanaal,
        bericht_status=row.bericht_status,
    )


def _item_view(item: FeedbackItemRow, history: Sequence[FeedbackStatusRow], now: datetime) -> ItemView:
    due, late = term_of(item, now)
    return ItemView(
        id=item.id,
        nummer=item.nummer,
        soort=item.soort,
        onderwerp=item.onderwerp,
        omschrijving=item.omschrijving,
        locatie=item.locatie,
        status=item.status,
        ingediend_op=item.ingediend_op,
        afgehandeld_op=item.afgehandeld_op,
        uiterlijke_afhandeldatum=due,
        termijn_overschreden=late,
        verdaagd=bool(item.verdaging_weken),
        uitkomst=outcome_of(history),
        statushistorie=tuple(_step(h) for h in history),
    )


class FeedbackService:
    def __init__(
        self,
        *,
        database: Database,
        pseudonymizer: Pseudonymizer,
        register: Register,
        audit: AuditWriter,
        meten: MetenRecorder | None = None,
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._audit = audit
        self._repo = FeedbackRepository()
        # meten en leren: a pseudonymised event of each rating, complaint and report (dgkb.meten)
        self._meten = meten

    async def _log(self, context: RequestContext, name: str, category: str, at: datetime) -> None:
        await self._audit.record_processing(
            context=context,
            name=name,
            categories=[category],
            started_at=at,
            ended_at=datetime.now(UTC),
        )

    async def is_empty(self) -> bool:
        """True when nothing has been recorded yet (the demo seed runs only then)."""
        async with self._db.read() as session:
            return await self._repo.count_items(session) == 0

    async def record_rating(
        self,
        context: RequestContext,
        *,
        score: int,
        toelichting: str | None,
        onderwerp: str | None,
        waardering: int | None = None,
        gekoppeld: tuple[str, str] | None = None,
    ) -> Recorded:
        """A rating of the contact's customer: `score` is the NPS question (0–10), `waardering` an
        optional rating of 1–5, `gekoppeld` what it is about: ("klantcontact", nummer) or ("zaak",
        identificatie) — the caller makes sure it is the customer's own."""
        if not 0 <= score <= 10:
            raise FeedbackInvalid("Kies een cijfer van 0 tot en met 10.", field="score")
        if waardering is not None and not 1 <= waardering <= 5:
            raise FeedbackInvalid("Kies een waardering van 1 tot en met 5.", field="waardering")
        if gekoppeld is not None and gekoppeld[0] not in ("klantcontact", "zaak"):
            raise FeedbackInvalid("Een beoordeling gaat over een contact of een zaak.", field="gekoppeld")
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
            waardering=waardering,
            gekoppeld_soort=gekoppeld[0] if gekoppeld else None,
            gekoppeld_aan=gekoppeld[1][:100] if gekoppeld else None,
        )
        await self._log(context, "beoordeling vastleggen", "beleving.oordeel", now)
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        if self._meten is not None:
            await self._meten.record_feedback(
                context,
                soort="oordeel",
                fase="gegeven",
                onderwerp=onderwerp,
                kanaal=context.channel.value,
                score=score,
                waardering=waardering,
            )
        return Recorded(row.id, None, None, now)

    async def submit(
        self,
        context: RequestContext,
        *,
        soort: FeedbackSoort,
        onderwerp: str,
        omschrijving: str,
        locatie: str | None,
        voorkeurskanaal: Kanaal | None = None,
    ) -> Recorded:
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        organisation = context.actor.organisation
        item = FeedbackItemRow(
            id=str(uuid.uuid4()),
            nummer=f"{_PREFIX[soort]}-{now:%Y}-{secrets.token_hex(4).upper()}",
            soort=soort.value,
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=context.subject.kind.value,
            organisation=organisation,
            onderwerp=onderwerp,
            omschrijving=omschrijving,
            locatie=locatie,
            kanaal=context.channel.value,
            status=FeedbackStatus.ONTVANGEN.value,
            contact_id=context.contact_id,
            ingediend_op=now,
            subject_value=context.subject.value,
            voorkeurskanaal=voorkeurskanaal.value if voorkeurskanaal else None,
            versie=1,
            termijn_weken=term_weeks(self._register, organisation) if soort is FeedbackSoort.KLACHT else None,
        )
        history = FeedbackStatusRow(
            item_id=item.id,
            status=item.status,
            toelichting=None,
            gezet_door=context.actor.id,
            gezet_op=now,
            volgnummer=1,
            gebeurtenis="ontvangen",
            rol=context.actor.role.value,
            processing_activity_id=context.purpose_id,
            trace_id=context.trace.trace_id,
        )
        if soort is FeedbackSoort.KLACHT:  # Awb 9:6: the receipt of a complaint is confirmed in writing
            due, _ = term_of(item, now)
            self._message(
                history,
                item,
                Bericht.ONTVANGSTBEVESTIGING,
                f"Wij hebben uw klacht {item.nummer} ({onderwerp}) op {local_date(now):%d-%m-%Y} "
                f"ontvangen. U hoort uiterlijk {due:%d-%m-%Y} hoe wij uw klacht hebben behandeld.",
            )
        await self._log(context, f"{soort.value} vastleggen", _CATEGORY[soort], now)
        async with self._db.transaction() as session:
            await self._repo.add(session, item)
            await self._repo.add(session, history)
        if self._meten is not None:
            await self._meten.record_feedback(
                context, soort=soort.value, fase="ingediend", onderwerp=onderwerp, kanaal=item.kanaal
            )
        return Recorded(item.id, item.nummer, item.status, now)

    @staticmethod
    def _message(step: FeedbackStatusRow, item: FeedbackItemRow, soort: Bericht, tekst: str) -> None:
        step.bericht_soort = soort.value
        step.bericht_tekst = tekst
        step.bericht_kanaal = reply_channel(item.voorkeurskanaal, item.kanaal)
        step.bericht_status = PENDING

    async def _handled_item(
        self, actor: Actor, item_id: str, soort: FeedbackSoort, trace: Trace | None
    ) -> tuple[FeedbackItemRow, RequestContext]:
        """The item and the audit context of handling it, or refuse (404 unknown, 403 not yours)."""
        try:
            uuid.UUID(item_id)
        except ValueError:
            raise FeedbackNotFound(f"{_LABEL[soort].capitalize()} niet gevonden.", field="id") from None
        async with self._db.read() as session:
            item = await self._repo.item(session, item_id)
        if item is None or item.soort != soort.value:
            raise FeedbackNotFound(f"{_LABEL[soort].capitalize()} niet gevonden.", field="id")
        purpose = decide_handling(self._register, actor, soort=soort.value, organisation=item.organisation)
        if item.subject_value is None:
            # Recorded before the complainant was kept: a step could not be logged about them.
            raise FeedbackConflict(
                f"Van deze {_LABEL[soort]} is de indiener niet bekend; behandel hem buiten DGKB.",
                field="id",
            )
        context = RequestContext(
            actor=actor,
            subject=Subject(SubjectKind(item.subject_kind), item.subject_value),
            purpose_id=purpose.id,
            assurance=Assurance.GEEN,  # back office: no customer on the line
            channel=Kanaal.BACKOFFICE,
            trace=trace or Trace(),
        )
        return item, context

    async def set_status(
        self,
        actor: Actor,
        item_id: str,
        *,
        soort: FeedbackSoort,
        status: FeedbackStatus,
        toelichting: str,
        uitkomst: str | None = None,
        trace: Trace | None = None,
    ) -> ItemView:
        """Back office moves a complaint or report on; a closed one stays closed.

        Decided against the register, logged before it is written, and written with a conditional
        update so two changes at once both land in the history in one order."""
        if not toelichting.strip():
            raise FeedbackInvalid("Geef een toelichting: waarom verandert de status?", field="toelichting")
        if status is FeedbackStatus.ONTVANGEN:
            raise FeedbackInvalid("Terug naar 'ontvangen' kan niet.", field="status")
        if status is FeedbackStatus.HOORZITTING and soort is not FeedbackSoort.KLACHT:
            raise FeedbackInvalid(
                "Horen (Awb 9:10) hoort bij een klacht, niet bij een melding.", field="status"
            )
        if uitkomst is not None and status is not FeedbackStatus.AFGEHANDELD:
            raise FeedbackInvalid("Een uitkomst hoort bij de status 'afgehandeld'.", field="uitkomst")
        if uitkomst is not None and not uitkomst.strip():
            uitkomst = None
        if soort is FeedbackSoort.KLACHT and status is FeedbackStatus.AFGEHANDELD and uitkomst is None:
            raise FeedbackInvalid(
                "Laat de klager de uitkomst weten (Awb 9:12): bevindingen, oordeel en conclusies.",
                field="uitkomst",
            )
        item, context = await self._handled_item(actor, item_id, soort, trace)
        if FeedbackStatus(item.status) in _CLOSED:
            raise FeedbackConflict(f"Deze {item.soort} is al {item.status}.", field="status")
        started = datetime.now(UTC)
        await self._log(context, f"{soort.value}status wijzigen", _CATEGORY[soort], started)
        now = datetime.now(UTC)
        values: dict[str, object] = {"status": status.value, "versie": FeedbackItemRow.versie + 1}
        if status in _CLOSED:
            values["afgehandeld_op"] = now
        step = FeedbackStatusRow(
            item_id=item.id,
            status=status.value,
            toelichting=toelichting.strip(),
            gezet_door=actor.id,
            gezet_op=now,
            gebeurtenis="status",
            rol=actor.role.value,
            processing_activity_id=context.purpose_id,
            trace_id=context.trace.trace_id,
        )
        if status is FeedbackStatus.HOORZITTING:
            self._message(
                step,
                item,
                Bericht.UITNODIGING_HOREN,
                f"U krijgt de gelegenheid om over uw klacht {item.nummer} gehoord te worden. "
                "Wij nemen contact met u op voor een afspraak.",
            )
        elif uitkomst is not None:
            self._message(step, item, Bericht.UITKOMST, uitkomst.strip())
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FeedbackItemRow)
                .where(FeedbackItemRow.id == item.id, FeedbackItemRow.status.not_in(_CLOSED_VALUES))
                .values(values)
                .returning(FeedbackItemRow.versie)
                .execution_options(synchronize_session=False)
            )
            versie = result.scalar_one_or_none()
            if versie is None:
                raise FeedbackConflict(f"Deze {item.soort} is intussen gesloten.", field="status")
            step.volgnummer = versie
            await self._repo.add(session, step)
        if self._meten is not None and status is FeedbackStatus.AFGEHANDELD:
            await self._meten.record_feedback(
                context,
                soort=item.soort,
                fase="afgehandeld",
                onderwerp=item.onderwerp,
                kanaal=item.kanaal,
                doorlooptijd_dagen=round((now - item.ingediend_op).total_seconds() / 86400, 2),
            )
        return await self._view(item.id)

    async def extend(
        self, actor: Actor, item_id: str, *, weken: int, toelichting: str, trace: Trace | None = None
    ) -> ItemView:
        """Awb 9:11 lid 2: postpone the handling of a complaint once, by at most four weeks, within
        the term, and tell the complainant in writing."""
        if not toelichting.strip():
            raise FeedbackInvalid(
                "Geef een toelichting: waarom wordt de afhandeling verdaagd?", field="toelichting"
            )
        if not 1 <= weken <= MAX_EXTENSION_WEEKS:
            raise FeedbackInvalid(f"Verdagen kan met ten hoogste {MAX_EXTENSION_WEEKS} weken.", field="weken")
        item, context = await self._handled_item(actor, item_id, FeedbackSoort.KLACHT, trace)
        if FeedbackStatus(item.status) in _CLOSED:
            raise FeedbackConflict(f"Deze klacht is al {item.status}.", field="status")
        if item.verdaging_weken:
            raise FeedbackConflict("Deze klacht is al eens verdaagd; dat kan maar één keer.", field="weken")
        due, late = term_of(item, datetime.now(UTC))
        if due is None or late:
            raise FeedbackConflict(
                "De termijn is al verstreken; verdagen kan alleen binnen de termijn.", field="weken"
            )
        started = datetime.now(UTC)
        await self._log(context, "klacht verdagen", _CATEGORY[FeedbackSoort.KLACHT], started)
        now = datetime.now(UTC)
        new_due = deadline(item.ingediend_op, item.termijn_weken or 0, weken)
        step = FeedbackStatusRow(
            item_id=item.id,
            status=item.status,
            toelichting=toelichting.strip(),
            gezet_door=actor.id,
            gezet_op=now,
            gebeurtenis="verdaagd",
            rol=actor.role.value,
            processing_activity_id=context.purpose_id,
            trace_id=context.trace.trace_id,
        )
        self._message(
            step,
            item,
            Bericht.VERDAGING,
            f"De behandeling van uw klacht {item.nummer} duurt langer: u hoort uiterlijk "
            f"{new_due:%d-%m-%Y} hoe wij uw klacht hebben behandeld. Reden: {toelichting.strip()}",
        )
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FeedbackItemRow)
                .where(
                    FeedbackItemRow.id == item.id,
                    FeedbackItemRow.status.not_in(_CLOSED_VALUES),
                    FeedbackItemRow.verdaging_weken.is_(None),
                )
                .values(verdaging_weken=weken, versie=FeedbackItemRow.versie + 1)
                .returning(FeedbackItemRow.versie, FeedbackItemRow.status)
                .execution_options(synchronize_session=False)
            )
            row = result.one_or_none()
            if row is None:
                raise FeedbackConflict("Deze klacht is intussen verdaagd of gesloten.", field="weken")
            step.volgnummer, step.status = row[0], row[1]
            await self._repo.add(session, step)
        return await self._view(item.id)

    async def show(
        self, actor: Actor, item_id: str, *, soort: FeedbackSoort, trace: Trace | None = None
    ) -> ItemView:
        """The handler's view of one item (decided and logged like a change)."""
        _, context = await self._handled_item(actor, item_id, soort, trace)
        await self._log(context, f"{soort.value} raadplegen", _CATEGORY[soort], datetime.now(UTC))
        return await self._view(item_id)

    async def _view(self, item_id: str) -> ItemView:
        async with self._db.read() as session:
            item = await self._repo.item(session, item_id)
            if item is None:  # pragma: no cover - items are never deleted
                raise FeedbackNotFound("Niet gevonden.", field="id")
            history = (await self._repo.history(session, [item_id])).get(item_id, [])
        return _item_view(item, history, datetime.now(UTC))
