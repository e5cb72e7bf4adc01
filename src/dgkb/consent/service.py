"""Consent records: given, withdrawn, expiring; the policy engine sees the consented categories.

The rules of who may record consent live here, in one place, for the API and the console alike:

- consent comes from the customer: it is recorded only in a contact with the customer on the line
  (never in a case worker's zaak session, channel `backoffice`), identified at least with control
  questions, or by the customer themself in Mijn omgeving (role burger, their own contact on the
  channel mijn-omgeving, logged in with DigiD or eHerkenning), for any purpose of that contact's
  organisation with consent-bound categories (`offer_own`);
- only for the purposes of the employee's own organisation, and only for categories the purpose
  makes consent-bound and some source of this installation actually serves;
- giving, withdrawing and expiry are processings of the customer's data: each is an audit record
  (LDV + access log, in the hash chain) naming who recorded it, in which contact, for which purpose
  and categories. Giving and withdrawing are logged before they take effect; an expiry is logged
  once, by the housekeeping sweep (`sweep_expired`), as the system actor.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonym, Pseudonymizer, PseudonymousSubject
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.gateway import SourceGateway
from dgkb.store.consent import ConsentRepository
from dgkb.store.db import Database
from dgkb.store.tables import ConsentRow

SYSTEM_ACTOR_ID = "dgkb-systeem"  # the actor of processings DGKB does by itself (consent expiry)
# the weakest identification at which the customer on the line may give or withdraw consent
MINIMUM_ASSURANCE = Assurance.CONTROLEVRAGEN

GIVEN = "toestemming vastgelegd"
WITHDRAWN = "toestemming ingetrokken"
EXPIRED = "toestemming verlopen"


class ConsentError(DomainError):
    code = "consent.invalid"


class ConsentNotFound(DomainError):
    code = "consent.not_found"
    status = 404


class ConsentForbidden(DomainError):
    """Consent cannot be recorded here by this actor; `reason` is a stable code (`reden`)."""

    code = "consent.forbidden"
    status = 403

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


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


@dataclass(frozen=True, slots=True)
class ConsentOffer:
    """What a screen may offer in this contact: why consent cannot be asked here at all (Dutch, for
    the agent), else the consent-bound categories of the purpose that consent would unlock."""

    refusal: str | None
    obtainable: frozenset[str]

    def can_ask(self, category: str) -> bool:
        return self.refusal is None and category in self.obtainable


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
    def __init__(
        self,
        database: Database,
        pseudonymizer: Pseudonymizer,
        register: Register,
        *,
        gateway: SourceGateway,
        auditor: AuditWriter,
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._register = register
        self._gateway = gateway
        self._auditor = auditor
        self._repo = ConsentRepository()

    def _keys(self, subject: Subject) -> list[str]:
        return [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]

    # --- the rules --------------------------------------------------------------------------------
    def refusal(self, context: RequestContext) -> ConsentForbidden | None:
        """Why consent can never be given or withdrawn in this context, or None when it can."""
        if context.actor.role is Role.BURGER:
            # The customer online themself, in Mijn omgeving: only in their own contact (subject =
            # the logged-in customer, assurance from DigiD/eHerkenning). Recorded through the same
            # give/withdraw, so audited the same way (the access record names the portal session).
            if context.channel is not Kanaal.MIJN_OMGEVING or context.contact_id is None:
                return ConsentForbidden(
                    "Toestemming geeft of trekt u zelf in via Mijn omgeving, nadat u bent ingelogd.",
                    reason="CONSENT_ONLINE_NEEDS_LOGIN",
                )
            if not context.assurance.satisfies(MINIMUM_ASSURANCE):
                return ConsentForbidden(
                    "Log in met DigiD of eHerkenning om toestemming te geven of in te trekken.",
                    reason="CONSENT_ASSURANCE_TOO_LOW",
                    field="zekerheid",
                )
            return None
        if context.contact_id is None or context.channel is Kanaal.BACKOFFICE:
            return ConsentForbidden(
                "Toestemming legt u alleen vast in een contact met de klant zelf; bij de behandeling "
                "van een zaak is de klant niet aan de lijn.",
                reason="CONSENT_NEEDS_CUSTOMER",
                field="contactId",
            )
        if not context.assurance.satisfies(MINIMUM_ASSURANCE):
            return ConsentForbidden(
                f"De klant is geïdentificeerd met zekerheid '{context.assurance.label}'; toestemming "
                f"vastleggen kan pas vanaf {MINIMUM_ASSURANCE.label}. Identificeer eerst met controlevragen.",
                reason="CONSENT_ASSURANCE_TOO_LOW",
                field="zekerheid",
            )
        return None

    def _check_recorder(self, context: RequestContext) -> None:
        refused = self.refusal(context)
        if refused is not None:
            raise refused

    def _own_purpose(self, actor: Actor, purpose_id: str) -> Verwerkingsactiviteit:
        """The purpose, if it is one of the actor's organisation that the actor's role may use."""
        purpose = self._register.get(purpose_id)
        if purpose is None:
            raise ConsentError(f"onbekende verwerkingsactiviteit {purpose_id}", field="verwerkingsactiviteit")
        if purpose.organisatie.oin != actor.organisation:
            raise ConsentForbidden(
                f"Deze toestemming hoort bij een doel van {purpose.organisatie.naam}, niet van uw "
                "organisatie.",
                reason="CONSENT_OTHER_ORGANISATION",
                field="verwerkingsactiviteit",
            )
        return purpose

    def _served(self, purpose: Verwerkingsactiviteit, category: str, kind: SubjectKind) -> bool:
        """Does a source of this installation serve the category under this purpose, for this kind
        of customer? Consent for data no source delivers would unlock nothing."""
        access = purpose.categorieen.get(category)
        if access is None:
            return False
        return kind in self._gateway.subject_kinds(category, access.bronnen)

    def offer(self, context: RequestContext) -> ConsentOffer:
        """For screens: may consent be asked in this contact, and for which categories."""
        refused = self.refusal(context)
        if refused is not None:
            return ConsentOffer(refusal=refused.message, obtainable=frozenset())
        purpose = self._register.get(context.purpose_id)
        if purpose is None or purpose.organisatie.oin != context.actor.organisation:
            return ConsentOffer(refusal=None, obtainable=frozenset())
        return ConsentOffer(
            refusal=None,
            obtainable=frozenset(
                c for c in purpose.toestemmingVereist if self._served(purpose, c, context.subject.kind)
            ),
        )

    def offer_own(self, context: RequestContext) -> list[tuple[Verwerkingsactiviteit, tuple[str, ...]]]:
        """For the customer in Mijn omgeving: the purposes of their contact's organisation they may
        consent to, each with the consent-bound categories a source serves for them (none: left out)."""
        if self.refusal(context) is not None:
            return []
        offers = []
        for purpose in self._register.for_organisation(context.actor.organisation):
            cats = tuple(
                c for c in purpose.toestemmingVereist if self._served(purpose, c, context.subject.kind)
            )
            if cats:
                offers.append((purpose, cats))
        return offers

    # --- reading ----------------------------------------------------------------------------------
    async def consented_categories(
        self, subject: Subject, purpose_id: str, *, at: datetime
    ) -> frozenset[str]:
        """The categories this subject has consented to for this purpose, in force at `at`."""
        async with self._db.read() as session:
            rows = await self._repo.active(
                session, subject_keys=self._keys(subject), processing_activity_id=purpose_id, at=at
            )
        return frozenset(cat for row in rows for cat in json.loads(row.categories))

    async def list_for(self, context: RequestContext) -> list[Consent]:
        """The consents of the contact's customer for purposes of the employee's own organisation
        (another organisation's consents would tell which services the customer uses there)."""
        async with self._db.read() as session:
            rows = await self._repo.for_subject(session, subject_keys=self._keys(context.subject))
        own = {
            va.id
            for va in self._register.verwerkingsactiviteiten
            if va.organisatie.oin == context.actor.organisation
        }
        return [_to_consent(r) for r in rows if r.processing_activity_id in own]

    # --- giving and withdrawing -------------------------------------------------------------------
    async def give(
        self,
        context: RequestContext,
        *,
        categories: Sequence[str],
        expires_at: datetime | None = None,
        at: datetime | None = None,
        purpose_id: str | None = None,
    ) -> Consent:
        """Record the customer's consent, given in this contact, for categories of its purpose. The
        customer themself (role burger, in Mijn omgeving) names the purpose (`purpose_id`): any of
        their contact's organisation; an employee records it for the contact's purpose only."""
        self._check_recorder(context)
        if context.actor.role is Role.BURGER:
            if purpose_id is None:
                raise ConsentError("kies het doel van de toestemming", field="verwerkingsactiviteit")
            purpose = self._own_purpose(context.actor, purpose_id)
            context = dataclasses.replace(context, purpose_id=purpose.id)
        elif purpose_id is not None and purpose_id != context.purpose_id:
            raise ConsentError(
                "toestemming legt u vast voor het doel van het contact", field="verwerkingsactiviteit"
            )
        else:
            purpose = self._own_purpose(context.actor, context.purpose_id)
        if context.actor.role is not Role.BURGER and context.actor.role not in purpose.rollen:
            raise ConsentForbidden(
                f"Uw rol ({context.actor.role.value}) mag het doel '{purpose.naam}' niet gebruiken.",
                reason="CONSENT_ROLE_NOT_ALLOWED",
                field="verwerkingsactiviteit",
            )
        if not categories:
            raise ConsentError("noem minstens één categorie", field="categorieen")
        for cat in categories:
            if cat not in purpose.toestemmingVereist:
                raise ConsentError(
                    f"categorie {cat} vraagt bij dit doel geen toestemming (wel: "
                    f"{', '.join(purpose.toestemmingVereist) or 'geen'})",
                    field="categorieen",
                )
            if not self._served(purpose, cat, context.subject.kind):
                raise ConsentError(
                    f"voor categorie {cat} is bij dit doel geen bron aangesloten; toestemming zou "
                    "niets ontsluiten",
                    field="categorieen",
                )
        now = at or datetime.now(UTC)
        if expires_at is not None and expires_at <= now:
            raise ConsentError("vervaldatum ligt in het verleden", field="vervaltOp")
        chosen = sorted(set(categories))
        # Log before it takes effect: a consent nobody can account for must not exist.
        await self._log(context, GIVEN, chosen, purpose, started_at=now)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        row = ConsentRow(
            id=str(uuid.uuid4()),
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=context.subject.kind.value,
            processing_activity_id=context.purpose_id,
            categories=json.dumps(chosen),
            channel=context.channel.value,
            recorded_by=context.actor.id,
            contact_id=context.contact_id,
            given_at=now,
            expires_at=expires_at,
            withdrawn_at=None,
        )
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return _to_consent(row)

    async def withdraw(
        self, context: RequestContext, consent_id: str, *, at: datetime | None = None
    ) -> Consent:
        """The customer of this contact withdraws a consent of theirs (for any purpose of the
        employee's organisation). Takes effect on the next decision (decisions read consent every
        time). Withdrawing twice changes nothing and logs nothing."""
        self._check_recorder(context)
        now = at or datetime.now(UTC)
        if not _is_uuid(consent_id):
            raise ConsentNotFound("toestemming niet gevonden voor deze klant", field="id")
        async with self._db.read() as session:
            row = await self._repo.get(session, consent_id)
        if row is None or row.subject_key not in self._keys(context.subject):
            raise ConsentNotFound("toestemming niet gevonden voor deze klant", field="id")
        purpose = self._own_purpose(context.actor, row.processing_activity_id)
        if row.withdrawn_at is not None:
            return _to_consent(row)
        about = dataclasses.replace(context, purpose_id=row.processing_activity_id)
        await self._log(about, WITHDRAWN, json.loads(row.categories), purpose, started_at=now)
        async with self._db.transaction() as session:
            await self._repo.withdraw(session, consent_id, now)
            current = await self._repo.get(session, consent_id)
        assert current is not None  # consents are never deleted
        return _to_consent(current)

    # --- expiry -----------------------------------------------------------------------------------
    async def sweep_expired(self, *, now: datetime | None = None, batch: int = 200) -> int:
        """Write one audit record per consent whose expiry passed and is not logged yet, as the
        system actor of the purpose's organisation. Each expiry is claimed first (a conditional
        update), so several processes sweeping at once log it once; a claim whose record could not
        be written is released for the next round. Returns the expiries logged."""
        now = now or datetime.now(UTC)
        logged = 0
        while True:
            async with self._db.read() as session:
                rows = await self._repo.expired_unlogged(session, now=now, limit=batch)
            for row in rows:
                async with self._db.transaction() as session:
                    if not await self._repo.claim_expiry(session, row.id, now):
                        continue
                try:
                    await self._log_expiry(row, now)
                except BaseException:
                    async with self._db.transaction() as session:
                        await self._repo.release_expiry(session, row.id)
                    raise
                logged += 1
            if len(rows) < batch:
                return logged

    async def _log_expiry(self, row: ConsentRow, now: datetime) -> None:
        purpose = self._register.get(row.processing_activity_id)
        # DGKB keeps no plain identifier after the contact: the record reuses the stored pseudonym.
        subject = PseudonymousSubject(SubjectKind(row.subject_kind), Pseudonym(row.key_id, row.subject_key))
        context = RequestContext(
            actor=Actor(
                id=SYSTEM_ACTOR_ID,
                role=Role.SYSTEEM,
                organisation=purpose.organisatie.oin if purpose is not None else "",
            ),
            subject=subject,
            purpose_id=row.processing_activity_id,
            assurance=Assurance.GEEN,  # nobody is identified: the system notes the passing of time
            channel=Kanaal(row.channel),  # the channel the consent was given on
            trace=Trace(),
            contact_id=row.contact_id,  # the contact in which it was given
        )
        assert row.expires_at is not None
        await self._log(
            context, EXPIRED, json.loads(row.categories), purpose, started_at=row.expires_at, ended_at=now
        )

    async def _log(
        self,
        context: RequestContext,
        name: str,
        categories: Sequence[str],
        purpose: Verwerkingsactiviteit | None,
        *,
        started_at: datetime,
        ended_at: datetime | None = None,
    ) -> None:
        await self._auditor.record_processing(
            context=context,
            name=name,
            categories=list(categories),
            started_at=started_at,
            ended_at=ended_at or datetime.now(UTC),
        )
