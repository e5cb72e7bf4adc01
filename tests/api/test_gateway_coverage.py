"""Coverage you can count (issue 10 §3): a scripted run through every feature, then every request a
simulator received that carries a subject (a BSN, KVK-nummer or vestigingsnummer of the demo world)
must have an LDV record with the same trace id and that same subject — no orphan request — and no
access record may name an actor who did not cause it (reconciliation reads in DGKB's own name).

The simulators record what they receive (`GET /_sim/requests`), so this counts real HTTP requests
on real sockets, whatever path inside DGKB made them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dgkb.domain.context import Trace
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.events.notificaties import DEV_TOKEN
from dgkb.simulators.world import build_world
from dgkb.store.audit_tables import AccessRecord, LdvRecord
from tests.api.conftest import GEMEENTE, WATERSCHAP, Stack, open_contact, running_stack


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """This module counts requests and records, not deadlines: a source slowed by a loaded machine
    must not turn a read into "unreachable" (the default stack gives a source one second)."""
    async with running_stack(database_url, simulators, source_deadline_seconds=5.0) as running:
        yield running


WORLD = build_world()  # the world the stack's simulators serve
BSNS = {p.bsn for p in WORLD.persons}
KVKS = set(WORLD.kvk_nummers)
VESTIGINGEN = {v.vestigingsnummer for c in WORLD.companies for v in c.vestigingen}
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
BSN = "999993653"
WMO_ZAAK = "ZAAK-2026-0000006"  # Aanvraag Wmo-voorziening; initiator 999991425
VALID = WORLD.document("valid_document")  # 999990639's passport
# a digit run on its own (not part of a uuid, a date or a longer number)
_NUMBER = re.compile(r"(?<![0-9A-Za-z-])(\d{8,12})(?![0-9A-Za-z-])")


def subjects_in(request: dict[str, Any]) -> set[Subject]:
    """The demo world's subjects a recorded request names, in its path, query or body."""
    text = " ".join((request["path"], request["query"], json.dumps(request["body"])))
    found: set[Subject] = set()
    for number in _NUMBER.findall(text):
        if number in BSNS:
            found.add(Subject(SubjectKind.BSN, number))
        elif number in KVKS:
            found.add(Subject(SubjectKind.KVK, number))
        elif number in VESTIGINGEN:
            found.add(Subject(SubjectKind.VESTIGING, number))
    return found


def trace_id(request: dict[str, Any]) -> str | None:
    parent = {k.lower(): v for k, v in request["headers"].items()}.get("traceparent", "")
    parts = parent.split("-")
    return parts[1] if len(parts) == 4 else None


async def recorded(stack: Stack) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    async with httpx.AsyncClient(timeout=10) as c:
        for name, url in stack.simulators.items():
            resp = await c.get(f"{url}/_sim/requests")
            if resp.status_code == 404:
                continue  # a simulator without a request log (none of DGKB's sources)
            out.extend((name, r) for r in resp.json())
    return out


