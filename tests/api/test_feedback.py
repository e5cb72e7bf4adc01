"""Ratings, complaints and reports recorded during a contact appear in the klantbeeld of a purpose
that may see them — from DGKB's own store, through the same source port as every other source."""

from __future__ import annotations

from tests.api.conftest import GEMEENTE, Stack, open_contact, sections

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
        moved = await anna.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen",
            json={"status": "afgehandeld", "toelichting": "Excuses aangeboden"},
        )
        assert moved.status_code == 200
        again = await anna.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen", json={"status": "in-behandeling"}
        )
        assert again.status_code == 409

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
        # the water board does not see the municipality's complaints (other organisation, other source)
        resp = await wim.post(
            f"/api/v1/klachten/{klacht.json()['id']}/statussen", json={"status": "afgehandeld"}
        )
        assert resp.status_code == 404
