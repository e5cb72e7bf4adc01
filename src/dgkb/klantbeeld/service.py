"""KlantbeeldService: the heart of DGKB.

Order matters and is the point: decide (once, for all categories) → fetch only what is permitted,
each source once with the union of its permitted fields, in parallel → write the access logs →
only then return. If the logs cannot be written, nothing is returned (fail closed). Fetching and
logging are the gateway's (dgkb.gateway); deciding and shaping the sections are this service's.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from dgkb.consent.objections import ObjectionService
from dgkb.consent.service import ConsentService
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.context import RequestContext
from dgkb.domain.register import Register
from dgkb.federation.fanout import CategoryOutcome, SectionStatus
from dgkb.federation.sourceset import SourceSet
from dgkb.gateway import Processing, Reading, SourceGateway
from dgkb.klantbeeld.schemas import Klantbeeld, Sectie, VerwerkingsactiviteitRef
from dgkb.policy.decision import Decision, DecisionRequest, PolicyEngine

NOT_CONFIGURED_TEXT = "Er is geen bron aangesloten die deze gegevens voor dit doel mag leveren."
STATUS_TEXT = {
    SectionStatus.NIET_GEVONDEN: "De bron kent deze klant niet.",
    SectionStatus.TIMEOUT: "De bron antwoordde niet op tijd; probeer het zo opnieuw.",
    SectionStatus.ONBEREIKBAAR: "De bron is op dit moment niet bereikbaar.",
    SectionStatus.NIET_GEAUTORISEERD: (
        "Niet geautoriseerd bij de bron: de bron weigert de sleutel of het token van DGKB. Opnieuw "
        "proberen helpt niet; meld het aan beheer."
    ),
    SectionStatus.FOUT: "De bron gaf een fout; de gegevens zijn nu niet beschikbaar.",
}
PENDING_TEXT = "De bron antwoordt traag; dit deel verschijnt vanzelf zodra het antwoord binnen is."


class KlantbeeldService:
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        register: Register,
        engine: PolicyEngine,
        sources: SourceSet,
        consent: ConsentService,
        gateway: SourceGateway,
        objections: ObjectionService | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._register = register
        self._engine = engine
        self._sources = sources  # names of the sources, for the sections
        self._consent = consent
        self._gateway = gateway
        self._objections = objections

    async def decide(self, context: RequestContext, *, at: datetime | None = None) -> Decision:
        """The decision for every category of the catalogue for this context (consent read now)."""
        return (await self._decide(context, at=at or datetime.now(UTC)))[0]

    async def _decide(self, context: RequestContext, *, at: datetime) -> tuple[Decision, frozenset[str]]:
        purpose = self._register.get(context.purpose_id)
        consented: frozenset[str] = frozenset()
        if purpose is not None and purpose.toestemmingVereist:
            # Only purposes with consent-bound categories need the consent store on this path.
            consented = await self._consent.consented_categories(context.subject, context.purpose_id, at=at)
        objected = False
        if purpose is not None and purpose.proactief and self._objections is not None:
            # Only proactive purposes take an objection into account at once (bezwaar, art. 21 AVG).
            objected = await self._objections.objected(context.subject, context.purpose_id)
        return self._engine.decide(
            DecisionRequest(
                purpose_id=context.purpose_id,
                role=context.actor.role,
                assurance=context.assurance,
                subject_kind=context.subject.kind,
                subject_shielded=context.subject_shielded,
                consented_categories=consented,
                objected=objected,
                organisation=context.actor.organisation,
                channel=context.channel,
                categories=self._catalogue.ids,
            )
        ), consented

    async def read(
        self,
        context: RequestContext,
        *,
        only: Collection[str] | None = None,
        fill_in_later: bool = False,
    ) -> Klantbeeld:
        """The klantbeeld of the context: every category the decision permits, fetched and logged.
        `only`: a narrower read (a page that shows some categories, such as Mijn zaken): the same
        decision, fetch and log, for these categories alone; the sections are only theirs.
        `fill_in_later`: a view that follows its live stream (the console): a slow source's sections
        come back `nog_bezig` and the stream announces when a read will show them."""
        decision, consented = await self._decide(context, at=datetime.now(UTC))
        purpose = self._register.get(context.purpose_id)
        wanted = set(only) if only is not None else None
        permitted = [cd for cd in decision.permitted if wanted is None or cd.category in wanted]
        # Fetch only what is permitted; the gateway logs the view before it returns (fail closed:
        # AuditUnavailable propagates and the caller shows nothing).
        reading = await self._gateway.read(
            context,
            permitted,
            Processing(
                name="klantbeeld raadplegen",
                decision=decision,
                categories_requested=[c for c in self._catalogue.ids if wanted is None or c in wanted],
                consent_status={
                    cat: ("gegeven" if cat in consented else "ontbreekt")
                    for cat in (purpose.toestemmingVereist if purpose else ())
                },
                consented_categories=consented,
            ),
            fill_in_later=fill_in_later,
        )
        sections = self._sections(decision, list(reading.outcomes), list(reading.unconfigured), wanted)
        ended = datetime.now(UTC)
        return Klantbeeld(
            contact_id=context.contact_id,
            onderwerp_type=context.subject.kind.value,
            verwerkingsactiviteit=VerwerkingsactiviteitRef(
                id=context.purpose_id,
                naam=purpose.naam if purpose else None,
                organisatie=purpose.organisatie.naam if purpose else None,
            ),
            zekerheid=context.assurance.value,
            trace_id=context.trace.trace_id,
            registerversie=decision.register_version,
            opgehaald_op=ended,
            secties=sections,
        )

    async def refresh(self, context: RequestContext) -> Reading | None:
        """Re-read, in DGKB's own name, what the open view of `context` shows (reconciliation): the
        categories and fields the employee's decision permits, within what the organisation's
        `actualiseren` purpose allows, logged under that purpose with DGKB as the actor — never in
        the employee's name. None when the register has no such purpose (then nothing is read)."""
        caller = self._gateway.system_caller(context.actor.organisation, "actualiseren")
        purpose = self._register.get(caller.purpose_id or "") if caller is not None else None
        if caller is None or purpose is None:
            return None
        decision = await self.decide(context)
        permitted = []
        for cd in decision.permitted:
            access = purpose.categorieen.get(cd.category)
            if access is None:
                continue
            fields = cd.fields if access.velden is None else tuple(f for f in cd.fields if f in access.velden)
            sources = cd.sources
            if access.bronnen is not None:
                allowed = cd.sources if cd.sources is not None else access.bronnen
                sources = tuple(s for s in allowed if s in access.bronnen)
            if fields:
                permitted.append(dataclasses.replace(cd, fields=fields, sources=sources))
        system = RequestContext(
            actor=caller.actor,
            subject=context.subject,
            purpose_id=purpose.id,
            assurance=context.assurance,
            channel=caller.channel,
            trace=caller.trace,
            subject_shielded=context.subject_shielded,
        )
        return await self._gateway.read(system, permitted, Processing(name="open klantbeeld actualiseren"))

    async def zaak_documenten(
        self, context: RequestContext, category: str, zaak_url: str
    ) -> list[dict[str, Any]] | None:
        """The titles of the documents of one zaak (read from `category` about this subject), when the
        decision permits the field `documenten` of that category; None when it does not (nothing is
        read). Logged like every read; a source outage is the gateway's SourceUnavailable."""
        decision, _ = await self._decide(context, at=datetime.now(UTC))
        cd = next((c for c in decision.permitted if c.category == category), None)
        if cd is None or "documenten" not in cd.fields:
            return None
        return await self._gateway.zaak_documenten(context, cd, zaak_url)

    def _sections(
        self,
        decision: Decision,
        outcomes: list[CategoryOutcome],
        unconfigured: list[str],
        only: set[str] | None = None,
    ) -> list[Sectie]:
        by_category: Mapping[str, list[CategoryOutcome]] = _group(outcomes)
        sections: list[Sectie] = []
        for cd in decision.categories:
            if only is not None and cd.category not in only:
                continue
            category = self._catalogue.get(cd.category)
            if category is None:
                continue
            base = {
                "categorie": cd.category,
                "informatietype": category.informatietype.value,
                "omschrijving": category.omschrijving,
            }
            if not cd.permitted:
                sections.append(
                    Sectie(
                        **base,
                        status=SectionStatus.NIET_TOEGESTAAN.value,
                        reden=cd.reason.value if cd.reason else None,
                        redenen=[r.value for r in cd.reasons],
                        toelichting=cd.explanation,
                    )
                )
                continue
            if cd.category in unconfigured:
                sections.append(
                    Sectie(
                        **base,
                        status=SectionStatus.NIET_GECONFIGUREERD.value,
                        toelichting=NOT_CONFIGURED_TEXT,
                    )
                )
                continue
            for outcome in by_category.get(cd.category, []):
                cfg = self._sources.configs[outcome.source_id]
                sections.append(
                    Sectie(
                        **base,
                        status=outcome.status.value,
                        bron=cfg.name,
                        bron_id=cfg.id,
                        toelichting=PENDING_TEXT if outcome.pending else STATUS_TEXT.get(outcome.status),
                        gegevens=outcome.data if outcome.status is SectionStatus.OK else None,
                        opgehaald_op=outcome.retrieved_at,
                        duur_ms=round(outcome.duration_ms, 1),
                        nog_bezig=outcome.pending,
                    )
                )
        return sections


def _group(outcomes: list[CategoryOutcome]) -> dict[str, list[CategoryOutcome]]:
    grouped: dict[str, list[CategoryOutcome]] = defaultdict(list)
    for o in outcomes:
        grouped[o.category].append(o)
    return grouped
