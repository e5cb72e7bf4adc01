# mypy: disable-error-code="type-abstract"
# (capabilities are runtime-checkable Protocols; passing one as `type[_C]` is the point of `_find`)
"""SourceGateway: the one way from DGKB to a source.

Every service asks the gateway for a capability — read categories, verify a subject, search, look up
a zaak or an identity document, write a klantcontact, resolve a notification's subject — and the
gateway does the same five things for each:

1. finds the adapter that offers it (one way: by capability protocol, category, subject kind and the
   sources the register allows; never by class or by `kind` prefix);
2. renders the purpose headers (doelbinding) for the source from the caller's purpose and actor;
3. runs the call under the source's deadline, breaker, concurrency limit and (for reads) one retry,
   recording its health (`dgkb.federation.fanout.Federation.call`), so `/api/v1/bronnen` shows it;
4. turns any failure into one `SourceUnavailable` naming the source, with one Dutch message — or,
   where retrying cannot help, its kinds `SourceUnauthorized` (the source refuses DGKB's credentials,
   401/403) and `SourceRefused` (the source refused the request, 400, and said why);
5. writes the LDV record of the processing under the purpose and actor of the request — about every
   subject the call carried or returned — before the caller can show anything (fail closed).

What is not logged, and why: a zaak lookup by number and a medewerker's zaken list carry no person
(the zaak's initiator is logged when the case worker's session verifies them), and the health of a
source is about the source, not a person: so are `probe` and `find_actor` (`dgkb check`), which read
no person either.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from dgkb.audit.records import Outcome
from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register, SystemTask
from dgkb.domain.roles import Role
from dgkb.federation.fanout import CategoryOutcome, Federation, SectionStatus, SourceCall
from dgkb.federation.headers import render_headers
from dgkb.federation.sourceset import SourceSet
from dgkb.policy.decision import CategoryDecision, Decision
from dgkb.sources.base import (
    ActorLookup,
    BehandelaarZaken,
    BusinessSearch,
    DigitaalAdresMatch,
    DigitalAddressSearch,
    DocumentLookup,
    FetchRequest,
    KlantcontactSubjects,
    KlantcontactThread,
    KlantcontactThreads,
    KlantcontactWriter,
    PartialWriteError,
    PersonSearch,
    ProbeResult,
    ProfileWriter,
    SourceError,
    SourceProbe,
    SourceRejected,
    SourceTimeout,
    SourceValidationError,
    SubjectFacts,
    SubjectNotFound,
    SubjectVerifier,
    TravelDocument,
    VerifiedAddresses,
    ZaakCreator,
    ZaakDocumenten,
    ZaakFacts,
    ZaakLookup,
    ZaakReference,
    ZaakSubjects,
    fields_for,
)
from dgkb.sources.base import SourceUnauthorized as SourceRefusesCredentials
from dgkb.sources.base import SourceUnavailable as SourceDown
from dgkb.sources.config import SourceConfig
from dgkb.sources.queries import PersonQuery

log = logging.getLogger("dgkb.gateway")

BASIS = "klant.basis"
CONTACTGEGEVENS = "klant.contactgegevens"
VOORKEURSKANAAL = "klant.voorkeurskanaal"
HISTORIE = "contact.historie"
OPEN_VERZOEKEN = "contact.open-verzoeken"
ZAKEN_LOPEND = "dienst.zaken-lopend"
_C = TypeVar("_C")
_T = TypeVar("_T")


class SourceUnavailable(DomainError):
    """A source DGKB needs for this request did not answer (down, too slow, breaker open, error).
    The API answers 503 problem+json naming the source (`bron`); the console shows the message."""

    code = "source.unavailable"
    status = 503
    reason = "SOURCE_UNAVAILABLE"

    def __init__(self, source: SourceConfig, message: str | None = None) -> None:
        super().__init__(
            message or f"{source.name} is nu niet bereikbaar; probeer het over een paar minuten opnieuw."
        )
        self.source = source.id


class SourceUnauthorized(SourceUnavailable):
    """The source refused DGKB's credentials (401/403): the key or token in sources.yaml is wrong,
    expired or of the wrong type, or lacks the right. Retrying cannot help; an administrator must
    fix it. A kind of SourceUnavailable, so every caller that copes with an outage copes with this."""

    code = "source.unauthorized"
    reason = "SOURCE_UNAUTHORIZED"

    def __init__(self, source: SourceConfig) -> None:
        super().__init__(
            source,
            f"{source.name}: niet geautoriseerd bij de bron — de bron weigert de sleutel of het token "
            "van DGKB. Opnieuw proberen helpt niet; meld dit aan beheer.",
        )


class SourceRefused(SourceUnavailable):
    """The source refused what DGKB sent (400) and said why (`problems`, the source's own texts).
    Sending the same again gives the same answer."""

    code = "source.refused"
    reason = "SOURCE_REFUSED"

    def __init__(self, source: SourceConfig, rejected: SourceRejected) -> None:
        why = rejected.describe()
        super().__init__(
            source,
            f"{source.name} weigerde het verzoek van DGKB"
            + (f" ({why})" if why else "")
            + ". Opnieuw proberen helpt niet; meld dit aan beheer.",
        )
        self.problems = rejected.params


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """What `dgkb check` learns of one source: reachable, authenticated with the configured
    credentials (None: the answer does not tell, or the source was not reached), the API version
    it serves, and the problem in Dutch when there is one."""

    source: str
    reachable: bool
    authenticated: bool | None
    api_version: str | None = None
    status: int | None = None
    duration_ms: float = 0.0
    problem: str | None = None


class SourceMissing(DomainError):
    """No configured source offers what is asked (e.g. no zaaksysteem connected)."""

    code = "source.not_configured"
    status = 503
    reason = "SOURCE_NOT_CONFIGURED"


class WriteNotPermitted(DomainError):
    """The register does not let this purpose write the category at its source (`schrijven`)."""

    code = "source.write_not_permitted"
    status = 403
    reason = "WRITE_NOT_PERMITTED"


@dataclass(frozen=True, slots=True)
class Caller:
    """On whose behalf, why and in which trace a source is called. For a call that names no subject
    (a search, a zaak lookup); `about` gives the context of a subject it returned, for the log."""

    actor: Actor
    purpose_id: str | None
    trace: Trace
    channel: Kanaal = Kanaal.BACKOFFICE
    contact_id: str | None = None

    def about(self, subject: Subject) -> RequestContext:
        return RequestContext(
            actor=self.actor,
            subject=subject,
            purpose_id=self.purpose_id or "",
            assurance=Assurance.GEEN,
            channel=self.channel,
            trace=self.trace,
            contact_id=self.contact_id,
        )


@dataclass(frozen=True, slots=True)
class Processing:
    """What the log says of a read: its name and, for a view, the decision and consent behind it."""

    name: str
    decision: Decision | None = None
    categories_requested: Sequence[str] | None = None  # default: the categories planned
    consent_status: Mapping[str, Any] | None = None
    consented_categories: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """The answer to `read`: one outcome per (source, category) asked, and the permitted categories
    no configured source could deliver."""

    outcomes: tuple[CategoryOutcome, ...]
    unconfigured: tuple[str, ...]

    @property
    def delivered(self) -> list[str]:
        return sorted({o.category for o in self.outcomes if o.status is SectionStatus.OK})


class SourceGateway:
    def __init__(
        self,
        *,
        sources: SourceSet,
        federation: Federation,
        register: Register,
        auditor: AuditWriter,
        pseudonymizer: Pseudonymizer,
        request_budget: float = 2.0,
    ) -> None:
        self._sources = sources
        self._federation = federation
        self._register = register
        self._auditor = auditor
        self._pseudonymizer = pseudonymizer
        self._budget = request_budget

    # --- finding the adapter ------------------------------------------------------------------------
    def _find(
        self,
        capability: type[_C],
        *,
        category: str | None = None,
        purpose_id: str | None = None,
        kind: SubjectKind | None = None,
    ) -> tuple[SourceConfig, _C] | None:
        """The first enabled source offering `capability`; with `category`, one serving it that the
        purpose's register entry allows for it (`bronnen`); with `kind`, one that knows such subjects."""
        allowed: Collection[str] | None = None
        if category is not None and purpose_id is not None:
            purpose = self._register.get(purpose_id)
            access = purpose.categorieen.get(category) if purpose is not None else None
            if access is None:
                return None
            allowed = access.bronnen
        for sid, adapter in self._sources.adapters.items():
            cfg = self._sources.configs[sid]
            if not isinstance(adapter, capability):
                continue
            if category is not None and category not in cfg.categories:
                continue
            if allowed is not None and sid not in allowed:
                continue
            if kind is not None and kind not in adapter.subject_kinds:
                continue
            return cfg, adapter
        return None

    def offers(
        self, capability: type[Any], *, category: str | None = None, purpose_id: str | None = None
    ) -> bool:
        """Is there a source offering this (for this purpose's category)? Services ask before they
        promise a feature (the document check, a verified address)."""
        return self._find(capability, category=category, purpose_id=purpose_id) is not None

    def subject_kinds(self, category: str, allowed: Collection[str] | None = None) -> set[SubjectKind]:
        """The kinds of subject the sources of `category` know (of the allowed sources)."""
        return {
            kind
            for cfg in self._sources.serving(category, allowed)
            for kind in self._sources.adapters[cfg.id].subject_kinds
        }

    # --- the guard and the log ------------------------------------------------------------------------
    def _headers(
        self, cfg: SourceConfig, actor: Actor, purpose_id: str | None, trace: Trace
    ) -> dict[str, str]:
        purpose = self._register.get(purpose_id) if purpose_id else None
        return render_headers(cfg.headers, purpose=purpose, actor=actor, trace=trace)

    async def _guard(
        self,
        cfg: SourceConfig,
        operation: Callable[[], Awaitable[_T]],
        *,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> _T:
        """The call under deadline, breaker, limit, retry and health; an outage is SourceUnavailable.
        Answers that are not outages pass through: not found, refused before sending, half written.
        `headers`: what the operation sends, whose `traceparent` names the call's span."""
        try:
            return await self._federation.call(
                cfg.id,
                min(cfg.deadline, self._budget),
                operation,
                idempotent=idempotent,
                traceparent=headers.get("traceparent") if headers is not None else None,
            )
        except (SubjectNotFound, SourceValidationError, PartialWriteError):
            raise
        except SourceRefusesCredentials as exc:
            raise SourceUnauthorized(cfg) from exc
        except SourceRejected as exc:
            raise SourceRefused(cfg, exc) from exc
        except SourceError as exc:
            raise SourceUnavailable(cfg) from exc

    async def _log(
        self,
        context: RequestContext,
        name: str,
        started: datetime,
        *,
        categories: Sequence[str] = (),
        outcome: Outcome = Outcome.DELIVERED,
    ) -> None:
        await self._auditor.record_processing(
            context=context,
            name=name,
            categories=list(categories),
            started_at=started,
            ended_at=datetime.now(UTC),
            outcome=outcome.value,
        )

    async def _logged(
        self,
        context: RequestContext,
        name: str,
        categories: Sequence[str],
        operation: Callable[[], Awaitable[_T]],
        *,
        delivered: Callable[[_T], bool] = lambda _: True,
    ) -> _T:
        """A read about `context.subject`: logged with the categories it delivered (none when
        `delivered` says the answer was empty), or as an error."""
        started = datetime.now(UTC)
        try:
            result = await operation()
        except SubjectNotFound:
            await self._log(context, name, started)
            raise
        except Exception:
            await self._log(context, name, started, outcome=Outcome.ERROR)
            raise
        await self._log(context, name, started, categories=categories if delivered(result) else ())
        return result

    async def _log_found(
        self,
        caller: Caller,
        subjects: Sequence[Subject],
        name: str,
        categories: Sequence[str],
        started: datetime,
    ) -> None:
        """A search's results: every subject the source returned is a processing about them."""
        unique = list(dict.fromkeys(subjects))
        if caller.purpose_id is None:
            raise ValueError("a read that returns persons needs a purpose")
        await asyncio.gather(
            *(self._log(caller.about(s), name, started, categories=categories) for s in unique)
        )

    # --- read categories (the klantbeeld, reconciliation) -------------------------------------------
    async def read(
        self,
        context: RequestContext,
        permitted: Sequence[CategoryDecision],
        processing: Processing,
        *,
        fill_in_later: bool = False,
    ) -> Reading:
        """Fetch the permitted categories: each source once with the union of its permitted fields,
        in parallel under deadlines; then log (before anything is shown; AuditUnavailable propagates).
        `fill_in_later`: a source slower than the request budget goes on up to its own `deadline`
        and its sections come back pending; its answer is kept for the view's next read, which logs
        what it shows."""
        started = datetime.now(UTC)
        per_source: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
        unconfigured: list[str] = []
        for cd in permitted:
            planned = False
            for cfg in self._sources.serving(cd.category, cd.sources):
                adapter = self._sources.adapters[cfg.id]
                fields = fields_for(adapter, cd.category, cd.fields)
                # a source is asked only about subjects it knows, and only its own permitted fields
                if context.subject.kind in adapter.subject_kinds and fields:
                    per_source[cfg.id][cd.category] = fields
                    planned = True
            if not planned:
                unconfigured.append(cd.category)
        calls = []
        for sid, asked in per_source.items():
            cfg = self._sources.configs[sid]
            wait = min(cfg.deadline, self._budget)
            calls.append(
                SourceCall(
                    adapter=self._sources.adapters[sid],
                    fields=asked,
                    headers=self._headers(cfg, context.actor, context.purpose_id, context.trace),
                    deadline=wait,
                    cache_ttl=cfg.cacheTtl,
                    late=cfg.deadline - wait if fill_in_later else 0.0,
                )
            )
        subject_key = self._pseudonymizer.pseudonym(context.subject).value
        outcomes = await self._federation.fetch(calls, context.subject, subject_key)
        reading = Reading(tuple(outcomes), tuple(unconfigured))
        requested = processing.categories_requested
        await self._auditor.record_processing(
            context=context,
            name=processing.name,
            decision=processing.decision,
            categories_requested=list(
                requested if requested is not None else [c.category for c in permitted]
            ),
            categories_delivered=reading.delivered,
            started_at=started,
            ended_at=datetime.now(UTC),
            consent_status=processing.consent_status,
            consented_categories=processing.consented_categories,
        )
        return reading

    async def invalidate(self, subject: Subject) -> int:
        """Forget every cached answer about this subject (a change notification, a write)."""
        return await self._federation.invalidate(self._pseudonymizer.pseudonym(subject).value)

    # --- identification ------------------------------------------------------------------------------
    async def verify_subject(self, context: RequestContext, *, name: str) -> SubjectFacts:
        """Does the subject exist in its base registry (BRP for a BSN, KVK for a business), is it
        shielded, and its name. Logged as `name` about the subject under the context's purpose. With
        no base registry for this kind configured the identifier is accepted as validated (the
        sources will say "niet gevonden" if it is unknown)."""
        found = self._find(SubjectVerifier, category=BASIS, kind=context.subject.kind)
        started = datetime.now(UTC)
        if found is None:
            await self._log(context, name, started, categories=[BASIS])
            return SubjectFacts(exists=True, shielded=False)
        cfg, verifier = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        try:
            facts = await self._guard(
                cfg, lambda: verifier.verify_subject(context.subject, headers), headers=headers
            )
        except SubjectNotFound:
            facts = SubjectFacts(exists=False)
        except SourceUnavailable:
            await self._log(context, name, started, outcome=Outcome.ERROR)
            raise
        await self._log(
            dataclasses.replace(context, subject_shielded=facts.shielded),
            name,
            started,
            categories=[BASIS] if facts.exists else [],
        )
        return facts

    async def basisgegevens(
        self, context: RequestContext, fields: Sequence[str], *, name: str
    ) -> dict[str, Any] | None:
        """The subject's klant.basis `fields` from its base registry (the control questions' answers);
        {} when the registry does not know the subject; None when no registry for its kind is configured."""
        found = self._find(SubjectVerifier, category=BASIS, kind=context.subject.kind)
        if found is None:
            return None
        cfg, _ = found
        adapter = self._sources.adapters[cfg.id]
        wanted = fields_for(adapter, BASIS, tuple(fields))
        if not wanted:
            return {}
        request = FetchRequest(
            subject=context.subject,
            fields={BASIS: wanted},
            headers=self._headers(cfg, context.actor, context.purpose_id, context.trace),
        )
        try:
            result = await self._logged(
                context,
                name,
                [BASIS],
                lambda: self._guard(cfg, lambda: adapter.fetch(request), headers=request.headers),
            )
        except SubjectNotFound:
            return {}
        data = result.get(BASIS)
        return data if isinstance(data, dict) else {}

    def document_source(self, purpose_id: str) -> SourceConfig | None:
        """The identity-document source (BRP Reisdocumenten) the purpose allows for klant.basis."""
        found = self._find(DocumentLookup, category=BASIS, purpose_id=purpose_id)
        return found[0] if found is not None else None

    async def lookup_document(
        self, context: RequestContext, number: str, *, name: str
    ) -> TravelDocument | None:
        """One identity document by number in the source the purpose allows for klant.basis (BRP
        Reisdocumenten), logged about the subject who showed it. SourceMissing when none is allowed."""
        found = self._find(DocumentLookup, category=BASIS, purpose_id=context.purpose_id)
        if found is None:
            raise SourceMissing("Er is geen bron voor identiteitsbewijzen aangesloten voor dit doel.")
        cfg, lookup = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._logged(
            context,
            name,
            [BASIS],
            lambda: self._guard(cfg, lambda: lookup.lookup_document(number, headers), headers=headers),
        )

    # --- search ----------------------------------------------------------------------------------------
    async def search_persons(
        self, caller: Caller, query: PersonQuery, fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        found = self._find(PersonSearch, kind=SubjectKind.BSN)
        if found is None:
            return []
        cfg, brp = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        started = datetime.now(UTC)
        persons = await self._guard(cfg, lambda: brp.search(query, fields, headers), headers=headers)
        subjects = [
            Subject(SubjectKind.BSN, bsn)
            for p in persons
            if isinstance(bsn := p.get("burgerservicenummer"), str)
        ]
        await self._log_found(caller, subjects, "klant zoeken", [BASIS], started)
        return persons

    async def lookup_person(self, caller: Caller, bsn: str, fields: Sequence[str]) -> dict[str, Any] | None:
        found = self._find(PersonSearch, kind=SubjectKind.BSN)
        if found is None:
            return None
        cfg, brp = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        context = caller.about(Subject(SubjectKind.BSN, bsn))
        try:
            person = await self._logged(
                context,
                "klant zoeken",
                [BASIS],
                lambda: self._guard(cfg, lambda: brp.lookup(bsn, fields, headers), headers=headers),
            )
        except SubjectNotFound:
            return None
        return person

    async def search_businesses(self, caller: Caller, *, limit: int, **params: Any) -> list[dict[str, Any]]:
        found = self._find(BusinessSearch, kind=SubjectKind.KVK)
        if found is None:
            return []
        cfg, kvk = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        started = datetime.now(UTC)
        results = await self._guard(cfg, lambda: kvk.search(headers, limit=limit, **params), headers=headers)
        subjects = [s for r in results if (s := business_subject(r)) is not None]
        await self._log_found(caller, subjects, "klant zoeken", [BASIS], started)
        return results

    async def search_digital_addresses(
        self, caller: Caller, text: str, *, limit: int
    ) -> list[DigitaalAdresMatch]:
        found = self._find(DigitalAddressSearch)
        if found is None:
            return []
        cfg, ki = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        started = datetime.now(UTC)
        matches = await self._guard(
            cfg, lambda: ki.search_digitale_adressen(text, headers, limit=limit), headers=headers
        )
        subjects = [s for m in matches for s in m.subjects]
        await self._log_found(caller, subjects, "klant zoeken", [CONTACTGEGEVENS], started)
        return matches

    # --- zaken -------------------------------------------------------------------------------------------
    async def zaak_facts(self, caller: Caller, identificatie: str) -> ZaakFacts:
        """A zaak by its identificatie (SubjectNotFound when unknown). Not logged: the request names a
        zaak, not a person; the case worker's session logs the initiator when it verifies them."""
        found = self._find(ZaakLookup)
        if found is None:
            raise SourceMissing("Er is geen zakensysteem aangesloten.")
        cfg, lookup = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        return await self._guard(cfg, lambda: lookup.zaak_facts(identificatie, headers), headers=headers)

    async def zaak_documenten(
        self, context: RequestContext, permitted: CategoryDecision, zaak_url: str
    ) -> list[dict[str, Any]]:
        """The titles of the documents of one zaak of `context.subject` (its zaakinformatieobjecten),
        from the source of `permitted.category` the decision allows; logged as a read of that
        category about the subject (fail closed). The caller passes a zaak URL it read about this
        subject; the adapter refuses a URL of another source."""
        found = None
        for cfg in self._sources.serving(permitted.category, permitted.sources):
            adapter = self._sources.adapters[cfg.id]
            if isinstance(adapter, ZaakDocumenten):
                found = (cfg, adapter)
                break
        if found is None:
            raise SourceMissing(f"Geen bron levert de documenten van een zaak ({permitted.category}).")
        cfg, adapter = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._logged(
            context,
            "zaakdocumenten raadplegen",
            [permitted.category],
            lambda: self._guard(cfg, lambda: adapter.zaak_documenten(zaak_url, headers), headers=headers),
        )

    async def zaken_of_medewerker(self, caller: Caller) -> list[dict[str, Any]]:
        """The open zaken the caller handles. No personal data of initiators is read: not logged."""
        found = self._find(BehandelaarZaken)
        if found is None:
            raise SourceMissing("Er is geen zakensysteem aangesloten.")
        cfg, lookup = found
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        return await self._guard(
            cfg,
            lambda: lookup.zaken_of_medewerker(caller.actor.medewerker_identificatie, headers),
            headers=headers,
        )

    # --- klantcontacten -------------------------------------------------------------------------------
    def klantcontact_source(self) -> SourceConfig:
        return self._klantcontact_writer()[0]

    def _klantcontact_writer(self) -> tuple[SourceConfig, KlantcontactWriter]:
        found = self._find(KlantcontactWriter)
        if found is None:
            raise SourceMissing("Er is geen Klantinteracties-bron aangesloten; registreren lukt niet.")
        return found

    async def register_klantcontact(
        self,
        context: RequestContext,
        *,
        name: str,
        onderwerp: str,
        inhoud: str,
        zaak_identificaties: Sequence[str] = (),
        was_klantcontact: str | None = None,
    ) -> dict[str, Any]:
        """Write a klantcontact of the subject (a write: logged first, fail closed; never retried);
        `was_klantcontact`: the uuid of the subject's earlier klantcontact it follows up."""
        cfg, writer = self._klantcontact_writer()
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._written(
            context,
            name,
            ["contact.historie"],
            cfg,
            lambda: writer.register_klantcontact(
                subject=context.subject,
                kanaal=context.channel.value,
                onderwerp=onderwerp,
                inhoud=inhoud,
                indicatie_contact_gelukt=True,
                zaak_identificaties=zaak_identificaties,
                was_klantcontact=was_klantcontact,
                headers=headers,
            ),
            headers,
        )

    async def create_interne_taak(
        self,
        context: RequestContext,
        *,
        name: str,
        klantcontact: str,
        gevraagde_handeling: str,
        toelichting: str,
        toegewezen_aan: str,
    ) -> dict[str, Any]:
        """A contactverzoek (interne taak) arising from a klantcontact of the subject, assigned to the
        actor `toegewezen_aan` (Open Klant refuses one without)."""
        cfg, writer = self._klantcontact_writer()
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._written(
            context,
            name,
            ["contact.open-verzoeken"],
            cfg,
            lambda: writer.create_interne_taak(
                klantcontact=klantcontact,
                gevraagde_handeling=gevraagde_handeling,
                toelichting=toelichting,
                toegewezen_aan=toegewezen_aan,
                headers=headers,
            ),
            headers,
        )

    async def klantcontact_threads(
        self, context: RequestContext, *, name: str, klantcontacten: Sequence[str]
    ) -> dict[str, KlantcontactThread]:
        """What followed from these klantcontacten of the subject (their interne taken and the
        klantcontacten following them up), from the source the purpose allows for contact.historie;
        a read of contact.historie and contact.open-verzoeken about the subject, logged (fail
        closed). SourceMissing when the purpose allows neither such a source nor the open requests."""
        purpose = self._register.get(context.purpose_id)
        found = self._find(KlantcontactThreads, category=HISTORIE, purpose_id=context.purpose_id)
        if found is None or purpose is None or OPEN_VERZOEKEN not in purpose.categorieen:
            raise SourceMissing(
                "Het doel van dit contact staat het lezen van het vervolg van een contact niet toe."
            )
        cfg, source = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._logged(
            context,
            name,
            [HISTORIE, OPEN_VERZOEKEN],
            lambda: self._guard(
                cfg,
                lambda: source.klantcontact_threads(context.subject, klantcontacten, headers),
                headers=headers,
            ),
            delivered=bool,
        )

    # --- a zaak for the subject (a correction request routed as a zaak) ----------------------------
    async def create_zaak(
        self,
        context: RequestContext,
        *,
        name: str,
        zaaktype: str,
        bronorganisatie: str,
        verantwoordelijke_organisatie: str,
        omschrijving: str,
        toelichting: str,
        roltoelichting: str,
    ) -> dict[str, Any]:
        """A new zaak with the subject as initiator, in the source the purpose allows for
        dienst.zaken-lopend — only when the register lets the purpose write it (`schrijven`, else
        WriteNotPermitted). A write: logged before it is sent (fail closed), never retried; the
        subject's cached answers are dropped afterwards. {"zaak", "rol"} as the source stored them."""
        purpose = self._register.get(context.purpose_id)
        if purpose is None or not purpose.may_write(ZAKEN_LOPEND):
            raise WriteNotPermitted(
                "Het register staat niet toe dat onder dit doel een zaak wordt aangemaakt."
            )
        found = self._find(ZaakCreator, category=ZAKEN_LOPEND, purpose_id=context.purpose_id)
        if found is None:
            raise SourceMissing("Er is geen zakensysteem aangesloten waarin dit doel een zaak mag aanmaken.")
        cfg, creator = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        try:
            return await self._written(
                context,
                name,
                [ZAKEN_LOPEND],
                cfg,
                lambda: creator.create_zaak(
                    context.subject,
                    zaaktype=zaaktype,
                    bronorganisatie=bronorganisatie,
                    verantwoordelijke_organisatie=verantwoordelijke_organisatie,
                    omschrijving=omschrijving,
                    toelichting=toelichting,
                    roltoelichting=roltoelichting,
                    headers=headers,
                ),
                headers,
            )
        finally:
            await self.invalidate(context.subject)

    async def _written(
        self,
        context: RequestContext,
        name: str,
        categories: Sequence[str],
        cfg: SourceConfig,
        operation: Callable[[], Awaitable[_T]],
        headers: Mapping[str, str],
    ) -> _T:
        started = datetime.now(UTC)
        await self._log(context, name, started, categories=categories)  # no write without its record
        try:
            return await self._guard(cfg, operation, idempotent=False, headers=headers)
        except SourceValidationError:
            raise  # refused before sending: nothing was written or read
        except (SourceError, SourceUnavailable):
            await self._log(context, f"{name} mislukt", started, outcome=Outcome.ERROR)
            raise

    # --- Mijn profiel: the customer's own contact details, written back ---------------------------
    def _profile_writer(self, context: RequestContext, category: str) -> tuple[SourceConfig, ProfileWriter]:
        """The source the purpose allows for `category` that can write it back."""
        found = self._find(ProfileWriter, category=category, purpose_id=context.purpose_id)
        if found is None:
            raise SourceMissing("Er is geen bron waarin u deze gegevens hier kunt wijzigen.")
        return found

    async def add_digitaal_adres(
        self,
        context: RequestContext,
        *,
        name: str,
        soort: str,
        adres: str,
        omschrijving: str,
        verified_on: date | None,
    ) -> dict[str, Any]:
        """Add a (verified) e-mail address or phone number of the subject: a write of
        klant.contactgegevens, logged before it is sent (fail closed), never retried. The caller has
        decided it (the PDP and the register's `schrijven`)."""
        cfg, writer = self._profile_writer(context, CONTACTGEGEVENS)
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        result = await self._written(
            context,
            name,
            [CONTACTGEGEVENS],
            cfg,
            lambda: writer.add_digitaal_adres(
                context.subject,
                soort=soort,
                adres=adres,
                omschrijving=omschrijving,
                verified_on=verified_on,
                headers=headers,
            ),
            headers,
        )
        await self.invalidate(context.subject)
        return result

    async def remove_digitaal_adres(
        self, context: RequestContext, *, name: str, soort: str, adres: str
    ) -> bool:
        """Remove one of the subject's own addresses (a write of klant.contactgegevens)."""
        cfg, writer = self._profile_writer(context, CONTACTGEGEVENS)
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        removed = await self._written(
            context,
            name,
            [CONTACTGEGEVENS],
            cfg,
            lambda: writer.remove_digitaal_adres(context.subject, soort=soort, adres=adres, headers=headers),
            headers,
        )
        await self.invalidate(context.subject)
        return removed

    async def set_preferences(
        self,
        context: RequestContext,
        *,
        name: str,
        preferred: tuple[str, str] | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """The subject's preferred address (= channel) and language (a write of klant.voorkeurskanaal)."""
        cfg, writer = self._profile_writer(context, VOORKEURSKANAAL)
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        result = await self._written(
            context,
            name,
            [VOORKEURSKANAAL],
            cfg,
            lambda: writer.set_preferences(
                context.subject, preferred=preferred, language=language, headers=headers
            ),
            headers,
        )
        await self.invalidate(context.subject)
        return result

    async def verified_addresses(self, context: RequestContext, *, name: str) -> list[dict[str, Any]]:
        """The subject's verified phone numbers and e-mail addresses, from the source the purpose
        allows for klant.contactgegevens. SourceMissing when none is allowed."""
        found = self._find(VerifiedAddresses, category=CONTACTGEGEVENS, purpose_id=context.purpose_id)
        if found is None:
            raise SourceMissing(
                "Het doel van dit contact staat het lezen van een geverifieerd adres niet toe."
            )
        cfg, source = found
        headers = self._headers(cfg, context.actor, context.purpose_id, context.trace)
        return await self._logged(
            context,
            name,
            [CONTACTGEGEVENS],
            lambda: self._guard(
                cfg, lambda: source.verified_addresses(context.subject, headers), headers=headers
            ),
            delivered=bool,
        )

    # --- checks (`dgkb check`): about sources, not persons; not logged ------------------------------------
    def _check_headers(self, cfg: SourceConfig) -> dict[str, str]:
        """Headers for a check: the source's header templates without a purpose, DGKB as the user."""
        actor = Actor(id="dgkb-check", role=Role.SYSTEEM, organisation=cfg.organisation, name="DGKB")
        return self._headers(cfg, actor, None, Trace())

    async def probe(self, source_id: str) -> ProbeReport | None:
        """One cheap authenticated read at the source, with its configured credentials and under
        its deadline, that names no person; None when the source offers no probe (DGKB's own
        store). Every failure is a report, never an exception."""
        cfg = self._sources.configs[source_id]
        adapter = self._sources.adapters[source_id]
        if not isinstance(adapter, SourceProbe):
            return None
        headers = self._check_headers(cfg)
        started = time.perf_counter()

        def report(
            reachable: bool, authenticated: bool | None, problem: str | None, **extra: Any
        ) -> ProbeReport:
            ms = round((time.perf_counter() - started) * 1000, 1)
            return ProbeReport(cfg.id, reachable, authenticated, problem=problem, duration_ms=ms, **extra)

        try:
            result: ProbeResult = await self._federation.call(
                cfg.id,
                cfg.deadline,
                lambda: adapter.probe(headers),
                idempotent=True,
                traceparent=headers.get("traceparent"),
            )
        except SourceRefusesCredentials as exc:
            return report(
                True,
                False,
                f"niet geautoriseerd (HTTP {exc.status}): de bron weigert de inloggegevens uit "
                f"sources.yaml (auth type '{cfg.auth.type}')",
                status=exc.status,
            )
        except SourceTimeout:
            return report(False, None, f"geen antwoord binnen {cfg.deadline:g} s")
        except SourceDown as exc:
            return report(False, None, f"niet bereikbaar ({_detail(exc)})")
        except SourceError as exc:
            return report(True, None, f"de bron gaf een fout ({_detail(exc)})")
        # authenticated None: reached, but the answer (e.g. a 404 of a base URL) does not tell
        return report(True, result.authenticated, None, api_version=result.api_version, status=result.status)

    def actor_source(self) -> SourceConfig | None:
        """The source where contactverzoeken go and whose actors config/onderwerpen.yaml names."""
        found = self._find(KlantcontactWriter)
        if found is None or not isinstance(self._sources.adapters[found[0].id], ActorLookup):
            return None
        return found[0]

    def zaak_source(self) -> SourceConfig | None:
        """The source where a correction request routed as a zaak is made (the first Zaken source)."""
        found = self._find(ZaakCreator)
        return found[0] if found is not None else None

    async def find_zaaktype(self, zaaktype: str) -> dict[str, Any] | None:
        """The zaaktype `zaaktype` (URL or identificatie) at the Zaken source ({"url", "identificatie",
        "omschrijving", "concept"}), None when its catalogue has none. About a type, not a person: not
        logged. SourceMissing without a Zaken source; SourceUnavailable when it cannot say."""
        found = self._find(ZaakCreator)
        if found is None:
            raise SourceMissing("Er is geen zakensysteem aangesloten; zaaktypen zijn niet te controleren.")
        cfg, creator = found
        headers = self._check_headers(cfg)
        return await self._guard(cfg, lambda: creator.find_zaaktype(zaaktype, headers), headers=headers)

    async def find_actor(self, uuid: str) -> dict[str, Any] | None:
        """The actor `uuid` at the Klantinteracties source ({"uuid", "naam", "actief"}), None when it
        does not exist there. SourceUnavailable (or a kind of it) when the source cannot say."""
        cfg = self.actor_source()
        if cfg is None:
            raise SourceMissing(
                "Er is geen Klantinteracties-bron aangesloten; actoren zijn niet te controleren."
            )
        lookup = self._sources.adapters[cfg.id]
        assert isinstance(lookup, ActorLookup)
        headers = self._check_headers(cfg)
        return await self._guard(cfg, lambda: lookup.find_actor(uuid, headers), headers=headers)

    # --- notifications ---------------------------------------------------------------------------------
    def system_caller(self, organisation: str, task: SystemTask, trace: Trace | None = None) -> Caller | None:
        """DGKB itself, acting for `organisation` under that organisation's registered purpose for
        `task`; None when the register has none (then DGKB does not do the task for it)."""
        purpose = self._register.system_purpose(organisation, task)
        if purpose is None:
            return None
        return Caller(
            actor=Actor(id=f"dgkb-{task}", role=Role.SYSTEEM, organisation=organisation, name="DGKB"),
            purpose_id=purpose.id,
            trace=trace or Trace(),
        )

    async def subjects_of(self, kanaal: str, url: str) -> tuple[str, list[Subject]] | None:
        """(source id, subjects) of the zaak / klantcontact / interne taak / partij at `url` (by the
        notification's `kanaal`), read at the configured source
        owning that URL (a URL of any other origin is never followed); None when none owns it. Read
        in DGKB's own name under the source organisation's `notificaties` purpose; each subject found
        is logged. SourceUnavailable: the notification is to be offered again later."""
        trace = Trace()
        for sid, adapter in self._sources.adapters.items():
            cfg = self._sources.configs[sid]
            caller = self.system_caller(cfg.organisation, "notificaties", trace)
            if caller is None:
                log.warning(
                    "notificatie: no 'notificaties' purpose registered for the organisation of %s", sid
                )
                continue
            headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
            operation = _subjects_operation(adapter, kanaal, url, headers)
            if operation is None:
                continue
            started = datetime.now(UTC)
            try:
                found = await self._guard(cfg, operation, headers=headers)
            except SubjectNotFound:
                found = []
            if found is not None:
                await self._log_found(caller, found, "notificatie verwerken", [BASIS], started)
                return sid, found
        return None

    async def zaak_identificatie(self, url: str) -> str | None:
        """The identificatie of the zaak at `url`, read at the configured source owning that URL in
        DGKB's own name under its organisation's `notificaties` purpose (for the title of a message
        about it); None when no source owns it, the zaak is gone or the source cannot be asked now
        (a message never waits for this). A zaak names no person here: not logged, as a zaak lookup."""
        for sid, adapter in self._sources.adapters.items():
            if isinstance(adapter, ZaakReference):
                found = await self._zaak_identificatie(sid, adapter, url)
                if found is not None:
                    return found
        return None

    async def _zaak_identificatie(self, sid: str, adapter: ZaakReference, url: str) -> str | None:
        cfg = self._sources.configs[sid]
        caller = self.system_caller(cfg.organisation, "notificaties")
        if caller is None:
            return None
        headers = self._headers(cfg, caller.actor, caller.purpose_id, caller.trace)
        try:
            found: str | None = await self._guard(
                cfg, lambda: adapter.zaak_identificatie(url, headers), headers=headers
            )
        except (SourceError, SourceUnavailable):
            return None
        return found


def _subjects_operation(
    adapter: object, kanaal: str, url: str, headers: Mapping[str, str]
) -> Callable[[], Awaitable[list[Subject] | None]] | None:
    """The adapter's way to the subjects of a notification's hoofdobject on this kanaal, if any."""
    if kanaal == "zaken" and isinstance(adapter, ZaakSubjects):
        return lambda: adapter.subjects_of_zaak(url, {**headers, "Accept-Crs": "EPSG:4326"})
    if not isinstance(adapter, KlantcontactSubjects):
        return None
    if kanaal in ("klantcontacten", "klantinteracties"):
        return lambda: adapter.subjects_of_klantcontact(url, headers)
    if kanaal == "internetaken":
        return lambda: adapter.subjects_of_internetaak(url, headers)
    if kanaal == "partijen":
        return lambda: adapter.subjects_of_partij(url, headers)
    return None


def _detail(exc: SourceError) -> str:
    """The source error without the source id prefix the HTTP client puts before it."""
    return exc.message.split(": ", 1)[-1]


def business_subject(result: Mapping[str, Any]) -> Subject | None:
    """The subject of a KVK Zoeken result: the branch for a nevenvestiging, else the business."""
    kvk = result.get("kvkNummer")
    if not isinstance(kvk, str):
        return None
    vestiging = result.get("vestigingsnummer")
    if isinstance(vestiging, str) and vestiging and result.get("type") == "nevenvestiging":
        return Subject(SubjectKind.VESTIGING, vestiging)
    return Subject(SubjectKind.KVK, kvk)
