"""Meten en leren over the whole stack (issue 15 §4): what a registration, a rating and a complaint
leave behind in DGKB's own store, who may see the dashboard, and that nothing personal reaches it.

Each rule is tried the way it could break: the teamleider's token against every door to a customer,
the other roles against the dashboard, every page, chart and CSV searched for the BSN, the names, the
employee and the pseudonyms of the customers whose contacts are in it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from dgkb.audit.query import search_ldv
from dgkb.dashboard.service import CHART_NAMES, TABLE_IDS
from dgkb.domain.identifiers import Subject
from dgkb.domain.periods import Grain, latest_closed, month_of, today_local, week_of
from dgkb.store.audit_tables import AccessRecord, LdvRecord
from dgkb.store.meten import ContactEventRow, FeedbackEventRow, MetenStateRow, RollupRow
from tests.api.conftest import GEMEENTE, Stack, open_contact
from tests.dashboard.conftest import GEMEENTE_OIN, console, fill, staff_login

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
KLACHT = GEMEENTE + "klachtbehandeling"
METEN = GEMEENTE + "dgkb-meten-en-leren"
BSN = "999993653"
OTHER_BSN = "999990639"
VRAGEN: list[dict[str, Any]] = [
    {
        "onderwerp": "afval",
        "vraag": "Wanneer wordt het grofvuil opgehaald bij Jansen?",
        "antwoord": "Op dinsdag.",
        "uitkomst": "afgehandeld",
        "beantwoord": True,
    },
    {
        "onderwerp": "belastingen",
        "vraag": "Hoe zit het met mijn WW-uitkering?",
        "antwoord": "Daarvoor is het UWV.",
        "uitkomst": "doorverwezen",
        "doorverwezenNaar": "UWV",
        "beantwoord": False,
    },
    {
        "onderwerp": "algemeen",
        "vraag": "Kan de buurman mij helpen?",
        "antwoord": "Verwezen.",
        "uitkomst": "doorverwezen",
        "doorverwezenNaar": "Buurman Pietersen",
    },
]


async def _register(stack: Stack, bsn: str = BSN, vragen: list[dict[str, Any]] | None = None) -> str:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, bsn=bsn)
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/contactmomenten", json={"vragen": vragen or VRAGEN}
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["allesOpgeslagen"], resp.text
    return contact


async def _rows(stack: Stack, table: Any) -> list[Any]:
    async with stack.app.state.services.database.read() as session:
        return list(await session.scalars(select(table).order_by(table.id)))


def _texts(row: Any) -> list[str]:
    return [str(v) for k, v in vars(row).items() if not k.startswith("_") and v is not None]


# --- what is recorded ------------------------------------------------------------------------------------


async def test_a_registration_records_one_pseudonymised_event_per_saved_question(stack: Stack) -> None:
    await _register(stack)
    services = stack.app.state.services
    events = await _rows(stack, ContactEventRow)
    assert [(e.onderwerp, e.uitkomst, e.beantwoord, e.doorverwezen_naar) for e in events] == [
        ("afval", "afgehandeld", True, None),
        ("belastingen", "doorverwezen", False, "UWV"),
        ("algemeen", "doorverwezen", None, "anders"),  # a name typed as referral is not kept
    ]
    first = events[0]
    assert first.organisation == GEMEENTE_OIN
    assert first.kanaal == "telefoon"
    assert first.team == "Klantcontactcentrum"  # Anna's unit, never Anna
    assert first.duur_seconden is not None
    assert [e.duur_seconden for e in events[1:]] == [None, None]
    assert first.occurred_at.minute == 0
    assert first.occurred_at.second == 0
    assert first.dag == today_local()
    assert first.week == week_of(first.dag)
    assert first.maand == month_of(first.dag)
    assert {e.klant for e in events} == {first.klant}
    assert first.key_id.endswith("-meten")
    # the pseudonym is under a key of its own: not the access log's, not found in it
    subject = Subject.person(BSN)
    assert first.klant not in {p.value for p in services.pseudonymizer.all_pseudonyms(subject)}
    access = await _rows(stack, AccessRecord)
    assert first.klant not in {a.data_subject_id for a in access}
    for event in events:
        for text in _texts(event):
            assert BSN not in text
            assert "kcm-anna" not in text
            assert "Anna" not in text
            assert "Jansen" not in text
            assert "Pietersen" not in text
            assert "grofvuil" not in text
    # recording is DGKB's own processing of this customer under meten en leren, in the customer's log
    ldv = (await search_ldv(services.database, services.pseudonymizer, subject=subject, limit=100)).items
    recorded = [e for e in ldv if e.processing_activity_id == METEN]
    assert [e.name for e in recorded] == ["contactgebeurtenis vastleggen (meten en leren)"]
    actor = {a.actor_id for a in access if a.processing_activity_id == METEN}
    assert actor == {"dgkb-meten-en-leren"}


async def test_a_repeat_contact_is_the_third_about_the_same_onderwerp_within_the_window(stack: Stack) -> None:
    vraag = [{"onderwerp": "parkeren", "vraag": "Vergunning?", "antwoord": "Ja.", "uitkomst": "afgehandeld"}]
    for _ in range(3):
        await _register(stack, vragen=vraag)
    await _register(stack, bsn=OTHER_BSN, vragen=vraag)  # another customer: not a repeat
    events = await _rows(stack, ContactEventRow)
    assert [e.herhaald for e in events] == [False, False, True, False]


async def test_ratings_complaints_and_reports_become_events_with_a_configured_subject_only(
    stack: Stack,
) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, KLACHT)
        klacht = await anna.post(
            "/api/v1/klachten",
            json={
                "contactId": contact,
                "onderwerp": "Klacht over Afval en containers van Jansen",
                "omschrijving": "x",
            },
        )
        assert klacht.status_code == 201, klacht.text
        melding = await anna.post(
            "/api/v1/meldingen",
            json={
                "contactId": contact,
                "onderwerp": "Stoeptegel voor nummer 12",
                "omschrijving": "y",
                "locatie": "Hoofdstraat 12",
            },
        )
        assert melding.status_code == 201
        rating = await anna.post("/api/v1/beoordelingen", json={"contactId": contact, "score": 9})
        assert rating.status_code == 201
    async with await stack.as_user("klachten-karin") as karin:
        done = await karin.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen",
            json={"status": "afgehandeld", "toelichting": "Excuses", "uitkomst": "Excuses."},
        )
        assert done.status_code == 200, done.text
    events = await _rows(stack, FeedbackEventRow)
    assert [(e.soort, e.fase, e.onderwerp, e.kanaal) for e in events] == [
        ("klacht", "ingediend", "afval", "telefoon"),
        ("melding", "ingediend", "overig", "telefoon"),
        ("oordeel", "gegeven", "overig", "telefoon"),
        ("klacht", "afgehandeld", "afval", "telefoon"),
    ]
    assert events[2].score == 9
    assert events[3].doorlooptijd_dagen is not None
    assert events[3].doorlooptijd_dagen >= 0
    for event in events:
        assert not any("Jansen" in t or "Hoofdstraat" in t or "nummer 12" in t for t in _texts(event))


async def test_an_aggregation_run_is_one_logged_processing_per_organisation_naming_nobody(
    stack: Stack,
) -> None:
    report = await fill(stack, days=30)
    assert report.blocks >= 1
    assert report.organisations == (GEMEENTE_OIN,)
    services = stack.app.state.services

    async def runs() -> list[Any]:
        return [r for r in await _rows(stack, LdvRecord) if r.processing_activity_id == METEN]

    logged = await runs()
    assert len(logged) == 1
    assert logged[0].data_subject_id == "-"
    assert logged[0].data_subject_id_type == "geen"
    assert logged[0].name == "gebeurtenissen optellen voor het dashboard (meten en leren)"
    again = await services.dashboard.aggregate()  # nothing new: nothing recomputed, nothing logged
    assert again.blocks == 0
    assert len(await runs()) == 1
    async with services.database.read() as session:
        shown = await session.scalar(
            select(func.count()).select_from(RollupRow).where(RollupRow.gepubliceerd.is_(True))
        )
        hidden = await session.scalar(
            select(func.count()).select_from(RollupRow).where(RollupRow.gepubliceerd.is_(False))
        )
    assert shown, "made-up weeks have figures to show"
    assert hidden, "… and quiet weekend cells to suppress"


# --- who may see what ------------------------------------------------------------------------------------


async def test_the_teamleider_cannot_open_a_contact_a_klantbeeld_or_the_access_log(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
    async with await stack.as_user("teamleider-tim") as tim:
        own = await tim.post("/api/v1/contacten", json={"kanaal": "telefoon"})
        assert own.status_code == 403, own.text
        assert own.json()["reden"] == "ROLE_NOT_ALLOWED"
        with_purpose = await tim.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
        )
        assert with_purpose.status_code == 403
        view = await tim.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert view.status_code in (403, 404), view.text
        assert "secties" not in view.json()
        log = await tim.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": BSN})
        assert log.status_code == 403
        # the PDP itself: no purpose names the role, so every category is denied
        decision = await tim.post(
            "/access/v1/evaluation",
            json={
                "subject": {"type": "user", "id": "teamleider-tim", "properties": {"role": "teamleider"}},
                "resource": {"type": "category", "id": "contact.historie"},
                "action": {"name": "read"},
                "context": {"purpose": ALGEMEEN, "assurance": "controlevragen"},
            },
        )
        assert decision.status_code == 200, decision.text
        assert decision.json()["decision"] is False
    async with console(stack) as browser:
        await staff_login(browser, "teamleider-tim")
        home = await browser.get("/")
        assert home.status_code == 303
        assert home.headers["location"] == "/dashboard"
        for page in ("/privacy", f"/contacten/{contact}", "/zaken", "/beheer"):
            resp = await browser.get(page)
            assert resp.status_code in (400, 403, 404), (page, resp.status_code)
            assert BSN not in resp.text
        searched = await browser.post("/privacy/zoeken", data={"klant": BSN})
        assert searched.status_code == 403


@pytest.mark.parametrize("user", ["kcm-anna", "privacy-petra", "beheer-bea"])
async def test_only_the_teamleider_opens_the_dashboard(stack: Stack, user: str) -> None:
    async with console(stack) as browser:
        await staff_login(browser, user)
        for path in ("/dashboard", "/dashboard/grafiek/kanalen.svg", "/dashboard/export/kanalen.csv"):
            resp = await browser.get(path)
            assert resp.status_code == 403, (path, resp.status_code)


async def test_a_teamleider_of_another_organisation_sees_none_of_its_figures(stack: Stack) -> None:
    """The organisation comes from the login only: the waterschap's team lead, also with a crafted
    organisation in the query string, gets no figure of the gemeente's history."""
    await fill(stack)
    async with console(stack) as gemeente, console(stack) as waterschap:
        await staff_login(gemeente, "teamleider-tim")
        await staff_login(waterschap, "teamleider-tara")
        own = await gemeente.get("/dashboard/export/kanalen.csv")
        assert own.status_code == 200, own.text
        assert len(own.text.strip().splitlines()) > 1  # the gemeente's rows are there for its own lead
        for query in ("", f"?organisatie={GEMEENTE_OIN}", f"?organisation={GEMEENTE_OIN}"):
            other = await waterschap.get(f"/dashboard/export/kanalen.csv{query}")
            assert other.status_code in (200, 400), other.text
            assert other.text != own.text
            page = await waterschap.get(f"/dashboard{query}")
            assert page.status_code in (200, 400), page.text
            for line in own.text.strip().splitlines()[1:]:
                assert line not in other.text


