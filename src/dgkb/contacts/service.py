"""ContactService: start a contact, identify the subject, choose/change the purpose, end it.

The session is what binds a klantbeeld read to one subject and one purpose: without an open session
of the same actor, with the subject identified and a purpose chosen, no personal data is read.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dgkb.audit.records import Outcome
from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import AGENT_ATTESTABLE, Assurance, IdentificationEvidence, IdentificationMethod
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.representation import Vertegenwoordiging
from dgkb.domain.roles import Role
from dgkb.gateway import Caller, SourceGateway
from dgkb.identity.assertions import AssertionSubjectMismatch, AssertionVerifier, VerifiedAssertion
from dgkb.policy.decision import DecisionRequest, PolicyEngine
from dgkb.sources.base import SubjectNotFound, ZaakFacts
from dgkb.store.contacts import ContactRepository
from dgkb.store.db import Database
from dgkb.store.tables import ContactSessionRow

BASIS = "klant.basis"

_TOUCH_GRANULARITY = timedelta(seconds=5)
# the API's field name for each kind of subject identifier (errors name the field the caller sent)
_FIELD_OF_KIND = {
    SubjectKind.BSN: "bsn",
    SubjectKind.KVK: "kvkNummer",
    SubjectKind.VESTIGING: "vestigingsnummer",
}


class ContactError(DomainError):
    """Base; `status` is the HTTP status the API maps it to, `reason` a stable reason code."""

    code = "contact.error"
    status = 400
    reason = "CONTACT_INVALID"


class SubjectUnknown(ContactError):
    """A valid identifier of nobody the base registry knows: nothing to identify (404, the field named)."""

    code = "contact.subject_unknown"
    status = 404
    reason = "SUBJECT_UNKNOWN"


class ContactNotFound(ContactError):
    code = "contact.not_found"
    status = 404
    reason = "CONTACT_NOT_FOUND"


class ContactForbidden(ContactError):
    code = "contact.forbidden"
    status = 403
    reason = "CONTACT_FORBIDDEN"

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


class ContactConflict(ContactError):
    code = "contact.conflict"
    status = 409
    reason = "CONTACT_STATE"


@dataclass(frozen=True, slots=True)
class IdentificationScope:
    """An open contact's identification step as the PDP decided it: the organisation's
    identification purpose and the kinds of subject this employee may look up under it."""

    channel: Kanaal
    purpose_id: str
    subject_kinds: frozenset[SubjectKind]

    def context(
        self,
        actor: Actor,
        subject: Subject,
        trace: Trace,
        contact_id: str,
        assurance: Assurance = Assurance.GEEN,
    ) -> RequestContext:
        """The context of a processing in this identification step (a read, a check, its log)."""
        return RequestContext(
            actor=actor,
            subject=subject,
            purpose_id=self.purpose_id,
            assurance=assurance,
            channel=self.channel,
            trace=trace,
            contact_id=contact_id,
        )


@dataclass(frozen=True, slots=True)
class ContactView:
    """What the API shows of a contact session (never the plain identifier)."""

    id: str
    kanaal: str
    reden: str | None
    verwerkingsactiviteit: str | None
    onderwerp_type: str | None
    geidentificeerd: bool
    zekerheid: str | None
    afgeschermd: bool
    zaak: str | None
    gestart_op: datetime
    laatste_activiteit_op: datetime
    beeindigd_op: datetime | None
    weergavenaam: str | None = None
    identificatie: IdentificatieView | None = None


@dataclass(frozen=True, slots=True)
class IdentificatieView:
    """How identity was established: method, and for a login the broker, its acr and the time."""

    methode: str
    uitgever: str | None
    acr: str | None
    op: datetime | None


class ContactService:
    def __init__(
        self,
        *,
        database: Database,
        register: Register,
        gateway: SourceGateway,
        pseudonymizer: Pseudonymizer,
        auditor: AuditWriter,
        engine: PolicyEngine,
        idle_timeout: timedelta,
        identification_purposes: Mapping[str, str],
        assertions: AssertionVerifier | None = None,
    ) -> None:
        self._db = database
        self._assertions = assertions
        self._register = register
        self._engine = engine
        self._gateway = gateway
        self._pseudonymizer = pseudonymizer
        self._auditor = auditor
        self._idle = idle_timeout
        self._touch_every = min(_TOUCH_GRANULARITY, idle_timeout / 10)
        # organisation OIN -> the register's identification purpose of that organisation
        self._identification_purposes = dict(identification_purposes)
        self._repo = ContactRepository()

    # --- purpose checks -----------------------------------------------------------------------
    def _check_purpose(self, actor: Actor, purpose_id: str) -> None:
        purpose = self._register.get(purpose_id)
        if purpose is None:
            raise ContactForbidden(
                "Deze verwerkingsactiviteit staat niet in het register.",
                reason="PURPOSE_UNKNOWN",
                field="verwerkingsactiviteit",
            )
        if purpose.systeemtaak is not None:
            # DGKB's own tasks (reconciliation, notifications) are never the purpose of a contact,
            # whatever role a token claims: they read without a person asking
            raise ContactForbidden(
                f"'{purpose.naam}' is een taak van DGKB zelf, geen doel voor een contact.",
                reason="ROLE_NOT_ALLOWED",
                field="verwerkingsactiviteit",
            )
        if actor.role not in purpose.rollen:
            raise ContactForbidden(
                f"Uw rol ({actor.role.value}) mag het doel '{purpose.naam}' niet gebruiken.",
                reason="ROLE_NOT_ALLOWED",
                field="verwerkingsactiviteit",
            )
        if purpose.organisatie.oin != actor.organisation:
            raise ContactForbidden(
                f"Het doel '{purpose.naam}' hoort bij {purpose.organisatie.naam}, niet bij uw organisatie.",
                reason="ORGANISATION_MISMATCH",
                field="verwerkingsactiviteit",
            )

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(
        self, actor: Actor, *, kanaal: Kanaal, purpose_id: str | None = None, reden: str | None = None
    ) -> ContactView:
        if kanaal is Kanaal.MIJN_OMGEVING and actor.role is not Role.BURGER:
            # the access log tells the customer "you yourself, in Mijn omgeving": no employee's read
            # may be logged under that channel
            raise ContactForbidden(
                "Het kanaal Mijn omgeving is alleen voor de klant zelf.",
                reason="CHANNEL_NOT_ALLOWED",
                field="kanaal",
            )
        if actor.role is Role.TEAMLEIDER:
            # a team lead reads suppressed aggregates only (the dashboard), never a customer
            raise ContactForbidden(
                "Een teamleider voert geen klantcontacten; het dashboard toont alleen totalen.",
                reason="ROLE_NOT_ALLOWED",
            )
        if purpose_id is not None:
            self._check_purpose(actor, purpose_id)
        now = datetime.now(UTC)
        row = ContactSessionRow(
            id=str(uuid.uuid4()),
            actor_id=actor.id,
            actor_role=actor.role.value,
            organisation=actor.organisation,
            organisation_unit=actor.organisation_unit,
            actor_issuer=actor.issuer,
            channel=kanaal.value,
            reason=reden,
            purpose_id=purpose_id,
            shielded=False,
            started_at=now,
            last_activity_at=now,
        )
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return _view(row)

    async def get(self, actor: Actor, contact_id: str) -> ContactView:
        return _view(await self._read_open_row(actor, contact_id, touch=False))

    async def identify(
        self, actor: Actor, contact_id: str, *, subject: Subject, assurance: Assurance, trace: Trace
    ) -> ContactView:
        """Bind the subject to the contact on the employee's own attestation: only `geen` and
        `controlevragen`. A DigiD or eHerkenning level is never typed: it comes from a verified
        assertion of the broker (identify_with_id_token), so it is refused here naming `zekerheid`."""
        if assurance not in AGENT_ATTESTABLE:
            raise ContactError(
                "Een DigiD- of eHerkenningniveau komt uit een inlog van de klant, niet uit invoer: "
                "geef het ID-token van de inlog mee (idToken) in plaats van een zekerheid.",
                field="zekerheid",
            )
        return await self._identify(
            actor,
            contact_id,
            subject=subject,
            assurance=assurance,
            evidence=IdentificationEvidence(method=IdentificationMethod(assurance.value)),
            trace=trace,
        )

    async def identify_with_id_token(
        self,
        actor: Actor,
        contact_id: str,
        *,
        subject: Subject,
        id_token: str,
        nonce: str | None,
        trace: Trace,
    ) -> ContactView:
        """Identify with the customer's own login: the broker's ID token, verified (signature,
        issuer, audience, expiry, single-use nonce) and about this subject. A login of someone else
        is refused (403 ASSERTION_SUBJECT_MISMATCH), logged as a failed identification attempt, and
        changes nothing; any other rejected token changes nothing either."""
        if self._assertions is None or not self._assertions.configured:
            raise ContactForbidden(
                "Er is geen DigiD- of eHerkenning-broker geconfigureerd.",
                reason="ASSERTION_NO_BROKER",
                field="idToken",
            )
        field = _FIELD_OF_KIND[subject.kind]
        # The contact and the employee's right to identify are checked before the token is spent.
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=True)
            if row.subject_key is not None and not self._pseudonymizer.matches(subject, row.subject_key):
                raise ContactConflict(
                    "Dit contact is al aan een andere klant gekoppeld; start een nieuw contact.", field=field
                )
        scope: IdentificationScope | None = None
        if actor.role is not Role.BURGER:
            scope = self._decide_identification(actor, Kanaal(row.channel), (subject.kind,))
        try:
            assertion = await self._assertions.verify(
                id_token, expected_nonce=nonce, expected_subject=subject
            )
        except AssertionSubjectMismatch as exc:
            if scope is not None:
                await self._log_failed_identification(actor, contact_id, subject, scope, exc.assertion, trace)
            raise
        return await self.identify_with_assertion(actor, contact_id, assertion, trace)

    async def identify_with_assertion(
        self, actor: Actor, contact_id: str, assertion: VerifiedAssertion, trace: Trace
    ) -> ContactView:
        """Bind the verified assertion's subject at the level its `acr` yields, keeping the evidence
        (method, issuer, acr, time). For any flow that verified a broker login (AssertionVerifier)."""
        return await self._identify(
            actor,
            contact_id,
            subject=assertion.subject,
            assurance=assertion.assurance,
            evidence=IdentificationEvidence(
                method=assertion.method,
                issuer=assertion.issuer,
                acr=assertion.acr,
                authenticated_at=assertion.authenticated_at,
                representation=assertion.representation.kind if assertion.representation else None,
            ),
            trace=trace,
        )

    async def identify_by_document(
        self,
        actor: Actor,
        contact_id: str,
        *,
        subject: Subject,
        assurance: Assurance,
        evidence: IdentificationEvidence,
        trace: Trace,
    ) -> ContactView:
        """Bind after an identity document was checked in BRP Reisdocumenten at the counter
        (contacts.documents.DocumentCheckService): `assurance` is the register's documentZekerheid
        for the contact's purpose, never typed by the employee."""
        if evidence.method is not IdentificationMethod.DOCUMENT:
            raise ContactError("Alleen voor een gecontroleerd identiteitsbewijs.", field="documentnummer")
        return await self._identify(
            actor, contact_id, subject=subject, assurance=assurance, evidence=evidence, trace=trace
        )

    async def _log_failed_identification(
        self,
        actor: Actor,
        contact_id: str,
        subject: Subject,
        scope: IdentificationScope,
        assertion: VerifiedAssertion,
        trace: Trace,
    ) -> None:
        """A login of someone else than the claimed subject: logged about the claimed subject (the
        other person's identifier is not written anywhere), with outcome `denied`."""
        now = datetime.now(UTC)
        await self._auditor.record_processing(
            context=scope.context(actor, subject, trace, contact_id),
            name=_audit_name(
                "klant identificeren mislukt: inlog van een andere klant",
                assertion.assurance,
                IdentificationEvidence(
                    method=assertion.method,
                    issuer=assertion.issuer,
                    acr=assertion.acr,
                    authenticated_at=assertion.authenticated_at,
                ),
            ),
            categories=[],
            started_at=now,
            ended_at=now,
            outcome=Outcome.DENIED.value,
        )

    async def _identify(
        self,
        actor: Actor,
        contact_id: str,
        *,
        subject: Subject,
        assurance: Assurance,
        evidence: IdentificationEvidence,
        trace: Trace,
    ) -> ContactView:
        """Bind the subject to the contact, after the base registry confirmed it exists. Learns the
        BRP secrecy indication, which every later decision uses. Identification is itself a
        processing, decided by the PDP under the organisation's identification purpose and logged,
        with how identity was established (`evidence`).

        `controlevragen` can be attested only for the subject whose answers were shown to the agent
        in this contact. One contact has one subject: the bind is a conditional update, so of two
        identifications racing for a fresh contact at most one wins, on every database."""
        if subject.kind is SubjectKind.BSN and assurance.value.startswith("eherkenning"):
            raise ContactError(
                "eHerkenning hoort bij bedrijven; kies een DigiD-niveau of controlevragen", field="zekerheid"
            )
        if subject.kind is not SubjectKind.BSN and assurance.value.startswith("digid"):
            raise ContactError(
                "DigiD hoort bij personen; kies een eHerkenning-niveau of controlevragen", field="zekerheid"
            )
        field = _FIELD_OF_KIND[subject.kind]
        if actor.role is Role.BURGER:
            scope = await self._self_identification_scope(actor, contact_id, subject.kind, assurance)
        else:
            scope = await self.identification_scope(actor, contact_id, kinds=(subject.kind,))
        pseudonym = self._pseudonymizer.pseudonym(subject)
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=True)
            if row.subject_key is not None and not self._pseudonymizer.matches(subject, row.subject_key):
                raise ContactConflict(
                    "Dit contact is al aan een andere klant gekoppeld; start een nieuw contact.", field=field
                )
            if evidence.representation is not None:
                self._check_representation(row.purpose_id, evidence.representation)
            if evidence.method is IdentificationMethod.CONTROLEVRAGEN and not (
                row.control_answers_key and self._pseudonymizer.matches(subject, row.control_answers_key)
            ):
                raise ContactForbidden(
                    "Bekijk eerst de antwoorden op de controlevragen van deze klant; pas daarna kunt u "
                    "vastleggen dat ze kloppen.",
                    reason="CONTROL_ANSWERS_NOT_SHOWN",
                    field="zekerheid",
                )
        # The base registry's answer is the identification's processing: the gateway logs it about
        # the subject under the identification purpose, with how identity was established.
        facts = await self._gateway.verify_subject(
            scope.context(actor, subject, trace, contact_id, assurance),
            name=_audit_name("klant identificeren", assurance, evidence),
        )
        if not facts.exists:
            raise SubjectUnknown("Deze klant is niet gevonden in de basisregistratie.", field=field)
        async with self._db.transaction() as session:
            bound = await self._repo.bind_subject(
                session,
                contact_id,
                subject_kind=subject.kind.value,
                subject_value=subject.value,
                subject_key=pseudonym.value,
                key_id=pseudonym.key_id,
                known_keys=[p.value for p in self._pseudonymizer.all_pseudonyms(subject)],
                assurance=assurance.value,
                shielded=facts.shielded,
                at=datetime.now(UTC),
                evidence=evidence,
            )
            if not bound:
                raise ContactConflict(
                    "Dit contact is al aan een andere klant gekoppeld; start een nieuw contact.", field=field
                )
            row = await self._open_row(session, actor, contact_id, touch=False)
            await session.refresh(row)
        return _view(row, display_name=facts.display_name)

    def _check_representation(self, purpose_id: str | None, kind: Vertegenwoordiging) -> None:
        """Someone acting for the subject: only under a purpose whose register entry accepts this
        kind of representation (a contact without a purpose accepts none)."""
        purpose = self._register.get(purpose_id) if purpose_id else None
        if purpose is None or kind not in purpose.vertegenwoordiging:
            raise ContactForbidden(
                f"Handelen namens een ander als {kind.label} is voor "
                f"{'dit doel' if purpose is None else repr(purpose.naam)} niet toegestaan.",
                reason="REPRESENTATION_NOT_ALLOWED",
                field="idToken",
            )

    async def control_answers_shown(self, actor: Actor, contact_id: str, subject: Subject) -> None:
        """Remember that the agent has seen the registry's answers for this subject in this contact:
        the precondition for attesting 'controlevragen' (identify)."""
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=True)
            row.control_answers_key = self._pseudonymizer.pseudonym(subject).value

    def _identification_purpose(self, actor: Actor) -> str:
        purpose = self._identification_purposes.get(actor.organisation)
        if purpose is None:
            raise ContactForbidden(
                "Uw organisatie heeft geen identificatiedoel in het register.", reason="PURPOSE_UNKNOWN"
            )
        return purpose

    async def _self_identification_scope(
        self, actor: Actor, contact_id: str, kind: SubjectKind, assurance: Assurance
    ) -> IdentificationScope:
        """A citizen or business identifies only themself, by their own login, under the contact's
        own-view purpose: the PDP must permit klant.basis there for this role and assurance. There is
        no search and no control question for them (the identification purpose is for staff)."""
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=True)
        if row.purpose_id is None:
            raise ContactForbidden(
                "Kies eerst het doel van dit contact.",
                reason="PURPOSE_NOT_CHOSEN",
                field="verwerkingsactiviteit",
            )
        decision = self._engine.decide(
            DecisionRequest(
                purpose_id=row.purpose_id,
                role=actor.role,
                assurance=assurance,
                subject_kind=kind,
                organisation=actor.organisation,
                channel=Kanaal(row.channel),
                categories=(BASIS,),
            )
        ).for_category(BASIS)
        if decision is None or not decision.permitted:
            reason = decision.reason if decision is not None else None
            raise ContactForbidden(
                (decision.explanation if decision is not None else None) or "Identificeren mag hier niet.",
                reason=reason.value if reason is not None else "ROLE_NOT_ALLOWED",
                field="zekerheid",
            )
        return IdentificationScope(
            channel=Kanaal(row.channel), purpose_id=row.purpose_id, subject_kinds=frozenset({kind})
        )

    def _decide_identification(
        self, actor: Actor, channel: Kanaal, kinds: tuple[SubjectKind, ...]
    ) -> IdentificationScope:
        """Ask the PDP whether this employee may read klant.basis under the organisation's
        identification purpose, per kind of subject; refuse (403 with the PDP's reason) when no
        kind is permitted. Nothing about a customer is read before this decision."""
        purpose_id = self._identification_purpose(actor)
        permitted: set[SubjectKind] = set()
        first_denial = None
        for kind in kinds:
            decision = self._engine.decide(
                DecisionRequest(
                    purpose_id=purpose_id,
                    role=actor.role,
                    assurance=Assurance.GEEN,
                    subject_kind=kind,
                    organisation=actor.organisation,
                    channel=channel,
                    categories=(BASIS,),
                )
            ).for_category(BASIS)
            if decision is not None and decision.permitted:
                permitted.add(kind)
            elif first_denial is None:
                first_denial = decision
        if not permitted:
            reason = first_denial.reason if first_denial is not None else None
            explanation = (first_denial.explanation if first_denial is not None else None) or ""
            raise ContactForbidden(
                f"U mag geen klanten zoeken of identificeren. {explanation}".strip(),
                reason=reason.value if reason is not None else "ROLE_NOT_ALLOWED",
                field="contactId",
            )
        return IdentificationScope(channel=channel, purpose_id=purpose_id, subject_kinds=frozenset(permitted))

    async def identification_scope(
        self, actor: Actor, contact_id: str, *, kinds: tuple[SubjectKind, ...] = tuple(SubjectKind)
    ) -> IdentificationScope:
        """The decided identification step of an open contact (for search, control questions and
        identification): 403 when the register does not let this employee identify customers."""
        row = await self._read_open_row(actor, contact_id, touch=True)
        return self._decide_identification(actor, Kanaal(row.channel), kinds)

    async def set_purpose(
        self, actor: Actor, contact_id: str, purpose_id: str, *, trace: Trace
    ) -> ContactView:
        """Change the purpose (a caller's second question). Each change is logged."""
        self._check_purpose(actor, purpose_id)
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=True)
            previous = row.purpose_id
            row.purpose_id = purpose_id
            if row.identification_method == IdentificationMethod.DOCUMENT.value:
                # what a checked identity document counts as is the register's choice per purpose
                new = self._register.get(purpose_id)
                row.assurance = new.documentZekerheid.value if new else Assurance.CONTROLEVRAGEN.value
        if row.subject_value and previous != purpose_id:
            await self._auditor.record_processing(
                context=self._context_of(row, actor, trace),
                name="doel van contact gewijzigd",
                categories=[],
                started_at=datetime.now(UTC),
                ended_at=datetime.now(UTC),
            )
        return _view(row)

    async def end(self, actor: Actor, contact_id: str) -> ContactView:
        """End the contact: the session's access to the customer ends with it."""
        async with self._db.transaction() as session:
            row = await self._open_row(session, actor, contact_id, touch=False)
            _close(row, datetime.now(UTC))
        return _view(row)

    async def context_for(
        self,
        actor: Actor,
        contact_id: str,
        *,
        trace: Trace,
        subject: Subject | None = None,
        purpose_id: str | None = None,
    ) -> RequestContext:
        """The request context for reading this contact's klantbeeld. When the caller names a
        subject or purpose, it must be the session's: anything else is refused (403)."""
        row = await self._read_open_row(actor, contact_id, touch=True)
        self._check_readable(row)
        if subject is not None and (
            subject.kind.value != row.subject_kind or subject.value != row.subject_value
        ):
            raise ContactForbidden(
                "Deze klant is niet de klant van dit contact.",
                reason="SUBJECT_NOT_IN_CONTACT",
                field=_FIELD_OF_KIND[subject.kind],
            )
        if purpose_id is not None and purpose_id != row.purpose_id:
            raise ContactForbidden(
                "Dit doel is niet het doel van dit contact; wijzig eerst het doel.",
                reason="PURPOSE_NOT_IN_CONTACT",
                field="verwerkingsactiviteit",
            )
        return self._context_of(row, actor, trace)

    async def contexts_for(
        self, contacts: Sequence[tuple[Actor, str]], *, trace: Trace
    ) -> dict[str, RequestContext]:
        """The request contexts of several contacts in one SELECT (Mijn omgeving reads the customer's
        own contact with each organisation on every page), by contact id, each checked and touched as
        `context_for` does. A contact that cannot be read (unknown, someone else's, ended, expired,
        no subject or purpose yet) is left out: `context_for` says why."""
        wanted: list[tuple[Actor, str]] = []
        for actor, contact_id in contacts:
            try:
                uuid.UUID(contact_id)
            except ValueError:
                continue
            wanted.append((actor, contact_id))
        if not wanted:
            return {}
        async with self._db.reading() as conn:
            rows = {row.id: row for row in await self._repo.read_many(conn, [cid for _, cid in wanted])}
        now = datetime.now(UTC)
        found: dict[str, RequestContext] = {}
        due: list[str] = []
        for actor, contact_id in wanted:
            row = rows.get(contact_id)
            if row is None:
                continue
            try:
                self._check_open(row, actor, now)
                self._check_readable(row)
            except ContactError:
                continue
            if self._touch_due(row, now):
                due.append(contact_id)
            found[contact_id] = self._context_of(row, actor, trace)
        if due:
            async with self._db.transaction() as session:
                await self._repo.touch_many(session, due, now)
        return found

    @staticmethod
    def _check_readable(row: Any) -> None:
        """A contact's klantbeeld can be read once its customer is identified and its purpose chosen."""
        if row.subject_value is None or row.subject_kind is None:
            raise ContactForbidden(
                "Identificeer eerst de klant in dit contact.",
                reason="SUBJECT_NOT_IDENTIFIED",
                field="contactId",
            )
        if row.purpose_id is None:
            raise ContactForbidden(
                "Kies eerst het doel van dit contact.",
                reason="PURPOSE_NOT_CHOSEN",
                field="verwerkingsactiviteit",
            )

    async def still_open(self, actor: Actor, context: RequestContext) -> RequestContext | None:
        """For a live view: the contact's context now (its purpose may have changed since), or None
        once it ended or expired. Reads without touching: an open page does not keep a contact alive."""
        if context.contact_id is None:
            return None
        try:
            view = await self.get(actor, context.contact_id)
        except ContactError:
            return None
        changed: dict[str, Any] = {}
        if view.verwerkingsactiviteit and view.verwerkingsactiviteit != context.purpose_id:
            changed["purpose_id"] = view.verwerkingsactiviteit
        if view.zekerheid and view.zekerheid != context.assurance.value:
            changed["assurance"] = Assurance(view.zekerheid)  # e.g. raised by "bevestig met DigiD"
        return dataclasses.replace(context, **changed) if changed else context

    def _context_of(self, row: Any, actor: Actor, trace: Trace) -> RequestContext:
        assert row.subject_kind is not None
        assert row.subject_value is not None
        assert row.purpose_id is not None
        return RequestContext(
            actor=actor,
            subject=Subject(SubjectKind(row.subject_kind), row.subject_value),
            purpose_id=row.purpose_id,
            assurance=Assurance(row.assurance or Assurance.GEEN.value),
            channel=Kanaal(row.channel),
            trace=trace,
            contact_id=row.id,
            subject_shielded=row.shielded,
        )

    async def _read_open_row(self, actor: Actor, contact_id: str, *, touch: bool) -> ContactSessionRow:
        """`_open_row` for the read paths (every klantbeeld): one autocommitted SELECT; the rare
        activity update (at most once per `touch_every`) in a write transaction of its own."""
        async with self._db.read() as session:
            row = await self._open_row(session, actor, contact_id, touch=False)
        if touch and self._touch_due(row, datetime.now(UTC)):
            now = datetime.now(UTC)
            async with self._db.transaction() as session:
                await self._repo.touch(session, row.id, now)
            row.last_activity_at = now
        return row

    def _touch_due(self, row: Any, now: datetime) -> bool:
        # Activity only needs minute precision against a 15-minute idle timeout; not writing on
        # every read saves a write transaction per klantbeeld.
        last: datetime = row.last_activity_at
        return now - last > self._touch_every

    async def _open_row(
        self, session: Any, actor: Actor, contact_id: str, *, touch: bool
    ) -> ContactSessionRow:
        try:
            uuid.UUID(contact_id)
        except ValueError:
            raise ContactNotFound("Contact niet gevonden.", field="contactId") from None
        row = await self._repo.get(session, contact_id)
        if row is None:
            raise ContactNotFound("Contact niet gevonden.", field="contactId")
        now = datetime.now(UTC)
        self._check_open(row, actor, now)
        if touch and self._touch_due(row, now):
            row.last_activity_at = now
        return row

    def _check_open(self, row: Any, actor: Actor, now: datetime) -> None:
        """The contact is this actor's and still open (an ORM row or a Core row alike)."""
        # A contact belongs to one person of one organisation, as vouched for by one identity
        # provider: the same `sub` from another issuer or with another organisation is someone else.
        if (
            row.actor_id != actor.id
            or row.organisation != actor.organisation
            or row.actor_issuer != actor.issuer
        ):
            raise ContactForbidden(
                "Dit contact is van een andere medewerker.",
                reason="CONTACT_OF_OTHER_ACTOR",
                field="contactId",
            )
        if row.ended_at is not None:
            raise ContactForbidden("Dit contact is beëindigd.", reason="CONTACT_ENDED", field="contactId")
        if row.last_activity_at + self._idle < now:
            # sweep_expired() clears the identifier; here we only refuse.
            raise ContactForbidden(
                "Dit contact is verlopen door inactiviteit; start een nieuw contact.",
                reason="CONTACT_EXPIRED",
                field="contactId",
            )

    async def sweep_expired(self) -> int:
        """Close sessions idle longer than the timeout and drop their plain identifiers."""
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            rows = await self._repo.idle_since(session, now - self._idle)
            for row in rows:
                _close(row, now)
        return len(rows)

    # --- case worker --------------------------------------------------------------------------
    async def zaken_van_behandelaar(self, actor: Actor, *, trace: Trace) -> list[dict[str, Any]]:
        """The open zaken the case worker handles ("mijn zaken"): the actor id is the medewerker
        identificatie in the Zaken source. Only zaak data (identificatie, omschrijving, zaaktype,
        status, dates) is listed, no personal data of the initiators, so no klantbeeld access is
        logged here; opening a zaak (start_for_zaak) is what reads and logs personal data."""
        if actor.role is not Role.BEHANDELAAR:
            raise ContactForbidden("Alleen behandelaars hebben zaken.", reason="ROLE_NOT_ALLOWED")
        return await self._gateway.zaken_of_medewerker(Caller(actor=actor, purpose_id=None, trace=trace))

    async def start_for_zaak(self, actor: Actor, *, zaak_identificatie: str, trace: Trace) -> ContactView:
        """A case worker's session: subject = the zaak's initiator, purpose = handling its zaaktype."""
        if actor.role is not Role.BEHANDELAAR:
            raise ContactForbidden(
                "Alleen behandelaars openen een zaak.", reason="ROLE_NOT_ALLOWED", field="zaak"
            )
        try:
            facts = await self._gateway.zaak_facts(
                Caller(actor=actor, purpose_id=None, trace=trace), zaak_identificatie
            )
        except SubjectNotFound:
            raise ContactNotFound("Zaak niet gevonden.", field="zaak") from None
        purpose = next(
            (
                va
                for va in self._register.verwerkingsactiviteiten
                if (facts.zaaktype in va.zaaktypen or (facts.zaaktype_omschrijving or "") in va.zaaktypen)
                and actor.role in va.rollen
                and va.organisatie.oin == actor.organisation
            ),
            None,
        )
        if purpose is None:
            raise ContactForbidden(
                "Voor dit zaaktype staat geen behandeldoel in het register.",
                reason="PURPOSE_UNKNOWN",
                field="zaak",
            )
        _check_zaak_binding(actor, facts, purpose)
        if facts.initiator is None:
            raise ContactConflict("Deze zaak heeft geen initiator.", field="zaak")
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(facts.initiator)
        row = ContactSessionRow(
            id=str(uuid.uuid4()),
            actor_id=actor.id,
            actor_role=actor.role.value,
            organisation=actor.organisation,
            organisation_unit=actor.organisation_unit,
            actor_issuer=actor.issuer,
            channel=Kanaal.BACKOFFICE.value,
            reason=f"behandeling zaak {facts.identificatie}",
            purpose_id=purpose.id,
            subject_kind=facts.initiator.kind.value,
            subject_value=facts.initiator.value,
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            # The subject is not on the line; the zaak's intake established who they are.
            assurance=Assurance.GEEN.value,
            shielded=False,
            zaak_identificatie=facts.identificatie,
            started_at=now,
            last_activity_at=now,
        )
        # who the initiator is comes from the zaak; the base registry says whether they are shielded
        verified = await self._gateway.verify_subject(
            RequestContext(
                actor=actor,
                subject=facts.initiator,
                purpose_id=purpose.id,
                assurance=Assurance.GEEN,
                channel=Kanaal.BACKOFFICE,
                trace=trace,
                contact_id=row.id,
            ),
            name=f"zaak openen: initiator van zaak {facts.identificatie} nagaan",
        )
        row.shielded = verified.shielded
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return _view(row)


