"""A business customer goes through the same flow: KVK-nummer, eHerkenning, KVK as base registry."""

from __future__ import annotations

from tests.api.conftest import GEMEENTE, Stack, identify_with_login, login_token, sections

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
TWO_BRANCHES = "68750110"  # Voorbeeld Bakkerijen B.V. in the demo world


async def test_business_klantbeeld(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (
            await anna.post(
                "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK}
            )
        ).json()["id"]
        digid_for_business = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"kvkNummer": TWO_BRANCHES, "zekerheid": "digid-midden"},
        )
        assert digid_for_business.status_code == 400
        assert digid_for_business.json()["invalidParams"][0]["name"] == "zekerheid"
        ident = await identify_with_login(
            anna, contact, {"kvkNummer": TWO_BRANCHES}, "eherkenning-eh3", handelendPersoon="J. Bakker"
        )
        assert ident["onderwerpType"] == "kvk"
        assert ident["zekerheid"] == "eherkenning-eh3"
        assert ident["identificatie"]["methode"] == "eherkenning"
        assert ident["identificatie"]["acr"] == "urn:etoegang:core:assurance-class:loa3"
        assert ident["weergavenaam"]
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    secties = sections(body)
    basis = secties["klant.basis"]
    assert [s["bronId"] for s in basis] == ["kvk"], "BRP is never asked about a business"
    assert basis[0]["status"] == "ok"
    assert basis[0]["gegevens"]["kvkNummer"] == TWO_BRANCHES
    assert secties["klant.familie"][0]["reden"] in {"SUBJECT_KIND_NOT_APPLICABLE", "CATEGORY_NOT_IN_PURPOSE"}
    assert secties["dienst.zaken-lopend"][0]["status"] in {"ok"}
    assert secties["contact.historie"][0]["status"] == "ok"


async def test_unknown_kvk_nummer_is_refused_at_identification(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"]
        token = await login_token(anna, {"kvkNummer": "12345678"}, "eherkenning-eh3")
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"kvkNummer": "12345678", **token}
        )
    # a valid KVK number of no company: an unknown customer, not bad input (404, the field named)
    assert resp.status_code == 404
    assert resp.json()["veld"] == "kvkNummer"
    assert resp.json()["reden"] == "SUBJECT_UNKNOWN"


async def test_business_desk_shows_all_six_information_types(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (
            await anna.post(
                "/api/v1/contacten",
                json={"kanaal": "telefoon", "verwerkingsactiviteit": GEMEENTE + "ondernemersloket"},
            )
        ).json()["id"]
        await identify_with_login(anna, contact, {"kvkNummer": TWO_BRANCHES}, "eherkenning-eh3")
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    ok_types = {s["informatietype"] for s in body["secties"] if s["status"] == "ok"}
    assert ok_types == {
        "klantdata",
        "dienstdata",
        "contactdata",
        "dossierdata",
        "belevingsdata",
        "feedbackdata",
    }
    financieel = sections(body)["dossier.financieel"]
    assert {s["bronId"] for s in financieel} == {"gemeente-belastingen", "gemeente-boetes"}