async def forget_requests(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as c:
        for url in stack.simulators.values():
            await c.delete(f"{url}/_sim/requests")


async def open_zaak(stack: Stack) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as c:
        page = (
            await c.get(
                f"{stack.simulators['zaken']}/zaken/api/v1/zaken",
                params={"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": BSN},
                headers={"Accept-Crs": "EPSG:4326"},
            )
        ).json()
    return dict(page["results"][0])


async def scripted_run(stack: Stack, zaak: dict[str, Any]) -> None:
    """Every feature once, as its users (and DGKB itself) would use it."""
    services = stack.app.state.services
    async with await stack.as_user("kcm-anna") as anna:
        # search: by BSN, name and birth date, address, phone, e-mail, KVK-nummer, company name
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"]
        for zoekterm in ("999993653", "Berg 03-07-1960", "3026MP 166", "06-45408799", "68750110"):
            resp = await anna.post(
                "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": zoekterm}
            )
            assert resp.status_code == 200, resp.text
        # identification with control questions under a purpose, then the klantbeeld
        contact = await open_contact(anna, ALGEMEEN, BSN)
        assert (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
        # a contact moment with a contactverzoek, registered in Klantinteracties over the API
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/contactmomenten",
            json={
                "vragen": [
                    {
                        "onderwerp": "algemeen",
                        "vraag": "Wanneer wordt het grofvuil opgehaald?",
                        "antwoord": "Op dinsdag.",
                        "uitkomst": "terugbelverzoek",
                    }
                ],
                "contactverzoek": {"afdeling": "kcc", "gevraagdeHandeling": "Klant terugbellen"},
            },
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["allesOpgeslagen"] is True
        actor = await stack.app.state.validator.actor(anna.headers["Authorization"].split()[1])
        # reconciliation of the open view: in DGKB's own name
        context = await services.contacts.context_for(actor, contact, trace=Trace())
        assert await services.klantbeeld.refresh(context) is not None
        # an identity document at the counter
        balie = (await anna.post("/api/v1/contacten", json={"kanaal": "balie"})).json()["id"]
        resp = await anna.post(
            f"/api/v1/contacten/{balie}/identiteitsbewijzen",
            json={"bsn": VALID.houder_bsn, "documentnummer": VALID.reisdocumentnummer, "soort": "paspoort"},
        )
        assert resp.status_code == 200, resp.text
    async with await stack.as_user("kcm-wim") as wim:
        # "bevestig met DigiD" by text message: reads the verified mobile number
        contact = await open_contact(wim, WATERSCHAP + "waterschapsbelasting", BSN)
        resp = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "sms"})
        assert resp.status_code == 201, resp.text
    async with await stack.as_user("behandelaar-bram") as bram:
        # a case worker's "mijn zaken" (the console's service) and a zaak session
        behandelaar = await stack.app.state.validator.actor(bram.headers["Authorization"].split()[1])
        assert await services.contacts.zaken_van_behandelaar(behandelaar, trace=Trace())
        session = await bram.post("/api/v1/zaaksessies", json={"zaak": WMO_ZAAK})
        assert session.status_code == 201, session.text
        assert (await bram.get(f"/api/v1/contacten/{session.json()['id']}/klantbeeld")).status_code == 200
    # a change notification about a zaak: whom it is about is read in DGKB's own name
    resp = await stack.client.post(
        "/api/v1/notificaties",
        json={
            "kanaal": "zaken",
            "hoofdObject": zaak["url"],
            "resource": "status",
            "resourceUrl": zaak["url"],
            "actie": "create",
            "aanmaakdatum": datetime.now(UTC).isoformat(),
            "kenmerken": {"zaaktype": zaak["zaaktype"]},
        },
        headers={"Authorization": f"Bearer {DEV_TOKEN}"},
    )
    assert resp.status_code in (200, 204), resp.text


@pytest.mark.postgres
async def test_every_source_request_about_a_subject_has_its_ldv_record(stack: Stack) -> None:
    zaak = await open_zaak(stack)  # before the log is cleared: the test's own request is no orphan
    await forget_requests(stack)
    await scripted_run(stack, zaak)
    # notification handling is synchronous: the API answered after resolving the subjects
    requests = await recorded(stack)
    services = stack.app.state.services
    async with services.database.sessions() as session:
        ldv = (await session.execute(select(LdvRecord.trace_id, LdvRecord.data_subject_id))).all()
        access = (await session.execute(select(AccessRecord))).scalars().all()
    logged = {(t, s) for t, s in ldv}

    about_someone = [(sim, r) for sim, r in requests if subjects_in(r)]
    assert len(about_someone) >= 15, "the run reached the sources"
    assert {sim for sim, _ in about_someone} >= {"brp", "klantinteracties", "zaken", "kvk", "reisdocumenten"}
    orphans = []
    for sim, request in about_someone:
        trace = trace_id(request)
        for subject in subjects_in(request):
            key = services.pseudonymizer.pseudonym(subject).value
            if (trace, key) not in logged:
                orphans.append(
                    f"{sim} {request['method']} {request['path']}?{request['query'][:80]} ({subject.kind})"
                )
    assert not orphans, "requests about a subject without an LDV record in their trace:\n" + "\n".join(
        orphans
    )

    # every access record names an actor who caused it: one of the people in the run, or DGKB itself
    # under one of its own registered purposes (never an employee for a read DGKB did)
    system_purposes = {
        va.id for va in services.register.verwerkingsactiviteiten if va.systeemtaak is not None
    }
    for record in access:
        if record.actor_id.startswith("dgkb-"):
            assert record.actor_role == "systeem"
            assert record.processing_activity_id in system_purposes
        else:
            assert record.processing_activity_id not in system_purposes, record.actor_id
    names = {r.actor_id for r in access}
    assert {"dgkb-actualiseren", "dgkb-notificaties"} <= names
