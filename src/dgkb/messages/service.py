"""MessageService: notices from the organisations to a customer, shown in Mijn berichten.

A message is a notice, not a formal decision (those go to the MijnOverheid Berichtenbox): a zaak's
new status, an answer to a contactverzoek, later a proactive message. DGKB stores it keyed by the
customer's pseudonym (never the plain BSN or KVK-nummer), and the customer reads it and marks it
read after logging in.

On a new message DGKB tells the customer by their preferred channel through the notification port:
the notice says only "U heeft een nieuw bericht in Mijn omgeving" with a link to the portal — no
title, no zaak, nothing personal. Which channel and address: the customer's preferred digitaal
adres in Klantinteracties (its soort: e-mail or a mobile number), else their first e-mail address,
else their first mobile number. That read is DGKB's own processing under the organisation's
`berichten` purpose (systeemtaak, role systeem; config/register.yaml), through the gateway, which logs
it like every read. As DGKB's other own tasks it is decided by the register entry of that purpose
(its categories, fields and sources), not by an employee's or the customer's PDP decision. An
organisation without such a purpose stores the message but sends no notice; so does a customer whose
objection to that purpose is in force (dgkb.consent.objections).

The notice goes in the background, never while the message is posted (that is while a notification
of a source is handled: a slow or down NotifyNL would hold the routing component's delivery and the
notice would be lost with it). `post` writes the message and its notice (the outbox,
`message_notices`) in one transaction and wakes this process's sender (`run_notices`, started with
the app); the sender claims due notices with a conditional update (so two processes never send the
same one at once), reads the address and sends it. While NotifyNL or Klantinteracties cannot be asked
it tries again later (`DGKB_NOTIFY_RETRY_SECONDS`, doubling up to an hour) under the same reference
(`bericht-<id>`: the port sends a reference once), for at most GIVE_UP_AFTER; a process that stops
leaves the notice to the next. A notice that fails never fails the message; the outcome is kept on
the message (`notify_outcome`: wachtend while it waits). Logs name the message id and a reason code,
never the customer or an address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.context import RequestContext
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.federation.fanout import SectionStatus
from dgkb.gateway import Processing, SourceGateway
from dgkb.notify.port import MessageKind, Notifier, NotifyRejected, NotifyUnavailable
from dgkb.policy.decision import CategoryDecision
from dgkb.store.db import Database
from dgkb.store.tables import MessageNoticeRow, MessageRow

__all__ = ["KINDS", "OWN_MESSAGES_READ", "Message", "MessageService"]

log = logging.getLogger("dgkb.messages")

KINDS = ("zaak-status", "contactverzoek", "proactief", "overig")
CONTACTGEGEVENS = "klant.contactgegevens"
VOORKEURSKANAAL = "klant.voorkeurskanaal"
# the fields the notice needs: the preferred address, and the addresses to fall back on
_NEEDED: dict[str, tuple[str, ...]] = {
    VOORKEURSKANAAL: ("voorkeursDigitaalAdres",),
    CONTACTGEGEVENS: ("emailadressen", "telefoonnummers"),
}
NOTICE_NAME = "nieuw bericht melden"
# The name of the log record of the customer reading their own messages (Mijn berichten).
OWN_MESSAGES_READ = "uw berichten lezen"
MAX_TITLE = 200
MAX_BODY = 4000
WAITING = "wachtend"  # notify_outcome while the notice is in the outbox
# A notice not sent within this is given up ("mislukt"): well inside NotifyNL's retention of a
# reference (7 days), and the plain identifier it keeps does not stay longer.
GIVE_UP_AFTER = timedelta(hours=24)
MAX_RETRY = timedelta(hours=1)
# A claimed notice is due again after this, should its process die while sending: longer than one
# attempt can take (an address read within the source deadline, two NotifyNL calls within theirs).
LEASE = timedelta(minutes=5)
BATCH = 20
# The sources' answers that mean "ask again later" rather than "there is no address".
_SOURCE_DOWN = frozenset(
    {SectionStatus.TIMEOUT, SectionStatus.ONBEREIKBAAR, SectionStatus.FOUT, SectionStatus.NIET_GEAUTORISEERD}
)


class _TryAgain(Exception):
    """This attempt could not be made now; `reason` is a code for the log (no personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    organisation: str
    organisation_name: str
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None
    notify_outcome: str | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _message(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        organisation=row.organisation,
        organisation_name=row.organisation_name,
        kind=row.kind,
        title=row.title,
        body=row.body,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
        notify_outcome=row.notify_outcome,
    )


def _is_mobile(adres: str) -> bool:
    digits = "".join(c for c in adres if c.isdigit())
    if digits.startswith("0031"):
        digits = digits[4:]
    elif digits.startswith("31"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return len(digits) == 9 and digits[0] == "6" and digits[1] in "123458"


class MessageService:
    def __init__(
        self,
        *,
        database: Database,
        pseudonymizer: Pseudonymizer,
        register: Register,
        gateway: SourceGateway,
        notifier: Notifier,
        portal_url: str,
        objected: Callable[[Subject, str], Awaitable[bool]] | None = None,
        retry_seconds: float = 30.0,
        auditor: AuditWriter | None = None,
    ) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._gateway = gateway
        self._notifier = notifier
        self._portal_url = portal_url.rstrip("/") + "/mijn/berichten"
        self._objected = objected
        self._retry = timedelta(seconds=retry_seconds)
        self._auditor = auditor  # the customer's own reads (Mijn berichten) are logged
        self._wake = asyncio.Event()  # a notice was queued by this process: send it now

    def _keys(self, subject: Subject) -> list[str]:
        return [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]

    async def post(
        self,
        subject: Subject,
        organisation: str,
        title: str,
        body: str,
        link: str | None = None,
        *,
        kind: str = "overig",
        notify: bool = True,
    ) -> Message:
        """Store a message for `subject` from `organisation` (OIN) and, with `notify`, queue the
        notice to the customer by their preferred channel (sent in the background, `run_notices`).
        `link` is a path inside Mijn omgeving (or None)."""
        if kind not in KINDS:
            raise ValueError(f"unknown message kind {kind!r}")
        if link is not None and not link.startswith("/mijn"):
            raise ValueError("a message links only inside Mijn omgeving")
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(subject)
        row = MessageRow(
            id=str(uuid.uuid4()),
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            organisation=organisation,
            organisation_name=self._register.organisation_name(organisation) or organisation,
            kind=kind,
            title=title.strip()[:MAX_TITLE],
            body=body.strip()[:MAX_BODY],
            link=link,
            created_at=now,
            read_at=None,
            notify_outcome=WAITING if notify else None,
        )
        async with self._database.transaction() as session:
            session.add(row)
            if notify:  # durable with the message, before the caller answers
                await session.flush()
                session.add(
                    MessageNoticeRow(
                        message_id=row.id,
                        subject_kind=subject.kind.value,
                        subject_value=subject.value,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        if notify:
            self._wake.set()
        return _message(row)

    async def read_own(self, contexts: Sequence[RequestContext], *, limit: int = 100) -> list[Message]:
        """Mijn berichten: the customer reads their own messages (the subject of their own contexts,
        one per organisation). Like every other own read a processing, logged before anything is
        shown: one record per organisation, under its own-view purpose, no categories (the
        messages are DGKB's own notices). AuditUnavailable propagates: then nothing is shown."""
        if not contexts:
            return []
        subject = _one_subject(contexts)
        started = datetime.now(UTC)
        found = await self.list(subject, limit=limit)
        for context in contexts:
            await self._log_own_read(context, started)
        return found

    async def read_own_one(self, contexts: Sequence[RequestContext], message_id: str) -> Message | None:
        """One of the customer's own messages, its read logged under the context of the organisation
        that sent it; None (and nothing logged) for an unknown id or someone else's message."""
        if not contexts:
            return None
        started = datetime.now(UTC)
        found = await self.get(_one_subject(contexts), message_id)
        if found is None:
            return None
        context = next((c for c in contexts if c.actor.organisation == found.organisation), contexts[0])
        await self._log_own_read(context, started)
        return found

    async def _log_own_read(self, context: RequestContext, started: datetime) -> None:
        if self._auditor is not None:
            await self._auditor.record_processing(
                context=context,
                name=OWN_MESSAGES_READ,
                categories=[],
                started_at=started,
                ended_at=datetime.now(UTC),
            )

    async def list(self, subject: Subject, *, limit: int = 100) -> list[Message]:
        """The customer's messages, newest first."""
        async with self._database.read() as session:
            rows = await session.scalars(
                select(MessageRow)
                .where(MessageRow.subject_key.in_(self._keys(subject)))
                .order_by(MessageRow.created_at.desc(), MessageRow.id)
                .limit(limit)
            )
            return [_message(r) for r in rows]

    async def unread_count(self, subject: Subject) -> int:
        """The menu's count (every page of Mijn omgeving): one Core SELECT."""
        async with self._database.reading() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(MessageRow.subject_key.in_(self._keys(subject)), MessageRow.read_at.is_(None))
            )
        return int(count or 0)

    async def get(self, subject: Subject, message_id: str) -> Message | None:
        """One of the customer's own messages; None for an unknown id or someone else's."""
        if len(message_id) > 36:
            return None
        async with self._database.read() as session:
            row = await session.scalar(
                select(MessageRow).where(
                    MessageRow.id == message_id, MessageRow.subject_key.in_(self._keys(subject))
                )
            )
        return _message(row) if row is not None else None

    async def mark_read(self, subject: Subject, message_id: str, *, read: bool = True) -> bool:
        """Mark one of the customer's own messages read (or unread again); False when it is not theirs."""
        if len(message_id) > 36:
            return False
        async with self._database.transaction() as session:
            result = await session.execute(
                update(MessageRow)
                .where(MessageRow.id == message_id, MessageRow.subject_key.in_(self._keys(subject)))
                .values(read_at=datetime.now(UTC) if read else None)
            )
        return bool(getattr(result, "rowcount", 0))

    # --- the notice ----------------------------------------------------------------------------
    async def run_notices(self, poll_seconds: float | None = None) -> None:
        """The background sender (one per process, started with the app): sends what is due when
        woken by `post` and otherwise every `poll_seconds` (retries, and notices another process
        queued and left). Runs until cancelled."""
        poll = poll_seconds if poll_seconds is not None else min(self._retry.total_seconds(), 30.0)
        while True:
            self._wake.clear()
            try:
                while await self.send_due_notices() == BATCH:
                    pass  # a full batch: there may be more due
            except Exception as exc:  # the database away: the next round tries again
                log.warning("berichtmeldingen: versturen mislukt (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll)

    async def send_due_notices(self, *, now: datetime | None = None) -> int:
        """Try every notice that is due (at most BATCH); how many were tried."""
        now = now or datetime.now(UTC)
        async with self._database.read() as session:
            due = list(
                await session.scalars(
                    select(MessageNoticeRow.message_id)
                    .where(MessageNoticeRow.next_attempt_at <= now)
                    .order_by(MessageNoticeRow.next_attempt_at)
                    .limit(BATCH)
                )
            )
        tried = 0
        for message_id in due:
            claimed = await self._claim(message_id, now)
            if claimed is None:
                continue  # another process took it
            tried += 1
            await self._attempt(*claimed, now=now)
        return tried

    async def _claim(self, message_id: str, now: datetime) -> tuple[MessageNoticeRow, MessageRow] | None:
        """Take one due notice for this attempt (pushed past it by LEASE), with its message."""
        async with self._database.transaction() as session:
            taken = await session.execute(
                update(MessageNoticeRow)
                .where(MessageNoticeRow.message_id == message_id, MessageNoticeRow.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE, attempts=MessageNoticeRow.attempts + 1)
            )
            if not getattr(taken, "rowcount", 0):
                return None
            notice = await session.get(MessageNoticeRow, message_id)
            message = await session.get(MessageRow, message_id)
        if notice is None or message is None:
            return None
        return notice, message

    async def _attempt(self, notice: MessageNoticeRow, row: MessageRow, *, now: datetime) -> None:
        """One try at the notice; `now` is the round's clock (retries are scheduled from it)."""
        message = _message(row)
        try:
            subject = Subject(SubjectKind(notice.subject_kind), notice.subject_value)
            outcome = await self._notify(subject, message)
        except _TryAgain as again:
            if now - notice.created_at < GIVE_UP_AFTER:
                wait = min(self._retry * 2 ** max(notice.attempts - 1, 0), MAX_RETRY)
                log.info(
                    "bericht %s: melding later opnieuw (%s, poging %d)",
                    message.id,
                    again.reason,
                    notice.attempts,
                )
                async with self._database.transaction() as session:
                    await session.execute(
                        update(MessageNoticeRow)
                        .where(MessageNoticeRow.message_id == notice.message_id)
                        .values(next_attempt_at=now + wait, last_failure=again.reason[:64])
                    )
                return
            log.warning(
                "bericht %s: melding opgegeven na %d pogingen (%s)", message.id, notice.attempts, again.reason
            )
            outcome = "mislukt"
        except asyncio.CancelledError:
            # the process stops (a shutdown): hand the notice back now rather than after the lease,
            # so the next process (or this one's successor) sends it at once
            await asyncio.shield(self._release(notice.message_id))
            raise
        except Exception as exc:  # a bug, or the database away: due again once the lease ends
            log.warning("bericht %s: melding mislukt (%s)", message.id, type(exc).__name__)
            return
        async with self._database.transaction() as session:
            await session.execute(
                update(MessageRow)
                .where(MessageRow.id == message.id)
                .values(
                    notify_outcome=outcome,
                    notified_at=datetime.now(UTC) if outcome == "verstuurd" else None,
                )
            )
            # the outbox forgets the notice, and with it the plain identifier
            await session.execute(delete(MessageNoticeRow).where(MessageNoticeRow.message_id == message.id))

    async def _release(self, message_id: str) -> None:
        try:
            async with self._database.transaction() as session:
                await session.execute(
                    update(MessageNoticeRow)
                    .where(MessageNoticeRow.message_id == message_id)
                    .values(next_attempt_at=datetime.now(UTC))
                )
        except Exception as exc:  # then the lease ends it
            log.warning("bericht %s: melding niet teruggegeven (%s)", message_id, type(exc).__name__)

    async def _notify(self, subject: Subject, message: Message) -> str:
        """Send the notice; the outcome: verstuurd | geen-doel | bezwaar | geen-adres | geweigerd |
        mislukt (NotifyNL not configured). _TryAgain while NotifyNL or a source cannot be asked."""
        try:
            found = await self._address(subject, message.organisation)
        except _TryAgain:
            raise
        except Exception as exc:  # the log down (AuditUnavailable), a source adapter failing
            raise _TryAgain(f"adres:{type(exc).__name__}") from None
        if isinstance(found, str):
            return found
        soort, adres = found
        templates = self._notifier.templates
        personalisation = {"organisatie": message.organisation_name, "link": self._portal_url}
        reference = f"bericht-{message.id}"
        try:
            if soort == "email":
                await self._notifier.send_email(
                    adres, templates.get(MessageKind.BERICHT_EMAIL), personalisation, reference
                )
            else:
                await self._notifier.send_sms(
                    adres, templates.get(MessageKind.BERICHT_SMS), personalisation, reference
                )
        except NotifyRejected as exc:  # this notice will be refused again: give it up
            log.warning("bericht %s: melding geweigerd (%s)", message.id, exc.reason or "-")
            return "geweigerd"
        except NotifyUnavailable as exc:
            if exc.reason == "niet-ingesteld":  # no NotifyNL in this installation: nothing to wait for
                return "mislukt"
            raise _TryAgain(f"notifynl:{exc.reason or exc.status_code or '-'}") from None
        return "verstuurd"

    async def _address(self, subject: Subject, organisation: str) -> tuple[str, str] | str:
        """(soort, adres) to send the notice to, read under the organisation's `berichten` purpose."""
        caller = self._gateway.system_caller(organisation, "berichten")
        purpose = self._register.get(caller.purpose_id or "") if caller is not None else None
        if caller is None or purpose is None:
            return "geen-doel"
        if self._objected is not None and await self._objected(subject, purpose.id):
            return "bezwaar"  # the customer objected to being told: the message stands, no notice
        permitted = []
        for category, fields in _NEEDED.items():
            access = purpose.categorieen.get(category)
            if access is None:
                continue
            allowed = tuple(f for f in fields if access.velden is None or f in access.velden)
            if allowed:
                permitted.append(
                    CategoryDecision(
                        category=category, permitted=True, fields=allowed, sources=access.bronnen
                    )
                )
        if not permitted:
            return "geen-doel"
        context = RequestContext(
            actor=caller.actor,
            subject=subject,
            purpose_id=purpose.id,
            assurance=Assurance.GEEN,
            channel=caller.channel,
            trace=caller.trace,
        )
        reading = await self._gateway.read(context, permitted, Processing(name=NOTICE_NAME))
        data: dict[str, Any] = {}
        down = set()
        for outcome in reading.outcomes:
            if outcome.status is SectionStatus.OK and isinstance(outcome.data, dict):
                data.setdefault(outcome.category, outcome.data)
            elif outcome.status in _SOURCE_DOWN:
                down.add(outcome.status.value)
        choice = _choose(data)
        if choice is None and down:  # no address *yet*: the source could not be asked
            raise _TryAgain("bron:" + ",".join(sorted(down)))
        return choice if choice is not None else "geen-adres"


def _one_subject(contexts: Sequence[RequestContext]) -> Subject:
    subject = contexts[0].subject
    if any(c.subject != subject for c in contexts):
        raise ValueError("own messages of one subject only")
    return subject


def _choose(data: dict[str, Any]) -> tuple[str, str] | None:
    """The preferred address when it can carry a notice, else the first e-mail address, else the
    first mobile number."""
    voorkeur = (data.get(VOORKEURSKANAAL) or {}).get("voorkeursDigitaalAdres")
    candidates: list[tuple[str, str]] = []
    if isinstance(voorkeur, dict):
        candidates.append((str(voorkeur.get("soortDigitaalAdres")), str(voorkeur.get("adres") or "")))
    contact = data.get(CONTACTGEGEVENS) or {}
    candidates += [("email", str(a.get("adres") or "")) for a in _items(contact.get("emailadressen"))]
    candidates += [
        ("telefoonnummer", str(a.get("adres") or "")) for a in _items(contact.get("telefoonnummers"))
    ]
    for soort, adres in candidates:
        if soort == "email" and "@" in adres:
            return soort, adres
        if soort == "telefoonnummer" and _is_mobile(adres):
            return soort, adres
    return None


def _items(value: Any) -> Sequence[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
