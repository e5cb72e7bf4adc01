"""Ratings, complaints and reports recorded during a contact appear in the klantbeeld of a purpose
that may see them — from DGKB's own store, through the same source port as every other source."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from dgkb.store.audit_tables import AccessRecord
from dgkb.store.db import Database
from dgkb.store.tables import FeedbackItemRow
from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact, sections

KLACHT = GEMEENTE + "klachtbehandeling"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"


async def test_complaint_rating_and_report_flow(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, KLACHT)
        klacht = await anna.post(
            "/api/v1/klachten",
            json={
                "contactId": contact,
                "onderwerp": "Afvalinzameling",
                "omschrijving": "Container niet geleegd",
            },
        )
        assert klacht.status_code == 201, klacht.text
        assert klacht.json()["nummer"].startswith("KL-")
        melding = await anna.post(
            "/api/v1/meldingen",
            json={
                "contactId": contact,
                "onderwerp": "Losliggende stoeptegel",
                "omschrijving": "Struikelgevaar",
                "locatie": "Hoofdstraat 12",
            },
        )
        assert melding.status_code == 201
        rating = await anna.post("/api/v1/beoordelingen", json={"contactId": contact, "score": 9})
        assert rating.status_code == 201
        bad = await anna.post("/api/v1/beoordelingen", json={"contactId": contact, "score": 11})
        assert bad.status_code == 400
        assert bad.json()["invalidParams"][0]["name"] == "score"
    async with await stack.as_user("klachten-karin") as karin:  # the KCC registers, the handler handles
        moved = await karin.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen",
            json={"status": "afgehandeld", "toelichting": "Excuses aangeboden", "uitkomst": "Excuses."},
        )
        assert moved.status_code == 200, moved.text
        again = await karin.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen",
            json={"status": "in-behandeling", "toelichting": "Heropenen"},
        )
        assert again.status_code == 409

    async with await stack.as_user("kcm-anna") as anna:
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        secties = sections(body)
        klachten = secties["feedback.klachten"][0]
        assert klachten["status"] == "ok"
        assert klachten["bronId"] == "dgkb-feedback"
        assert klachten["gegevens"][0]["status"] == "afgehandeld"
        assert [h["status"] for h in klachten["gegevens"][0]["statushistorie"]] == [
            "ontvangen",
            "afgehandeld",
        ]
        assert secties["feedback.meldingen"][0]["gegevens"][0]["locatie"] == "Hoofdstraat 12"
        assert secties["beleving.oordeel"][0]["gegevens"][0]["score"] == 9

        # a general question does not see complaints: purpose binding holds for DGKB's own data too
        other = await open_contact(anna, ALGEMEEN)
        body = (await anna.get(f"/api/v1/contacten/{other}/klantbeeld")).json()
        assert sections(body)["feedback.klachten"][0]["status"] == "niet-toegestaan"

    async with await stack.as_user("kcm-wim") as wim:
        # the water board does not handle the municipality's complaints (decided against the register)
        resp = await wim.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen",
            json={"status": "afgehandeld", "toelichting": "x", "uitkomst": "x"},
        )
        assert resp.status_code == 403
        assert resp.json()["reden"] == "ORGANISATION_MISMATCH"


# --- handling: who may, the audit trail, Awb chapter 9 ------------------------------------------

AFHANDELING = GEMEENTE + "klachtafhandeling"
MELDINGEN = GEMEENTE + "meldingen-openbare-ruimte"


async def _register(stack: Stack, soort: str = "klachten", **extra: Any) -> str:
    """The KCC registers a complaint or report of 999993653; returns its id."""
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, KLACHT)
        resp = await anna.post(
            f"/api/v1/{soort}",
            json={"contactId": contact, "onderwerp": "Afval", "omschrijving": "Niet opgehaald", **extra},
        )
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])


async def _set_received(stack: Stack, item_id: str, days_ago: int) -> None:
    """Test-only: move the receipt into the past (the term is counted from it)."""
    db = Database(stack.settings.database_url)
    try:
        async with db.transaction() as session:
            await session.execute(
                update(FeedbackItemRow)
                .where(FeedbackItemRow.id == item_id)
                .values(ingediend_op=datetime.now(UTC) - timedelta(days=days_ago))
            )
    finally:
        await db.dispose()


async def _access_records(stack: Stack, trace_id: str) -> list[AccessRecord]:
    db = Database(stack.settings.database_url)
    try:
        async with db.sessions() as session:
            return list(await session.scalars(select(AccessRecord).where(AccessRecord.trace_id == trace_id)))
    finally:
        await db.dispose()


def _move(status: str, toelichting: str | None = "Opgepakt", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, **extra}
    if toelichting is not None:
        body["toelichting"] = toelichting
    return body


async def test_only_the_registers_complaint_handler_of_the_organisation_changes_a_complaint(
    stack: Stack,
) -> None:
    klacht = await _register(stack)
    url = f"/api/v1/klachten/{klacht}/statussen"
    # another role (the KCC that registered it, a Wmo case worker), another organisation (even with
    # the handler role there): refused with a reason, and nothing changes
    for user, reden in [
        ("kcm-anna", "ROLE_NOT_ALLOWED"),
        ("behandelaar-bram", "ROLE_NOT_ALLOWED"),
        ("privacy-petra", "ROLE_NOT_ALLOWED"),
        ("kcm-wim", "ORGANISATION_MISMATCH"),
        ("klachten-wouter", "ORGANISATION_MISMATCH"),
    ]:
        async with await stack.as_user(user) as client:
            resp = await client.post(url, json=_move("in-behandeling"))
            assert resp.status_code == 403, (user, resp.text)
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.json()["reden"] == reden, user
    async with await stack.as_user("klachten-karin") as karin:
        # the why is required and bounded
        for body in (_move("in-behandeling", None), _move("in-behandeling", "  "), _move("x", "y" * 1001)):
            resp = await karin.post(url, json=body)
            assert resp.status_code == 400, resp.text
            names = [p["name"] for p in resp.json()["invalidParams"]]
            assert "toelichting" in names or "status" in names
        resp = await karin.post(url, json=_move("in-behandeling", None))
        assert [p["name"] for p in resp.json()["invalidParams"]] == ["toelichting"]
        resp = await karin.post(url, json=_move("in-behandeling", "y" * 1001))
        assert [p["name"] for p in resp.json()["invalidParams"]] == ["toelichting"]
        # a complaint is not closed without telling the complainant the outcome (Awb 9:12)
        resp = await karin.post(url, json=_move("afgehandeld", "Klaar"))
        assert resp.status_code == 400
        assert resp.json()["invalidParams"][0]["name"] == "uitkomst"
        assert (await karin.post(url, json=_move("ontvangen"))).status_code == 400
        assert (
            await karin.post(f"/api/v1/klachten/{uuid.uuid4()}/statussen", json=_move("in-behandeling"))
        ).status_code == 404

        moved = await karin.post(url, json=_move("in-behandeling", "Dossier opgevraagd bij afvalbeheer"))
        assert moved.status_code == 200, moved.text
        body = moved.json()
        assert body["status"] == "in-behandeling"
        steps = body["statushistorie"]
        assert [(h["volgnummer"], h["status"]) for h in steps] == [(1, "ontvangen"), (2, "in-behandeling")]
        step = steps[-1]
        assert step["gezetDoor"] == "klachten-karin"
        assert step["rol"] == "klachtbehandelaar"
        assert step["toelichting"] == "Dossier opgevraagd bij afvalbeheer"
        assert step["verwerkingsactiviteit"] == AFHANDELING

    # every change is an audit record in the hash chain: who, under which purpose, about whom
    records = await _access_records(stack, step["traceId"])
    assert len(records) == 1
    record = records[0]
    assert record.actor_id == "klachten-karin"
    assert record.actor_role == "klachtbehandelaar"
    assert record.processing_activity_id == AFHANDELING
    assert "feedback.klachten" in record.categories_delivered
    async with await stack.as_user("privacy-petra") as petra:
        log = await petra.post(
            "/api/v1/toegangslog/zoekopdrachten", json={"bsn": "999993653", "medewerker": "klachten-karin"}
        )
        assert log.status_code == 200, log.text
        [entry] = [r for r in log.json()["resultaten"] if r["trace_id"] == step["traceId"]]
        assert entry["actor_id"] == "klachten-karin"
        assert entry["processing_activity_id"] == AFHANDELING


async def test_the_complaint_term_is_shown_and_exceeded_is_flagged(stack: Stack) -> None:
    klacht = await _register(stack, voorkeurskanaal="e-mail")
    async with await stack.as_user("klachten-karin") as karin:
        fresh = (await karin.get(f"/api/v1/klachten/{klacht}")).json()
        received = date.fromisoformat(fresh["ingediendOp"][:10])
        due = date.fromisoformat(fresh["uiterlijkeAfhandeldatum"])
        assert abs((due - received).days - 42) <= 1  # Awb 9:11: six weeks (calendar date in NL)
        assert fresh["termijnOverschreden"] is False
        ack = fresh["statushistorie"][0]["bericht"]  # Awb 9:6: receipt acknowledged in writing
        assert ack["soort"] == "ontvangstbevestiging"
        assert ack["kanaal"] == "e-mail"
        assert ack["status"] == "te-verzenden"

        await _set_received(stack, klacht, days_ago=50)
        late = (await karin.get(f"/api/v1/klachten/{klacht}")).json()
        assert late["termijnOverschreden"] is True
        # extending after the term has passed is too late (9:11 lid 2 extends a running term)
        resp = await karin.post(f"/api/v1/klachten/{klacht}/verdaging", json={"toelichting": "Druk"})
        assert resp.status_code == 409

        await _set_received(stack, klacht, days_ago=40)
        resp = await karin.post(f"/api/v1/klachten/{klacht}/verdaging", json={"weken": 5, "toelichting": "x"})
        assert resp.status_code == 400
        assert resp.json()["invalidParams"][0]["name"] == "weken"
        resp = await karin.post(f"/api/v1/klachten/{klacht}/verdaging", json={"weken": 4})
        assert resp.status_code == 400
        assert resp.json()["invalidParams"][0]["name"] == "toelichting"
        extended = await karin.post(
            f"/api/v1/klachten/{klacht}/verdaging", json={"weken": 4, "toelichting": "Advies afdeling nodig"}
        )
        assert extended.status_code == 200, extended.text
        body = extended.json()
        assert body["verdaagd"] is True
        assert body["termijnOverschreden"] is False
        received = date.fromisoformat(body["ingediendOp"][:10])
        assert abs((date.fromisoformat(body["uiterlijkeAfhandeldatum"]) - received).days - 70) <= 1
        notice = body["statushistorie"][-1]
        assert notice["gebeurtenis"] == "verdaagd"
        assert notice["bericht"]["soort"] == "verdaging"
        assert notice["bericht"]["kanaal"] == "e-mail"
        assert len(await _access_records(stack, notice["traceId"])) == 1
        again = await karin.post(
            f"/api/v1/klachten/{klacht}/verdaging", json={"weken": 1, "toelichting": "Nog"}
        )
        assert again.status_code == 409  # only once

        await _set_received(stack, klacht, days_ago=80)
        # the customer's view (the klantbeeld's feedback section) shows the term too
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, KLACHT)
        secties = sections((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json())
        [item] = [k for k in secties["feedback.klachten"][0]["gegevens"] if k["nummer"] == body["nummer"]]
        assert item["termijnOverschreden"] is True
        assert item["verdaagd"] is True
        assert (
            item["uiterlijkeAfhandeldatum"] == date.fromisoformat(item["uiterlijkeAfhandeldatum"]).isoformat()
        )


async def test_the_customer_is_heard_and_told_the_outcome(stack: Stack) -> None:
    klacht = await _register(stack, voorkeurskanaal="telefoon")  # not written: a letter (Awb 9:12)
    url = f"/api/v1/klachten/{klacht}/statussen"
    async with await stack.as_user("klachten-karin") as karin:
        heard = await karin.post(url, json=_move("hoorzitting", "Klager wil gehoord worden"))
        assert heard.status_code == 200, heard.text
        assert heard.json()["statushistorie"][-1]["bericht"]["soort"] == "uitnodiging-horen"
        done = await karin.post(
            url,
            json=_move(
                "afgehandeld", "Gegrond", uitkomst="Uw klacht is gegrond; de container wordt geleegd."
            ),
        )
        assert done.status_code == 200, done.text
        last = done.json()["statushistorie"][-1]
        assert last["bericht"] == {
            "soort": "uitkomst",
            "tekst": "Uw klacht is gegrond; de container wordt geleegd.",
            "kanaal": "brief",
            "status": "te-verzenden",
        }
        assert done.json()["termijnOverschreden"] is False
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, KLACHT)
        secties = sections((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json())
        [item] = [k for k in secties["feedback.klachten"][0]["gegevens"] if k["status"] == "afgehandeld"]
        assert item["uitkomst"] == "Uw klacht is gegrond; de container wordt geleegd."
        assert [h["status"] for h in item["statushistorie"]] == ["ontvangen", "hoorzitting", "afgehandeld"]
        assert item["statushistorie"][-1]["bericht"]["soort"] == "uitkomst"


async def test_meldingen_follow_their_own_rules(stack: Stack) -> None:
    melding = await _register(stack, "meldingen", locatie="Hoofdstraat 12")
    url = f"/api/v1/meldingen/{melding}/statussen"
    # the complaint handler is not the report handler: the register's melding purpose decides
    for user in ("klachten-karin", "kcm-anna"):
        async with await stack.as_user(user) as client:
            resp = await client.post(url, json=_move("in-behandeling"))
            assert resp.status_code == 403
            assert resp.json()["reden"] == "ROLE_NOT_ALLOWED"
    async with await stack.as_user("klachten-karin") as karin:
        # and a melding id is not a klacht
        assert (
            await karin.post(f"/api/v1/klachten/{melding}/statussen", json=_move("in-behandeling"))
        ).status_code == 404
    async with await stack.as_user("behandelaar-bram") as bram:
        resp = await bram.post(url, json=_move("hoorzitting"))  # hearing is for Awb complaints only
        assert resp.status_code == 400
        assert resp.json()["invalidParams"][0]["name"] == "status"
        assert (await bram.post(url, json=_move("in-behandeling", None))).status_code == 400
        done = await bram.post(url, json=_move("afgehandeld", "Tegel teruggelegd"))  # terugmelding optional
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["uiterlijkeAfhandeldatum"] is None  # no statutory term for a melding
        assert body["termijnOverschreden"] is None
        step = body["statushistorie"][-1]
        assert step["verwerkingsactiviteit"] == MELDINGEN
        records = await _access_records(stack, step["traceId"])
        assert [(r.actor_id, r.processing_activity_id) for r in records] == [("behandelaar-bram", MELDINGEN)]


async def test_the_water_board_handles_its_own_complaints_with_its_committee_term(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, WATERSCHAP + "waterschapsbelasting")
        resp = await wim.post(
            "/api/v1/klachten", json={"contactId": contact, "onderwerp": "Aanslag", "omschrijving": "Te hoog"}
        )
        assert resp.status_code == 201, resp.text
        klacht = resp.json()["id"]
    async with await stack.as_user("klachten-karin") as karin:
        resp = await karin.post(f"/api/v1/klachten/{klacht}/statussen", json=_move("in-behandeling"))
        assert resp.status_code == 403
        assert resp.json()["reden"] == "ORGANISATION_MISMATCH"
    async with await stack.as_user("klachten-wouter") as wouter:
        resp = await wouter.post(f"/api/v1/klachten/{klacht}/statussen", json=_move("in-behandeling"))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        received = date.fromisoformat(body["ingediendOp"][:10])
        # Awb 9:11 lid 1: ten weeks with an external complaints committee (register: klachtadviescommissie)
        assert abs((date.fromisoformat(body["uiterlijkeAfhandeldatum"]) - received).days - 70) <= 1
        assert body["statushistorie"][-1]["verwerkingsactiviteit"] == WATERSCHAP + "klachtafhandeling"


async def test_two_status_changes_at_once_both_land_in_order(stack: Stack) -> None:
    async with await stack.as_user("klachten-karin") as karin:
        for _ in range(3):
            klacht = await _register(stack)
            url = f"/api/v1/klachten/{klacht}/statussen"
            first, second = await asyncio.gather(
                karin.post(url, json=_move("in-behandeling", "A")),
                karin.post(url, json=_move("hoorzitting", "B")),
            )
            assert first.status_code == 200, first.text
            assert second.status_code == 200, second.text
            body = (await karin.get(f"/api/v1/klachten/{klacht}")).json()
            steps = body["statushistorie"]
            assert [h["volgnummer"] for h in steps] == [1, 2, 3]
            assert sorted(h["toelichting"] for h in steps[1:]) == ["A", "B"]
            assert body["status"] == steps[-1]["status"]  # the item says what the last step says
            # closing twice at once: one wins, the other is told it is closed; one closing step
            a, b = await asyncio.gather(
                karin.post(url, json=_move("afgehandeld", "C", uitkomst="Uitkomst C")),
                karin.post(url, json=_move("ingetrokken", "D")),
            )
            assert sorted([a.status_code, b.status_code]) == [200, 409], (a.text, b.text)
            body = (await karin.get(f"/api/v1/klachten/{klacht}")).json()
            closing = [h for h in body["statushistorie"] if h["status"] in ("afgehandeld", "ingetrokken")]
            assert len(closing) == 1
            assert body["status"] == closing[0]["status"]
