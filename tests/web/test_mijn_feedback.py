"""Feedback en klachten in Mijn omgeving (issue 14, part 12): a rating (1–5 and NPS 0–10) linked to
the customer's own contact or closed zaak, never someone else's; a complaint whose status the
customer follows; bad input gets a Dutch message naming the field (400, never 500)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import select

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.store.tables import FeedbackItemRow, RatingRow
from tests.api.conftest import Stack, running_stack
from tests.web.mijn_helpers import BSN, csrf, login, portal_client


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """The choices of the forms come from the customer's own klantbeeld: a source slowed by a loaded
    machine (browser tests on the other worker) must not empty them. Sources get 5 s here; no test
    in this module is about a deadline."""
    async with running_stack(database_url, simulators, source_deadline_seconds=5.0) as running:
        yield running


pytestmark = pytest.mark.xdist_group("mijn-h4export")

STRANGER = "999845147"  # no family ties to BSN
WATERSCHAP_OIN = "00000001009876543000"


def _choices(page: str) -> list[str]:
    select_ = re.search(r'<select[^>]*name="over"[^>]*>(.*?)</select>', page, re.S)
    assert select_, "geen keuzelijst 'waarover'"
    return [v for v in re.findall(r'<option value="([^"]*)"', select_.group(1)) if v]


async def _rows(stack: Stack, bsn: str, table: Any) -> list[Any]:
    services = stack.app.state.services
    keys = [p.value for p in services.pseudonymizer.all_pseudonyms(Subject(SubjectKind.BSN, bsn))]
    async with services.database.read() as session:
        return list(await session.scalars(select(table).where(table.subject_key.in_(keys))))


async def _page(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/mijn/feedback")
    assert page.status_code == 200, page.text
    return page


async def test_rating_of_own_contact_and_closed_zaak_is_stored_and_linked(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        choices = _choices(page.text)
        contact = next(c for c in choices if "|klantcontact|" in c)
        resp = await client.post(
            "/mijn/feedback/beoordeling",
            data={
                "csrf_token": csrf(page),
                "over": contact,
                "waardering": "4",
                "score": "9",
                "toelichting": "Snel geholpen.",
            },
        )
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == "/mijn/feedback?verstuurd=beoordeling"
        done = await client.get(resp.headers["location"])
        assert 'data-verstuurd="beoordeling"' in done.text
        zaak = next((c for c in choices if "|zaak|" in c), None)
        if zaak is not None:  # a closed zaak, when the customer has one
            resp = await client.post(
                "/mijn/feedback/beoordeling",
                data={"csrf_token": csrf(page), "over": zaak, "waardering": "2", "score": "3"},
            )
            assert resp.status_code == 303, resp.text
    ratings = await _rows(stack, BSN, RatingRow)
    first = next(r for r in ratings if r.gekoppeld_soort == "klantcontact")
    assert (first.waardering, first.score, first.toelichting) == (4, 9, "Snel geholpen.")
    assert first.gekoppeld_aan == contact.split("|")[2]
    assert first.kanaal == "mijn-omgeving"
    assert first.organisation == contact.split("|")[0]
    if zaak is not None:
        assert any(r.gekoppeld_soort == "zaak" and r.gekoppeld_aan == zaak.split("|")[2] for r in ratings)


async def test_another_customers_contact_cannot_be_rated(stack: Stack) -> None:
    async with portal_client(stack) as stranger:
        await login(stranger, bsn=STRANGER)
        theirs = _choices((await _page(stranger)).text)
    assert theirs, "de andere klant heeft geen contacten of zaken"
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        mine = set(_choices(page.text))
        crafted = [
            *[c for c in theirs if c not in mine][:2],
            "00000001001234567000|klantcontact|9999999999",
            "00000001001234567000|zaak|ZAAK-1900-0000001",
            WATERSCHAP_OIN + "|klantcontact|0000000001",
        ]
        for value in crafted:
            resp = await client.post(
                "/mijn/feedback/beoordeling",
                data={"csrf_token": csrf(page), "over": value, "waardering": "1", "score": "0"},
            )
            assert resp.status_code == 400, value
            assert "Waarover gaat uw mening: kies een contact of zaak uit de lijst." in resp.text
    assert await _rows(stack, BSN, RatingRow) == []


@pytest.mark.parametrize(
    ("field", "fields", "message"),
    [
        ("waardering", {"waardering": "6"}, "Waardering: kies 1 tot en met 5 sterren."),
        ("waardering", {"waardering": "0"}, "Waardering: kies 1 tot en met 5 sterren."),
        ("waardering", {"waardering": ""}, "Waardering: kies 1 tot en met 5 sterren."),
        ("score", {"score": "11"}, "Aanbevelen: kies een cijfer van 0 tot en met 10."),
        ("score", {"score": "-1"}, "Aanbevelen: kies een cijfer van 0 tot en met 10."),
        ("score", {"score": "negen"}, "Aanbevelen: kies een cijfer van 0 tot en met 10."),
        ("toelichting", {"toelichting": "x" * 1001}, "Toelichting: gebruik hoogstens 1000 tekens."),
        ("over", {"over": ""}, "Waarover gaat uw mening: kies een contact of een zaak."),
    ],
)
async def test_rating_validation_names_the_field(
    stack: Stack, field: str, fields: dict[str, str], message: str
) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        form = {"csrf_token": csrf(page), "over": _choices(page.text)[0], "waardering": "3", "score": "7"}
        resp = await client.post("/mijn/feedback/beoordeling", data={**form, **fields})
        assert resp.status_code == 400
        assert message in resp.text
        assert f'id="{field}-fout"' in resp.text or field == "over"
        assert 'aria-invalid="true"' in resp.text
    assert await _rows(stack, BSN, RatingRow) == []


async def test_posts_need_the_session_and_its_csrf_token(stack: Stack) -> None:
    async with portal_client(stack) as client:
        for path in ("/mijn/feedback",):
            resp = await client.get(path)
            assert resp.status_code == 303
            assert resp.headers["location"] == "/mijn/inloggen"
        resp = await client.post("/mijn/feedback/klacht", data={"onderwerp": "x", "omschrijving": "y"})
        assert resp.status_code == 303
        await login(client, bsn=BSN)
        page = await _page(client)
        no_token = await client.post(
            "/mijn/feedback/beoordeling",
            data={"over": _choices(page.text)[0], "waardering": "3", "score": "7"},
        )
        assert no_token.status_code in (400, 403)
    assert await _rows(stack, BSN, RatingRow) == []


async def test_complaint_is_filed_and_its_status_followed(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        assert "U heeft geen klachten ingediend." in page.text
        resp = await client.post(
            "/mijn/feedback/klacht",
            data={
                "csrf_token": csrf(page),
                "organisatie": "00000001001234567000",
                "onderwerp": "Lang wachten aan de balie",
                "omschrijving": "Ik heb een uur gewacht zonder uitleg.",
                "antwoord": "brief",
            },
        )
        assert resp.status_code == 303, resp.text
        page = await client.get("/mijn/feedback?verstuurd=klacht")
        assert 'data-verstuurd="klacht"' in page.text
        assert "Lang wachten aan de balie" in page.text
        assert 'data-status="ontvangen"' in page.text
        assert "u hoort uiterlijk" in page.text
    [item] = await _rows(stack, BSN, FeedbackItemRow)
    assert (item.soort, item.kanaal, item.voorkeurskanaal) == ("klacht", "mijn-omgeving", "brief")
    # the complaint handler takes it on; the customer sees the new status
    async with await stack.as_user("klachten-karin") as handler:
        moved = await handler.post(
            f"/api/v1/klachten/{item.id}/statussen",
            json={"status": "in-behandeling", "toelichting": "Opgepakt door klachtencoördinator"},
        )
        assert moved.status_code == 200, moved.text
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        assert f'data-klacht="{item.nummer}" data-status="in-behandeling"' in page.text
        assert "In behandeling" in page.text
        assert "Opgepakt door klachtencoördinator" not in page.text  # the handler's note is internal


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"onderwerp": ""}, "Onderwerp: schrijf kort waarover uw klacht gaat."),
        ({"onderwerp": "x" * 201}, "Onderwerp: gebruik hoogstens 200 tekens."),
        ({"omschrijving": "   "}, "Uw klacht: vertel wat er is gebeurd."),
        ({"omschrijving": "x" * 10_001}, "Uw klacht: gebruik hoogstens 10000 tekens."),
        ({"antwoord": "sms"}, "Antwoord: kies e-mail of brief."),
        # the waterschap's own view has no complaints here; a crafted organisation is refused
        ({"organisatie": WATERSCHAP_OIN}, "Organisatie: kies de organisatie waarover u een klacht heeft."),
        ({"organisatie": "99999999999999999999"}, "Organisatie: kies de organisatie"),
    ],
)
async def test_complaint_validation_names_the_field(
    stack: Stack, fields: dict[str, str], message: str
) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await _page(client)
        form = {
            "csrf_token": csrf(page),
            "organisatie": "00000001001234567000",
            "onderwerp": "Onderwerp",
            "omschrijving": "Omschrijving",
        }
        resp = await client.post("/mijn/feedback/klacht", data={**form, **fields})
        assert resp.status_code == 400
        assert message in resp.text
    assert await _rows(stack, BSN, FeedbackItemRow) == []


async def test_from_a_contact_or_a_closed_zaak_straight_to_the_rating(stack: Stack) -> None:
    """Mijn contactmomenten and a closed zaak's page link to the form with that contact or zaak
    chosen; a crafted `over` of someone else is simply not chosen."""
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        contacten = await client.get("/mijn/contactmomenten")
        links = [
            html.unescape(h)
            for h in re.findall(r'href="(/mijn/feedback\?over=[^"]+)" data-feedback', contacten.text)
        ]
        assert links, "geen link 'Geef uw mening over dit contact'"
        page = await client.get(links[0])
        assert page.status_code == 200
        over = dict(parse_qsl(urlsplit(links[0]).query))["over"]
        assert "|klantcontact|" in over
        assert f'<option value="{over}" selected>' in page.text
        zaak = next(c for c in _choices(page.text) if "|zaak|" in c)
        zaak_page = await client.get(f"/mijn/zaken/{zaak.split('|')[2]}")
        assert zaak_page.status_code == 200
        link = re.search(r'href="(/mijn/feedback\?over=[^"]+)" data-feedback', zaak_page.text)
        assert link, "geen link 'Geef uw mening over de afhandeling' bij een afgesloten zaak"
        assert dict(parse_qsl(urlsplit(html.unescape(link.group(1))).query))["over"] == zaak
        crafted = await client.get(
            "/mijn/feedback", params={"over": "00000001001234567000|zaak|ZAAK-1900-0000001"}
        )
        assert crafted.status_code == 200
        assert " selected>" not in crafted.text.split('name="over"')[1].split("</select>")[0]
