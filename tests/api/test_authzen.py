"""The AuthZEN endpoints answer from the same register as the klantbeeld."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact, sections

GEMEENTE_OIN = "00000001001234567000"
WATERSCHAP_OIN = "00000001009876543000"
BELASTINGEN = GEMEENTE + "gemeentelijke-belastingen"


def _request(
    purpose: str, category: str, *, role: str = "kcm", assurance: str = "controlevragen"
) -> dict[str, object]:
    return {
        "subject": {"type": "user", "id": "kcm-anna", "properties": {"role": role}},
        "resource": {"type": "category", "id": category},
        "action": {"name": "read"},
        "context": {"purpose": purpose, "assurance": assurance},
    }


async def test_single_evaluation_permits_and_denies_with_reason(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        ok = await anna.post(
            "/access/v1/evaluation", json=_request(GEMEENTE + "kcc-algemene-vraag", "klant.basis")
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["decision"] is True
        denied = await anna.post(
            "/access/v1/evaluation", json=_request(GEMEENTE + "kcc-algemene-vraag", "dossier.financieel")
        )
        body = denied.json()
        assert body["decision"] is False
        assert body["context"]["reason_admin"]["code"] == "CATEGORY_NOT_IN_PURPOSE"
        # answered for Anna's own organisation (the token's), so a water board purpose is not hers
        foreign = await anna.post(
            "/access/v1/evaluation", json=_request(WATERSCHAP + "waterschapsbelasting", "klant.basis")
        )
        assert foreign.json()["context"]["reason_admin"]["code"] == "ORGANISATION_MISMATCH"
        assert body["context"]["reason_user"]["nl"]
        bad = await anna.post("/access/v1/evaluation", json={"subject": {}})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
        unauthenticated = await stack.client.post(
            "/access/v1/evaluation", json=_request(GEMEENTE + "kcc-algemene-vraag", "klant.basis")
        )
        assert unauthenticated.status_code == 401


async def test_batch_evaluations(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post(
            "/access/v1/evaluations",
            json={
                "subject": {"type": "user", "id": "kcm-anna", "properties": {"role": "kcm"}},
                "action": {"name": "read"},
                "context": {
                    "purpose": GEMEENTE + "gemeentelijke-belastingen",
                    "assurance": "controlevragen",
                    "channel": "telefoon",
                },
                "evaluations": [
                    {"resource": {"type": "category", "id": "klant.basis"}},
                    {"resource": {"type": "category", "id": "dossier.financieel"}},
                ],
            },
        )
    assert resp.status_code == 200, resp.text
    results = resp.json()["evaluations"]
    assert [r["decision"] for r in results] == [True, False]
    assert results[1]["context"]["reason_admin"]["code"] == "ASSURANCE_TOO_LOW"


# -- the answer is for the caller (issue 8 §5) --------------------------------------------------------


def _financieel(user: str, **properties: Any) -> dict[str, Any]:
    """The reproduction: role kcm, no organisation, financial data, municipal taxes, DigiD hoog."""
    return {
        "subject": {"type": "user", "id": user, "properties": {"role": "kcm", **properties}},
        "resource": {"type": "category", "id": "dossier.financieel"},
        "action": {"name": "read"},
        "context": {"purpose": BELASTINGEN, "assurance": "digid-hoog", "channel": "telefoon"},
    }


async def test_water_board_agent_without_organisation_is_answered_for_his_own(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        resp = await wim.post("/access/v1/evaluation", json=_financieel("kcm-wim"))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["decision"] is False
        assert body["context"]["reason_admin"]["code"] == "ORGANISATION_MISMATCH"
        assert "Waterschap De Voorbeeldwaarden" in body["context"]["reason_user"]["nl"]
        own = await wim.post(
            "/access/v1/evaluation", json=_financieel("kcm-wim", organisation=WATERSCHAP_OIN)
        )
        assert own.json()["decision"] is False
        assert own.json()["context"]["reason_admin"]["code"] == "ORGANISATION_MISMATCH"
    async with await stack.as_user("kcm-anna") as anna:  # the municipality's own agent may
        resp = await anna.post("/access/v1/evaluation", json=_financieel("kcm-anna"))
        assert resp.json()["decision"] is True


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"organisation": GEMEENTE_OIN}, "subject.properties.organisation"),
        ({"role": "behandelaar", "organisation": WATERSCHAP_OIN}, "subject.properties.role"),
    ],
)
async def test_another_organisation_or_role_in_the_body_is_refused(
    stack: Stack, properties: dict[str, str], field: str
) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        resp = await wim.post("/access/v1/evaluation", json=_financieel("kcm-wim", **properties))
        assert resp.status_code == 403, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        problem = resp.json()
        assert problem["veld"] == field
        assert problem["code"] == "authzen.subject_mismatch"
        batch = await wim.post(
            "/access/v1/evaluations",
            json={
                "action": {"name": "read"},
                "evaluations": [
                    _financieel("kcm-wim"),
                    _financieel("kcm-wim", **properties),
                ],
            },
        )
        assert batch.status_code == 403, batch.text
        assert batch.json()["veld"] == "evaluations.1." + field


async def test_a_policy_enforcement_point_asks_for_other_roles(stack: Stack) -> None:
    async with await stack.as_user("pep-portaal") as portaal:
        asked = _financieel("behandelaar-bram", role="behandelaar", organisation=GEMEENTE_OIN)
        resp = await portaal.post("/access/v1/evaluation", json=asked)
        assert resp.status_code == 200, resp.text
        assert resp.json()["decision"] is True
        water = await portaal.post(
            "/access/v1/evaluation", json=_financieel("kcm-wim", organisation=WATERSCHAP_OIN)
        )
        assert water.json()["decision"] is False
        assert water.json()["context"]["reason_admin"]["code"] == "ORGANISATION_MISMATCH"
        nameless = await portaal.post("/access/v1/evaluation", json=_financieel("iemand"))
        assert nameless.json()["decision"] is False  # a missing organisation is a deny
        assert nameless.json()["context"]["reason_admin"]["code"] == "ORGANISATION_MISMATCH"


# -- kanaalinzet (issue 8 §9) -------------------------------------------------------------------------


async def test_financial_data_is_not_shown_over_chat_below_digid_substantieel(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        chat = await open_contact(anna, BELASTINGEN, zekerheid="digid-midden", kanaal="chat")
        resp = await anna.get(f"/api/v1/contacten/{chat}/klantbeeld")
        assert resp.status_code == 200, resp.text
        by_chat = sections(resp.json())
        phone = await open_contact(anna, BELASTINGEN, zekerheid="digid-midden", kanaal="telefoon")
        by_phone = sections((await anna.get(f"/api/v1/contacten/{phone}/klantbeeld")).json())
        evaluation = await anna.post(
            "/access/v1/evaluation",
            json={
                **_financieel("kcm-anna"),
                "context": {"purpose": BELASTINGEN, "assurance": "digid-midden", "channel": "chat"},
            },
        )
    (financieel,) = by_chat["dossier.financieel"]
    assert financieel["status"] == "niet-toegestaan"
    assert financieel["reden"] == "CHANNEL_NOT_ALLOWED"
    assert financieel["toelichting"].startswith("Via de chat is DigiD midden onvoldoende")
    assert financieel["gegevens"] is None
    assert by_chat["klant.basis"][0]["status"] == "ok"  # the rest of the purpose is not channel-bound
    assert {s["status"] for s in by_phone["dossier.financieel"]} == {"ok"}
    assert evaluation.json()["decision"] is False
    assert evaluation.json()["context"]["reason_admin"]["code"] == "CHANNEL_NOT_ALLOWED"
