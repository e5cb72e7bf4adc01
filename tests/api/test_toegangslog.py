"""The privacy officer finds the agent's access; nobody else may search the log."""

from __future__ import annotations

from tests.api.conftest import GEMEENTE, Stack, open_contact

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"


async def test_privacy_officer_finds_the_access_with_decision(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        trace = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()["traceId"]
        forbidden = await anna.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": "999993653"})
        assert forbidden.status_code == 403
    async with await stack.as_user("privacy-petra") as petra:
        resp = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": "999993653"})
        assert resp.status_code == 200, resp.text
        rows = resp.json()["resultaten"]
        views = [r for r in rows if r["trace_id"] == trace]
        assert len(views) == 1
        view = views[0]
        assert view["actor_id"] == "kcm-anna"
        assert view["processing_activity_id"] == ALGEMEEN
        assert "klant.basis" in view["categories_delivered"]
        assert "dossier.financieel" in view["categories_denied"]
        assert view["decision"]["register_version"]
        # the identification was logged as a processing of its own
        assert any(r["processing_activity_id"].endswith("/kcc-identificatie") for r in rows)
        # by employee and by purpose, with pagination
        by_actor = await petra.post(
            "/api/v1/toegangslog/zoekopdrachten", json={"medewerker": "kcm-anna", "limiet": 1}
        )
        page = by_actor.json()
        assert len(page["resultaten"]) == 1
        assert page["volgende"]
        nxt = await petra.post(
            "/api/v1/toegangslog/zoekopdrachten",
            json={"medewerker": "kcm-anna", "limiet": 1, "cursor": page["volgende"]},
        )
        assert nxt.json()["resultaten"][0]["id"] != page["resultaten"][0]["id"]
        other = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": "999991425"})
        assert all(r["trace_id"] != trace for r in other.json()["resultaten"])
        bad = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": "12345"})
        assert bad.status_code == 400
