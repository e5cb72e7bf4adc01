"""KlantbeeldService and SourceGateway over in-memory sources (tests.fake_source): decide once,
fetch only what is permitted (each source once, only its own permitted fields), log before
returning, fail closed — without HTTP. The policy engine (Cedar), the audit writer (SQLite, read
back through the audit queries), the consent store and the federation are the real ones."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dgkb.audit import AuditUnavailable, AuditWriter
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
from dgkb.federation.fanout import Federation, SectionStatus
from dgkb.federation.sourceset import SourceSet
from dgkb.gateway import SourceGateway
from dgkb.klantbeeld.schemas import Klantbeeld, Sectie
from dgkb.klantbeeld.service import STATUS_TEXT, KlantbeeldService
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.settings import Environment, Settings, load_catalogue
from dgkb.sources.base import SourceAdapter, SourceUnavailable
from dgkb.sources.config import SourceConfig, SourcesConfig
from dgkb.store.db import Database
from tests.conftest import fresh_database_url
from tests.fake_source import FakeSource

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
        "personen": FakeSource(
            "personen",
            ["klant.basis", "klant.familie"],
            subject_kinds=frozenset({SubjectKind.BSN}),
            vocabulary={
                "klant.basis": frozenset({"burgerservicenummer", "naam", "verblijfplaats", "geboorte"})
            },
            answers={"klant.basis": PERSON, "klant.familie": {"kinderen": []}},
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
    sources: dict[str, FakeSource]
    consent: ConsentService
    database: Database
    pseudonymizer: Pseudonymizer

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

    async def access_log(self) -> list[Any]:
        page = await search_access(self.database, self.pseudonymizer, subject=Subject.person(BSN))
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
) -> Heart:
    pseudonymizer = Pseudonymizer(KEYRING)
    sources = fakes()

    def build(config: SourceConfig) -> SourceAdapter:
        return sources[config.id]

    source_set = SourceSet(SOURCES, build)
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
    return Heart(service, sources, consent, database, pseudonymizer)


@pytest.fixture
async def heart(
    catalogue: Catalogue, register: Register, engine: CedarPolicyEngine, tmp_path: Path
) -> AsyncIterator[Heart]:
    database = Database(await fresh_database_url("sqlite", tmp_path))
    yield await build_heart(catalogue, register, engine, database, database)
    await database.dispose()


def by_category(view: Klantbeeld) -> dict[str, list[Sectie]]:
    found: dict[str, list[Sectie]] = {}
    for s in view.secties:
        found.setdefault(s.categorie, []).append(s)
    return found


def statuses(view: Klantbeeld) -> dict[str, list[tuple[str | None, str]]]:
    return {cat: [(s.bron_id, s.status) for s in secties] for cat, secties in by_category(view).items()}


async def test_each_permitted_source_is_asked_once_for_only_its_permitted_fields(
    heart: Heart, catalogue: Catalogue
) -> None:
    context = heart.context()
    view = await heart.service.read(context)

    assert heart.asked() == {
        # the register's fields within the source's vocabulary: kvkNummer is not BRP's
        "personen": [{"klant.basis": ("naam", "verblijfplaats")}],
        # both categories of one source in one call, with every field of the catalogue
        "contacten": [
            {"klant.contactgegevens": ("emailadressen", "telefoonnummers"), "contact.historie": ANY_FIELDS}
        ],
    }
    # `bedrijven` knows no persons; `reisdocumenten` is not a source the purpose allows for
    # klant.basis; klant.familie needs DigiD midden; dossier.financieel needs consent
    request = heart.sources["personen"].requests[0]
    assert request.subject == context.subject
    assert request.subject_key == heart.pseudonymizer.pseudonym(context.subject).value
    assert BSN not in request.subject_key
    assert request.headers["traceparent"].split("-")[1] == context.trace.trace_id

    found = by_category(view)
    assert statuses(view) == {
        "klant.basis": [("personen", "ok")],
        "klant.familie": [(None, "niet-toegestaan")],
        "klant.contactgegevens": [("contacten", "ok")],
        "contact.historie": [("contacten", "ok")],
        "contact.open-verzoeken": [(None, "niet-geconfigureerd")],
        "dossier.financieel": [(None, "niet-toegestaan")],
        **{
            cat: [(None, "niet-toegestaan")]
            for cat in catalogue.ids
            if cat not in REGISTER["verwerkingsactiviteiten"][0]["categorieen"]
        },
    }
    assert found["klant.basis"][0].gegevens == PERSON
    assert found["klant.basis"][0].bron == "Bron personen"
    assert found["klant.familie"][0].reden == "ASSURANCE_TOO_LOW"
    assert found["dossier.financieel"][0].reden == "CONSENT_REQUIRED"
    assert found["dienst.zaken-lopend"][0].reden == "CATEGORY_NOT_IN_PURPOSE"
    assert view.trace_id == context.trace.trace_id
    assert view.verwerkingsactiviteit.id == PURPOSE


class _AnyFields:
    """Equal to any non-empty tuple of field names (the catalogue's own, not this test's business)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, tuple) and bool(other) and all(isinstance(f, str) for f in other)


ANY_FIELDS: Any = _AnyFields()


