"""KlantbeeldService and SourceGateway.read over in-memory sources (tests/services/conftest.py):
decide once, fetch only what is permitted (each source once, only its own permitted fields), log
before returning, fail closed — without HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dgkb.audit import AuditUnavailable
from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.identifiers import Subject
from dgkb.domain.register import Register
from dgkb.federation.fanout import SectionStatus
from dgkb.klantbeeld.schemas import Klantbeeld, Sectie
from dgkb.klantbeeld.service import PENDING_TEXT, STATUS_TEXT
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.sources.base import SourceUnavailable
from dgkb.store.db import Database
from tests.conftest import fresh_database_url

from .conftest import ANY_FIELDS, BSN, PERSON, PURPOSE, REGISTER, SYSTEM_PURPOSE, Heart, build_heart


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


async def test_a_slow_source_fills_in_later_and_each_read_logs_what_it_showed(
    catalogue: Catalogue, register: Register, engine: CedarPolicyEngine, tmp_path: Path
) -> None:
    """The console's read (fill_in_later): a source slower than the view's wait (50 ms) is pending, not
    "te traag"; its answer, when it comes, is announced and shown by the next read without asking the
    source again — and the log of each read names only what that read delivered."""
    database = Database(await fresh_database_url("sqlite", tmp_path))
    try:
        # the view waits 50 ms; the source may take 30 s
        heart = await build_heart(
            catalogue, register, engine, database, database, request_budget=0.05, deadlines={"contacten": 30}
        )
        announced: list[tuple[str, ...]] = []

        async def on_late(subject_key: str, categories: tuple[str, ...], source_id: str) -> None:
            announced.append((source_id, *categories))

        heart.federation.on_late = on_late
        gate = asyncio.Event()
        heart.sources["contacten"].gate = gate
        first = by_category(await heart.service.read(heart.context(), fill_in_later=True))
        for cat in ("klant.contactgegevens", "contact.historie"):
            (section,) = first[cat]
            assert (section.status, section.nog_bezig, section.gegevens) == ("timeout", True, None)
            assert section.toelichting == PENDING_TEXT
        (record,) = await heart.access_log()
        assert "contact.historie" not in record.categories_delivered
        gate.set()
        for _ in range(500):
            if announced:
                break
            await asyncio.sleep(0.01)
        assert announced == [("contacten", "klant.contactgegevens", "contact.historie")]
        second = by_category(await heart.service.read(heart.context(), fill_in_later=True))
        (historie,) = second["contact.historie"]
        assert (historie.status, historie.nog_bezig, historie.gegevens) == ("ok", False, [])
        assert heart.sources["contacten"].calls == 1
        latest, _ = await heart.access_log()
        assert {"klant.contactgegevens", "contact.historie"} <= set(latest.categories_delivered)
        # the API's read (no fill_in_later) is cut off at the view's wait as before
        gate.clear()
        (plain,) = by_category(await heart.service.read(heart.context()))["contact.historie"]
        assert (plain.status, plain.nog_bezig) == ("timeout", False)
        await heart.federation.aclose()
    finally:
        await database.dispose()
