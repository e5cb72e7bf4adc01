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
objection to that purpose is in force (dgkb.consent.objections). A failed notice never
fails the message; the outcome is kept on the message (`notify_outcome`).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from dgkb.domain.assurance import Assurance
from dgkb.domain.context import RequestContext
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.federation.fanout import SectionStatus
from dgkb.gateway import Processing, SourceGateway
from dgkb.notify.port import MessageKind, Notifier, NotifyError
from dgkb.policy.decision import CategoryDecision
from dgkb.store.db import Database
from dgkb.store.tables import MessageRow

__all__ = ["KINDS", "Message", "MessageService"]

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
MAX_TITLE = 200
MAX_BODY = 4000


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
    ) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._gateway = gateway
        self._notifier = notifier
        self._portal_url = portal_url.rstrip("/") + "/mijn/berichten"
        self._objected = objected

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
        """Store a message for `subject` from `organisation` (OIN) and, with `notify`, tell the
        customer by their preferred channel. `link` is a path inside Mijn omgeving (or None)."""
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
        )
        async with self._database.transaction() as session:
            session.add(row)
        message = _message(row)
        if notify:
            outcome = await self._notify(subject, message)
            async with self._database.transaction() as session:
                await session.execute(
                    update(MessageRow)
                    .where(MessageRow.id == row.id)
                    .values(
                        notify_outcome=outcome,
                        notified_at=datetime.now(UTC) if outcome == "verstuurd" else None,
                    )
                )
            message = dataclasses.replace(message, notify_outcome=outcome)
        return message

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
        async with self._database.read() as session:
            count = await session.scalar(
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
    async def _notify(self, subject: Subject, message: Message) -> str:
        """Send the notice; the outcome: verstuurd | geen-doel | bezwaar | geen-adres | mislukt |
        geweigerd."""
        try:
            found = await self._address(subject, message.organisation)
        except Exception as exc:  # a source or the log down: the message stands, the notice waits
            log.warning("bericht %s: voorkeurskanaal niet te lezen (%s)", message.id, type(exc).__name__)
            return "mislukt"
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
        except NotifyError as exc:
            log.warning(
                "bericht %s: melding niet verstuurd (%s)", message.id, exc.reason or type(exc).__name__
            )
            return "geweigerd" if exc.reason and exc.reason != "niet-ingesteld" else "mislukt"
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
        for outcome in reading.outcomes:
            if outcome.status is SectionStatus.OK and isinstance(outcome.data, dict):
                data.setdefault(outcome.category, outcome.data)
        choice = _choose(data)
        return choice if choice is not None else "geen-adres"


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
