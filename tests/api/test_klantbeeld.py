"""The klantbeeld end to end: agent logs in, opens a contact, identifies, reads — over real sockets."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact, sections

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BELASTINGEN = GEMEENTE + "gemeentelijke-belastingen"
WMO = GEMEENTE + "wmo-aanvraag"
WATERSCHAPSBELASTING = WATERSCHAP + "waterschapsbelasting"


async def last_request(stack: Stack, source: str) -> dict[str, object]:
    async with httpx.AsyncClient() as c:
        resp = await c.get(f"{stack.simulators[source]}/_sim/last-request")
        resp.raise_for_status()
        data: dict[str, object] = resp.json()
        return data


async def test_agent_sees_exactly_what_the_purpose_allows(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert resp.status_code == 200, resp.text
        assert resp.headers["api-version"]
        body = resp.json()
    secties = sections(body)
    assert set(secties) == {
        "klant.basis",
        "klant.contactgegevens",
        "klant.voorkeurskanaal",
        "klant.familie",
        "klant.werk-en-inkomen",
        "dienst.zaken-lopend",
        "dienst.zaken-historie",
        "contact.historie",
        "contact.open-verzoeken",
        "dossier.rechten-en-plichten",
        "dossier.financieel",
        "beleving.oordeel",
        "feedback.klachten",
        "feedback.meldingen",
    }
    basis = secties["klant.basis"][0]
    assert basis["status"] == "ok", basis
    assert basis["bron"]
    assert basis["opgehaaldOp"]
    assert "naam" in basis["gegevens"]
    assert "geboorte" not in basis["gegevens"], "geboorte is not permitted for a general question"
    assert secties["contact.historie"][0]["status"] == "ok"
    for denied in ("dienst.zaken-lopend", "dossier.financieel", "klant.familie"):
        section = secties[denied][0]
        assert section["status"] == "niet-toegestaan"
        assert section["reden"] == "CATEGORY_NOT_IN_PURPOSE"
        assert section["toelichting"]
        assert section["gegevens"] is None
    # Minimisation at the source: BRP was asked for exactly the permitted fields.
    brp_request = await last_request(stack, "brp")
    asked = set(brp_request["body"]["fields"])  # type: ignore[index]
    assert "geboorte" not in asked
    assert "naam" in asked
    # Purpose headers and W3C trace context reached the source.
    headers = {k.lower(): v for k, v in brp_request["headers"].items()}  # type: ignore[union-attr]
    assert headers["x-verwerking"] == ALGEMEEN
    assert headers["traceparent"].split("-")[1] == body["traceId"]
    assert "x-gebruiker" in headers


async def test_water_board_call_never_shows_municipal_dossier_data(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, WATERSCHAPSBELASTING, zekerheid="digid-midden")
        body = (await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    financieel = sections(body)["dossier.financieel"]
    assert {s["bronId"] for s in financieel} == {"waterschap-belastingen"}
    assert financieel[0]["status"] == "ok"
    organisaties = {item["organisatie"] for item in financieel[0]["gegevens"]}
    assert organisaties == {"Waterschap De Voorbeeldwaarden"}
    for s in body["secties"]:
        if s["informatietype"] == "dossierdata" and s["categorie"] != "dossier.financieel":
            assert s["status"] == "niet-toegestaan"
        assert not (s["bronId"] or "").startswith("gemeente-")


async def test_water_board_agent_cannot_use_municipal_purpose(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        resp = await wim.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": BELASTINGEN}
        )
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["reden"] == "ORGANISATION_MISMATCH"


async def test_assurance_too_low_explains_what_unlocks_it(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, BELASTINGEN, zekerheid="controlevragen")
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        financieel = sections(body)["dossier.financieel"][0]
        assert financieel["status"] == "niet-toegestaan"
        assert financieel["reden"] == "ASSURANCE_TOO_LOW"
        assert "DigiD" in financieel["toelichting"]
        # with DigiD midden the municipality's own tax and fines systems answer
        contact = await open_contact(anna, BELASTINGEN, zekerheid="digid-midden")
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    financieel_ok = sections(body)["dossier.financieel"]
    assert {s["bronId"] for s in financieel_ok} == {"gemeente-belastingen", "gemeente-boetes"}
    assert all(s["status"] == "ok" for s in financieel_ok)


async def test_session_binds_subject_and_purpose(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna, await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(anna, ALGEMEEN)
        ok = await anna.post(
            "/api/v1/klantbeelden",
            json={"contactId": contact, "bsn": "999993653", "verwerkingsactiviteit": ALGEMEEN},
        )
        assert ok.status_code == 200
        other_subject = await anna.post(
            "/api/v1/klantbeelden",
            json={"contactId": contact, "bsn": "999990639", "verwerkingsactiviteit": ALGEMEEN},
        )
        assert other_subject.status_code == 403
        assert other_subject.json()["reden"] == "SUBJECT_NOT_IN_CONTACT"
        other_purpose = await anna.post(
            "/api/v1/klantbeelden",
            json={"contactId": contact, "bsn": "999993653", "verwerkingsactiviteit": LOPENDE_ZAAK},
        )
        assert other_purpose.status_code == 403
        assert other_purpose.json()["reden"] == "PURPOSE_NOT_IN_CONTACT"
        not_mine = await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert not_mine.status_code == 403
        no_session = await anna.get("/api/v1/contacten/00000000-0000-4000-8000-000000000000/klantbeeld")
        assert no_session.status_code == 404
        # a second question: change the purpose, new decision, zaken now visible
        changed = await anna.put(
            f"/api/v1/contacten/{contact}/verwerkingsactiviteit", json={"verwerkingsactiviteit": LOPENDE_ZAAK}
        )
        assert changed.status_code == 200
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(body)["dienst.zaken-lopend"][0]["status"] == "ok"
        # after the end of the contact, the access ends too
        assert (await anna.post(f"/api/v1/contacten/{contact}/beeindiging")).status_code == 200
        ended = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert ended.status_code == 403
        assert ended.json()["reden"] == "CONTACT_ENDED"


async def test_klantbeeld_needs_identification_first(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post(
            "/api/v1/contacten", json={"kanaal": "chat", "verwerkingsactiviteit": ALGEMEEN}
        )
        contact = resp.json()["id"]
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert resp.status_code == 403
    assert resp.json()["reden"] == "SUBJECT_NOT_IDENTIFIED"


async def test_consent_given_during_the_call_unlocks_and_withdrawal_locks_again(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        body = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(body)["dossier.financieel"][0]["reden"] == "CONSENT_REQUIRED"
        needless = await bram.post(
            "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": ["klant.basis"]}
        )
        assert needless.status_code == 400
        assert needless.json()["invalidParams"][0]["name"] == "categorieen"
        given = await bram.post(
            "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": ["dossier.financieel"]}
        )
        assert given.status_code == 201, given.text
        body = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert {s["status"] for s in sections(body)["dossier.financieel"]} == {"ok"}
        withdrawn = await bram.post(
            f"/api/v1/toestemmingen/{given.json()['id']}/intrekking", json={"contactId": contact}
        )
        assert withdrawn.status_code == 200
        assert withdrawn.json()["ingetrokkenOp"]
        body = (await bram.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(body)["dossier.financieel"][0]["reden"] == "CONSENT_REQUIRED"


async def test_shielded_person_shows_nothing(stack: Stack) -> None:
    from dgkb.simulators.world import build_world

    shielded = build_world().shielded_bsn
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, bsn=shielded)
        info = (await anna.get(f"/api/v1/contacten/{contact}")).json()
        assert info["afgeschermd"] is True
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert body["secties"]
    for s in body["secties"]:
        assert s["status"] == "niet-toegestaan"
        assert s["gegevens"] is None
    assert sections(body)["klant.basis"][0]["reden"] == "SUBJECT_SHIELDED"


@pytest.mark.parametrize(("fail", "status"), [("503", "onbereikbaar"), ("hang", "timeout"), ("500", "fout")])
async def test_one_broken_source_never_fails_the_view(stack: Stack, fail: str, status: str) -> None:
    await stack.sim_behaviour("zaken", fail=fail)
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert resp.status_code == 200
    secties = sections(resp.json())
    assert secties["dienst.zaken-lopend"][0]["status"] == status
    assert secties["dienst.zaken-lopend"][0]["toelichting"]
    assert secties["klant.basis"][0]["status"] == "ok"
    assert secties["contact.historie"][0]["status"] == "ok"


async def test_unknown_subject_at_a_source_says_niet_gevonden(stack: Stack) -> None:
    from dgkb.simulators.world import build_world

    no_partij = build_world().no_partij_bsn
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, bsn=no_partij)
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert sections(body)["contact.historie"][0]["status"] == "niet-gevonden"
    assert sections(body)["klant.basis"][0]["status"] == "ok"


async def test_identifying_a_person_unknown_to_brp_is_refused(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"]
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"bsn": "999999989", "zekerheid": "geen"},
        )
    # a valid BSN of nobody: not bad input but an unknown customer (issue 13: schema-valid input is
    # never a 400), with the field named
    assert resp.status_code == 404
    assert resp.json()["veld"] == "bsn"
    assert resp.json()["reden"] == "SUBJECT_UNKNOWN"