async def test_a_business_is_asked_of_the_business_source_only(heart: Heart) -> None:
    await heart.service.read(heart.context(subject=Subject.business("69599084")))
    asked = heart.asked()
    assert asked["bedrijven"] == [{"klant.basis": ("naam", "kvkNummer")}]
    assert "personen" not in asked


async def test_higher_assurance_permits_more_categories_of_the_same_source_in_the_same_call(
    heart: Heart,
) -> None:
    view = await heart.service.read(heart.context(Assurance.DIGID_MIDDEN))
    (fields,) = heart.asked()["personen"]
    assert set(fields) == {"klant.basis", "klant.familie"}
    assert statuses(view)["klant.familie"] == [("personen", "ok")]


async def test_with_consent_every_source_of_the_category_is_asked_and_each_has_its_section(
    heart: Heart,
) -> None:
    context = heart.context()
    await heart.consent.give(context, categories=["dossier.financieel"])
    view = await heart.service.read(context)
    assert statuses(view)["dossier.financieel"] == [("geld-a", "ok"), ("geld-b", "ok")]
    assert heart.sources["geld-a"].calls == heart.sources["geld-b"].calls == 1
    (record, *_) = await heart.access_log()
    assert "dossier.financieel" in record.categories_delivered
    assert record.decision is not None
    assert record.decision.consent_status == {"dossier.financieel": "gegeven"}


async def test_a_slow_source_costs_its_own_sections_only_and_the_log_says_what_was_delivered(
    heart: Heart, catalogue: Catalogue
) -> None:
    heart.sources["contacten"].hang = True  # its deadline is 50 ms
    context = heart.context()
    view = await heart.service.read(context)
    found = by_category(view)
    for cat in ("klant.contactgegevens", "contact.historie"):
        (section,) = found[cat]
        assert (section.status, section.gegevens) == ("timeout", None)
        assert section.toelichting == STATUS_TEXT[SectionStatus.TIMEOUT]
    assert found["klant.basis"][0].status == "ok"

    (record,) = await heart.access_log()
    assert record.categories_delivered == ("klant.basis",)
    assert set(record.categories_requested) == set(catalogue.ids)
    assert {"klant.familie", "dossier.financieel", "dienst.zaken-lopend"} <= set(record.categories_denied)
    assert record.trace_id == context.trace.trace_id
    assert record.processing_activity_id == PURPOSE
    assert record.actor_id == "kcm-anna"
    assert record.decision is not None
    assert record.decision.consent_status == {"dossier.financieel": "ontbreekt"}


async def test_not_found_is_not_delivered(heart: Heart) -> None:
    heart.sources["personen"].answers["klant.basis"] = None  # the source does not know the subject
    view = await heart.service.read(heart.context())
    assert statuses(view)["klant.basis"] == [("personen", "niet-gevonden")]
    (record,) = await heart.access_log()
    assert set(record.categories_delivered) == {"klant.contactgegevens", "contact.historie"}


async def test_a_view_from_the_cache_is_logged_too(heart: Heart) -> None:
    first = await heart.service.read(heart.context())
    second = await heart.service.read(heart.context())
    assert heart.sources["personen"].calls == 1  # cacheTtl 60
    assert heart.sources["contacten"].calls == 2  # no cacheTtl
    assert by_category(second)["klant.basis"][0].gegevens == by_category(first)["klant.basis"][0].gegevens
    assert len(await heart.access_log()) == 2


async def test_no_log_no_view(
    catalogue: Catalogue, register: Register, engine: CedarPolicyEngine, tmp_path: Path
) -> None:
    """Fail closed: when the access log cannot be written the view is not returned."""
    database = Database(await fresh_database_url("sqlite", tmp_path))
    unwritable = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'audit.sqlite3'}")
    heart = await build_heart(catalogue, register, engine, database, unwritable)
    try:
        with pytest.raises(AuditUnavailable):
            await heart.service.read(heart.context())
        assert heart.sources["personen"].calls == 1  # fetched, but never shown
    finally:
        await database.dispose()
        await unwritable.dispose()


async def test_refresh_reads_in_dgkbs_own_name_within_both_purposes(heart: Heart) -> None:
    """Reconciliation re-reads what the employee's view shows, within what the organisation's
    `actualiseren` purpose allows, logged with DGKB as the actor — never in the employee's name."""
    context = heart.context()
    reading = await heart.service.refresh(context)
    assert reading is not None
    assert heart.asked() == {
        "personen": [{"klant.basis": ("naam",)}],
        "contacten": [{"contact.historie": ANY_FIELDS}],
    }
    assert reading.delivered == ["contact.historie", "klant.basis"]
    (record,) = await heart.access_log()
    assert record.processing_activity_id == SYSTEM_PURPOSE
    assert record.actor_id == "dgkb-actualiseren"
    assert record.actor_role == "systeem"


async def test_a_source_that_is_down_is_onbereikbaar_and_the_view_still_comes(heart: Heart) -> None:
    heart.sources["personen"].failure = SourceUnavailable("HTTP 503")
    view = await heart.service.read(heart.context())
    (section,) = by_category(view)["klant.basis"]
    assert (section.status, section.toelichting) == ("onbereikbaar", STATUS_TEXT[SectionStatus.ONBEREIKBAAR])
    assert heart.sources["personen"].calls == 2  # one retry within the deadline
    assert statuses(view)["contact.historie"] == [("contacten", "ok")]
