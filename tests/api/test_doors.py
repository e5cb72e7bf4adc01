"""The doors around the purpose-bound core (issue 8 §1, §2, §4), tried as an attacker with a valid
staff token would: other roles, other organisations, other subjects, no purpose, crafted tokens and
two requests at once. Each test reproduces a finding that passed on the earlier main."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest

from dgkb.api.dev_issuer import DEMO_ACCOUNTS
from dgkb.contacts.service import ContactForbidden
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor
from dgkb.domain.roles import Role
from dgkb.policy.decision import DecisionRequest
from tests.api.conftest import GEMEENTE, Stack, identify, open_contact

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
BSN = "999993653"
OTHER_BSN = "999990639"
WATERSCHAP_OIN = "00000001009876543000"
WMO_ZAAK = "ZAAK-2026-0000006"  # open Wmo zaak with behandelaar-bram as behandelaar
PARKING_ZAAK = "ZAAK-2026-0000001"  # a parking permit zaak without a rol for bram


async def _contact(client: httpx.AsyncClient, purpose: str | None = None) -> str:
    body: dict[str, Any] = {"kanaal": "telefoon"}
    if purpose:
        body["verwerkingsactiviteit"] = purpose
    resp = await client.post("/api/v1/contacten", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _crafted_token(stack: Stack, demo_account: str, **changes: str) -> str:
    """A token the demo issuer really signs, for a demo account with some claims changed."""
    account = next(a for a in DEMO_ACCOUNTS if a.username == demo_account)
    crafted = dataclasses.replace(account, **changes)
    s = stack.settings
    claims = {"role": s.oidc_role_claim, "organisation": s.oidc_organisation_claim, "unit": s.oidc_unit_claim}
    return str(stack.app.state.dev_issuer.token_for(crafted, claims=claims))


# --- §1 who may identify whom -------------------------------------------------------------------


@pytest.mark.parametrize("user", ["beheer-bea", "privacy-petra"])
async def test_roles_without_identification_purpose_cannot_search_or_identify(
    stack: Stack, user: str
) -> None:
    async with await stack.as_user(user) as client:
        contact = await _contact(client)
        search = await client.post(
            "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": "3026MP 166"}
        )
        assert search.status_code == 403, search.text
        assert search.json()["reden"] == "ROLE_NOT_ALLOWED"
        assert "kandidaten" not in search.json()
        by_bsn = await client.post(
            "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": BSN}
        )
        assert by_bsn.status_code == 403
        answers = await client.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN})
        assert answers.status_code == 403
        ident = await client.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "geen"}
        )
        assert ident.status_code == 403, ident.text
        assert ident.json()["reden"] == "ROLE_NOT_ALLOWED"
        assert "weergavenaam" not in ident.json()
    # and nothing about the customer was read in their name: no access record names them
    async with await stack.as_user("privacy-petra") as petra:
        log = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"medewerker": user})
        assert log.status_code == 200, log.text
        assert log.json()["resultaten"] == []


async def test_a_contact_without_purpose_identifies_but_reads_no_klantbeeld(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna)
        found = await anna.post("/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": BSN})
        assert found.status_code == 200
        assert [k["bsn"] for k in found.json()["kandidaten"]] == [BSN]
        await identify(anna, contact, {"bsn": BSN})
        view = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert view.status_code == 403
        assert view.json()["reden"] == "PURPOSE_NOT_CHOSEN"


async def test_control_questions_are_attested_only_after_their_answers_were_shown(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await _contact(anna, ALGEMEEN)
        blind = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
        assert blind.status_code == 403, blind.text
        assert blind.json()["reden"] == "CONTROL_ANSWERS_NOT_SHOWN"
        # answers of someone else do not count for this customer
        other = await anna.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": OTHER_BSN})
        assert other.status_code == 200
        still_blind = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
        assert still_blind.status_code == 403
        shown = await anna.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN})
        assert shown.status_code == 200
        assert all(v["antwoord"] for v in shown.json())
        ok = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["zekerheid"] == "controlevragen"
    # showing the answers is itself a logged read, about the person whose answers were shown
    async with await stack.as_user("privacy-petra") as petra:
        log = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={"bsn": OTHER_BSN})
    reads = [r for r in log.json()["resultaten"] if r["contact_id"] == contact]
    assert reads, "the control-answer read of the other person was not logged"
    assert all(r["actor_id"] == "kcm-anna" for r in reads)
    assert all(r["processing_activity_id"].endswith("/kcc-identificatie") for r in reads)
    assert all("klant.basis" in r["categories_delivered"] for r in reads)


async def test_control_answers_of_another_employees_contact_are_refused(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna, await stack.as_user("kcm-wim") as wim:
        contact = await _contact(anna, ALGEMEEN)
        resp = await wim.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN})
        assert resp.status_code == 403
        assert resp.json()["reden"] == "CONTACT_OF_OTHER_ACTOR"


# --- §4 one contact, one subject; contacts belong to a person of an organisation ---------------


async def test_two_identifications_at_once_bind_at_most_one_subject(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        for _ in range(4):
            contact = await _contact(anna, ALGEMEEN)
            results = await asyncio.gather(
                *(
                    anna.post(
                        f"/api/v1/contacten/{contact}/identificatie", json={"bsn": bsn, "zekerheid": "geen"}
                    )
                    for bsn in (BSN, OTHER_BSN)
                )
            )
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 409], [r.text for r in results]
            loser = next(r for r in results if r.status_code == 409)
            assert loser.json()["veld"] == "bsn"
            # the contact stays bound to the winner: the loser's BSN cannot read through it
            lost_bsn = BSN if results[0].status_code == 409 else OTHER_BSN
            view = await anna.post(
                "/api/v1/klantbeelden",
                json={"contactId": contact, "bsn": lost_bsn, "verwerkingsactiviteit": ALGEMEEN},
            )
            assert view.status_code == 403
            assert view.json()["reden"] == "SUBJECT_NOT_IN_CONTACT"


async def test_a_token_of_another_organisation_with_the_same_sub_cannot_open_the_contact(
    stack: Stack,
) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
    token = _crafted_token(stack, "kcm-anna", organisation=WATERSCHAP_OIN)
    async with httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as fake:
        for resp in (
            await fake.get(f"/api/v1/contacten/{contact}"),
            await fake.get(f"/api/v1/contacten/{contact}/klantbeeld"),
            await fake.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN}),
        ):
            assert resp.status_code == 403, resp.text
            assert resp.json()["reden"] == "CONTACT_OF_OTHER_ACTOR"


async def test_the_same_sub_from_another_issuer_cannot_open_the_contact(stack: Stack) -> None:
    """Only one staff issuer is trusted per installation, so this is tried on the service: a contact
    started by (issuer A, kcm-anna) refuses (issuer B, kcm-anna)."""
    contacts = stack.app.state.services.contacts
    anna = Actor(id="kcm-anna", role=Role.KCM, organisation="00000001001234567000", issuer="https://idp-a")
    view = await contacts.start(anna, kanaal=Kanaal.TELEFOON, purpose_id=ALGEMEEN)
    impostor = Actor(
        id="kcm-anna", role=Role.KCM, organisation="00000001001234567000", issuer="https://idp-b"
    )
    with pytest.raises(ContactForbidden) as refused:
        await contacts.get(impostor, view.id)
    assert refused.value.reason == "CONTACT_OF_OTHER_ACTOR"
    assert (await contacts.get(anna, view.id)).id == view.id


# --- §2 case workers only see their own zaken --------------------------------------------------


async def test_case_worker_cannot_open_a_zaak_he_does_not_handle(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        resp = await bram.post("/api/v1/zaaksessies", json={"zaak": PARKING_ZAAK})
        assert resp.status_code == 403, resp.text
        assert resp.json()["reden"] == "NOT_BEHANDELAAR"
        closed_other = await bram.post("/api/v1/zaaksessies", json={"zaak": "ZAAK-2025-0000015"})
        assert closed_other.status_code in (403, 404), closed_other.text
        if closed_other.status_code == 403:
            assert closed_other.json()["reden"] in ("NOT_BEHANDELAAR", "ZAAK_CLOSED")
        mine = await bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
        assert mine.status_code == 201, mine.text


async def test_another_case_worker_with_the_same_role_cannot_open_brams_zaak(stack: Stack) -> None:
    token = _crafted_token(stack, "behandelaar-bram", username="behandelaar-bert")
    async with httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as bert:
        resp = await bert.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
    assert resp.status_code == 403
    assert resp.json()["reden"] == "NOT_BEHANDELAAR"


async def test_case_worker_of_another_organisation_cannot_open_the_zaak(stack: Stack) -> None:
    token = _crafted_token(stack, "behandelaar-bram", organisation=WATERSCHAP_OIN)
    async with httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as bram_elsewhere:
        resp = await bram_elsewhere.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
    assert resp.status_code == 403
    assert resp.json()["reden"] == "PURPOSE_UNKNOWN"


async def test_a_closed_zaak_opens_only_when_the_purpose_allows_it(stack: Stack) -> None:
    sim = stack.simulators["zaken"]
    async with httpx.AsyncClient(timeout=10) as z:
        zaak = (
            await z.get(
                f"{sim}/zaken/api/v1/zaken",
                params={"identificatie": WMO_ZAAK},
                headers={"Accept-Crs": "EPSG:4326"},
            )
        ).json()["results"][0]
        zaaktype = (await z.get(zaak["zaaktype"])).json()
        statustypen = [(await z.get(u)).json() for u in zaaktype["statustypen"]]
        eind = next(s for s in statustypen if s["isEindstatus"])
        closed = await z.post(f"{sim}/_sim/zaken/{zaak['uuid']}/status", json={"statustype": eind["url"]})
        assert closed.status_code == 201, closed.text
    async with await stack.as_user("behandelaar-bram") as bram:
        resp = await bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
    assert resp.status_code == 403, resp.text
    assert resp.json()["reden"] == "ZAAK_CLOSED"


async def test_two_zaak_sessions_at_once_are_each_checked(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        results = await asyncio.gather(
            bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK}),
            bram.post("/api/v1/zaaksessies", json={"zaak": PARKING_ZAAK}),
        )
    assert [r.status_code for r in results] == [201, 403]


async def test_identification_purpose_comes_from_the_register(stack: Stack) -> None:
    register = stack.app.state.services.register
    purpose = register.identification_purpose("00000001001234567000")
    assert purpose is not None
    assert purpose.identificatie
    assert register.identification_purpose("00000001009876543000") is not None


# --- DGKB's own purposes are no door ------------------------------------------------------------


@pytest.mark.postgres
async def test_a_token_claiming_role_systeem_cannot_use_dgkbs_own_purposes(stack: Stack) -> None:
    """The register's `systeemtaak` purposes (reconciliation, notifications) have role `systeem` and
    every category: a staff token that claims that role must still not open a contact under them, and
    the PDP permits nothing under them to anyone."""
    actualiseren = stack.app.state.services.register.system_purpose("00000001001234567000", "actualiseren")
    assert actualiseren is not None
    token = _crafted_token(stack, "kcm-anna", role="systeem")
    async with httpx.AsyncClient(base_url=stack.api, headers={"Authorization": f"Bearer {token}"}) as mallory:
        resp = await mallory.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": actualiseren.id}
        )
        assert resp.status_code == 403, resp.text
        assert resp.json()["reden"] == "ROLE_NOT_ALLOWED"
        created = await mallory.post("/api/v1/contacten", json={"kanaal": "telefoon"})
        assert created.status_code == 201, created.text
        resp = await mallory.put(
            f"/api/v1/contacten/{created.json()['id']}/verwerkingsactiviteit",
            json={"verwerkingsactiviteit": actualiseren.id},
        )
        assert resp.status_code == 403, resp.text
    decision = stack.app.state.services.engine.decide(
        DecisionRequest(
            purpose_id=actualiseren.id,
            role=Role.SYSTEEM,
            assurance=Assurance.DIGID_HOOG,
            organisation="00000001001234567000",
            categories=("klant.basis", "dossier.financieel"),
        )
    )
    assert decision.permitted == ()
