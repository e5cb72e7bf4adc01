"""Consent comes from the customer on the line, identified with at least control questions, and
giving, withdrawing and expiry are audit records in the hash chain (issue 8 §3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from dgkb.audit import verify
from dgkb.domain.identifiers import Subject
from dgkb.store.audit_tables import AccessRecord, LdvRecord
from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact

WMO = GEMEENTE + "wmo-aanvraag"
WATERSCHAPSBELASTING = WATERSCHAP + "waterschapsbelasting"
WMO_ZAAK = "ZAAK-2026-0000006"  # Aanvraag Wmo-voorziening, handled by behandelaar-bram
GEMEENTE_OIN = "00000001001234567000"
BSN = "999993653"
FINANCIEEL = "dossier.financieel"  # consent-bound under wmo-aanvraag, served by the tax and fines sources


async def give(client: httpx.AsyncClient, contact: str, *categories: str, **extra: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/toestemmingen", json={"contactId": contact, "categorieen": list(categories), **extra}
    )


async def withdraw(client: httpx.AsyncClient, consent_id: str, contact: str) -> httpx.Response:
    return await client.post(f"/api/v1/toestemmingen/{consent_id}/intrekking", json={"contactId": contact})


async def audit_records(stack: Stack, name: str) -> list[dict[str, Any]]:
    """The consent processings of that name as logged: access record joined to its LDV record."""
    query = (
        select(
            AccessRecord.actor_id,
            AccessRecord.actor_role,
            AccessRecord.organisation,
            AccessRecord.contact_id,
            AccessRecord.processing_activity_id,
            AccessRecord.categories_delivered,
            AccessRecord.data_subject_id,
            LdvRecord.categories,
            LdvRecord.data_subject_id.label("ldv_subject"),
        )
        .join(
            LdvRecord,
            (LdvRecord.trace_id == AccessRecord.trace_id) & (LdvRecord.span_id == AccessRecord.span_id),
        )
        .where(LdvRecord.name == name)
    )
    async with stack.app.state.services.database.engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [dict(r) for r in rows]


def pseudonym_of(stack: Stack, bsn: str) -> str:
    return str(stack.app.state.services.pseudonymizer.pseudonym(Subject.person(bsn)).value)


async def test_no_consent_in_a_zaak_session_the_customer_is_not_on_the_line(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        session = await bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
        assert session.status_code == 201, session.text
        resp = await give(bram, session.json()["id"], "klant.werk-en-inkomen")
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["reden"] == "CONSENT_NEEDS_CUSTOMER"
    assert problem["veld"] == "contactId"
    assert "klant" in problem["detail"]
    assert await audit_records(stack, "toestemming vastgelegd") == []


async def test_no_consent_from_a_customer_identified_without_assurance(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        sure = await open_contact(bram, WMO, zekerheid="controlevragen")
        given = await give(bram, sure, FINANCIEEL)
        assert given.status_code == 201, given.text
        unsure = await open_contact(bram, WMO, zekerheid="geen")
        resp = await give(bram, unsure, FINANCIEEL)
        # withdrawing is the customer's act too: not by someone merely claiming to be them
        withdrawal = await withdraw(bram, given.json()["id"], unsure)
    for refused in (resp, withdrawal):
        assert refused.status_code == 403, refused.text
        problem = refused.json()
        assert problem["reden"] == "CONSENT_ASSURANCE_TOO_LOW"
        assert problem["veld"] == "zekerheid"
        assert "controlevragen" in problem["detail"]
    assert [r["contact_id"] for r in await audit_records(stack, "toestemming vastgelegd")] == [sure]
    assert await audit_records(stack, "toestemming ingetrokken") == []


async def test_consent_at_control_questions_is_recorded_and_audited(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="controlevragen")
        resp = await give(bram, contact, FINANCIEEL)
        assert resp.status_code == 201, resp.text
        listed = (await bram.get(f"/api/v1/contacten/{contact}/toestemmingen")).json()
    assert resp.json()["categorieen"] == [FINANCIEEL]
    assert [c["id"] for c in listed] == [resp.json()["id"]]
    (record,) = await audit_records(stack, "toestemming vastgelegd")
    assert record["actor_id"] == "behandelaar-bram"
    assert record["contact_id"] == contact
    assert record["processing_activity_id"] == WMO
    assert json.loads(record["categories_delivered"]) == [FINANCIEEL]
    assert json.loads(record["categories"]) == [FINANCIEEL]
    assert record["data_subject_id"] == record["ldv_subject"] == pseudonym_of(stack, BSN)
    report = await verify(stack.app.state.services.database)
    assert report.ok, report.first_break


async def test_withdrawal_is_audited_once(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        given_in = await open_contact(bram, WMO, zekerheid="digid-midden")
        given = await give(bram, given_in, FINANCIEEL)
        assert given.status_code == 201, given.text
        # the customer calls again later and withdraws it in another contact
        withdrawn_in = await open_contact(bram, WMO, zekerheid="controlevragen")
        first = await withdraw(bram, given.json()["id"], withdrawn_in)
        again = await withdraw(bram, given.json()["id"], withdrawn_in)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json()["ingetrokkenOp"] == first.json()["ingetrokkenOp"]
    (record,) = await audit_records(stack, "toestemming ingetrokken")
    assert record["actor_id"] == "behandelaar-bram"
    assert record["contact_id"] == withdrawn_in
    assert record["processing_activity_id"] == WMO
    assert json.loads(record["categories_delivered"]) == [FINANCIEEL]
    assert record["data_subject_id"] == pseudonym_of(stack, BSN)


async def test_expiry_is_audited_once_by_the_sweep(stack: Stack) -> None:
    services = stack.app.state.services
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="controlevragen")
        expiring = await give(bram, contact, FINANCIEEL, verlooptOp=tomorrow.isoformat())
        assert expiring.status_code == 201, expiring.text
        withdrawn_first = await give(bram, contact, FINANCIEEL, verlooptOp=tomorrow.isoformat())
        assert (await withdraw(bram, withdrawn_first.json()["id"], contact)).status_code == 200
        # the contact ends: DGKB keeps no plain BSN, yet the expiry is logged about this customer
        assert (await bram.post(f"/api/v1/contacten/{contact}/beeindiging")).status_code == 200
    assert await services.consent.sweep_expired() == 0  # nothing has expired yet
    later = tomorrow + timedelta(hours=1)
    assert await services.consent.sweep_expired(now=later) == 1  # the withdrawn one ended before
    assert await services.consent.sweep_expired(now=later + timedelta(days=1)) == 0  # logged once
    (record,) = await audit_records(stack, "toestemming verlopen")
    assert record["actor_id"] == "dgkb-systeem"
    assert record["actor_role"] == "systeem"
    assert record["organisation"] == GEMEENTE_OIN
    assert record["contact_id"] == contact
    assert record["processing_activity_id"] == WMO
    assert json.loads(record["categories_delivered"]) == [FINANCIEEL]
    assert record["data_subject_id"] == record["ldv_subject"] == pseudonym_of(stack, BSN)
    report = await verify(services.database)
    assert report.ok, report.first_break


async def test_no_consent_for_a_category_no_source_serves(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="digid-midden")
        # consent-bound under this purpose, but no income source is connected in this installation
        resp = await give(bram, contact, "klant.werk-en-inkomen")
    assert resp.status_code == 400, resp.text
    (param,) = resp.json()["invalidParams"]
    assert param["name"] == "categorieen"
    assert "klant.werk-en-inkomen" in param["reason"]
    assert "geen bron" in param["reason"]
    assert await audit_records(stack, "toestemming vastgelegd") == []


async def test_no_consent_in_another_employees_contact(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="controlevragen")
        given = await give(bram, contact, FINANCIEEL)
        assert given.status_code == 201, given.text
    async with await stack.as_user("kcm-anna") as anna:
        resp = await give(anna, contact, FINANCIEEL)
        withdrawal = await withdraw(anna, given.json()["id"], contact)
    for refused in (resp, withdrawal):
        assert refused.status_code == 403, refused.text
        assert refused.json()["reden"] == "CONTACT_OF_OTHER_ACTOR"
    assert len(await audit_records(stack, "toestemming vastgelegd")) == 1
    assert await audit_records(stack, "toestemming ingetrokken") == []


async def test_another_organisation_neither_sees_nor_withdraws_the_consent(stack: Stack) -> None:
    async with await stack.as_user("behandelaar-bram") as bram:
        contact = await open_contact(bram, WMO, zekerheid="controlevragen")
        given = await give(bram, contact, FINANCIEEL)
        assert given.status_code == 201, given.text
    async with await stack.as_user("kcm-wim") as wim:  # the water board, same customer
        theirs = await open_contact(wim, WATERSCHAPSBELASTING, zekerheid="controlevragen")
        listed = await wim.get(f"/api/v1/contacten/{theirs}/toestemmingen")
        resp = await withdraw(wim, given.json()["id"], theirs)
        # nor can it give consent for a purpose it has no consent-bound category in
        needless = await give(wim, theirs, FINANCIEEL)
    assert listed.status_code == 200
    assert listed.json() == []
    assert resp.status_code == 403, resp.text
    assert resp.json()["reden"] == "CONSENT_OTHER_ORGANISATION"
    assert resp.json()["veld"] == "verwerkingsactiviteit"
    assert needless.status_code == 400
    assert await audit_records(stack, "toestemming ingetrokken") == []
    async with await stack.as_user("behandelaar-bram") as bram:
        still = (await bram.get(f"/api/v1/contacten/{contact}/toestemmingen")).json()
    assert still[0]["ingetrokkenOp"] is None
