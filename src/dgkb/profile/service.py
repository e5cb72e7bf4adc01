"""ProfileService: the customer changes their own contact details in Klantinteracties (Mijn profiel).

A change is itself a processing, decided and logged like a read: the PDP decides the category for
the customer's own contact (role burger, channel mijn-omgeving, their login level) and the register
must let that purpose write it back (`schrijven`, dgkb.domain.register); the gateway logs the write
with the changed category before it sends it, and only through the source's own API.

A **new** e-mail address or mobile number is proved to be the customer's first: DGKB sends a 6-digit
code to it through the notification port (NotifyNL), keeps only a salted hash of the code with an
expiry (15 minutes) and an attempt limit (5), sends at most 5 codes per customer an hour, and writes
the address to Klantinteracties only once the code is confirmed, with that day as its
`verificatieDatum`. The pending address itself is kept
(in `profile_verifications`, keyed by the subject's pseudonym) only until then: confirmed, blocked,
replaced by a newer one or expired, it is cleared. Removing an address and choosing the preferred
address (= channel) and language need no code: the customer logged in with DigiD or eHerkenning.

The subject is always the context's (the contact's, from the verified assertion); an address is
named by its kind and value and looked up among the subject's own partij's addresses only
(dgkb.sources.base.ProfileWriter), so no input can reach another customer's partij.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.gateway import SourceGateway
from dgkb.notify.port import MessageKind, Notifier, NotifyRejected, NotifyUnavailable
from dgkb.policy.decision import Decision
from dgkb.profile.inputs import ProfileInputError, parse_email, parse_language, parse_mobile
from dgkb.sources.base import SubjectNotFound
from dgkb.store.db import Database
from dgkb.store.tables import ProfileVerificationRow

__all__ = [
    "CONTACTGEGEVENS",
    "MAX_ATTEMPTS",
    "VALID_FOR",
    "VOORKEURSKANAAL",
    "NoPartij",
    "Pending",
    "ProfileForbidden",
    "ProfileService",
    "ProfileUnavailable",
    "TooManyCodes",
    "VerificationFailed",
]

CONTACTGEGEVENS = "klant.contactgegevens"
VOORKEURSKANAAL = "klant.voorkeurskanaal"
CODE_DIGITS = 6
WRITING = "schrijven"  # a right code, its address being written to Klantinteracties now
MAX_ATTEMPTS = 5
VALID_FOR = timedelta(minutes=15)
# At most this many codes per customer per hour: the form must not become a way to send text
# messages or e-mail to any number or address at will.
MAX_CODES_PER_HOUR = 5
SOORTEN = ("email", "telefoonnummer")
WRITE_NAME = "contactgegevens wijzigen (Mijn profiel)"
PREFERENCE_NAME = "voorkeuren wijzigen (Mijn profiel)"

Decide = Callable[[RequestContext], Awaitable[Decision]]
Publish = Callable[[Subject, Iterable[str], str], Awaitable[object]]


class ProfileForbidden(DomainError):
    """The register (or the PDP) does not let this contact change the category."""

    code = "profile.forbidden"
    status = 403


class ProfileUnavailable(DomainError):
    """The code could not be sent now (the message service is down); try again later."""

    code = "profile.unavailable"
    status = 503


class TooManyCodes(DomainError):
    """The customer asked for too many codes in the last hour."""

    code = "profile.too_many_codes"
    status = 429


class NoPartij(DomainError):
    """Klantinteracties knows no partij for this customer, so there is nothing to add an address to
    (DGKB does not create partijen: that is the organisation's own registration)."""

    code = "profile.no_partij"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "Wij kunnen uw gegevens hier nog niet opslaan, omdat u nog niet bij ons bekend bent als klant. "
            "Neem contact met ons op; dan zetten wij het voor u klaar."
        )


