""" "Bevestig met DigiD" during a call (issue 9 §3).

The agent asks for a confirmation on an identified contact; DGKB stores it (single use, 10 minutes,
bound to the contact and the pseudonym of its subject) and sends a link to the customer's *verified*
mobile number or e-mail address from Klantinteracties, or gives the agent a code to read out that the
caller types at the short URL. The customer logs in with DigiD at the organisation's broker; the ID
token is verified (AssertionVerifier: nonce of this confirmation, subject of this contact). Only then
the page shows a read-back code; when the agent enters it, the contact is identified with the stored
assertion and the level rises. Every other path (someone else logs in, expired, reused, cancelled,
not logged in, wrong code three times) changes nothing and is logged.

State lives in the database, so the link, the broker's callback and the agent's request may each land
on another node. Secrets (link token, typed code, OAuth state, read-back code) are stored as hashes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select, update

from dgkb.audit.records import Outcome
from dgkb.audit.writer import AuditWriter
from dgkb.contacts.service import ContactError, ContactService, ContactView
from dgkb.domain.assurance import Assurance, IdentificationMethod
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.gateway import SourceGateway, SourceUnavailable
from dgkb.identity.assertions import (
    AssertionRejected,
    AssertionSubjectMismatch,
    AssertionVerifier,
    VerifiedAssertion,
)
from dgkb.notify.port import MessageKind, Notifier, NotifyError
from dgkb.sources.base import VerifiedAddresses
from dgkb.store.db import Database
from dgkb.store.tables import ConfirmationRow, ContactSessionRow

__all__ = [
    "CODE_ALPHABET",
    "LIFETIME",
    "MAX_ATTEMPTS",
    "Confirmation",
    "ConfirmationError",
    "ConfirmationService",
    "CustomerLogin",
    "CustomerPage",
    "LoginOutcome",
    "Via",
    "format_code",
    "normalise_code",
]

LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 3
CONTACTGEGEVENS = "klant.contactgegevens"
# No 0/O, 1/I: the agent reads the code out over the phone.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
READBACK_DIGITS = 6
NOT_BY_CUSTOMER = (Kanaal.BALIE, Kanaal.BACKOFFICE)  # the customer is not on the line there


class Via(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CODE = "code"


class Status(StrEnum):
    OPEN = "open"  # sent / shown; the customer has not logged in yet
    INGELOGD = "ingelogd"  # logged in as the contact's subject; read-back code shown
    BEVESTIGD = "bevestigd"  # the agent entered the read-back code: the level rose
    MISLUKT = "mislukt"
    GEANNULEERD = "geannuleerd"
    VERLOPEN = "verlopen"  # derived: open or ingelogd past expires_at


class ChangePublisher(Protocol):
    """What this service needs of the change service (dgkb.events.service.ChangeService)."""

    async def publish_change(self, subject: Subject, categories: Iterable[str], source: str) -> Any: ...


class ConfirmationError(ContactError):
    code = "bevestiging.error"

    def __init__(self, message: str, *, status: int, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the agent sees of a confirmation (never the customer's address)."""

    id: str
    status: str
    via: str
    verloopt_op: datetime
    pogingen_over: int
    zekerheid: str | None = None  # the level of the customer's login, once logged in
    korte_url: str | None = None  # via=code: where the caller types the code
    code: str | None = None  # via=code: the code the agent reads out (only in the creation answer)
    contact: ContactView | None = None  # after a successful read-back


@dataclass(frozen=True, slots=True)
class CustomerPage:
    """What the public confirmation page shows (no personal data)."""

    reference: str  # the link token or the typed code, to start the login with
    organisatie: str
    verloopt_op: datetime


@dataclass(frozen=True, slots=True)
class CustomerLogin:
    """A started broker login: where to send the browser's parameters."""

    state: str
    nonce: str
    code_challenge: str