def _check_zaak_binding(actor: Actor, facts: ZaakFacts, purpose: Verwerkingsactiviteit) -> None:
    """A case worker opens only a zaak the Zaken source says they handle (or their team, when the
    purpose allows it), and only while it is open unless the purpose allows closed zaken."""
    handles = actor.medewerker_identificatie in facts.behandelaars or (
        purpose.behandelteamToegestaan
        and actor.organisation_unit is not None
        and actor.organisation_unit in facts.behandelteams
    )
    if not handles:
        raise ContactForbidden(
            "U staat in het zakensysteem niet als behandelaar van deze zaak.",
            reason="NOT_BEHANDELAAR",
            field="zaak",
        )
    if facts.afgesloten and not purpose.geslotenZakenToegestaan:
        raise ContactForbidden(
            "Deze zaak is afgesloten; het behandeldoel staat het openen van afgesloten zaken niet toe.",
            reason="ZAAK_CLOSED",
            field="zaak",
        )


def _close(row: ContactSessionRow, at: datetime) -> None:
    row.ended_at = at
    row.subject_value = None  # keep only the pseudonym once the contact is over


def _view(row: ContactSessionRow, display_name: str | None = None) -> ContactView:
    return ContactView(
        id=row.id,
        kanaal=row.channel,
        reden=row.reason,
        verwerkingsactiviteit=row.purpose_id,
        onderwerp_type=row.subject_kind,
        geidentificeerd=row.subject_key is not None,
        zekerheid=row.assurance,
        afgeschermd=row.shielded,
        zaak=row.zaak_identificatie,
        gestart_op=row.started_at,
        laatste_activiteit_op=row.last_activity_at,
        beeindigd_op=row.ended_at,
        weergavenaam=display_name,
        identificatie=IdentificatieView(
            methode=row.identification_method,
            uitgever=row.identification_issuer,
            acr=row.identification_acr,
            op=row.identification_at,
        )
        if row.identification_method
        else None,
    )


def _audit_name(action: str, assurance: Assurance, evidence: IdentificationEvidence) -> str:
    """The log record's name carries how identity was established (the record's own columns do not)."""
    return f"{action} ({evidence.describe(assurance)})"[:200]
