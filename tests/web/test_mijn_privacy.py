"""Mijn omgeving, the customer's privacy parts (issue 14, parts 7, 8 and 10): who looked at my data
(without the employee), my consents (give and withdraw, effective at the next read by anyone) and
objections to a purpose (a proactive one denied at once, for that customer only). Over HTTP against
the whole stack; the subject only ever comes from the login."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import yaml
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role
from dgkb.settings import PROJECT_ROOT
from dgkb.store.audit_tables import AccessRecord, LdvRecord
from dgkb.store.tables import ObjectionRow
from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact, running_stack
from tests.conftest import DB_BACKENDS, fresh_database_url
from tests.web.conftest import nav_click, new_console
from tests.web.mijn_helpers import BSN, OTHER_BSN, csrf, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h1privacy")

WATERSCHAPSBELASTING = WATERSCHAP + "waterschapsbelasting"
WATERSCHAP_OIN = "00000001009876543000"
GEMEENTE_OIN = "00000001001234567000"
STAFF_TRACES = ("kcm-wim", "Wim", "Bakker", "Klantcontact Belastingen")


def _entries(page: str) -> list[str]:
    return re.findall(r"<li class=\"mijn-log__item[^>]*>(.*?)</li>", page, re.S)


async def _agent_reads(stack: Stack, bsn: str = BSN) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, WATERSCHAPSBELASTING, bsn=bsn)
        read = await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert read.status_code == 200, read.text


# --- 8. Wie heeft mijn gegevens bekeken ----------------------------------------------------------------


async def test_the_customer_sees_the_agents_read_without_the_agent(stack: Stack) -> None:
    await _agent_reads(stack)
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/inzage")
    assert page.status_code == 200, page.text
    agent = [e for e in _entries(page.text) if "Waterschapsbelasting" in e]
    assert len(agent) == 1, page.text
    (entry,) = agent
    assert "Waterschap De Voorbeeldwaarden" in entry
    assert "een medewerker van het klantcontactcentrum" in entry
    assert "Gegevens bekeken" in entry
    assert "telefoon" in entry
    assert "Basisgegevens" in entry  # the information types, by their labels
    for trace in STAFF_TRACES:
        assert trace not in page.text
    assert BSN not in page.text
    # the customer's own login and reads are theirs, shown as such, in plain words
    assert "uzelf, in Mijn omgeving" in page.text
    assert "Vastgesteld wie u bent" in page.text
    assert "acr" not in page.text  # no technical details of the login


async def test_another_customer_does_not_see_it_whatever_the_request_says(stack: Stack) -> None:
    await _agent_reads(stack)
    async with portal_client(stack) as client:
        await login(client, bsn=OTHER_BSN)
        plain = await client.get("/mijn/inzage")
        crafted = await client.get(
            "/mijn/inzage",
            params={"bsn": BSN, "subject": BSN, "onderwerp": BSN, "organisatie": WATERSCHAP_OIN},
            headers={"X-Bsn": BSN},
        )
    for page in (plain, crafted):
        assert page.status_code == 200, page.text
        assert "Waterschapsbelasting" not in page.text
        assert _entries(page.text), "the other customer's own login is listed"


async def test_system_reads_are_shown_as_such(stack: Stack) -> None:
    services = stack.app.state.services
    context = RequestContext(
        actor=Actor(id="dgkb-systeem", role=Role.SYSTEEM, organisation=GEMEENTE_OIN),
        subject=Subject.person(BSN),
        purpose_id=GEMEENTE + "dgkb-actualiseren-klantbeeld",
        assurance=Assurance.GEEN,
        channel=Kanaal.BACKOFFICE,
        trace=Trace(),
    )
    now = datetime.now(UTC)
    await services.audit.record_processing(
        context=context,
        name="open klantbeeld actualiseren",
        categories=["klant.basis"],
        started_at=now,
        ended_at=now,
    )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/inzage", params={"organisatie": GEMEENTE_OIN})
    (entry,) = [e for e in _entries(page.text) if "Actualiseren van een open klantbeeld" in e]
    assert "automatisch door het systeem" in entry
    assert "dgkb-systeem" not in page.text


async def test_filter_by_organisation_and_period(stack: Stack) -> None:
    await _agent_reads(stack)
    today = date.today()
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        gemeente = await client.get("/mijn/inzage", params={"organisatie": GEMEENTE_OIN})
        waterschap = await client.get("/mijn/inzage", params={"organisatie": WATERSCHAP_OIN})
        later = await client.get("/mijn/inzage", params={"vanaf": str(today + timedelta(days=2))})
        around = await client.get(
            "/mijn/inzage",
            params={"vanaf": str(today - timedelta(days=1)), "tot": str(today + timedelta(days=1))},
        )
    assert "Waterschapsbelasting" not in gemeente.text
    assert all("Gemeente Voorbeeldstad" in e for e in _entries(gemeente.text))
    assert "Waterschapsbelasting" in waterschap.text
    assert all("Waterschap De Voorbeeldwaarden" in e for e in _entries(waterschap.text))
    assert later.status_code == 200
    assert _entries(later.text) == []
    assert "Er is niets gevonden met deze keuze" in later.text
    assert "Waterschapsbelasting" in around.text


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"vanaf": "2026-13-45"}, "vanaf", "Vanaf: dit is geen geldige datum"),
        ({"tot": "gisteren"}, "tot", "Tot en met: dit is geen geldige datum"),
        ({"vanaf": "0001-01-01"}, "vanaf", "Vanaf: dit is geen geldige datum"),
        ({"tot": "9999-12-31"}, "tot", "Tot en met: dit is geen geldige datum"),
        ({"vanaf": "2026-05-02", "tot": "2026-05-01"}, "tot", "ligt voor de datum bij Vanaf"),
        ({"organisatie": "00000001000000000000"}, "organisatie", "kies een organisatie uit de lijst"),
        ({"cursor": "bm90LWpzb24"}, "cursor", "Begin bij de eerste pagina"),
    ],
)
async def test_bad_filters_are_named_in_dutch(
    stack: Stack, params: dict[str, str], field: str, words: str
) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/inzage", params=params)
    assert page.status_code == 400, page.text
    assert f'data-fout="{field}"' in page.text
    assert words in page.text


async def test_paged_newest_first_and_reading_it_is_logged(stack: Stack) -> None:
    services = stack.app.state.services
    start = datetime.now(UTC) - timedelta(days=3)
    for i in range(30):
        context = RequestContext(
            actor=Actor(id="kcm-anna", role=Role.KCM, organisation=GEMEENTE_OIN, name="Anna"),
            subject=Subject.person(BSN),
            purpose_id=GEMEENTE + "kcc-algemene-vraag",
            assurance=Assurance.CONTROLEVRAGEN,
            channel=Kanaal.BALIE,
            trace=Trace(),
        )
        moment = start + timedelta(minutes=i)
        await services.audit.record_processing(
            context=context,
            name="klantbeeld raadplegen",
            categories=["klant.basis"],
            started_at=moment,
            ended_at=moment,
        )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        first = await client.get("/mijn/inzage", params={"tot": str(date.today() - timedelta(days=1))})
        assert first.status_code == 200
        assert len(_entries(first.text)) == 25
        found = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert found
        target = urlsplit(found.group(1).replace("&amp;", "&"))
        query = dict(parse_qsl(target.query))
        assert query["tot"] == str(date.today() - timedelta(days=1))  # the filter carries over
        second = await client.get(target.path, params=query)
        assert second.status_code == 200
        assert len(_entries(second.text)) == 5
        assert 'rel="next"' not in second.text
        assert "Naar de nieuwste" in second.text
        times = [m for m in re.findall(r"<strong>([^<]+)</strong>", first.text + second.text)]
        assert len(set(times)) == 30  # every read once, none twice
        # the reads of the history itself are logged (under the own-view purpose, no categories)
        again = await client.get("/mijn/inzage")
    own = [e for e in _entries(again.text) if "Bekeken wie uw gegevens bekeek" in e]
    assert len(own) >= 2  # at least the first two pages, at each organisation
    assert all("Geen gegevens getoond" in e and "uzelf, in Mijn omgeving" in e for e in own)
    assert "Anna" not in again.text
    assert "kcm-anna" not in again.text


async def test_without_login_the_history_sends_to_the_login(stack: Stack) -> None:
    async with portal_client(stack) as client:
        resp = await client.get("/mijn/inzage")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/mijn/inloggen"


# --- 7. Toestemmingen ------------------------------------------------------------------------------

WMO = GEMEENTE + "wmo-aanvraag"
FINANCIEEL = "dossier.financieel"  # consent-bound under wmo-aanvraag, served by the tax and fines sources


def _status(klantbeeld: dict[str, object], category: str) -> set[str]:
    sections = klantbeeld["secties"]
    assert isinstance(sections, list)
    return {s["status"] for s in sections if s["categorie"] == category}


async def _consent_ids(page: str, status: str = "actief") -> list[str]:
    return re.findall(rf'data-toestemming="([0-9a-f-]+)" data-status="{status}"', page)


async def test_withdrawal_in_the_portal_takes_effect_at_the_agents_next_read(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        given = await bram.post(
            "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": [FINANCIEEL]}
        )
        assert given.status_code == 201, given.text
        before = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert "niet-toegestaan" not in _status(before, FINANCIEEL)
        async with portal_client(stack) as client:
            await login(client, bsn=BSN)
            page = await client.get("/mijn/toestemmingen")
            assert page.status_code == 200
            assert await _consent_ids(page.text) == [given.json()["id"]]
            assert "Wmo-aanvraag" in page.text
            assert "Belastingen, boetes en betalingen" in page.text
            assert "Geen einddatum" in page.text
            # without the CSRF token nothing happens
            refused = await client.post(f"/mijn/toestemmingen/{given.json()['id']}/intrekken", data={})
            assert refused.status_code == 403
            assert "niet-toegestaan" not in _status(
                (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), FINANCIEEL
            )
            done = await client.post(
                f"/mijn/toestemmingen/{given.json()['id']}/intrekken", data={"csrf_token": csrf(page)}
            )
            assert done.status_code == 303
            after_page = await client.get(done.headers["location"])
        after = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert _status(after, FINANCIEEL) == {"niet-toegestaan"}
    (section,) = [s for s in after["secties"] if s["categorie"] == FINANCIEEL]
    assert section["reden"] == "CONSENT_REQUIRED"
    assert "Uw toestemming is ingetrokken" in after_page.text
    assert await _consent_ids(after_page.text) == []
    assert await _consent_ids(after_page.text, "ingetrokken") == [given.json()["id"]]
    async with stack.app.state.services.database.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AccessRecord.actor_role, AccessRecord.channel, AccessRecord.processing_activity_id)
                .join(
                    LdvRecord,
                    (LdvRecord.trace_id == AccessRecord.trace_id)
                    & (LdvRecord.span_id == AccessRecord.span_id),
                )
                .where(LdvRecord.name == "toestemming ingetrokken")
            )
        ).all()
    assert [tuple(r) for r in rows] == [("burger", "mijn-omgeving", WMO)]


async def test_consent_given_in_the_portal_opens_the_section_for_the_agent(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/toestemmingen")
        assert "Toestemming geven: Wmo-aanvraag" in page.text
        # a category the register does not bind to consent, or no source serves, cannot be chosen
        assert 'value="klant.werk-en-inkomen"' not in page.text
        form = {
            "csrf_token": csrf(page),
            "organisatie": GEMEENTE_OIN,
            "doel": WMO,
            "categorie": FINANCIEEL,
            "geldig_tot": str(date.today() + timedelta(days=30)),
        }
        done = await client.post("/mijn/toestemmingen", data=form)
        assert done.status_code == 303, done.text
        listed = await client.get(done.headers["location"])
    (consent_id,) = await _consent_ids(listed.text)
    assert "Uw toestemming is vastgelegd" in listed.text
    assert (date.today() + timedelta(days=31)).strftime("%d-%m-%Y") in listed.text  # the end of that day
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        body = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        shown = await bram.get(f"/api/v1/contacten/{contact}/toestemmingen")
    assert "niet-toegestaan" not in _status(body, FINANCIEEL)
    assert [c["id"] for c in shown.json()] == [consent_id]
    assert shown.json()[0]["kanaal"] == "mijn-omgeving"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"categorie": "klant.werk-en-inkomen"}, "categorieen", "Gegevens:"),
        ({"categorie": "klant.basis"}, "categorieen", "vraagt bij dit doel geen toestemming"),
        ({"categorie": None}, "categorieen", "kies de gegevens"),
        ({"geldig_tot": "31-02-2026"}, "geldig_tot", "Geldig tot en met: dit is geen geldige datum"),
        ({"geldig_tot": "2020-01-01"}, "geldig_tot", "al voorbij"),
        ({"organisatie": "00000001000000000000"}, "organisatie", "Organisatie: kies een organisatie"),
        ({"doel": WATERSCHAPSBELASTING}, "verwerkingsactiviteit", "Doel:"),
        (
            {"doel": "https://example.org/onbekend"},
            "verwerkingsactiviteit",
            "onbekende verwerkingsactiviteit",
        ),
    ],
)
async def test_bad_consent_forms_are_named_in_dutch(
    stack: Stack, change: dict[str, str | None], field: str, words: str
) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/toestemmingen")
        form = {"csrf_token": csrf(page), "organisatie": GEMEENTE_OIN, "doel": WMO, "categorie": FINANCIEEL}
        form.update({k: v for k, v in change.items() if v is not None})
        for k in [k for k, v in change.items() if v is None]:
            del form[k]
        resp = await client.post("/mijn/toestemmingen", data=form)
        listed = await client.get("/mijn/toestemmingen")
    assert resp.status_code in (400, 403), resp.text
    assert f'data-fout="{field}"' in resp.text
    assert words in resp.text
    assert await _consent_ids(listed.text) == []


async def test_another_customer_can_neither_see_nor_withdraw_the_consent(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        given = await bram.post(
            "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": [FINANCIEEL]}
        )
        assert given.status_code == 201
    consent_id = given.json()["id"]
    async with portal_client(stack) as other:
        await login(other, bsn=OTHER_BSN)
        page = await other.get("/mijn/toestemmingen", params={"bsn": BSN})
        assert consent_id not in page.text
        resp = await other.post(
            f"/mijn/toestemmingen/{consent_id}/intrekken", data={"csrf_token": csrf(page)}
        )
        assert resp.status_code == 404
        assert "deze toestemming hebben wij niet van u" in resp.text
        junk = await other.post("/mijn/toestemmingen/not-a-uuid/intrekken", data={"csrf_token": csrf(page)})
        assert junk.status_code == 404
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert await _consent_ids((await client.get("/mijn/toestemmingen")).text) == [consent_id]


async def test_a_staff_session_cannot_post_to_the_portal(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        resp = await wim.post("/mijn/toestemmingen", data={"doel": WMO, "categorie": FINANCIEEL})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/mijn/inloggen"


# --- 10. Bezwaar -----------------------------------------------------------------------------------

PROACTIEF = GEMEENTE + "proactief-kwijtschelding"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"


def _proactive_config(target: Path) -> Path:
    """config/ with one proactive purpose of the municipality (the demo register has none yet)."""
    shutil.copytree(PROJECT_ROOT / "config", target, dirs_exist_ok=True)
    register = yaml.safe_load((target / "register.yaml").read_text())
    register["verwerkingsactiviteiten"].append(
        {
            "id": PROACTIEF,
            "naam": "Signaal kwijtschelding gemeentelijke belastingen",
            "omschrijving": "De gemeente kijkt zelf of u recht heeft op kwijtschelding en laat het u weten.",
            "organisatie": {"naam": "Gemeente Voorbeeldstad", "oin": GEMEENTE_OIN},
            "grondslag": {"avg": "art. 6 lid 1 sub e AVG", "wet": "art. 255 Gemeentewet"},
            "categorieen": {"klant.basis": {"bronnen": ["brp"]}, "dossier.financieel": {}},
            "rollen": ["kcm", "behandelaar"],
            "minimaleZekerheid": "controlevragen",
            "bewaartermijn": "P1Y",
            "proactief": True,
        }
    )
    (target / "register.yaml").write_text(yaml.safe_dump(register, allow_unicode=True, sort_keys=False))
    return target


@pytest.fixture
async def proactive_stack(
    database_url: str, simulators: dict[str, str], tmp_path: Path
) -> AsyncIterator[Stack]:
    config = _proactive_config(tmp_path / "config")
    async with running_stack(
        database_url, simulators, config_dir=config, source_deadline_seconds=2.0
    ) as running:
        yield running


async def _read(client: httpx.AsyncClient, contact: str) -> dict[str, object]:
    resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


async def test_an_objection_to_the_proactive_purposes_denies_reads_at_once_for_that_customer(
    proactive_stack: Stack,
) -> None:
    stack = proactive_stack
    async with await stack.as_user("kcm-anna") as anna:
        mine = await open_contact(anna, PROACTIEF, bsn=BSN)
        other = await open_contact(anna, PROACTIEF, bsn=OTHER_BSN)
        general = await open_contact(anna, ALGEMEEN, bsn=BSN)
        assert _status(await _read(anna, mine), "klant.basis") == {"ok"}
        async with portal_client(stack) as client:
            await login(client, bsn=BSN)
            page = await client.get("/mijn/bezwaar")
            assert "Alle proactieve diensten van Gemeente Voorbeeldstad" in page.text
            assert (
                "Mijn omgeving"
                not in re.sub(r"<(header|nav)[^>]*>.*?</\1>", "", page.text, flags=re.S).split(
                    "Nieuw bezwaar"
                )[1]
            )  # the own view is no purpose to object to
            # without the CSRF token nothing happens
            assert (
                await client.post(
                    "/mijn/bezwaar", data={"organisatie": GEMEENTE_OIN, "doel": "alle-proactieve"}
                )
            ).status_code == 403
            assert _status(await _read(anna, mine), "klant.basis") == {"ok"}
            done = await client.post(
                "/mijn/bezwaar",
                data={"csrf_token": csrf(page), "organisatie": GEMEENTE_OIN, "doel": "alle-proactieve"},
            )
            assert done.status_code == 303, done.text
            listed = await client.get(done.headers["location"])
        # the agent's very next read under the proactive purpose shows nothing of this customer
        denied = await _read(anna, mine)
        still = await _read(anna, other)
        unrelated = await _read(anna, general)
    sections = denied["secties"]
    assert isinstance(sections, list)
    assert {s["status"] for s in sections} == {"niet-toegestaan"}
    assert all("OBJECTION" in s["redenen"] for s in sections)
    (basis,) = [s for s in sections if s["categorie"] == "klant.basis"]
    assert basis["reden"] == "OBJECTION"
    assert "bezwaar" in basis["toelichting"]
    assert _status(still, "klant.basis") == {"ok"}  # another customer: unaffected
    assert _status(unrelated, "klant.basis") == {"ok"}  # another purpose: unaffected
    assert "Uw bezwaar is vastgelegd en werkt meteen" in listed.text
    assert 'data-bezwaar data-status="van-kracht"' in listed.text
    assert "Signaal kwijtschelding gemeentelijke belastingen" in listed.text


async def test_an_objection_to_another_purpose_waits_for_the_privacy_officer(proactive_stack: Stack) -> None:
    stack = proactive_stack
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/bezwaar")
        form = {
            "csrf_token": csrf(page),
            "organisatie": GEMEENTE_OIN,
            "doel": ALGEMEEN,
            "toelichting": "Ik wil niet dat mijn contacten bewaard worden.",
        }
        done = await client.post("/mijn/bezwaar", data=form)
        assert done.status_code == 303
        again = await client.post("/mijn/bezwaar", data=form)  # twice: still one objection
        assert again.status_code == 303
        listed = await client.get("/mijn/bezwaar")
    assert listed.text.count('data-bezwaar data-status="in-behandeling"') == 1
    assert "In behandeling bij de privacyfunctionaris" in listed.text
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, bsn=BSN)
        assert _status(await _read(anna, contact), "klant.basis") == {"ok"}  # not in force yet
    objections = stack.app.state.services.objections
    (pending,) = await objections.pending(GEMEENTE_OIN)
    assert pending.processing_activity_id == ALGEMEEN
    assert pending.explanation == "Ik wil niet dat mijn contacten bewaard worden."
    assert await objections.pending(WATERSCHAP_OIN) == []
    # making it is a processing of the customer's data, logged under the purpose objected to
    async with stack.app.state.services.database.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AccessRecord.actor_role, AccessRecord.processing_activity_id)
                .join(
                    LdvRecord,
                    (LdvRecord.trace_id == AccessRecord.trace_id)
                    & (LdvRecord.span_id == AccessRecord.span_id),
                )
                .where(LdvRecord.name == "bezwaar gemaakt")
            )
        ).all()
    assert [tuple(r) for r in rows] == [("burger", ALGEMEEN)]


@pytest.fixture(params=DB_BACKENDS)
async def proactive_stack_each_db(
    request: pytest.FixtureRequest, simulators: dict[str, str], tmp_path: Path
) -> AsyncIterator[Stack]:
    """The proactive stack on every backend: the duplicate check below is the database's own (a
    partial unique index), and SQLite and PostgreSQL each enforce it themselves."""
    database_url = await fresh_database_url(request.param, tmp_path)
    config = _proactive_config(tmp_path / "config")
    async with running_stack(
        database_url, simulators, config_dir=config, source_deadline_seconds=2.0
    ) as running:
        yield running


@pytest.mark.parametrize("doel", [PROACTIEF, ALGEMEEN])
async def test_the_same_objection_sent_at_the_same_moment_is_one_objection(
    proactive_stack_each_db: Stack, doel: str
) -> None:
    """A double click, or the form sent from two tabs: both answers say it is recorded, one row."""
    stack = proactive_stack_each_db
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/bezwaar")
        form = {"csrf_token": csrf(page), "organisatie": GEMEENTE_OIN, "doel": doel}
        answers = await asyncio.gather(*(client.post("/mijn/bezwaar", data=form) for _ in range(6)))
        listed = await client.get("/mijn/bezwaar")
    assert [a.status_code for a in answers] == [303] * 6, [a.text[:300] for a in answers]
    status = "van-kracht" if doel == PROACTIEF else "in-behandeling"
    assert listed.text.count(f'data-bezwaar data-status="{status}"') == 1
    async with stack.app.state.services.database.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(ObjectionRow).where(ObjectionRow.processing_activity_id == doel)
        )
    assert count == 1


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"organisatie": GEMEENTE_OIN}, "doel", "Doel: kies het doel"),
        (
            {"organisatie": GEMEENTE_OIN, "doel": GEMEENTE + "mijn-omgeving"},
            "doel",
            "Doel: kies een doel uit de lijst",
        ),
        (
            {"organisatie": GEMEENTE_OIN, "doel": WATERSCHAPSBELASTING},
            "doel",
            "Doel: kies een doel uit de lijst",
        ),
        ({"organisatie": WATERSCHAP_OIN, "doel": "alle-proactieve"}, "doel", "geen proactieve diensten"),
        ({"organisatie": "00000001000000000000", "doel": ALGEMEEN}, "organisatie", "Organisatie: kies"),
        (
            {"organisatie": GEMEENTE_OIN, "doel": ALGEMEEN, "toelichting": "x" * 2001},
            "toelichting",
            "2000 tekens",
        ),
    ],
)
async def test_bad_objections_are_named_in_dutch(
    proactive_stack: Stack, form: dict[str, str], field: str, words: str
) -> None:
    async with portal_client(proactive_stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/bezwaar")
        resp = await client.post("/mijn/bezwaar", data={"csrf_token": csrf(page), **form})
    assert resp.status_code == 400, resp.text
    assert f'data-fout="{field}"' in resp.text
    assert words in resp.text
    assert "data-bezwaar " not in resp.text


async def test_another_customer_sees_none_of_the_objections(proactive_stack: Stack) -> None:
    async with portal_client(proactive_stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/bezwaar")
        done = await client.post(
            "/mijn/bezwaar", data={"csrf_token": csrf(page), "organisatie": GEMEENTE_OIN, "doel": PROACTIEF}
        )
        assert done.status_code == 303
    async with portal_client(proactive_stack) as other:
        await login(other, bsn=OTHER_BSN)
        page = await other.get("/mijn/bezwaar", params={"bsn": BSN})
    assert "data-bezwaar " not in page.text
    assert "geen bezwaar gemaakt" in page.text


# --- in a browser: the three pages on a phone, keyboard and axe ----------------------------------------


async def test_the_three_pages_on_a_phone_pass_axe(browser: Browser, proactive_stack: Stack) -> None:
    stack = proactive_stack
    await _agent_reads(stack)
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        given = await bram.post(
            "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": [FINANCIEEL]}
        )
        assert given.status_code == 201, given.text
    c = await new_console(browser, stack, viewport={"width": 375, "height": 667})
    page = c.page
    await page.goto("/mijn/inloggen/digid")
    await page.get_by_label("Test-BSN").fill(BSN)
    await page.get_by_role("button", name="Inloggen (test)").click()
    await page.wait_for_url(re.compile(r"/mijn$"))

    await nav_click(c, "Wie heeft mijn gegevens bekeken")
    await expect(page.get_by_role("heading", name="Wie heeft mijn gegevens bekeken")).to_be_visible()
    await expect(page.locator("[data-inzage]").filter(has_text="Waterschapsbelasting")).to_contain_text(
        "een medewerker van het klantcontactcentrum"
    )
    await c.axe("mijn inzage")
    await c.shot("mijn-inzage-375")
    await page.get_by_label("Organisatie").select_option(label="Waterschap De Voorbeeldwaarden")
    await page.get_by_role("button", name="Toon").click()
    await expect(page.locator("[data-inzage]").first).to_contain_text("Waterschap De Voorbeeldwaarden")
    await page.goto("/mijn/inzage?vanaf=morgen")
    await expect(page.locator("[data-fout=vanaf]")).to_contain_text("Vanaf")
    await c.axe("mijn inzage fout")

    await nav_click(c, "Toestemmingen")
    await expect(page.locator('[data-status="actief"]')).to_contain_text("Wmo-aanvraag")
    await c.axe("mijn toestemmingen")
    await c.shot("mijn-toestemmingen-375")
    await page.get_by_role("button", name="Intrekken voor Wmo-aanvraag").click()
    await expect(page.locator("[data-melding]")).to_contain_text("ingetrokken")
    await c.axe("mijn toestemmingen ingetrokken")

    await nav_click(c, "Bezwaar")
    await page.get_by_label("Alle proactieve diensten van Gemeente Voorbeeldstad").check()
    await page.get_by_role("button", name="Bezwaar maken").first.click()
    await expect(page.locator("[data-melding]")).to_contain_text("werkt meteen")
    await expect(page.locator('[data-bezwaar][data-status="van-kracht"]')).to_contain_text(
        "Signaal kwijtschelding"
    )
    await c.axe("mijn bezwaar")
    await c.shot("mijn-bezwaar-375")
    # keyboard only: the skip link leads to the content
    await page.keyboard.press("Tab")
    await expect(page.locator(".dgkb-skip")).to_be_focused()
    c.assert_clean()
    await c.context.close()