class VerificationFailed(DomainError):
    """A code that was wrong (`remaining` tries left), or a verification that is blocked, expired or
    unknown (`reason`)."""

    code = "profile.verification_failed"
    status = 400

    def __init__(self, message: str, *, reason: str, remaining: int = 0) -> None:
        super().__init__(message, field="code")
        self.reason = reason
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class Pending:
    """A verification waiting for its code: what the page may show (a masked address only)."""

    id: str
    soort: str
    masked: str
    expires_at: datetime
    remaining: int


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def mask(soort: str, adres: str) -> str:
    """Enough of the address for the customer to recognise it: `06 ****5678`, `j…@voorbeeld.nl`."""
    if soort == "telefoonnummer":
        return "06 ****" + adres[-4:]
    local, _, domain = adres.partition("@")
    return f"{local[:1]}…@{domain}"


class ProfileService:
    def __init__(
        self,
        *,
        register: Register,
        decide: Decide,
        gateway: SourceGateway,
        notifier: Notifier,
        database: Database,
        pseudonymizer: Pseudonymizer,
        publish: Publish | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._register = register
        self._decide = decide
        self._gateway = gateway
        self._notifier = notifier
        self._database = database
        self._pseudonymizer = pseudonymizer
        self._publish = publish
        self._now = clock

    # --- deciding --------------------------------------------------------------------------------
    async def may_write(self, context: RequestContext, category: str) -> bool:
        """May this contact change `category` at its source: the PDP permits the category for this
        contact, and the register lets its purpose write it back (`schrijven`)."""
        purpose = self._register.get(context.purpose_id)
        if purpose is None or not purpose.may_write(category):
            return False
        decided = (await self._decide(context)).for_category(category)
        return decided is not None and decided.permitted

    async def _require(self, context: RequestContext, category: str) -> None:
        if not await self.may_write(context, category):
            raise ProfileForbidden("U kunt deze gegevens hier niet wijzigen.", field=category)

    # --- a new address, verified by a code ---------------------------------------------------------
    async def start(
        self,
        context: RequestContext,
        *,
        soort: str,
        adres: str,
        organisation_name: str,
        omschrijving: str = "",
    ) -> Pending:
        """Check the address, send a code to it and remember it (hashed code) until confirmed. An
        earlier pending address of this customer is replaced."""
        if soort not in SOORTEN:
            raise ProfileInputError("Kies e-mailadres of mobiel nummer.", field="soort")
        value = parse_email(adres) if soort == "email" else parse_mobile(adres)
        await self._require(context, CONTACTGEGEVENS)
        keys = self._keys(context.subject)
        now = self._now()
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        salt = secrets.token_hex(16)
        row = ProfileVerificationRow(
            id=str(uuid.uuid4()),
            subject_key=keys[0],
            key_id=self._pseudonymizer.current_key_id,
            organisation=context.actor.organisation,
            soort=soort,
            adres=value,
            omschrijving=omschrijving[:40],
            salt=salt,
            code_hash=_hash(salt, code),
            attempts=0,
            status="open",
            created_at=now,
            expires_at=now + VALID_FOR,
            updated_at=now,
        )
        async with self._database.transaction() as session:
            recent = await session.scalar(
                select(func.count())
                .select_from(ProfileVerificationRow)
                .where(
                    ProfileVerificationRow.subject_key.in_(keys),
                    ProfileVerificationRow.created_at > now - timedelta(hours=1),
                )
            )
            if int(recent or 0) >= MAX_CODES_PER_HOUR:
                raise TooManyCodes(
                    "U heeft het afgelopen uur te vaak een code aangevraagd. "
                    "Probeer het over een uur opnieuw."
                )
            await session.execute(
                update(ProfileVerificationRow)
                .where(ProfileVerificationRow.subject_key.in_(keys), ProfileVerificationRow.status == "open")
                .values(status="vervangen", adres=None, updated_at=now)
            )
            session.add(row)
        try:
            await self._send_code(soort, value, code, organisation_name, reference=f"profiel-{row.id}")
        except NotifyRejected:
            await self._close(row.id, "geweigerd")
            field = "email" if soort == "email" else "telefoon"
            raise ProfileInputError(
                "Naar dit adres kunnen wij geen code sturen. Controleer het en probeer het opnieuw."
                if soort == "email"
                else "Naar dit nummer kunnen wij geen sms sturen. Controleer het en probeer het opnieuw.",
                field=field,
            ) from None
        except NotifyUnavailable:
            await self._close(row.id, "geweigerd")
            raise ProfileUnavailable(
                "Het versturen van de code lukt nu niet. Probeer het over een paar minuten opnieuw."
            ) from None
        return Pending(row.id, soort, mask(soort, value), row.expires_at, MAX_ATTEMPTS)

    async def _send_code(
        self, soort: str, adres: str, code: str, organisation: str, *, reference: str
    ) -> None:
        templates = self._notifier.templates
        personalisation = {"organisatie": organisation, "code": code}
        if soort == "telefoonnummer":
            await self._notifier.send_sms(
                adres, templates.get(MessageKind.VERIFICATIE_SMS), personalisation, reference
            )
        else:
            await self._notifier.send_email(
                adres, templates.get(MessageKind.VERIFICATIE_EMAIL), personalisation, reference
            )

    async def _close(self, verification_id: str, status: str) -> None:
        async with self._database.transaction() as session:
            await session.execute(
                update(ProfileVerificationRow)
                .where(ProfileVerificationRow.id == verification_id)
                .values(status=status, adres=None, updated_at=self._now())
            )

    async def _reopen(self, verification_id: str) -> None:
        async with self._database.transaction() as session:
            await session.execute(
                update(ProfileVerificationRow)
                .where(ProfileVerificationRow.id == verification_id, ProfileVerificationRow.status == WRITING)
                .values(status="open", updated_at=self._now())
            )

    async def pending(self, context: RequestContext, verification_id: str) -> Pending | None:
        """The customer's own open verification `verification_id`, or None (unknown, someone
        else's, confirmed, blocked or expired)."""
        async with self._database.read() as session:
            row = await self._own_row(session, context.subject, verification_id)
        if row is None or row.status != "open" or row.adres is None or row.expires_at <= self._now():
            return None
        return Pending(
            row.id, row.soort, mask(row.soort, row.adres), row.expires_at, MAX_ATTEMPTS - row.attempts
        )

    async def _own_row(
        self, session: Any, subject: Subject, verification_id: str, *, lock: bool = False
    ) -> ProfileVerificationRow | None:
        """The verification if it is this subject's; `lock`: held for update until the transaction
        ends (PostgreSQL), so two answers at once cannot both count as the same attempt."""
        if len(verification_id) > 36:
            return None
        query = select(ProfileVerificationRow).where(
            ProfileVerificationRow.id == verification_id,
            ProfileVerificationRow.subject_key.in_(self._keys(subject)),
        )
        if lock:
            query = query.with_for_update()
        result: ProfileVerificationRow | None = await session.scalar(query)
        return result

    async def confirm(self, context: RequestContext, verification_id: str, code: str) -> dict[str, Any]:
        """Check the code; right: write the address to Klantinteracties (verified today) and clear it
        here. Wrong: one try fewer, and after the fifth the verification is blocked."""
        typed = "".join(code.split())
        now = self._now()
        async with self._database.transaction() as session:
            row = await self._own_row(session, context.subject, verification_id, lock=True)
            if row is None or row.status != "open" or row.adres is None:
                blocked = row is not None and row.status == "geblokkeerd"
                raise VerificationFailed(
                    "U heeft te vaak een verkeerde code ingevuld. Vraag een nieuwe code aan."
                    if blocked
                    else "Deze code is niet meer geldig. Vraag een nieuwe code aan.",
                    reason="geblokkeerd" if blocked else "onbekend",
                )
            if row.expires_at <= now:
                row.status, row.adres, row.updated_at = "verlopen", None, now
                expired = True
            else:
                expired = False
                right = len(typed) == CODE_DIGITS and hmac.compare_digest(
                    _hash(row.salt, typed), row.code_hash
                )
                if not right:
                    row.attempts += 1
                    row.updated_at = now
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status, row.adres = "geblokkeerd", None
                    remaining = MAX_ATTEMPTS - row.attempts
                else:
                    # claimed by a conditional update, not by the row read above (SQLite reads
                    # without a lock): of two confirms at the same moment one claims it and writes,
                    # the other finds it no longer open and writes nothing — one address, not two
                    claimed = await session.execute(
                        update(ProfileVerificationRow)
                        .where(ProfileVerificationRow.id == row.id, ProfileVerificationRow.status == "open")
                        .values(status=WRITING, updated_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
                        raise VerificationFailed(
                            "Deze code is al gebruikt of niet meer geldig.", reason="onbekend"
                        )
                soort, adres, omschrijving = row.soort, row.adres, row.omschrijving
        if expired:
            raise VerificationFailed("De code is verlopen. Vraag een nieuwe code aan.", reason="verlopen")
        if not right:
            if remaining <= 0:
                raise VerificationFailed(
                    "U heeft te vaak een verkeerde code ingevuld. Vraag een nieuwe code aan.",
                    reason="geblokkeerd",
                )
            raise VerificationFailed(
                f"De code klopt niet. U kunt het nog {remaining} keer proberen.",
                reason="fout",
                remaining=remaining,
            )
        assert adres is not None
        try:
            await self._require(context, CONTACTGEGEVENS)  # the contact may have changed meanwhile
            written = await self._gateway.add_digitaal_adres(
                context,
                name=WRITE_NAME,
                soort=soort,
                adres=adres,
                omschrijving=omschrijving,
                verified_on=now.date(),
            )
        except SubjectNotFound:
            await self._close(verification_id, "geweigerd")
            raise NoPartij() from None
        except BaseException:
            # not written (the source down, the log unavailable, refused): the code still works
            await self._reopen(verification_id)
            raise
        await self._close(verification_id, "bevestigd")
        await self._changed(context.subject, CONTACTGEGEVENS)
        return written

    async def sweep_expired(self) -> int:
        """Housekeeping: forget the address of every verification whose code expired unanswered (the
        address is kept only while pending). The number of verifications closed."""
        async with self._database.transaction() as session:
            result = await session.execute(
                update(ProfileVerificationRow)
                .where(
                    # WRITING left behind by a process that stopped mid-write holds an address too
                    ProfileVerificationRow.status.in_(("open", WRITING)),
                    ProfileVerificationRow.expires_at <= self._now(),
                )
                .values(status="verlopen", adres=None, updated_at=self._now())
            )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- changes that need no code -----------------------------------------------------------------
    async def remove(self, context: RequestContext, *, soort: str, adres: str) -> None:
        """Remove one of the customer's own addresses."""
        if soort not in SOORTEN:
            raise ProfileInputError("Kies e-mailadres of mobiel nummer.", field="soort")
        await self._require(context, CONTACTGEGEVENS)
        try:
            removed = await self._gateway.remove_digitaal_adres(
                context, name=WRITE_NAME, soort=soort, adres=adres
            )
        except SubjectNotFound:
            raise NoPartij() from None
        if not removed:
            raise ProfileInputError("Dit adres staat niet (meer) in uw gegevens.", field="adres")
        await self._changed(context.subject, CONTACTGEGEVENS)

    async def set_preferences(
        self,
        context: RequestContext,
        *,
        preferred: tuple[str, str] | None = None,
        language: str | None = None,
    ) -> None:
        """The preferred address (its soort is the preferred channel) and/or the language."""
        if preferred is not None and preferred[0] not in SOORTEN:
            raise ProfileInputError("Kies bij Voorkeur een van uw adressen.", field="voorkeur")
        taal = parse_language(language) if language is not None else None
        await self._require(context, VOORKEURSKANAAL)
        try:
            await self._gateway.set_preferences(
                context, name=PREFERENCE_NAME, preferred=preferred, language=taal
            )
        except SubjectNotFound:
            raise ProfileInputError("Kies bij Voorkeur een van uw adressen.", field="voorkeur") from None
        await self._changed(context.subject, VOORKEURSKANAAL)

    async def _changed(self, subject: Subject, category: str) -> None:
        """Tell open views (an agent's klantbeeld) that the customer's details changed."""
        if self._publish is not None:
            await self._publish(subject, [category], "klantinteracties")

    def _keys(self, subject: Subject) -> list[str]:
        return [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]
