"""Identity documents at the counter (issue 9 §4): a passport or identity card checked against BRP
Reisdocumenten identifies the customer at the level the register gives for the contact's purpose; a
lost, expired, withdrawn, unknown or someone else's document is refused and binds nothing; only at
the balie, only for employees who may identify."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dgkb.audit.query import search_ldv
from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import build_world
from tests.api.conftest import GEMEENTE, Stack, sections

BELASTINGEN = GEMEENTE + "gemeentelijke-belastingen"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
IDENTIFICATIE = GEMEENTE + "kcc-identificatie"
WORLD = build_world()  # the world the stack's simulators serve
VALID = WORLD.document("valid_document")  # 999990639's passport, valid until 2032
LOST = WORLD.document("lost_document")  # 999993653's identity card, reported lost ("V")
EXPIRED = WORLD.document("expired_document")
# 999993653's previous passport, surrendered ("I") at renewal
SURRENDERED = next(
    d for d in WORLD.reisdocumenten() if d.houder_bsn == "999993653" and d.inhouding_of_vermissing == "I"
)


async def _contact(client: httpx.AsyncClient, purpose: str | None = None, kanaal: str = "balie") -> str:
    body: dict[str, Any] = {"kanaal": kanaal}
    if purpose:
        body["verwerkingsactiviteit"] = purpose
    resp = await client.post("/api/v1/contacten", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _check(
    client: httpx.AsyncClient, contact: str, bsn: str, nummer: str, soort: str = "paspoort"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/contacten/{contact}/identiteitsbewijzen",
        json={"bsn": bsn, "documentnummer": nummer, "soort": soort},
    )


async def _sim(stack: Stack, path: str, method: str = "GET") -> Any:
    async with httpx.AsyncClient() as c:
        resp = await c.request(method, f"{stack.simulators['reisdocumenten']}{path}")
        resp.raise_for_status()
        return resp.json() if resp.content else None


async def _assert_nothing_bound(client: httpx.AsyncClient, contact: str) -> None:
    view = (await client.get(f"/api/v1/contacten/{contact}")).json()
    assert view["geidentificeerd"] is False
    assert view["zekerheid"] is None
    klantbeeld = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
    assert klantbeeld.status_code == 403
    assert klantbeeld.json()["reden"] == "SUBJECT_NOT_IDENTIFIED"


async def test_a_valid_passport_identifies_at_the_registers_level_for_the_purpose(stack: Stack) -> None:
    bsn = VALID.houder_bsn
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, BELASTINGEN)
        await _sim(stack, "/_sim/requests", "DELETE")
        resp = await _check(anna, contact, bsn, VALID.reisdocumentnummer.lower())
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["geidentificeerd"] is True
        # register: documentZekerheid digid-substantieel for municipal taxes
        assert body["zekerheid"] == "digid-substantieel"
        assert body["identificatie"]["methode"] == "document"
        assert body["identificatie"]["acr"] == "paspoort"
        assert (await anna.get(f"/api/v1/contacten/{contact}")).json()["identificatie"][
            "methode"
        ] == "document"
        # exactly the shown number was asked, with the identification purpose's headers
        asked = await _sim(stack, "/_sim/requests")
        assert len(asked) == 1
        assert asked[0]["body"]["type"] == "RaadpleegMetReisdocumentnummer"
        assert asked[0]["body"]["reisdocumentnummer"] == [VALID.reisdocumentnummer]
        assert asked[0]["headers"]["x-verwerking"] == IDENTIFICATIE
        # dossier.financieel needs digid-midden here: substantieel satisfies it
        financieel = sections((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json())[
            "dossier.financieel"
        ]
        assert {s["bronId"] for s in financieel} == {"gemeente-belastingen", "gemeente-boetes"}
        assert all(s["status"] != "niet-toegestaan" for s in financieel), financieel

        # the same document for a general question counts as control questions (register default)
        other = await _contact(anna, ALGEMEEN)
        resp = await _check(anna, other, bsn, VALID.reisdocumentnummer)
        assert resp.status_code == 200, resp.text
        assert resp.json()["zekerheid"] == "controlevragen"
        # a change of purpose applies the new purpose's level, in both directions
        changed = await anna.put(
            f"/api/v1/contacten/{other}/verwerkingsactiviteit", json={"verwerkingsactiviteit": BELASTINGEN}
        )
        assert changed.json()["zekerheid"] == "digid-substantieel"
        back = await anna.put(
            f"/api/v1/contacten/{other}/verwerkingsactiviteit", json={"verwerkingsactiviteit": ALGEMEEN}
        )
        assert back.json()["zekerheid"] == "controlevragen"
        back_to_tax = await anna.put(
            f"/api/v1/contacten/{other}/verwerkingsactiviteit", json={"verwerkingsactiviteit": BELASTINGEN}
        )
        assert back_to_tax.status_code == 200

        # no purpose chosen yet: the identification purpose's level (controlevragen)
        bare = await _contact(anna)
        resp = await _check(anna, bare, bsn, VALID.reisdocumentnummer)
        assert resp.json()["zekerheid"] == "controlevragen"
    # the read is logged (Logboek dataverwerkingen) under the identification purpose, without the number
    services = stack.app.state.services
    logged = await search_ldv(
        services.database, services.pseudonymizer, subject=Subject.person(bsn), limit=500
    )
    checks = [e for e in logged.items if e.name == "identiteitsbewijs controleren"]
    assert len(checks) == 3
    assert {e.processing_activity_id for e in checks} == {IDENTIFICATIE}
    assert any(e.name.startswith("klant identificeren (document") for e in logged.items)
    assert not any(VALID.reisdocumentnummer in repr(e) for e in logged.items)


async def test_a_lost_document_is_refused_and_binds_nothing(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, BELASTINGEN)
        resp = await _check(anna, contact, LOST.houder_bsn, LOST.reisdocumentnummer, "identiteitskaart")
        assert resp.status_code == 403, resp.text
        problem = resp.json()
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert problem["reden"] == "DOCUMENT_LOST_OR_STOLEN"
        assert "vermist of gestolen gemeld" in problem["detail"]
        assert problem["veld"] == "documentnummer"
        await _assert_nothing_bound(anna, contact)


@pytest.mark.parametrize(
    ("case", "reden"),
    [
        ("expired", "DOCUMENT_EXPIRED"),
        ("surrendered", "DOCUMENT_WITHDRAWN"),
        ("other_person", "DOCUMENT_NOT_OF_SUBJECT"),
        ("lost_of_other_person", "DOCUMENT_NOT_OF_SUBJECT"),  # reveals nothing about the other's card
        ("unknown", "DOCUMENT_UNKNOWN"),
        ("wrong_kind", "DOCUMENT_KIND_MISMATCH"),
    ],
)
async def test_documents_the_registry_does_not_back_are_refused(stack: Stack, case: str, reden: str) -> None:
    bsn, nummer, soort = {
        "expired": (EXPIRED.houder_bsn, EXPIRED.reisdocumentnummer, "paspoort"),
        "surrendered": (SURRENDERED.houder_bsn, SURRENDERED.reisdocumentnummer, "paspoort"),
        "other_person": ("999993653", VALID.reisdocumentnummer, "paspoort"),
        "lost_of_other_person": (VALID.houder_bsn, LOST.reisdocumentnummer, "identiteitskaart"),
        "unknown": ("999993653", "XX1234567", "paspoort"),
        "wrong_kind": (VALID.houder_bsn, VALID.reisdocumentnummer, "identiteitskaart"),
    }[case]
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, BELASTINGEN)
        resp = await _check(anna, contact, bsn, nummer, soort)
        assert resp.status_code == 403, resp.text
        assert resp.json()["reden"] == reden
        await _assert_nothing_bound(anna, contact)


async def test_a_document_is_checked_only_at_the_counter(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        await _sim(stack, "/_sim/requests", "DELETE")
        for kanaal in ("telefoon", "chat", "e-mail"):
            contact = await _contact(anna, BELASTINGEN, kanaal=kanaal)
            resp = await _check(anna, contact, VALID.houder_bsn, VALID.reisdocumentnummer)
            assert resp.status_code == 403, resp.text
            assert resp.json()["reden"] == "DOCUMENT_NOT_IN_PERSON"
            await _assert_nothing_bound(anna, contact)
        assert await _sim(stack, "/_sim/requests") == [], "nothing is read for a refused channel"


async def test_a_role_that_may_not_identify_is_refused(stack: Stack) -> None:
    async with await stack.as_user("beheer-bea") as bea:
        contact = await _contact(bea)
        resp = await _check(bea, contact, VALID.houder_bsn, VALID.reisdocumentnummer)
        assert resp.status_code == 403, resp.text
        assert resp.json()["reden"] != "DOCUMENT_NOT_IN_PERSON"
        assert (await bea.get(f"/api/v1/contacten/{contact}")).json()["geidentificeerd"] is False


@pytest.mark.parametrize(
    ("body", "veld"),
    [
        ({"bsn": "999990639", "documentnummer": "EHSPCRKVO", "soort": "paspoort"}, "documentnummer"),
        ({"bsn": "999990639", "documentnummer": "EHSPCRKV", "soort": "paspoort"}, "documentnummer"),
        ({"bsn": "999990639", "documentnummer": "EHSPCRKV0!", "soort": "paspoort"}, "documentnummer"),
        ({"bsn": "999990639", "documentnummer": "E" * 5000, "soort": "paspoort"}, "documentnummer"),
        ({"bsn": "123456789", "documentnummer": "EHSPCRKV0", "soort": "paspoort"}, "bsn"),
        ({"bsn": "999990639", "documentnummer": "EHSPCRKV0", "soort": "visum"}, "soort"),
        ({"bsn": "999990639", "documentnummer": "EHSPCRKV0"}, "soort"),
        ({"bsn": "999990639", "documentnummer": "EHSPCRKV0", "soort": "rijbewijs"}, "soort"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(stack: Stack, body: dict[str, Any], veld: str) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, BELASTINGEN)
        resp = await anna.post(f"/api/v1/contacten/{contact}/identiteitsbewijzen", json=body)
        assert resp.status_code == 400, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert veld in {p["name"] for p in resp.json()["invalidParams"]}
        if body.get("soort") == "rijbewijs":
            assert resp.json()["reden"] == "DOCUMENT_NOT_CHECKABLE"
            assert "RDW" in resp.json()["detail"]
        await _assert_nothing_bound(anna, contact)


async def test_document_check_and_another_identification_at_once_bind_at_most_one_subject(
    stack: Stack,
) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        for _ in range(4):
            contact = await _contact(anna, ALGEMEEN)
            results = await asyncio.gather(
                _check(anna, contact, VALID.houder_bsn, VALID.reisdocumentnummer),
                anna.post(
                    f"/api/v1/contacten/{contact}/identificatie",
                    json={"bsn": "999993653", "zekerheid": "geen"},
                ),
            )
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 409], [r.text for r in results]
            winner = "999990639" if results[0].status_code == 200 else "999993653"
            loser = "999993653" if winner == "999990639" else "999990639"
            view = await anna.post(
                "/api/v1/klantbeelden",
                json={"contactId": contact, "bsn": loser, "verwerkingsactiviteit": ALGEMEEN},
            )
            assert view.status_code == 403
            assert view.json()["reden"] == "SUBJECT_NOT_IN_CONTACT"
            own = await anna.post(
                "/api/v1/klantbeelden",
                json={"contactId": contact, "bsn": winner, "verwerkingsactiviteit": ALGEMEEN},
            )
            assert own.status_code == 200, own.text


async def test_reisdocumenten_down_is_a_503_and_binds_nothing(stack: Stack) -> None:
    await stack.sim_behaviour("reisdocumenten", fail="503")
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, BELASTINGEN)
        resp = await _check(anna, contact, VALID.houder_bsn, VALID.reisdocumentnummer)
        assert resp.status_code == 503, resp.text
        assert resp.json()["reden"] == "SOURCE_UNAVAILABLE"
        await _assert_nothing_bound(anna, contact)