# --- nothing personal on the dashboard -------------------------------------------------------------------


async def test_no_personal_data_reaches_the_dashboard_html_csv_or_charts(stack: Stack) -> None:
    await fill(stack)
    await _register(stack)
    await _register(stack, bsn=OTHER_BSN)
    services = stack.app.state.services
    # the registrations as if made last week, so that they are in the shown figures
    week = latest_closed(Grain.WEEK, today_local())
    moved = week.key + timedelta(days=2)
    async with services.database.transaction() as session:
        for event in await session.scalars(
            select(ContactEventRow).where(ContactEventRow.dag == today_local())
        ):
            event.occurred_at -= today_local() - moved
            event.dag, event.week, event.maand = moved, week_of(moved), month_of(moved)
        # and a fresh run that recomputes every block
        await session.execute(update(MetenStateRow).values(laatste_contact=0, laatste_feedback=0))
    await services.dashboard.aggregate()
    events = await _rows(stack, ContactEventRow)
    pseudonyms = {e.klant for e in events if e.klant}
    log_pseudonyms = {
        p.value
        for bsn in (BSN, OTHER_BSN)
        for p in services.pseudonymizer.all_pseudonyms(Subject.person(bsn))
    }
    forbidden = [
        BSN,
        OTHER_BSN,
        "kcm-anna",
        "Anna de Vries",
        "grofvuil",
        "Pietersen",
        *pseudonyms,
        *log_pseudonyms,
    ]
    pages: dict[str, str] = {}
    async with console(stack) as browser:
        await staff_login(browser, "teamleider-tim")
        for grain in Grain:
            bucket = latest_closed(grain, today_local())
            query = f"soort={grain.value}&periode={bucket.key.isoformat()}"
            for team in ("", "&team=Klantcontactcentrum"):
                page = await browser.get(f"/dashboard?{query}{team}")
                assert page.status_code == 200, page.text
                pages[f"html {grain.value}{team}"] = page.text
                for name in TABLE_IDS:
                    csv = await browser.get(f"/dashboard/export/{name}.csv?{query}{team}")
                    assert csv.status_code == 200
                    assert csv.headers["content-type"].startswith("text/csv")
                    pages[f"csv {name} {grain.value}{team}"] = csv.text
            for name in ("verloop", "kanalen", "teams"):
                chart = await browser.get(f"/dashboard/grafiek/{name}.svg?{query}")
                assert chart.status_code == 200
                pages[f"svg {name} {grain.value}"] = chart.text
    # the pages say something: the week holding the registrations shows figures, and suppresses some
    assert re.search(r'<td class="utrecht-table__cell dgkb-num">\d', pages["html week"])
    assert "onderdrukt" in "".join(pages.values())
    seen = list(pages.items())
    for what, text in seen:
        for value in forbidden:
            assert value not in text, f"{value!r} in {what}"
        assert not re.search(r"(?<![0-9a-f-])999\d{6}(?![0-9a-f])", text), what


