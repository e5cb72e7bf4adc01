"""Mijn omgeving, the customer's privacy parts (issue 14, parts 7, 8 and 10): who looked at my data
(without the employee), my consents (give and withdraw, effective at the next read by anyone) and
objections to a purpose (a proactive one denied at once, for that customer only). Over HTTP against
the whole stack; the subject only ever comes from the login."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role
from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact
from tests.web.mijn_helpers import BSN, OTHER_BSN, login, portal_client

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
    # the customer's own login and reads are theirs, shown as such
    assert "uzelf, in Mijn omgeving" in page.text


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
