"""The composition root: configuration → every application service, built once, without HTTP.

The API, the console, the CLI and (later) workers all get their services from `build_services`;
nothing else constructs a service. Routes reach the one service they use through the `Annotated`
aliases in `dgkb.composition.deps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from dgkb.audit.access_log import AccessLog
from dgkb.audit.writer import AuditWriter
from dgkb.consent.objections import ObjectionService
from dgkb.consent.service import ConsentService
from dgkb.contacts.confirmation import ConfirmationService
from dgkb.contacts.documents import DocumentCheckService
from dgkb.contacts.identification import IdentificationService
from dgkb.contacts.moment import ContactMomentService, MomentOptions, parse_options
from dgkb.contacts.service import ContactService
from dgkb.dashboard.aggregate import Aggregator
from dgkb.dashboard.service import DashboardService
from dgkb.demo_secrets import refuse_demo_secrets_in_production
from dgkb.domain.assurance import IdentificationMethod
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.events.hub import ChangeHub
from dgkb.events.notificaties import Notificatie
from dgkb.events.service import ChangeService, build_changes
from dgkb.federation.cache import MemoryCache, RedisCache, SourceCache
from dgkb.federation.fanout import Federation
from dgkb.federation.sourceset import SourceSet
from dgkb.feedback.service import FeedbackService
from dgkb.feedback.source import KIND as FEEDBACK_KIND
from dgkb.feedback.source import FeedbackSource
from dgkb.gateway import SourceGateway
from dgkb.identity.acr import AcrTable, load_acr_table
from dgkb.identity.assertions import AssertionVerifier, BrokerConfig
from dgkb.identity.jwks import KeySet
from dgkb.identity.tokens import TokenValidator
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.messages.service import MessageService
from dgkb.meten import HealthSampler, MetenRecorder
from dgkb.notify import build_notifier, notify_config
from dgkb.notify.port import Notifier
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.profile.service import ProfileService
from dgkb.search.service import CustomerSearch
from dgkb.settings import SIMULATOR_PORTS, Settings, load_catalogue, load_register, load_yaml
from dgkb.sources.base import SourceAdapter, SourceError
from dgkb.sources.config import SourceConfig, SourcesConfig, parse_sources
from dgkb.sources.registry import build_adapter, known_kinds
from dgkb.store.db import Database
from dgkb.store.health import Health

TEST_BROKER_PATH = "/test-broker"


@dataclass(frozen=True)
class Notice:
    """A message Mijn berichten gets from a ZGW notification: its texts (no personal data, nothing of
    the zaak or the question itself: the customer reads that in Mijn omgeving) and, when given, the
    kenmerk value the notification must carry."""

    kind: str
    title: str
    body: str
    link: str
    kenmerk: tuple[str, str] | None = None

    def applies(self, message: Notificatie) -> bool:
        if self.kenmerk is None:
            return True
        name, value = self.kenmerk
        return message.kenmerken.get(name) == value


_TAAK_DONE = Notice(
    "contactverzoek",
    "Uw vraag is afgehandeld",
    "Wij hebben uw vraag aan ons afgehandeld. Bij Mijn contactmomenten ziet u wat er met uw vraag is "
    "gebeurd.",
    "/mijn/contactmomenten",
    kenmerk=("status", "verwerkt"),
)
# (kanaal, resource, actie) of a notification → the message it becomes
NOTICES: dict[tuple[str, str, str], Notice] = {
    ("zaken", "status", "create"): Notice(
        "zaak-status",
        "Uw zaak heeft een nieuwe status",
        "Er is een nieuwe stap gezet in uw zaak. Kijk bij Mijn zaken wat de nieuwe status is en wat de "
        "volgende stap is.",
        "/mijn/zaken",
    ),
    # Open Klant: an interne taak (contactverzoek) set to `verwerkt` by the back office
    ("internetaken", "internetaak", "update"): _TAAK_DONE,
    ("internetaken", "internetaak", "partial_update"): _TAAK_DONE,
}


@dataclass(frozen=True)
class BuiltInIssuer:
    """A token issuer running inside DGKB outside production (the dev issuer, the test broker):
    its issuer URL and public keys, so validators trust it without fetching a JWKS URL."""

    issuer: str
    jwks: Mapping[str, Any]


@dataclass
class Services:
    """Every application service, built once per process by `build_services`."""

    database: Database
    catalogue: Catalogue
    register: Register
    sources: SourceSet
    engine: CedarPolicyEngine
    pseudonymizer: Pseudonymizer
    audit: AuditWriter
    consent: ConsentService
    objections: ObjectionService  # bezwaar: subject × purpose (Mijn omgeving, privacy officer)
    contacts: ContactService
    klantbeeld: KlantbeeldService
    feedback: FeedbackService
    search: CustomerSearch
    federation: Federation
    gateway: SourceGateway  # the one way to the sources (dgkb.gateway)
    cache: SourceCache
    changes: ChangeService  # real-time: inbound notifications, publish_change, the bus
    hub: ChangeHub  # open views of this process, per subject
    moments: ContactMomentService  # registering contact moments
    identification: IdentificationService  # control questions
    notifier: Notifier  # outbound text messages and e-mail through NotifyNL (dgkb.notify)
    documents: DocumentCheckService  # identity documents checked at the counter
    assertions: AssertionVerifier  # DigiD/eHerkenning ID tokens of the broker
    confirmations: ConfirmationService  # "bevestig met DigiD" during a call
    access_log: AccessLog  # reading and verifying the audit logs (privacy officer, citizen, CLI)
    messages: MessageService  # Mijn berichten: notices to the customer (dgkb.messages)
    profile: ProfileService  # Mijn profiel: the customer's own contact details, written back
    health: Health  # is the database reachable (/api/v1/status)
    meten: MetenRecorder  # meten en leren: pseudonymised events of contacts and feedback
    dashboard: DashboardService  # the team lead's dashboard: aggregation runs, tables, charts, CSV
    health_sampler: HealthSampler  # the sources' health over time, for the dashboard

    async def aclose(self) -> None:
        """Release what the services hold open (HTTP clients of the sources, the cache's pool)."""
        await self.federation.aclose()
        await self.sources.aclose()
        await self.cache.aclose()
        await self.health.aclose()


def test_broker_key_file(settings: Settings) -> Path | None:
    """In development the test broker's key survives restarts (and is shared with the CLI)."""
    if settings.env.value != "development":
        return None
    return settings.config_dir.parent / "var" / "test-broker-key.pem"


@dataclass(frozen=True)
class Configuration:
    catalogue: Catalogue
    register: Register
    sources: SourcesConfig
    # which level a DigiD/eHerkenning login yields per `acr` (config/acr.yaml); empty = always `geen`
    acr: AcrTable = field(default_factory=lambda: AcrTable(levels={}))
    # onderwerpen, uitkomsten and afdelingen (with their actors) of a contact moment (onderwerpen.yaml)
    moments: MomentOptions | None = None


def load_configuration(
    settings: Settings, source_overrides: Mapping[str, str] | None = None
) -> Configuration:
    """Read and cross-validate catalogue, sources and register; raises InvalidConfiguration with
    every problem, each naming file and path (used at start-up and by `dgkb check`). In production
    a built-in key or demo secret is such a problem too (dgkb.demo_secrets)."""
    catalogue = load_catalogue(settings)
    sources_path = settings.config_files["sources"]
    sources = parse_sources(
        load_yaml(sources_path),
        catalogue=catalogue,
        known_kinds=known_kinds() | {FEEDBACK_KIND},
        source=sources_path.name,
        simulators={name: settings.simulator_url(name) for name in SIMULATOR_PORTS},
    )
    if source_overrides:
        sources = SourcesConfig(
            sources=tuple(
                s.model_copy(update={"baseUrl": source_overrides[s.id]}) if s.id in source_overrides else s
                for s in sources.sources
            )
        )
    register_ = load_register(settings, catalogue, source_ids=sources.ids)
    acr = load_acr_table(settings.config_files["acr"])
    onderwerpen = settings.config_dir / "onderwerpen.yaml"
    moments = parse_options(load_yaml(onderwerpen), source=onderwerpen.name)
    config = Configuration(catalogue=catalogue, register=register_, sources=sources, acr=acr, moments=moments)
    notify_config(settings)  # DGKB_NOTIFY_*: InvalidConfiguration naming the setting
    refuse_demo_secrets_in_production(settings, config)
    return config


def identification_purposes(register_: Register) -> dict[str, str]:
    """Organisation OIN -> its identification purpose (`identificatie: true` in the register)."""
    found = {va.organisatie.oin: va.id for va in register_.verwerkingsactiviteiten if va.identificatie}
    if found:
        return found
    raise InvalidConfiguration(
        "register.yaml: verwerkingsactiviteiten: er moet een identificatiedoel zijn "
        "(een verwerkingsactiviteit met 'identificatie: true')",
        field="register.yaml",
    )


def _audiences(value: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in value.split(",") if a.strip())


def brokers(settings: Settings, test_broker: BuiltInIssuer | None) -> list[BrokerConfig]:
    """The DigiD and eHerkenning brokers DGKB trusts: the configured ones (issuer and JWKS URL both
    required), else outside production the built-in test broker; in production none unless set."""
    found: list[BrokerConfig] = []
    digid_claims = _audiences(settings.digid_bsn_claim) or ("bsn",)
    for method, issuer, jwks_url, audience, subject_claims, prefix in (
        (
            IdentificationMethod.DIGID,
            settings.digid_issuer,
            settings.digid_jwks_url,
            settings.digid_audience,
            digid_claims,
            "DGKB_DIGID",
        ),
        (
            IdentificationMethod.EHERKENNING,
            settings.eherkenning_issuer,
            settings.eherkenning_jwks_url,
            settings.eherkenning_audience,
            (settings.eherkenning_kvk_claim,),
            "DGKB_EHERKENNING",
        ),
    ):
        extra: dict[str, Any] = {}
        if method is IdentificationMethod.EHERKENNING:
            extra = {
                "vestiging_claim": settings.eherkenning_vestiging_claim,
                "acting_person_claim": settings.eherkenning_acting_person_claim,
            }
        if issuer:
            if not jwks_url:
                raise InvalidConfiguration(
                    f"{prefix}_JWKS_URL is verplicht als {prefix}_ISSUER is gezet", field=f"{prefix}_JWKS_URL"
                )
            keys = KeySet(url=jwks_url)
            test = TEST_BROKER_PATH in issuer
        elif test_broker is not None and not settings.is_production:
            issuer, keys, test = test_broker.issuer, KeySet(static=dict(test_broker.jwks)), True
        else:
            continue
        found.append(
            BrokerConfig(
                method=method,
                issuer=issuer,
                audiences=_audiences(audience) or ("dgkb",),
                keys=keys,
                subject_claims=subject_claims,
                test_broker=test,
                **extra,
            )
        )
    return found


def build_services(
    settings: Settings,
    config: Configuration,
    *,
    database: Database,
    test_broker: BuiltInIssuer | None = None,
) -> Services:
    """Every application service, built once per process without HTTP: the API, the console, the
    CLI and workers share what this returns. Close it with `Services.aclose()`."""
    pseudonymizer = Pseudonymizer(settings.pseudonym_keyring())

    def build(source: SourceConfig) -> SourceAdapter:
        # DGKB's own stores need the database; every other kind is a pure HTTP adapter.
        if source.kind == FEEDBACK_KIND:
            return FeedbackSource(source, database=database, pseudonymizer=pseudonymizer)
        return build_adapter(source)

    sources = SourceSet(config.sources, build)
    engine = CedarPolicyEngine(config.register, config.catalogue)
    audit = AuditWriter(database, pseudonymizer, register=config.register)
    cache: SourceCache = (
        RedisCache(
            settings.redis_url,
            connect_timeout=settings.redis_connect_timeout_seconds,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_after_seconds,
        )
        if settings.redis_url
        else MemoryCache()
    )
    federation = Federation(
        concurrency={sid: cfg.concurrency for sid, cfg in sources.configs.items()}, cache=cache
    )
    # every source call goes through here: found, bounded, logged in the right name
    gateway = SourceGateway(
        sources=sources,
        federation=federation,
        register=config.register,
        auditor=audit,
        pseudonymizer=pseudonymizer,
        request_budget=settings.source_deadline_seconds,
    )
    assertions = AssertionVerifier(
        brokers=brokers(settings, test_broker),
        acr=config.acr,
        database=database,
        leeway_seconds=settings.assertion_leeway_seconds,
        max_age_seconds=settings.assertion_max_age_seconds,
    )
    consent = ConsentService(database, pseudonymizer, config.register, gateway=gateway, auditor=audit)
    objections = ObjectionService(database, pseudonymizer, config.register, auditor=audit)
    contacts = ContactService(
        database=database,
        register=config.register,
        gateway=gateway,
        pseudonymizer=pseudonymizer,
        auditor=audit,
        engine=engine,
        idle_timeout=timedelta(seconds=settings.session_idle_seconds),
        identification_purposes=identification_purposes(config.register),
        assertions=assertions,
    )
    moment_options = config.moments or parse_options(load_yaml(settings.config_dir / "onderwerpen.yaml"))
    meten = MetenRecorder(
        database=database,
        pseudonymizer=Pseudonymizer(settings.meten_keyring()),  # a key of its own (Settings)
        register=config.register,
        audit=audit,
        repeat_days=settings.meten_herhaal_dagen,
        onderwerpen={o.id: o.naam for o in moment_options.onderwerpen},
        doorverwijzen=moment_options.doorverwijzen,
    )
    feedback_ = FeedbackService(
        database=database, pseudonymizer=pseudonymizer, register=config.register, audit=audit, meten=meten
    )
    klantbeeld = KlantbeeldService(
        catalogue=config.catalogue,
        register=config.register,
        engine=engine,
        sources=sources,
        consent=consent,
        gateway=gateway,
        objections=objections,
    )
    notifier = build_notifier(settings)
    messages = MessageService(
        database=database,
        pseudonymizer=pseudonymizer,
        register=config.register,
        gateway=gateway,
        notifier=notifier,
        portal_url=settings.base_url,
        objected=objections.objected,  # a customer's objection to the `berichten` purpose: no notice
        retry_seconds=settings.notify_retry_seconds,
        auditor=audit,  # the customer reading their own messages is logged
    )

    async def to_messages(message: Notificatie, source_id: str, subjects: Sequence[Subject]) -> None:
        """Notifications that become a message in Mijn berichten, for each subject (NOTICES)."""
        notice = NOTICES.get((message.kanaal, message.resource, message.actie))
        if notice is None or not notice.applies(message):
            return
        organisation = sources.configs[source_id].organisation
        title = notice.title
        if notice.kind == "zaak-status":  # "Uw zaak Z-2026-0042 heeft een nieuwe status"
            try:
                identificatie = await gateway.zaak_identificatie(message.hoofdObject)
            except SourceError:  # Zaken slow or down now: the message says "uw zaak" without number
                identificatie = None
            if identificatie:
                title = f"Uw zaak {identificatie} heeft een nieuwe status"
        for subject in subjects:
            await messages.post(subject, organisation, title, notice.body, notice.link, kind=notice.kind)

    changes = build_changes(
        settings,
        invalidator=federation,
        pseudonymizer=pseudonymizer,
        gateway=gateway,
        on_notification=to_messages,
    )
    # a slow source's late answer: the open views of its subject re-read and show it
    federation.on_late = changes.publish_late
    return Services(
        database=database,
        catalogue=config.catalogue,
        register=config.register,
        sources=sources,
        engine=engine,
        pseudonymizer=pseudonymizer,
        audit=audit,
        consent=consent,
        objections=objections,
        contacts=contacts,
        klantbeeld=klantbeeld,
        feedback=feedback_,
        search=CustomerSearch(gateway=gateway),
        federation=federation,
        gateway=gateway,
        cache=cache,
        changes=changes,
        hub=changes.hub,
        notifier=notifier,  # outbound messages through NotifyNL (dgkb.notify)
        moments=ContactMomentService(
            register=config.register,
            gateway=gateway,
            contacts=contacts,
            changes=changes,
            options=moment_options,
            meten=meten,
        ),
        identification=IdentificationService(register=config.register, gateway=gateway, contacts=contacts),
        documents=DocumentCheckService(register=config.register, gateway=gateway, contacts=contacts),
        assertions=assertions,
        confirmations=ConfirmationService(
            database=database,
            contacts=contacts,
            register=config.register,
            gateway=gateway,
            pseudonymizer=pseudonymizer,
            auditor=audit,
            notifier=notifier,
            assertions=assertions,
            changes=changes,
        ),
        access_log=AccessLog(database, pseudonymizer, auditor=audit),
        messages=messages,
        profile=ProfileService(
            register=config.register,
            decide=klantbeeld.decide,
            gateway=gateway,
            notifier=notifier,
            database=database,
            pseudonymizer=pseudonymizer,
            publish=changes.publish_change,
        ),
        health=Health(database),
        meten=meten,
        dashboard=DashboardService(
            database=database,
            aggregator=Aggregator(database=database, register=config.register, audit=audit),
            onderwerpen={o.id: o.naam for o in moment_options.onderwerpen},
            sources={s.id: (s.name, s.organisation) for s in config.sources.sources},
        ),
        health_sampler=HealthSampler(database=database, federation=federation),
    )


def staff_token_validator(settings: Settings, dev_issuer: BuiltInIssuer | None) -> TokenValidator:
    """The validator of the staff's OIDC access tokens (API and console): the configured issuer, or
    outside production with no issuer configured the built-in dev issuer."""
    if dev_issuer is not None and not settings.oidc_issuer:
        keys = KeySet(static=dict(dev_issuer.jwks))
        issuer = dev_issuer.issuer
    else:
        if not settings.oidc_issuer or not settings.oidc_jwks_url:
            raise InvalidConfiguration(
                "DGKB_OIDC_ISSUER en DGKB_OIDC_JWKS_URL zijn verplicht in productie", field="DGKB_OIDC_ISSUER"
            )
        keys = KeySet(url=settings.oidc_jwks_url)
        issuer = settings.oidc_issuer
    return TokenValidator(
        issuer=issuer,
        audience=settings.oidc_audience,
        keys=keys,
        role_claim=settings.oidc_role_claim,
        organisation_claim=settings.oidc_organisation_claim,
        unit_claim=settings.oidc_unit_claim,
        employee_claim=settings.oidc_employee_claim,
    )