# --- the page itself ------------------------------------------------------------------------------------


async def test_bad_dashboard_input_gets_a_dutch_message_naming_the_field(stack: Stack) -> None:
    await fill(stack, days=21)
    async with console(stack) as browser:
        await staff_login(browser, "teamleider-tim")
        cases = {
            "soort=jaar": "Soort periode",
            f"soort=week&periode={today_local().isoformat()}": "Periode",  # not a Monday or not over
            "soort=maand&periode=2026-13-01": "Periode",
            f"soort=week&periode={week_of(today_local()).isoformat()}": "alleen afgelopen perioden",
            "soort=week&team=Het%20team%20van%20Anna": "Team",
        }
        for query, words in cases.items():
            resp = await browser.get(f"/dashboard?{query}")
            assert resp.status_code == 400, query
            assert words in resp.text, query
            chart = await browser.get(f"/dashboard/grafiek/kanalen.svg?{query}")
            assert chart.status_code == 400
            assert words in chart.text
        assert (await browser.get("/dashboard/grafiek/bestaat-niet.svg")).status_code == 404
        assert (await browser.get("/dashboard/export/bestaat-niet.csv")).status_code == 404


async def test_charts_are_csp_clean_svg_with_their_text_rendered_once_per_version(stack: Stack) -> None:
    await fill(stack, days=21)
    dashboard = stack.app.state.services.dashboard
    async with console(stack) as browser:
        await staff_login(browser, "teamleider-tim")
        page = await browser.get("/dashboard")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        # no inline script or style the CSP would block
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert "style=" not in page.text
        assert "<style" not in page.text
        images = re.findall(r'<img class="dgkb-dash__chart" src="([^"]+)" alt="([^"]+)"', page.text)
        assert {src.split("/")[3].split(".svg")[0] for src, _ in images} <= set(CHART_NAMES)
        assert len(images) >= 5
        assert all(alt.strip() for _, alt in images)
        src = images[0][0].replace("&amp;", "&")
        before = dashboard.renders
        first = await browser.get(src)
        second = await browser.get(src)
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("image/svg+xml")
        assert first.text == second.text
        assert dashboard.renders == before + 1, "the second request is served from the cache"
        svg = first.text
        assert svg.startswith("<svg")
        assert 'role="img"' in svg
        assert "<title" in svg
        assert "<desc" in svg
        assert "<script" not in svg
        assert "style=" not in svg
        assert "<style" not in svg
        assert 'href="http' not in svg  # nothing fetched from elsewhere
