"""The AuthZEN endpoints answer from the same register as the klantbeeld."""

from __future__ import annotations

from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack


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
            "/access/v1/evaluation", json=_request(WATERSCHAP + "waterschapsbelasting", "dienst.zaken-lopend")
        )
        body = denied.json()
        assert body["decision"] is False
        assert body["context"]["reason_admin"]["code"] == "CATEGORY_NOT_IN_PURPOSE"
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
                "context": {"purpose": GEMEENTE + "gemeentelijke-belastingen", "assurance": "controlevragen"},
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