class LoginOutcome(StrEnum):
    GELUKT = "gelukt"
    ANDERE_KLANT = "andere-klant"
    MISLUKT = "mislukt"
    VERLOPEN = "verlopen"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def normalise_code(text: str) -> str:
    """The typed code without spaces or dashes, upper case."""
    return "".join(c for c in text.upper() if c not in " -\t")


def format_code(code: str) -> str:
    """`K7PM4XQA` -> `K7PM-4XQA`; `482913` -> `482 913`."""
    if code.isdigit():
        return f"{code[:3]} {code[3:]}"
    return f"{code[:4]}-{code[4:]}"


def _readback_hash(confirmation_id: str, code: str) -> str:
    return _hash(f"{confirmation_id}:{code}")


def _status(row: ConfirmationRow, now: datetime) -> Status:
    status = Status(row.status)
    if status in (Status.OPEN, Status.INGELOGD) and row.expires_at <= now:
        return Status.VERLOPEN
    return status


class ConfirmationService:
    def __init__(
        self,
        *,
        database: Database,
        contacts: ContactService,
        register: Register,
        gateway: SourceGateway,
        pseudonymizer: Pseudonymizer,
        auditor: AuditWriter,
        notifier: Notifier,
        assertions: AssertionVerifier,
        changes: ChangePublisher | None = None,
    ) -> None:
        self._db = database
        self._contacts = contacts
        self._register = register
        self._gateway = gateway
        self._pseudonymizer = pseudonymizer
        self._auditor = auditor
        self._notifier = notifier
        self._assertions = assertions
        self._changes = changes

    # --- agent side -----------------------------------------------------------------------------
    async def create(
        self, actor: Actor, contact_id: str, *, via: Via, public_base: str, trace: Trace
    ) -> Confirmation:
        """A new confirmation for the contact's subject, sent (sms/email) or shown (code)."""
        context = await self._contacts.context_for(actor, contact_id, trace=trace)
        if context.channel in NOT_BY_CUSTOMER:
            raise ConfirmationError(
                "Bevestigen met DigiD is voor een klant die belt of chat, niet aan de balie of in de "
                "backoffice.",
                status=409,
                reason="CONFIRMATION_CHANNEL",
                field="via",
            )
        if context.subject.kind is not SubjectKind.BSN:
            raise ConfirmationError(
                "Bevestigen met DigiD kan alleen voor een persoon (BSN).",
                status=409,
                reason="CONFIRMATION_NOT_A_PERSON",
                field="via",
            )
        if not self._assertions.configured:
            raise ConfirmationError(
                "Er is geen DigiD-broker geconfigureerd.",
                status=409,
                reason="ASSERTION_NO_BROKER",
                field="via",
            )
        address = None
        if via is not Via.CODE:
            address = await self._verified_address(context, via)
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        row = ConfirmationRow(
            id=str(uuid.uuid4()),
            contact_id=contact_id,
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            via=via.value,
            status=Status.OPEN.value,
            token_hash=_hash(token),
            code_hash=_hash(code),
            attempts=0,
            created_at=now,
            expires_at=now + LIFETIME,
            updated_at=now,
        )
        async with self._db.transaction() as session:
            session.add(row)
        await self._log(context, "bevestig met DigiD gestart", via=via.value)
        base = public_base.rstrip("/")
        if address is not None:
            personalisation = {
                "organisatie": self._organisation(context),
                "link": f"{base}/bevestigen/{token}",
                "code": format_code(code),
            }
            try:
                if via is Via.SMS:
                    template = self._notifier.templates.get(MessageKind.BEVESTIG_SMS)
                    sent = await self._notifier.send_sms(address, template, personalisation, row.id)
                else:
                    template = self._notifier.templates.get(MessageKind.BEVESTIG_EMAIL)
                    sent = await self._notifier.send_email(address, template, personalisation, row.id)
            except NotifyError as exc:
                await self._finish(row.id, Status.MISLUKT, "NOTIFY_FAILED")
                await self._log(context, "bevestig met DigiD: bericht niet verstuurd", outcome=Outcome.ERROR)
                raise ConfirmationError(
                    f"{exc.message} Kies 'code': lees de klant een code voor.",
                    status=503,
                    reason="NOTIFY_FAILED",
                    field="via",
                ) from None
            async with self._db.transaction() as session:
                await session.execute(
                    update(ConfirmationRow).where(ConfirmationRow.id == row.id).values(notification_id=sent)
                )
            return self._view(row, now)
        return Confirmation(
            id=row.id,
            status=row.status,
            via=row.via,
            verloopt_op=row.expires_at,
            pogingen_over=MAX_ATTEMPTS,
            korte_url=f"{base}/bevestig",
            code=format_code(code),
        )

    async def get(self, actor: Actor, contact_id: str, confirmation_id: str) -> Confirmation:
        await self._contacts.get(actor, contact_id)  # the contact's own employee only
        row = await self._row(contact_id, confirmation_id)
        return self._view(row, datetime.now(UTC))

    async def latest(self, actor: Actor, contact_id: str) -> Confirmation | None:
        """The contact's newest confirmation (for the console panel)."""
        await self._contacts.get(actor, contact_id)
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(ConfirmationRow)
                .where(ConfirmationRow.contact_id == contact_id)
                .order_by(ConfirmationRow.created_at.desc())
                .limit(1)
            )
        return self._view(row, datetime.now(UTC)) if row is not None else None

    async def cancel(
        self, actor: Actor, contact_id: str, confirmation_id: str, *, trace: Trace
    ) -> Confirmation:
        context = await self._contacts.context_for(actor, contact_id, trace=trace)
        row = await self._row(contact_id, confirmation_id)
        now = datetime.now(UTC)
        status = _status(row, now)
        if status not in (Status.OPEN, Status.INGELOGD):
            raise self._not_usable(status)
        if not await self._transition(row.id, (Status.OPEN, Status.INGELOGD), Status.GEANNULEERD, now=now):
            raise self._not_usable(_status(await self._row(contact_id, confirmation_id), now))
        await self._log(context, "bevestig met DigiD geannuleerd door medewerker")
        return self._view(await self._row(contact_id, confirmation_id), now)

    async def read_back(
        self, actor: Actor, contact_id: str, confirmation_id: str, code: str, *, trace: Trace
    ) -> Confirmation:
        """The agent enters the code the caller reads back: only then the level rises."""
        context = await self._contacts.context_for(actor, contact_id, trace=trace)
        row = await self._row(contact_id, confirmation_id)
        now = datetime.now(UTC)
        status = _status(row, now)
        if status is not Status.INGELOGD:
            await self._log(
                context,
                f"bevestig met DigiD: terugleescode geweigerd ({status.value})",
                outcome=Outcome.DENIED,
            )
            raise self._not_usable(status)
        if not self._pseudonymizer.matches(context.subject, row.subject_key):
            await self._finish(row.id, Status.MISLUKT, "SUBJECT_CHANGED")
            await self._log(context, "bevestig met DigiD mislukt: andere klant", outcome=Outcome.DENIED)
            raise ConfirmationError(
                "Deze bevestiging hoort bij een andere klant.", status=409, reason="CONFIRMATION_SUBJECT"
            )
        typed = "".join(c for c in code if c.isdigit())
        if len(typed) != READBACK_DIGITS or not hmac.compare_digest(
            _readback_hash(row.id, typed), row.readback_hash or ""
        ):
            left = await self._wrong_code(row.id)
            if left <= 0:
                await self._log(
                    context,
                    "bevestig met DigiD mislukt: 3 keer een verkeerde terugleescode",
                    outcome=Outcome.DENIED,
                )
                raise ConfirmationError(
                    "De code klopt niet. Dit was de laatste poging: de bevestiging is mislukt. "
                    "Start zo nodig een nieuwe.",
                    status=400,
                    reason="READBACK_CODE_WRONG",
                    field="code",
                )
            await self._log(context, "bevestig met DigiD: verkeerde terugleescode", outcome=Outcome.DENIED)
            raise ConfirmationError(
                f"De code klopt niet. U kunt het nog {left} keer proberen.",
                status=400,
                reason="READBACK_CODE_WRONG",
                field="code",
            )
        if Assurance(row.assurance or Assurance.GEEN.value).rank <= context.assurance.rank:
            await self._finish(row.id, Status.MISLUKT, "ASSURANCE_NOT_HIGHER")
            await self._log(
                context, "bevestig met DigiD mislukt: inlog geeft geen hoger niveau", outcome=Outcome.DENIED
            )
            raise ConfirmationError(
                "De inlog van de klant geeft geen hoger niveau dan het contact al heeft; er verandert niets.",
                status=409,
                reason="ASSURANCE_NOT_HIGHER",
                field="bevestigingId",
            )
        if not await self._transition(row.id, (Status.INGELOGD,), Status.BEVESTIGD, now=now):
            raise self._not_usable(_status(await self._row(contact_id, confirmation_id), now))
        assert row.assurance is not None
        assert row.method is not None
        assert row.issuer is not None
        assert row.authenticated_at is not None
        assertion = VerifiedAssertion(
            subject=context.subject,
            assurance=Assurance(row.assurance),
            method=IdentificationMethod(row.method),
            issuer=row.issuer,
            acr=row.acr,
            authenticated_at=row.authenticated_at,
        )
        view = await self._contacts.identify_with_assertion(actor, contact_id, assertion, trace)
        await self._log(context, "bevestig met DigiD gelukt: terugleescode klopt")
        purpose = self._register.get(context.purpose_id)
        if self._changes is not None and purpose is not None:
            # every open view of this customer (SSE, any node) re-checks what it may now show
            await self._changes.publish_change(context.subject, tuple(purpose.categorieen), "dgkb")
        confirmed = self._view(await self._row(contact_id, confirmation_id), now)
        return dataclasses.replace(confirmed, contact=view)

    # --- customer side (public) -----------------------------------------------------------------
    async def page_for_token(self, token: str) -> CustomerPage | None:
        return await self._page(ConfirmationRow.token_hash == _hash(token), token)

    async def page_for_code(self, code: str) -> CustomerPage | None:
        normalised = normalise_code(code)
        if len(normalised) != CODE_LENGTH:
            return None
        return await self._page(ConfirmationRow.code_hash == _hash(normalised), normalised)

    async def _page(self, where: Any, reference: str) -> CustomerPage | None:
        async with self._db.transaction() as session:
            found = (
                await session.execute(
                    select(ConfirmationRow, ContactSessionRow)
                    .join(ContactSessionRow, ContactSessionRow.id == ConfirmationRow.contact_id)
                    .where(where)
                )
            ).first()
        if found is None:
            return None
        row, contact = found
        if _status(row, datetime.now(UTC)) is not Status.OPEN or contact.ended_at is not None:
            return None
        return CustomerPage(
            reference=reference,
            organisatie=self._register.organisation_name(contact.organisation) or "de organisatie",
            verloopt_op=row.expires_at,
        )

    async def start_login(self, reference: str) -> CustomerLogin | None:
        """A fresh state, nonce and PKCE verifier for this open confirmation (a new attempt replaces
        an unfinished one); None when the link or code is not (or no longer) usable."""
        now = datetime.now(UTC)
        token_key, code_key = _hash(reference), _hash(normalise_code(reference))
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        c = ConfirmationRow
        async with self._db.transaction() as session:
            result = await session.execute(
                update(c)
                .where(
                    (c.token_hash == token_key) | (c.code_hash == code_key),
                    c.status == Status.OPEN.value,
                    c.expires_at > now,
                )
                .values(state_hash=_hash(state), nonce=nonce, code_verifier=verifier, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        if getattr(result, "rowcount", 0) != 1:
            return None
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return CustomerLogin(state=state, nonce=nonce, code_challenge=challenge)

    async def pending_login(self, state: str) -> tuple[str, str] | None:
        """(confirmation id, PKCE verifier) of the login this state belongs to; the state is spent."""
        if not state:
            return None
        c = ConfirmationRow
        async with self._db.transaction() as session:
            row = await session.scalar(select(c).where(c.state_hash == _hash(state)))
            if row is None or row.code_verifier is None:
                return None
            result = await session.execute(
                update(c)
                .where(c.id == row.id, c.state_hash == _hash(state))
                .values(state_hash=None)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
        return row.id, row.code_verifier

    async def complete_login(self, confirmation_id: str, id_token: str) -> tuple[LoginOutcome, str | None]:
        """Verify the broker's ID token against this confirmation's nonce and the contact's subject.
        (outcome, read-back code to show) — the code only on success."""
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            found = (
                await session.execute(
                    select(ConfirmationRow, ContactSessionRow)
                    .join(ContactSessionRow, ContactSessionRow.id == ConfirmationRow.contact_id)
                    .where(ConfirmationRow.id == confirmation_id)
                )
            ).first()
        if found is None:
            return LoginOutcome.MISLUKT, None
        row, contact = found
        context = self._customer_context(contact)
        if (
            _status(row, now) is not Status.OPEN
            or context is None
            or not self._pseudonymizer.matches(context.subject, row.subject_key)
        ):
            if context is not None:
                await self._log(
                    context,
                    "bevestig met DigiD: inlog na verlopen of gesloten bevestiging",
                    outcome=Outcome.DENIED,
                )
            return LoginOutcome.VERLOPEN, None
        try:
            assertion = await self._assertions.verify(
                id_token, expected_nonce=row.nonce, expected_subject=context.subject
            )
        except AssertionSubjectMismatch:
            await self._finish(row.id, Status.MISLUKT, "ASSERTION_SUBJECT_MISMATCH")
            await self._log(
                context, "bevestig met DigiD mislukt: inlog van een andere klant", outcome=Outcome.DENIED
            )
            return LoginOutcome.ANDERE_KLANT, None
        except AssertionRejected as exc:
            await self._finish(row.id, Status.MISLUKT, exc.reason)
            await self._log(
                context, f"bevestig met DigiD mislukt: inlog geweigerd ({exc.reason})", outcome=Outcome.DENIED
            )
            return LoginOutcome.MISLUKT, None
        if assertion.method is not IdentificationMethod.DIGID:
            await self._finish(row.id, Status.MISLUKT, "NOT_DIGID")
            await self._log(context, "bevestig met DigiD mislukt: geen DigiD-inlog", outcome=Outcome.DENIED)
            return LoginOutcome.MISLUKT, None
        if assertion.assurance.rank <= context.assurance.rank:
            # e.g. an `acr` the table does not know (= geen): a confirmation never lowers the level
            await self._finish(row.id, Status.MISLUKT, "ASSURANCE_NOT_HIGHER")
            await self._log(
                context,
                f"bevestig met DigiD mislukt: inlog geeft geen hoger niveau ({assertion.assurance.label})",
                outcome=Outcome.DENIED,
            )
            return LoginOutcome.MISLUKT, None
        readback = "".join(secrets.choice("0123456789") for _ in range(READBACK_DIGITS))
        c = ConfirmationRow
        async with self._db.transaction() as session:
            result = await session.execute(
                update(c)
                .where(c.id == row.id, c.status == Status.OPEN.value, c.expires_at > now)
                .values(
                    status=Status.INGELOGD.value,
                    readback_hash=_readback_hash(row.id, readback),
                    assurance=assertion.assurance.value,
                    method=assertion.method.value,
                    issuer=assertion.issuer,
                    acr=assertion.acr,
                    authenticated_at=assertion.authenticated_at,
                    nonce=None,
                    code_verifier=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        if getattr(result, "rowcount", 0) != 1:
            return LoginOutcome.VERLOPEN, None
        await self._log(
            context,
            f"bevestig met DigiD: klant ingelogd ({assertion.assurance.label}), wacht op terugleescode",
        )
        return LoginOutcome.GELUKT, format_code(readback)

    # --- internals ------------------------------------------------------------------------------
    async def _verified_address(self, context: RequestContext, via: Via) -> str:
        """The newest verified mobile number or e-mail address of the subject in Klantinteracties.
        Reading it is a processing under the contact's purpose, logged."""
        what = "mobiel nummer" if via is Via.SMS else "e-mailadres"
        if not self._gateway.offers(
            VerifiedAddresses, category=CONTACTGEGEVENS, purpose_id=context.purpose_id
        ):
            raise ConfirmationError(
                f"Het doel van dit contact staat het lezen van een geverifieerd {what} niet toe. "
                "Kies 'code': lees de klant een code voor.",
                status=409,
                reason="NO_VERIFIED_ADDRESS",
                field="via",
            )
        try:
            # logged by the gateway about the subject, also when it fails
            addresses = await self._gateway.verified_addresses(
                context, name=f"bevestig met DigiD: geverifieerd {what} lezen"
            )
        except SourceUnavailable as exc:
            raise ConfirmationError(
                f"{exc.message} Kies 'code': lees de klant een code voor.",
                status=503,
                reason="SOURCE_UNAVAILABLE",
                field="via",
            ) from None
        soort = "telefoonnummer" if via is Via.SMS else "email"
        chosen = next(
            (
                str(a["adres"])
                for a in addresses
                if a["soortDigitaalAdres"] == soort and (via is Via.EMAIL or _is_mobile(str(a["adres"])))
            ),
            None,
        )
        if chosen is None:
            raise ConfirmationError(
                f"Deze klant heeft geen geverifieerd {what} in Klantinteracties. Kies 'code': lees de klant "
                "een code voor.",
                status=409,
                reason="NO_VERIFIED_ADDRESS",
                field="via",
            )
        return chosen

    def _organisation(self, context: RequestContext) -> str:
        return self._register.organisation_name(context.actor.organisation) or "de organisatie"

    def _customer_context(self, contact: ContactSessionRow) -> RequestContext | None:
        """The contact's context, for logging what happens on the public page (on behalf of the
        contact's employee, under its purpose); None once the contact ended or lost its subject."""
        if (
            contact.ended_at is not None
            or contact.subject_value is None
            or contact.subject_kind is None
            or contact.purpose_id is None
        ):
            return None
        return RequestContext(
            actor=Actor(
                id=contact.actor_id,
                role=Role(contact.actor_role),
                organisation=contact.organisation,
                organisation_unit=contact.organisation_unit,
                issuer=contact.actor_issuer,
            ),
            subject=Subject(SubjectKind(contact.subject_kind), contact.subject_value),
            purpose_id=contact.purpose_id,
            assurance=Assurance(contact.assurance or Assurance.GEEN.value),
            channel=Kanaal(contact.channel),
            trace=Trace.from_traceparent(None),
            contact_id=contact.id,
            subject_shielded=contact.shielded,
        )

    async def _log(
        self,
        context: RequestContext,
        name: str,
        *,
        outcome: Outcome = Outcome.DELIVERED,
        categories: list[str] | None = None,
        started: datetime | None = None,
        via: str | None = None,
    ) -> None:
        await self._auditor.record_processing(
            context=context,
            name=(f"{name} (via {via})" if via else name)[:200],
            categories=categories or [],
            started_at=started or datetime.now(UTC),
            ended_at=datetime.now(UTC),
            outcome=outcome.value,
        )

    async def _row(self, contact_id: str, confirmation_id: str) -> ConfirmationRow:
        try:
            uuid.UUID(confirmation_id)
        except ValueError:
            raise ConfirmationError(
                "Bevestiging niet gevonden.",
                status=404,
                reason="CONFIRMATION_NOT_FOUND",
                field="bevestigingId",
            ) from None
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(ConfirmationRow).where(
                    ConfirmationRow.id == confirmation_id, ConfirmationRow.contact_id == contact_id
                )
            )
        if row is None:
            raise ConfirmationError(
                "Bevestiging niet gevonden.",
                status=404,
                reason="CONFIRMATION_NOT_FOUND",
                field="bevestigingId",
            )
        return row

    async def _transition(
        self, confirmation_id: str, from_: tuple[Status, ...], to: Status, *, now: datetime
    ) -> bool:
        c = ConfirmationRow
        async with self._db.transaction() as session:
            result = await session.execute(
                update(c)
                .where(c.id == confirmation_id, c.status.in_([s.value for s in from_]), c.expires_at > now)
                .values(status=to.value, state_hash=None, nonce=None, code_verifier=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def _finish(self, confirmation_id: str, status: Status, failure: str) -> None:
        c = ConfirmationRow
        async with self._db.transaction() as session:
            await session.execute(
                update(c)
                .where(c.id == confirmation_id)
                .values(
                    status=status.value,
                    failure=failure,
                    state_hash=None,
                    nonce=None,
                    code_verifier=None,
                    readback_hash=None,
                    updated_at=datetime.now(UTC),
                )
                .execution_options(synchronize_session=False)
            )

    async def _wrong_code(self, confirmation_id: str) -> int:
        """Count a wrong read-back code; the attempts left (0: the confirmation failed)."""
        c = ConfirmationRow
        async with self._db.transaction() as session:
            await session.execute(
                update(c)
                .where(c.id == confirmation_id, c.status == Status.INGELOGD.value)
                .values(attempts=c.attempts + 1, updated_at=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )
            attempts = await session.scalar(select(c.attempts).where(c.id == confirmation_id))
        left = MAX_ATTEMPTS - int(attempts or 0)
        if left <= 0:
            await self._finish(confirmation_id, Status.MISLUKT, "READBACK_CODE_WRONG")
        return left

    @staticmethod
    def _not_usable(status: Status) -> ConfirmationError:
        messages = {
            Status.OPEN: (409, "CONFIRMATION_NOT_LOGGED_IN", "De klant heeft nog niet met DigiD ingelogd."),
            Status.BEVESTIGD: (409, "CONFIRMATION_USED", "Deze bevestiging is al gebruikt."),
            Status.GEANNULEERD: (409, "CONFIRMATION_CANCELLED", "Deze bevestiging is geannuleerd."),
            Status.MISLUKT: (
                409,
                "CONFIRMATION_FAILED",
                "Deze bevestiging is mislukt; start zo nodig een nieuwe.",
            ),
            Status.VERLOPEN: (
                410,
                "CONFIRMATION_EXPIRED",
                "Deze bevestiging is verlopen; start zo nodig een nieuwe.",
            ),
            Status.INGELOGD: (409, "CONFIRMATION_STATE", "Deze bevestiging wacht op de terugleescode."),
        }
        status_code, reason, message = messages[status]
        return ConfirmationError(message, status=status_code, reason=reason, field="bevestigingId")

    @staticmethod
    def _view(row: ConfirmationRow, now: datetime) -> Confirmation:
        return Confirmation(
            id=row.id,
            status=_status(row, now).value,
            via=row.via,
            verloopt_op=row.expires_at,
            pogingen_over=max(0, MAX_ATTEMPTS - (row.attempts or 0)),
            zekerheid=row.assurance,
        )


def _is_mobile(phone: str) -> bool:
    digits = "".join(c for c in phone if c.isdigit())
    return digits.startswith(("06", "316", "00316"))
