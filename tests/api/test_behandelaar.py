"""A case worker opens a zaak and sees its initiator for the purpose of handling that zaaktype."""

from __future__ import annotations

from tests.api.conftest import GEMEENTE, Stack, sections

WMO_ZAAK = "ZAAK-2026-0000006"  # Aanvraag Wmo-voorziening; initiator 999991425 in the demo world


async def test_case_worker_sees_the_initiator_for_the_zaaktype_purpose(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        resp = await bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
        assert resp.status_code == 201, resp.text
        session = resp.json()
        assert session["verwerkingsactiviteit"] == GEMEENTE + "wmo-behandeling"
        assert session["zaak"] == WMO_ZAAK
        assert session["kanaal"] == "backoffice"
        body = (await bram.get(f"/api/v1/contacten/{session['id']}/klantbeeld")).json()
        secties = sections(body)
        assert secties["klant.basis"][0]["status"] == "ok"
        lopend = secties["dienst.zaken-lopend"][0]
        assert lopend["status"] == "ok"
        assert WMO_ZAAK in {z["identificatie"] for z in lopend["gegevens"]}
        # the municipality's financial data is no part of handling a Wmo application
        assert secties["dossier.financieel"][0]["reden"] == "CATEGORY_NOT_IN_PURPOSE"
        missing = await bram.post("/api/v1/zaaksessies", json={"zaak": "ZAAK-1999-9999999"})
        assert missing.status_code == 404


async def test_agent_cannot_open_a_zaak_session(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
    assert resp.status_code == 403
    assert resp.json()["reden"] == "ROLE_NOT_ALLOWED"
