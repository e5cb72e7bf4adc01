"""KlantbeeldService: the heart of DGKB.

Order matters and is the point: decide (once, for all categories) → fetch only what is permitted,
each source once with the union of its permitted fields, in parallel → write the access logs →
only then return. If the logs cannot be written, nothing is returned (fail closed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime

from dgkb.audit.writer import AuditWriter
from dgkb.consent.service import ConsentService
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.context import RequestContext
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.federation.fanout import CategoryOutcome, Federation, SectionStatus, SourceCall
from dgkb.federation.headers import render_headers
from dgkb.federation.sourceset import SourceSet
from dgkb.klantbeeld.schemas import Klantbeeld, Sectie, VerwerkingsactiviteitRef
from dgkb.policy.decision import Decision, DecisionRequest, PolicyEngine
from dgkb.sources.base import fields_for

NOT_CONFIGURED_TEXT = "Er is geen bron aangesloten die deze gegevens voor dit doel mag leveren."
STATUS_TEXT = {
    SectionStatus.NIET_GEVONDEN: "De bron kent deze klant niet.",
    SectionStatus.TIMEOUT: "De bron antwoordde niet op tijd; probeer het zo opnieuw.",
    SectionStatus.ONBEREIKBAAR: "De bron is op dit moment niet bereikbaar.",
    SectionStatus.FOUT: "De bron gaf een fout; de gegevens zijn nu niet beschikbaar.",
}


class KlantbeeldService:
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        register: Register,
        engine: PolicyEngine,
        sources: SourceSet,
        consent: ConsentService,
        auditor: AuditWriter,
        federation: Federation,
        pseudonymizer: Pseudonymizer,
        request_budget: float = 2.0,
    ) -> None:
        self._catalogue = catalogue
        self._register = register
        self._engine = engine
        self._sources = sources
        self._consent = consent
        self._auditor = auditor
        self._budget = request_budget
        self._federation = federation
        self._pseudonymizer = pseudonymizer

    async def decide(self, context: RequestContext, *, at: datetime | None = None) -> Decision:
        """The decision for every category of the catalogue for this context (consent read now)."""
        return (await self._decide(context, at=at or datetime.now(UTC)))[0]

    async def _decide(self, context: RequestContext, *, at: datetime) -> tuple[Decision, frozenset[str]]:
        purpose = self._register.get(context.purpose_id)
        consented: frozenset[str] = frozenset()
        if purpose is not None and purpose.toestemmingVereist:
            # Only purposes with consent-bound categories need the consent store on this path.
            consented = await self._consent.consented_categories(context.subject, context.purpose_id, at=at)
        return self._engine.decide(
            DecisionRequest(
                purpose_id=context.purpose_id,
                role=context.actor.role,
                assurance=context.assurance,
                subject_kind=context.subject.kind,
                subject_shielded=context.subject_shielded,
                consented_categories=consented,
                organisation=context.actor.organisation,
                channel=context.channel,
                categories=self._catalogue.ids,
            )
        ), consented

    async def read(self, context: RequestContext) -> Klantbeeld:
        started = datetime.now(UTC)
        decision, consented = await self._decide(context, at=started)
        purpose = self._register.get(context.purpose_id)

        # Plan: one call per source with the union of the permitted categories' fields.
        per_source: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
        unconfigured: list[str] = []
        for cd in decision.permitted:
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
        calls = [
            SourceCall(
                adapter=self._sources.adapters[sid],
                fields=fields,
                headers=render_headers(
                    self._sources.configs[sid].headers,
                    purpose=purpose,
                    actor=context.actor,
                    trace=context.trace,
                ),
                deadline=min(self._sources.configs[sid].deadline, self._budget),
                cache_ttl=self._sources.configs[sid].cacheTtl,
            )
            for sid, fields in per_source.items()
        ]
        subject_key = self._pseudonymizer.pseudonym(context.subject).value
        outcomes = await self._federation.fetch(calls, context.subject, subject_key)
        sections = self._sections(decision, outcomes, unconfigured)
        delivered = sorted({s.categorie for s in sections if s.status == SectionStatus.OK})
        ended = datetime.now(UTC)

        # Log before you show. AuditUnavailable propagates: the caller shows nothing.
        await self._auditor.record_klantbeeld(
            context=context,
            decision=decision,
            retention=purpose.bewaartermijn if purpose else "P1Y",
            categories_requested=list(self._catalogue.ids),
            categories_delivered=delivered,
            started_at=started,
            ended_at=ended,
            consent_status={
                cat: ("gegeven" if cat in consented else "ontbreekt")
                for cat in (purpose.toestemmingVereist if purpose else ())
            },
            consented_categories=consented,
        )
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

    def _sections(
        self, decision: Decision, outcomes: list[CategoryOutcome], unconfigured: list[str]
    ) -> list[Sectie]:
        by_category: Mapping[str, list[CategoryOutcome]] = _group(outcomes)
        sections: list[Sectie] = []
        for cd in decision.categories:
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
                        toelichting=STATUS_TEXT.get(outcome.status),
                        gegevens=outcome.data if outcome.status is SectionStatus.OK else None,
                        opgehaald_op=outcome.retrieved_at,
                        duur_ms=round(outcome.duration_ms, 1),
                    )
                )
        return sections


def _group(outcomes: list[CategoryOutcome]) -> dict[str, list[CategoryOutcome]]:
    grouped: dict[str, list[CategoryOutcome]] = defaultdict(list)
    for o in outcomes:
        grouped[o.category].append(o)
    return grouped
