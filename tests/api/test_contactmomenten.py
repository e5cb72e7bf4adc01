"""Registering a contact moment over the API (issue 11 §9): what a chat platform, a web form or a phone
system sends — several questions and a contactverzoek — saved in Klantinteracties under the console's
rules and logging, tried as an attacker and a careless client would: other roles, other organisations,
a contact without customer or purpose, and bad input in every field. Before this there was no API."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dgkb.api.dev_issuer import DEMO_ACCOUNTS
from dgkb.app import create_app
from dgkb.audit.query import LdvEntry, search_ldv
from dgkb.contacts.moment import MAX_VRAGEN, MAX_ZAKEN
from dgkb.domain.identifiers import Subject
from dgkb.settings import Environment, Settings
from dgkb.simulators.world import build_world
from tests.api import test_fuzz as fuzz
from tests.api.conftest import GEMEENTE, Stack, identify, open_contact, sections

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
BSN = "999993653"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
VRAAG: dict[str, Any] = {
    "onderwerp": "afval",
    "vraag": "Wanneer wordt het grofvuil opgehaald?",
    "antwoord": "Op dinsdag, aanmelden kan online.",
    "uitkomst": "afgehandeld",
}


def moments(contact: str) -> str:
    return f"/api/v1/contacten/{contact}/contactmomenten"


async def ki_writes(stack: Stack) -> list[dict[str, Any]]:
    """What DGKB wrote to the Klantinteracties simulator (POSTs), in order."""
    async with httpx.AsyncClient(timeout=10) as c:
        seen = (await c.get(f"{stack.simulators['klantinteracties']}/_sim/requests")).json()
    return [r for r in seen if r["method"] == "POST"]


async def forget_ki_requests(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as c:
        await c.delete(f"{stack.simulators['klantinteracties']}/_sim/requests")


async def access_log(stack: Stack, **query: str) -> list[dict[str, Any]]:
    async with await stack.as_user("privacy-petra") as petra:
        resp = await petra.post("/api/v1/toegangslog/zoekopdrachten", json={**query, "limiet": 500})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["resultaten"])


async def ldv(stack: Stack, bsn: str = BSN) -> list[LdvEntry]:
    """The LDV records about the customer (what the citizen sees in "Mijn omgeving")."""
    services = stack.app.state.services
    page = await search_ldv(services.database, services.pseudonymizer, subject=Subject.person(bsn), limit=500)
    return list(page.items)


async def registrations_logged(stack: Stack, bsn: str = BSN) -> list[str]:
    return [e.name for e in await ldv(stack, bsn) if e.name.startswith(("contactmoment", "contactverzoek"))]


def crafted_token(stack: Stack, demo_account: str, **changes: str) -> str:
    """A token the demo issuer really signs, for a demo account with some claims changed."""
    account = next(a for a in DEMO_ACCOUNTS if a.username == demo_account)
    s = stack.settings
    claims = {"role": s.oidc_role_claim, "organisation": s.oidc_organisation_claim, "unit": s.oidc_unit_claim}
    return str(stack.app.state.dev_issuer.token_for(dataclasses.replace(account, **changes), claims=claims))


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


# --- what it is for ------------------------------------------------------------------------------


async def test_a_chat_platform_registers_several_questions_and_a_contactverzoek(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN, kanaal="chat")
        zaak = "ZAAK-2026-0000006"
        await forget_ki_requests(stack)
        resp = await anna.post(
            moments(contact),
            headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
            json={
                "vragen": [
                    VRAAG,
                    {
                        "onderwerp": "wmo",
                        "vraag": "Hoe staat mijn aanvraag voor huishoudelijke hulp ervoor?",
                        "antwoord": "In behandeling; de consulent belt deze week.",
                        "uitkomst": "terugbelverzoek",
                        "zaken": [zaak],
                    },
                    {
                        "onderwerp": "belastingen",
                        "vraag": "Klopt mijn WOZ-waarde?",
                        "uitkomst": "doorverwezen",
                        "doorverwezenNaar": "Belastingdienst",
                    },
                ],
                "contactverzoek": {
                    "afdeling": "team-wmo",
                    "gevraagdeHandeling": "Klant terugbellen over de aanvraag",
                    "toelichting": "Graag na 14 uur.",
                    "deadline": (datetime.now(UTC).date() + timedelta(days=3)).isoformat(),
                },
            },
        )
        assert resp.status_code == 201, resp.text
        assert resp.headers["api-version"]
        body = resp.json()
        assert body["contactId"] == contact
        assert body["allesOpgeslagen"] is True
        assert body["bron"] == stack.app.state.services.sources.configs["klantinteracties"].name
        assert [v["index"] for v in body["vragen"]] == [0, 1, 2]
        assert [v["status"] for v in body["vragen"]] == ["opgeslagen"] * 3
        assert [v["onderwerp"] for v in body["vragen"]] == [
            "Afval en containers",
            "Wmo en zorg",
            "Gemeentelijke belastingen en WOZ",
        ]
        assert all(v["nummer"] and v["fout"] is None and v["reden"] is None for v in body["vragen"])
        assert len({v["nummer"] for v in body["vragen"]}) == 3
        assert body["contactverzoek"]["nummer"]
        assert body["contactverzoek"]["fout"] is None

        # what reached Klantinteracties: three klantcontacten on the contact's channel, each linked to
        # the customer; the zaak linked to its question; the taak to the last question
        writes = await ki_writes(stack)
        contacts = [w for w in writes if w["path"].endswith("/klantcontacten")]
        assert [c["body"]["kanaal"] for c in contacts] == ["chat"] * 3
        assert [c["body"]["onderwerp"] for c in contacts] == [v["onderwerp"] for v in body["vragen"]]
        assert "Uitkomst: Doorverwezen naar Belastingdienst" in contacts[2]["body"]["inhoud"]
        assert len([w for w in writes if w["path"].endswith("/betrokkenen")]) == 3
        objecten = [w for w in writes if w["path"].endswith("/onderwerpobjecten")]
        assert [o["body"]["onderwerpobjectidentificator"]["objectId"] for o in objecten] == [zaak]
        assert objecten[0]["body"]["klantcontact"]["uuid"] == contacts[1]["response"]["body"]["uuid"]
        taken = [w for w in writes if w["path"].endswith("/internetaken")]
        assert len(taken) == 1
        assert taken[0]["body"]["gevraagdeHandeling"] == "Klant terugbellen over de aanvraag"
        assert contacts[2]["response"]["body"]["uuid"] in str(taken[0]["body"])
        # every write carried the contact's purpose
        assert all(w["headers"].get("x-verwerking") == ALGEMEEN for w in writes)

        # the next klantbeeld shows the new contacts (the cache forgot the old answer)
        view = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        historie = str(sections(view)["contact.historie"])
        assert all(v["nummer"] in historie for v in body["vragen"])

    # the same logging as the console: an LDV record per write under the contact's purpose, and in the
    # access log in Anna's name
    records = [e for e in await ldv(stack) if e.trace_id == TRACE_ID]
    assert sorted(e.name for e in records) == ["contactmoment registreren"] * 3 + ["contactverzoek aanmaken"]
    assert {e.processing_activity_id for e in records} == {ALGEMEEN}
    rows = [r for r in await access_log(stack, bsn=BSN) if r["trace_id"] == TRACE_ID]
    assert len(rows) == 4, rows
    assert {(r["actor_id"], r["channel"], r["processing_activity_id"]) for r in rows} == {
        ("kcm-anna", "chat", ALGEMEEN)
    }


async def test_the_choice_lists_are_those_of_the_employees_organisation(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        anna_lists = (await anna.get("/api/v1/contactmoment-keuzelijsten")).json()
    async with await stack.as_user("kcm-wim") as wim:
        resp = await wim.get("/api/v1/contactmoment-keuzelijsten")
        assert resp.status_code == 200, resp.text
        wim_lists = resp.json()
    anna_ids = {o["id"] for o in anna_lists["onderwerpen"]}
    wim_ids = {o["id"] for o in wim_lists["onderwerpen"]}
    assert {"afval", "algemeen"} <= anna_ids
    assert "waterschapsbelasting" not in anna_ids
    assert {"waterschapsbelasting", "algemeen"} <= wim_ids
    assert "afval" not in wim_ids
    assert {u["id"] for u in anna_lists["uitkomsten"]} == {
        "afgehandeld",
        "doorverbonden",
        "terugbelverzoek",
        "doorverwezen",
    }
    assert {"team-wmo", "kcc"} <= {a["id"] for a in anna_lists["afdelingen"]}
    assert "Belastingdienst" in anna_lists["doorverwijzen"]
    assert (await stack.client.get("/api/v1/contactmoment-keuzelijsten")).status_code == 401


# --- who may register on which contact --------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "reden"),
    [
        ("behandelaar-bram", "CONTACT_OF_OTHER_ACTOR"),  # another role, same organisation
        ("kcm-wim", "CONTACT_OF_OTHER_ACTOR"),  # another organisation
        ("privacy-petra", "ROLE_NOT_ALLOWED"),
        ("beheer-bea", "ROLE_NOT_ALLOWED"),
    ],
)
async def test_nobody_registers_on_someone_elses_contact(stack: Stack, user: str, reden: str) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
    await forget_ki_requests(stack)
    async with await stack.as_user(user) as other:
        body = problem(await other.post(moments(contact), json={"vragen": [VRAAG]}), 403)
    assert body["reden"] == reden
    assert "nummer" not in str(body)
    assert await ki_writes(stack) == []
    assert await registrations_logged(stack) == []


async def test_a_case_worker_registers_in_his_own_zaak_session(stack: Stack) -> None:
    """Another role that has contacts with customers: the behandelaar, in the session of his zaak."""
    async with await stack.as_user("behandelaar-bram") as bram:
        session = await bram.post("/api/v1/zaaksessies", json={"zaak": "ZAAK-2026-0000006"})
        assert session.status_code == 201, session.text
        resp = await bram.post(
            moments(session.json()["id"]),
            json={"vragen": [{**VRAAG, "onderwerp": "wmo", "zaken": ["ZAAK-2026-0000006"]}]},
        )
    assert resp.status_code == 201, resp.text
    assert resp.json()["vragen"][0]["status"] == "opgeslagen"


async def test_a_token_of_anna_with_another_role_or_organisation_cannot_register_on_her_contact(
    stack: Stack,
) -> None:
    """The same person: a contact is bound to actor, organisation and issuer, registering also to a
    role that has contacts with customers. A citizen's, an auditor's or a PEP's token is refused."""
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
    await forget_ki_requests(stack)
    for changes, reden in (
        ({"role": "burger"}, "ROLE_NOT_ALLOWED"),
        ({"role": "privacy"}, "ROLE_NOT_ALLOWED"),
        ({"role": "pep"}, "ROLE_NOT_ALLOWED"),
        ({"organisation": "00000001009876543000"}, "CONTACT_OF_OTHER_ACTOR"),
    ):
        token = crafted_token(stack, "kcm-anna", **changes)
        resp = await stack.client.post(
            moments(contact), json={"vragen": [VRAAG]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert problem(resp, 403)["reden"] == reden, changes
    assert await ki_writes(stack) == []
    assert await registrations_logged(stack) == []


async def test_a_contact_without_customer_or_purpose_or_that_ended_registers_nothing(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        # a contact whose customer is not identified yet
        started = await anna.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
        )
        unidentified = started.json()["id"]
        # a customer identified, but no purpose chosen
        no_purpose = (await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"]
        await identify(anna, no_purpose, {"bsn": BSN})
        # a contact that ended
        ended = await open_contact(anna, ALGEMEEN, BSN)
        assert (await anna.post(f"/api/v1/contacten/{ended}/beeindiging")).status_code == 200
        await forget_ki_requests(stack)
        for contact, reden in (
            (unidentified, "SUBJECT_NOT_IDENTIFIED"),
            (no_purpose, "PURPOSE_NOT_CHOSEN"),
            (ended, "CONTACT_ENDED"),
        ):
            body = problem(await anna.post(moments(contact), json={"vragen": [VRAAG]}), 403)
            assert body["reden"] == reden
        # a contact that does not exist, and an id that is no contact id at all
        for contact in ("0b5d8f57-3e7c-4d3a-9a55-2f1f2b0c1d9e", "niet-een-id", "%20"):
            assert problem(await anna.post(moments(contact), json={"vragen": [VRAAG]}), 404)
    assert await ki_writes(stack) == []
    assert await registrations_logged(stack) == []


async def test_a_customer_unknown_in_klantinteracties_is_a_conflict_and_nothing_is_saved(
    stack: Stack,
) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, build_world().no_partij_bsn)
        resp = await anna.post(
            moments(contact),
            json={
                "vragen": [VRAAG, {**VRAAG, "onderwerp": "algemeen"}],
                "contactverzoek": {"afdeling": "kcc", "gevraagdeHandeling": "Terugbellen"},
            },
        )
    body = problem(resp, 409)
    assert body["reden"] == "SUBJECT_NOT_IN_SOURCE"
    assert "niets opgeslagen" in body["detail"]
    assert not [w for w in await ki_writes(stack) if w["path"].endswith(("/klantcontacten", "/internetaken"))]


async def test_klantinteracties_down_before_anything_was_saved_names_the_source(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
        await stack.sim_behaviour("klantinteracties", fail="503")
        try:
            resp = await anna.post(moments(contact), json={"vragen": [VRAAG, VRAAG]})
        finally:
            await stack.sim_behaviour("klantinteracties", fail="none")
    body = problem(resp, 503)
    assert body["bron"] == "klantinteracties"
    assert body["code"] == "source.unavailable"
    assert stack.app.state.services.sources.configs["klantinteracties"].name in body["detail"]


async def test_klantinteracties_failing_after_the_first_question_keeps_what_was_saved(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Klantinteracties goes down right after the first klantcontact was written: 201 with the first
    saved and the rest reported, each with its error — never a 500, never losing the first."""
    adapter = stack.app.state.services.sources.adapters["klantinteracties"]
    write = adapter.register_klantcontact

    async def write_then_break(**kwargs: Any) -> dict[str, Any]:
        written: dict[str, Any] = await write(**kwargs)
        await stack.sim_behaviour("klantinteracties", fail="503")  # the source, really down from here
        return written

    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
        monkeypatch.setattr(adapter, "register_klantcontact", write_then_break)
        try:
            resp = await anna.post(
                moments(contact),
                json={
                    "vragen": [VRAAG, {**VRAAG, "onderwerp": "algemeen"}],
                    "contactverzoek": {"afdeling": "kcc", "gevraagdeHandeling": "Terugbellen"},
                },
            )
        finally:
            await stack.sim_behaviour("klantinteracties", fail="none")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["allesOpgeslagen"] is False
    first, second = body["vragen"]
    assert first["status"] == "opgeslagen"
    assert first["nummer"]
    assert second["status"] == "niet-opgeslagen"
    assert second["nummer"] is None
    assert second["reden"] == "SOURCE_UNAVAILABLE"
    assert "niet bereikbaar" in second["fout"]
    assert body["contactverzoek"]["nummer"] is None
    assert body["contactverzoek"]["fout"]
    saved = [w for w in await ki_writes(stack) if w["path"].endswith("/klantcontacten")]
    assert [w["response"]["status"] for w in saved] == [201]
    # logged before each write, and the failed one as failed
    assert sorted(await registrations_logged(stack)) == [
        "contactmoment registreren",
        "contactmoment registreren",
        "contactmoment registreren mislukt",
        "contactverzoek aanmaken",
        "contactverzoek aanmaken mislukt",
    ]


# --- bad input, field by field ----------------------------------------------------------------------

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
YESTERDAY = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
VERZOEK = {"afdeling": "kcc", "gevraagdeHandeling": "Terugbellen", "deadline": TOMORROW}


def _vraag(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**VRAAG, **changes}.items() if v is not ...}


BAD_INPUT: list[tuple[Any, str]] = [
    ({}, "vragen"),
    ({"vragen": []}, "vragen"),
    ({"vragen": "een vraag"}, "vragen"),
    ({"vragen": [VRAAG] * (MAX_VRAGEN + 1)}, "vragen"),
    ({"vragen": [VRAAG, _vraag(onderwerp=...)]}, "vragen.1.onderwerp"),
    ({"vragen": [_vraag(onderwerp="bestaat-niet")]}, "vragen.0.onderwerp"),
    ({"vragen": [_vraag(onderwerp="waterschapsbelasting")]}, "vragen.0.onderwerp"),  # other organisation
    ({"vragen": [_vraag(onderwerp=12)]}, "vragen.0.onderwerp"),
    ({"vragen": [_vraag(vraag="   ")]}, "vragen.0.vraag"),
    ({"vragen": [_vraag(vraag=...)]}, "vragen.0.vraag"),
    ({"vragen": [_vraag(vraag="a\u0000b")]}, "vragen.0.vraag"),
    ({"vragen": [_vraag(antwoord="x" * 1000)]}, "vragen.0.antwoord"),
    ({"vragen": [_vraag(vraag="x" * 1000, antwoord="")]}, "vragen.0.vraag"),
    ({"vragen": [_vraag(antwoord=None)]}, "vragen.0.antwoord"),
    ({"vragen": [_vraag(uitkomst="opgelost")]}, "vragen.0.uitkomst"),
    ({"vragen": [_vraag(uitkomst=...)]}, "vragen.0.uitkomst"),
    ({"vragen": [_vraag(uitkomst="doorverwezen")]}, "vragen.0.doorverwezenNaar"),
    ({"vragen": [_vraag(uitkomst="doorverwezen", doorverwezenNaar=" ")]}, "vragen.0.doorverwezenNaar"),
    ({"vragen": [_vraag(zaken="ZAAK-2026-0000006")]}, "vragen.0.zaken"),
    ({"vragen": [_vraag(zaken=["Z" * 201])]}, "vragen.0.zaken"),
    ({"vragen": [_vraag(zaken=["ZAAK-2026-0000006", " "])]}, "vragen.0.zaken"),
    ({"vragen": [_vraag(zaken=[f"ZAAK-{i}" for i in range(MAX_ZAKEN + 1)])]}, "vragen.0.zaken"),
    ({"vragen": [_vraag(zaken=[1])]}, "vragen.0.zaken.0"),
    ({"vragen": [_vraag(kanaal="chat")]}, "vragen.0.kanaal"),  # unknown field
    ({"vragen": [VRAAG], "contactverzoek": "ja"}, "contactverzoek"),
    (
        {"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "afdeling": "team-onbekend"}},
        "contactverzoek.afdeling",
    ),
    (
        {"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "gevraagdeHandeling": ""}},
        "contactverzoek.gevraagdeHandeling",
    ),
    (
        {"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "gevraagdeHandeling": "x" * 201}},
        "contactverzoek.gevraagdeHandeling",
    ),
    (
        {"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "toelichting": "x" * 1000}},
        "contactverzoek.toelichting",
    ),
    ({"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "deadline": YESTERDAY}}, "contactverzoek.deadline"),
    ({"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "deadline": "31-12-2030"}}, "contactverzoek.deadline"),
    ({"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "deadline": "2030-02-30"}}, "contactverzoek.deadline"),
    (
        {"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "medewerker": "m" * 201}},
        "contactverzoek.medewerker",
    ),
    ({"vragen": [VRAAG], "contactverzoek": {**VERZOEK, "prioriteit": "hoog"}}, "contactverzoek.prioriteit"),
    ({"vragen": [VRAAG], "contactverzoek": {"gevraagdeHandeling": "Terugbellen"}}, "contactverzoek.afdeling"),
    ({"vragen": [VRAAG], "kanaal": "chat"}, "kanaal"),
    ([VRAAG], "body"),
]


async def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
        await forget_ki_requests(stack)
        for payload, field in BAD_INPUT:
            resp = await anna.post(moments(contact), json=payload)
            body = problem(resp, 400)
            names = [p["name"] for p in body.get("invalidParams", [])]
            assert field in names, (field, payload if len(str(payload)) < 300 else "…", body)
        # not JSON at all
        resp = await anna.post(
            moments(contact), content=b"{vragen:", headers={"content-type": "application/json"}
        )
        assert problem(resp, 400)["code"] == "request.malformed_json"
    assert await ki_writes(stack) == [], "bad input never reaches the source"
    assert await registrations_logged(stack) == [], "and nothing was logged about the customer"


def test_the_openapi_document_describes_registering_a_contact_moment(tmp_path: Path) -> None:
    """What the NL API Design Rules linter (test_openapi_lint.py) cannot judge: the operation is there,
    with a summary, every answer a client must handle, and problem+json for the errors."""
    settings = Settings(env=Environment.TEST, database_url=f"sqlite+aiosqlite:///{tmp_path / 'doc.sqlite3'}")
    schema = create_app(settings).openapi()
    operation = schema["paths"]["/contacten/{contact_id}/contactmomenten"]["post"]
    assert operation["summary"].startswith("Registreer het contactmoment")
    assert {"201", "400", "401", "403", "404", "409", "503"} <= set(operation["responses"])
    for code in ("400", "403", "404", "409", "503"):
        assert "application/problem+json" in operation["responses"][code]["content"], code
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert created.endswith("/Contactmoment")
    assert "/contactmoment-keuzelijsten" in schema["paths"]


# --- whatever a client sends ------------------------------------------------------------------------


def _fuzz(api: str, token: str, contact: str) -> None:
    """Hypothesis in a worker thread with a synchronous client (as tests/api/test_fuzz.py does), so
    the event loop serving DGKB stays free."""
    client = httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    short = st.text(max_size=80) | fuzz.TRICKY_TEXT
    uitkomst = st.sampled_from(["afgehandeld", "doorverbonden", "terugbelverzoek", "doorverwezen"])
    # mostly well-formed, so requests get past the schema into the service's rules and the source ...
    vraag_ok = st.fixed_dictionaries(
        {
            "onderwerp": st.sampled_from(["afval", "algemeen"]),
            "vraag": st.text(min_size=1, max_size=80).filter(str.strip),
            "uitkomst": uitkomst,
        },
        optional={
            "antwoord": short,
            "doorverwezenNaar": short,
            "zaken": st.lists(st.sampled_from(["ZAAK-2026-0000006", "ZAAK-0"]) | short, max_size=3),
        },
    )
    verzoek_ok = st.fixed_dictionaries(
        {"afdeling": st.sampled_from(["kcc", "team-wmo"]), "gevraagdeHandeling": short},
        optional={
            "toelichting": short,
            "medewerker": short,
            "deadline": st.dates().map(date.isoformat) | fuzz.DATETIME_TEXT,
        },
    )
    # ... with one field anything at all ...
    vraag_bad = st.builds(
        lambda v, k, x: {**v, k: x},
        vraag_ok,
        st.sampled_from(["onderwerp", "vraag", "antwoord", "uitkomst", "doorverwezenNaar", "zaken", "x"]),
        fuzz.ANYTHING,
    )
    verzoek_bad = st.builds(
        lambda v, k, x: {**v, k: x},
        verzoek_ok,
        st.sampled_from(["afdeling", "gevraagdeHandeling", "toelichting", "medewerker", "deadline", "x"]),
        fuzz.ANYTHING,
    )
    # ... or anything at all
    body = st.one_of(
        st.fixed_dictionaries(
            {"vragen": st.lists(vraag_ok, min_size=1, max_size=3)}, optional={"contactverzoek": verzoek_ok}
        ),
        st.fixed_dictionaries(
            {"vragen": st.lists(vraag_ok | vraag_bad, min_size=1, max_size=MAX_VRAGEN + 1)},
            optional={"contactverzoek": verzoek_ok | verzoek_bad},
        ),
        fuzz.optional_fields(
            {"vragen": st.lists(fuzz.JSON, max_size=3) | fuzz.ANYTHING, "contactverzoek": fuzz.JSON}
        ),
    )

    @fuzz.FUZZ
    @given(body)
    def register(payload: Any) -> None:
        fuzz.send_json(client, "POST", moments(contact), payload)

    with client:
        register()


@pytest.mark.fuzz
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
async def test_whatever_a_client_sends_is_never_a_5xx(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN, BSN)
    await asyncio.to_thread(_fuzz, stack.api, await stack.token("kcm-anna"), contact)
