"""The application core without HTTP: KlantbeeldService and SourceGateway over in-memory sources
(tests.fake_source). The policy engine (Cedar), the audit writer (SQLite, read back through the
audit queries), the consent store and the federation are the real ones; only the sources are fakes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dgkb.audit import AuditWriter
from dgkb.audit.query import search_access
from dgkb.consent.service import ConsentService
from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register, parse_register
from dgkb.domain.roles import Role
from dgkb.federation.cache import MemoryCache
from dgkb.federation.fanout import Federation
from dgkb.federation.sourceset import SourceSet
from dgkb.gateway import SourceGateway
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.settings import Environment, Settings, load_catalogue
from dgkb.sources.base import SourceAdapter, SubjectFacts
from dgkb.sources.config import SourceConfig, SourcesConfig
from dgkb.store.db import Database
from tests.conftest import fresh_database_url
from tests.fake_source import FakeRegistry, FakeSource

OIN = "00000001001234567000"
PURPOSE = "https://register.example.nl/verwerkingen/algemene-vraag"
SYSTEM_PURPOSE = "https://register.example.nl/verwerkingen/actualiseren"
BSN = "999993653"
KEYRING = [("k1", b"a-test-key-of-at-least-32-bytes!!")]
PERSON = {"naam": {"volledigeNaam": "A. Jansen"}, "verblijfplaats": {"woonplaats": "Voorbeeldstad"}}
REGISTER: dict[str, Any] = {
    "versie": "test",
    "verwerkingsactiviteiten": [
        {
            "id": PURPOSE,
            "naam": "Algemene vraag",
            "organisatie": {"naam": "Gemeente Voorbeeldstad", "oin": OIN},
            "grondslag": {"avg": "art. 6 lid 1 sub e AVG", "wet": "art. 2:1 Awb"},
            "categorieen": {
                "klant.basis": {
                    "velden": ["naam", "verblijfplaats", "kvkNummer"],
                    "bronnen": ["personen", "bedrijven"],
                },
                "klant.familie": {"minimaleZekerheid": "digid-midden"},
                "klant.contactgegevens": {},
                "contact.historie": {},
                "contact.open-verzoeken": {},  # permitted, but no source serves it
                "dossier.financieel": {},
            },
            "toestemmingVereist": ["dossier.financieel"],
            "rollen": ["kcm"],
            "minimaleZekerheid": "controlevragen",
            "bewaartermijn": "P1Y",
        },
        {
            "id": SYSTEM_PURPOSE,
            "naam": "Open klantbeeld actualiseren",
            "organisatie": {"naam": "Gemeente Voorbeeldstad", "oin": OIN},
            "grondslag": {"avg": "art. 6 lid 1 sub e AVG", "wet": "art. 2:1 Awb"},
            "categorieen": {"klant.basis": {"velden": ["naam"]}, "contact.historie": {}},
            "rollen": ["systeem"],
            "minimaleZekerheid": "geen",
            "bewaartermijn": "P1Y",
            "systeemtaak": "actualiseren",
        },
    ],
}


def source(id: str, categories: tuple[str, ...], **extra: Any) -> SourceConfig:
    return SourceConfig(
        id=id,
        kind="fake",
        name=f"Bron {id}",
        organisation=OIN,
        baseUrl="http://fake.invalid",
        categories=categories,
        **extra,
    )


SOURCES = SourcesConfig(
    sources=(
        source("personen", ("klant.basis", "klant.familie"), cacheTtl=60),
        source("bedrijven", ("klant.basis",)),
        source("reisdocumenten", ("klant.basis",)),  # serves klant.basis, but the purpose names other sources
        source("contacten", ("klant.contactgegevens", "contact.historie"), deadline=0.05),
        source("geld-a", ("dossier.financieel",)),
        source("geld-b", ("dossier.financieel",)),
    )
)


def fakes() -> dict[str, FakeSource]:
    """What each configured source does; `personen` and `bedrijven` know one kind of subject and one
    vocabulary of klant.basis each (as BRP and KVK do)."""
    return {
        "personen": FakeRegistry(
            "personen",
            ["klant.basis", "klant.familie"],
            subject_kinds=frozenset({SubjectKind.BSN}),
            vocabulary={
                "klant.basis": frozenset({"burgerservicenummer", "naam", "verblijfplaats", "geboorte"})
            },
            answers={"klant.basis": PERSON, "klant.familie": {"kinderen": []}},
            known={BSN: SubjectFacts(exists=True, display_name="A. Jansen")},
        ),
        "bedrijven": FakeSource(
            "bedrijven",
            ["klant.basis"],
            subject_kinds=frozenset({SubjectKind.KVK, SubjectKind.VESTIGING}),
            vocabulary={"klant.basis": frozenset({"naam", "kvkNummer"})},
            answers={"klant.basis": {"naam": "Voorbeeld BV"}},
        ),
        "reisdocumenten": FakeSource("reisdocumenten", ["klant.basis"], answers={"klant.basis": {}}),
        "contacten": FakeSource(
            "contacten",
            ["klant.contactgegevens", "contact.historie"],
            answers={"klant.contactgegevens": {"emailadressen": ["a@example.nl"]}, "contact.historie": []},
        ),
        "geld-a": FakeSource(
            "geld-a", ["dossier.financieel"], answers={"dossier.financieel": [{"bedrag": 1}]}
        ),
        "geld-b": FakeSource("geld-b", ["dossier.financieel"], answers={"dossier.financieel": []}),
    }


@dataclasses.dataclass
class Heart:
    """The service with everything below it, over the fake sources."""

    service: KlantbeeldService
    gateway: SourceGateway
    sources: dict[str, FakeSource]
    consent: ConsentService
    database: Database
    pseudonymizer: Pseudonymizer
    federation: Federation

    def context(self, assurance: Assurance = Assurance.CONTROLEVRAGEN, **kw: Any) -> RequestContext:
        values: dict[str, Any] = {
            "actor": Actor(id="kcm-anna", role=Role.KCM, organisation=OIN, organisation_unit="KCC"),
            "subject": Subject.person(BSN),
            "purpose_id": PURPOSE,
            "assurance": assurance,
            "channel": Kanaal.TELEFOON,
            "trace": Trace(),
            "contact_id": "contact-1",
        }
        values.update(kw)
        return RequestContext(**values)

    def asked(self) -> dict[str, list[Mapping[str, tuple[str, ...]]]]:
        """Source id -> the `fields` of every fetch it received (sources never asked left out)."""
        return {sid: [r.fields for r in s.requests] for sid, s in self.sources.items() if s.requests}

    async def access_log(self, subject: Subject | None = None) -> list[Any]:
        """The access records about `subject` (default: the person of `context`), newest first."""
        about = subject or Subject.person(BSN)
        page = await search_access(self.database, self.pseudonymizer, subject=about)
        return list(page.items)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(Settings(env=Environment.TEST))


@pytest.fixture(scope="module")
def register(catalogue: Catalogue) -> Register:
    return parse_register(REGISTER, catalogue=catalogue, source_ids=set(SOURCES.ids))


@pytest.fixture(scope="module")
def engine(register: Register, catalogue: Catalogue) -> CedarPolicyEngine:
    return CedarPolicyEngine(register, catalogue)


async def build_heart(
    catalogue: Catalogue,
    register: Register,
    engine: CedarPolicyEngine,
    database: Database,
    audit_db: Database,
    *,
    request_budget: float = 2.0,
    deadlines: Mapping[str, float] | None = None,
) -> Heart:
    """`request_budget`: how long a view waits; `deadlines`: source id -> its own deadline."""
    pseudonymizer = Pseudonymizer(KEYRING)
    sources = fakes()

    def build(config: SourceConfig) -> SourceAdapter:
        return sources[config.id]

    configured = SourcesConfig(
        sources=tuple(
            s.model_copy(update={"deadline": (deadlines or {}).get(s.id, s.deadline)})
            for s in SOURCES.sources
        )
    )
    source_set = SourceSet(configured, build)
    audit = AuditWriter(audit_db, pseudonymizer, register=register)
    federation = Federation(
        concurrency={sid: cfg.concurrency for sid, cfg in source_set.configs.items()}, cache=MemoryCache()
    )
    gateway = SourceGateway(
        sources=source_set,
        federation=federation,
        register=register,
        auditor=audit,
        pseudonymizer=pseudonymizer,
        request_budget=request_budget,
    )
    consent = ConsentService(database, pseudonymizer, register, gateway=gateway, auditor=audit)
    service = KlantbeeldService(
        catalogue=catalogue,
        register=register,
        engine=engine,
        sources=source_set,
        consent=consent,
        gateway=gateway,
    )
    return Heart(service, gateway, sources, consent, database, pseudonymizer, federation)


@pytest.fixture
async def heart(
    catalogue: Catalogue, register: Register, engine: CedarPolicyEngine, tmp_path: Path
) -> AsyncIterator[Heart]:
    database = Database(await fresh_database_url("sqlite", tmp_path))
    yield await build_heart(catalogue, register, engine, database, database)
    await database.dispose()


class _AnyFields:
    """Equal to any non-empty tuple of field names (the catalogue's own, not this test's business)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, tuple) and bool(other) and all(isinstance(f, str) for f in other)


ANY_FIELDS: Any = _AnyFields()
