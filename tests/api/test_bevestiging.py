""" "Bevestig met DigiD" during a call (issue 9 §3), over the whole stack on real sockets: the agent's
API, the customer's public pages, the test broker's real login (code + PKCE + nonce), the NotifyNL
simulator's outbox. Every failure mode changes nothing and is logged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from dgkb.audit.query import search_ldv
from dgkb.contacts.confirmation import LoginOutcome
from dgkb.domain.assurance import Assurance
from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import build_world
from dgkb.store.tables import ConfirmationRow
from tests.api.conftest import WATERSCHAP, Stack, open_contact, sections

WORLD = build_world()  # the world the stack's simulators serve
DOEL = WATERSCHAP + "waterschapsbelasting"
BSN, OTHER_BSN = "999993653", "999990639"


def _unverified_phone_bsn() -> str:
    """An adult with a partij whose mobile number is not verified in Klantinteracties."""
    return next(
        p.bsn
        for p in WORLD.persons
        if p.partij_uuid
        and p.telefoonnummers
        and all(t.verificatie_datum is None for t in p.telefoonnummers)
        and p.geheimhouding == 0
        and p.overlijdensdatum is None
        and p.geboortedatum.year < 2000
    )


async def start(client: httpx.AsyncClient, contact: str, via: str = "code") -> dict[str, Any]:
    resp = await client.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": via})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def customer_login(
    stack: Stack, *, code: str | None = None, link: str | None = None, bsn: str = BSN
) -> httpx.Response:
    """The caller, in their own browser: opens the link (or types the code at the short URL), clicks
    "Inloggen met DigiD", picks a test BSN and DigiD midden at the test broker, and comes back."""
    async with httpx.AsyncClient(base_url=stack.api, timeout=10) as browser:
        if code is not None:
            page = await browser.post("/bevestig", data={"code": code.lower().replace("-", " ")})
        else:
            assert link is not None
            page = await browser.get(urlsplit(link).path)
        assert page.status_code == 200, page.text
        assert "níet met" in page.text
        found = re.search(r'name="referentie" value="([^"]+)"', page.text)
        assert found is not None
        go = await browser.post("/bevestigen/inloggen", data={"referentie": found.group(1)})
        assert go.status_code == 303, go.text
        authorize = urlsplit(go.headers["location"])
        params = {k: v[0] for k, v in parse_qs(authorize.query).items()}
        assert params["code_challenge_method"] == "S256"
        assert params["nonce"]
        assert params["state"]
        login = await browser.post(
            authorize.path, data={**params, "soort": "bsn", "bsn": bsn, "niveau": "digid-midden"}
        )
        assert login.status_code == 303, login.text
        back = urlsplit(login.headers["location"])
        assert back.path == "/bevestigen/terugkeer"
        result = await browser.get(f"{back.path}?{back.query}")
        replay = await browser.get(f"{back.path}?{back.query}")  # the state is single use
        assert replay.status_code == 400
        return result


def readback_code(page: httpx.Response) -> str:
    found = re.search(r"data-terugleescode>(\d{3} \d{3})<", page.text)
    assert found is not None, page.text
    return found.group(1)


async def level(client: httpx.AsyncClient, contact: str) -> str:
    return str((await client.get(f"/api/v1/contacten/{contact}")).json()["zekerheid"])


async def ldv_names(stack: Stack, bsn: str = BSN) -> list[str]:
    services = stack.app.state.services
    page = await search_ldv(services.database, services.pseudonymizer, subject=Subject.person(bsn))
    return [e.name for e in page.items]


async def test_the_read_back_code_raises_the_level(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        before = (await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(before)["dossier.financieel"][0]["status"] != "ok"
        created = await start(wim, contact, "code")
        assert created["status"] == "open"
        assert created["via"] == "code"
        assert created["korteUrl"].endswith("/bevestig")
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", created["code"])
        page = await customer_login(stack, code=created["code"])
        assert page.status_code == 200
        shown = readback_code(page)
        waiting = (await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}")).json()
        assert waiting["status"] == "ingelogd"
        assert waiting["zekerheid"] == "digid-midden"
        assert "code" not in waiting  # the code is shown once, at creation
        assert await level(wim, contact) == "controlevragen"  # logged in is not yet confirmed
        done = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode", json={"code": shown}
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "bevestigd"
        assert done.json()["contact"]["zekerheid"] == "digid-midden"
        assert done.json()["contact"]["identificatie"]["methode"] == "digid"
        after = (await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(after)["dossier.financieel"][0]["status"] == "ok"
        reused = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode", json={"code": shown}
        )
        assert reused.status_code == 409
        assert reused.json()["reden"] == "CONFIRMATION_USED"
    names = await ldv_names(stack)
    assert "bevestig met DigiD gestart (via code)" in names
    assert any(n.startswith("bevestig met DigiD: klant ingelogd") for n in names)
    assert "bevestig met DigiD gelukt: terugleescode klopt" in names
    assert "bevestig met DigiD: terugleescode geweigerd (bevestigd)" in names


async def test_the_link_goes_to_the_verified_mobile_number(stack: Stack) -> None:
    person = WORLD.person(BSN)
    assert person is not None
    assert person.telefoonnummers[0].verificatie_datum is not None
    async with httpx.AsyncClient(base_url=stack.simulators["notifynl"]) as sim:
        await sim.delete("/_sim/outbox")
        async with await stack.as_user("kcm-wim") as wim:
            contact = await open_contact(wim, DOEL, BSN)
            created = await start(wim, contact, "sms")
            assert "code" not in created
            assert "korteUrl" not in created
            outbox = (await sim.get("/_sim/outbox")).json()
            assert [m["reference"] for m in outbox] == [created["id"]]
            message = outbox[0]
            assert message["type"] == "sms"
            assert message["to"] == person.telefoonnummers[0].adres
            link = message["personalisation"]["link"]
            assert "/bevestigen/" in link
            assert BSN not in link
            page = await customer_login(stack, link=link)
            shown = readback_code(page)
            done = await wim.post(
                f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode",
                json={"code": shown.replace(" ", "")},
            )
            assert done.status_code == 200, done.text
            assert await level(wim, contact) == "digid-midden"
    names = await ldv_names(stack)
    assert "bevestig met DigiD: geverifieerd mobiel nummer lezen" in names


async def test_no_verified_address_is_a_409_naming_via(stack: Stack) -> None:
    bsn = _unverified_phone_bsn()
    async with httpx.AsyncClient(base_url=stack.simulators["notifynl"]) as sim:
        await sim.delete("/_sim/outbox")
        async with await stack.as_user("kcm-wim") as wim:
            contact = await open_contact(wim, DOEL, bsn)
            resp = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "sms"})
            assert resp.status_code == 409, resp.text
            assert resp.json()["veld"] == "via"
            assert resp.json()["reden"] == "NO_VERIFIED_ADDRESS"
            assert "code" in resp.json()["detail"]
            fallback = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "code"})
            assert fallback.status_code == 201
        assert (await sim.get("/_sim/outbox")).json() == []
    # looking for a verified number is itself a processing about the customer: logged
    assert "bevestig met DigiD: geverifieerd mobiel nummer lezen" in await ldv_names(stack, bsn)


async def test_bad_input_names_the_field(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        fax = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "fax"})
        assert fax.status_code == 400
        assert fax.json()["invalidParams"][0]["name"] == "via"
        created = await start(wim, contact)
        empty = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode", json={}
        )
        assert empty.status_code == 400
        assert empty.json()["invalidParams"][0]["name"] == "code"
        unknown = await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/geen-uuid")
        assert unknown.status_code == 404
    async with httpx.AsyncClient(base_url=stack.api) as browser:
        assert (await browser.get("/bevestigen/onbekend-token")).status_code == 410
        assert (await browser.post("/bevestig", data={"code": "ABCD-EFGH"})).status_code == 400
        assert (await browser.get("/bevestigen/terugkeer?code=x&state=y")).status_code == 400


async def test_unconfirmed_cancelled_and_expired_change_nothing(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        # unconfirmed: the customer has not logged in
        first = await start(wim, contact)
        early = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{first['id']}/terugleescode", json={"code": "123456"}
        )
        assert early.status_code == 409
        assert early.json()["reden"] == "CONFIRMATION_NOT_LOGGED_IN"
        # cancelled: the link stops working, the read-back is refused
        cancelled = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen/{first['id']}/annulering")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "geannuleerd"
        again = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen/{first['id']}/annulering")
        assert again.status_code == 409
        async with httpx.AsyncClient(base_url=stack.api) as browser:
            page = await browser.post("/bevestig", data={"code": first["code"]})
            assert page.status_code == 400
        late = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{first['id']}/terugleescode", json={"code": "123456"}
        )
        assert late.json()["reden"] == "CONFIRMATION_CANCELLED"
        # expired after the customer logged in: 410, nothing changes
        second = await start(wim, contact)
        shown = readback_code(await customer_login(stack, code=second["code"]))
        services = stack.app.state.services
        async with services.database.transaction() as session:
            await session.execute(
                update(ConfirmationRow)
                .where(ConfirmationRow.id == second["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        expired = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{second['id']}/terugleescode", json={"code": shown}
        )
        assert expired.status_code == 410
        assert expired.json()["reden"] == "CONFIRMATION_EXPIRED"
        status = (await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/{second['id']}")).json()
        assert status["status"] == "verlopen"
        # an expired link no longer opens
        third = await start(wim, contact)
        async with services.database.transaction() as session:
            await session.execute(
                update(ConfirmationRow)
                .where(ConfirmationRow.id == third["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        async with httpx.AsyncClient(base_url=stack.api) as browser:
            assert (await browser.post("/bevestig", data={"code": third["code"]})).status_code == 400
        assert await level(wim, contact) == "controlevragen"
    names = await ldv_names(stack)
    assert "bevestig met DigiD geannuleerd door medewerker" in names
    assert "bevestig met DigiD: terugleescode geweigerd (open)" in names
    assert "bevestig met DigiD: terugleescode geweigerd (geannuleerd)" in names
    assert "bevestig met DigiD: terugleescode geweigerd (verlopen)" in names


async def test_three_wrong_codes_fail_the_confirmation(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        created = await start(wim, contact)
        shown = readback_code(await customer_login(stack, code=created["code"])).replace(" ", "")
        wrong = f"{(int(shown) + 1) % 1_000_000:06d}"
        url = f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode"
        for left in (2, 1, 0):
            resp = await wim.post(url, json={"code": wrong})
            assert resp.status_code == 400, resp.text
            assert resp.json()["invalidParams"][0]["name"] == "code"
            status = (await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}")).json()
            assert status["pogingenOver"] == left
        assert status["status"] == "mislukt"
        right = await wim.post(url, json={"code": shown})
        assert right.status_code == 409
        assert right.json()["reden"] == "CONFIRMATION_FAILED"
        assert await level(wim, contact) == "controlevragen"
    names = await ldv_names(stack)
    assert names.count("bevestig met DigiD: verkeerde terugleescode") == 2
    assert "bevestig met DigiD mislukt: 3 keer een verkeerde terugleescode" in names


async def test_someone_else_logging_in_changes_nothing(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        created = await start(wim, contact)
        page = await customer_login(stack, code=created["code"], bsn=OTHER_BSN)
        assert page.status_code == 403
        assert "data-terugleescode" not in page.text
        status = (await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}")).json()
        assert status["status"] == "mislukt"
        refused = await wim.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode",
            json={"code": "000000"},
        )
        assert refused.status_code == 409
        assert await level(wim, contact) == "controlevragen"
        klantbeeld = (await wim.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(klantbeeld)["dossier.financieel"][0]["status"] != "ok"
    assert "bevestig met DigiD mislukt: inlog van een andere klant" in await ldv_names(stack)
    assert not await ldv_names(stack, OTHER_BSN)  # the other person's BSN is logged nowhere


async def test_only_the_contacts_own_employee(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim, await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(wim, DOEL, BSN)
        created = await start(wim, contact)
        base = f"/api/v1/contacten/{contact}/bevestigingen"
        for resp in (
            await anna.post(base, json={"via": "code"}),
            await anna.get(f"{base}/{created['id']}"),
            await anna.post(f"{base}/{created['id']}/annulering"),
            await anna.post(f"{base}/{created['id']}/terugleescode", json={"code": "123456"}),
        ):
            assert resp.status_code == 403, resp.text
            assert resp.json()["reden"] == "CONTACT_OF_OTHER_ACTOR"
        still = (await wim.get(f"{base}/{created['id']}")).json()
        assert still["status"] == "open"


@pytest.mark.parametrize("kanaal", ["balie"])
async def test_not_at_the_counter(stack: Stack, kanaal: str) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN, kanaal=kanaal)
        resp = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "code"})
        assert resp.status_code == 409
        assert resp.json()["reden"] == "CONFIRMATION_CHANNEL"


async def test_a_login_that_would_not_raise_the_level_changes_nothing(stack: Stack) -> None:
    """An `acr` the table does not know counts as `geen`: the confirmation fails, never lowers."""
    services = stack.app.state.services
    broker = stack.app.state.test_broker
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        created = await start(wim, contact)
        login = await services.confirmations.start_login(created["code"])
        assert login is not None
        token = broker.id_token(
            Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=login.nonce, acr="urn:onbekend"
        )
        outcome, code = await services.confirmations.complete_login(created["id"], token)
        assert outcome is LoginOutcome.MISLUKT
        assert code is None
        status = (await wim.get(f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}")).json()
        assert status["status"] == "mislukt"
        assert await level(wim, contact) == "controlevragen"
    assert any(
        n.startswith("bevestig met DigiD mislukt: inlog geeft geen hoger niveau")
        for n in await ldv_names(stack)
    )


async def test_notifynl_down_is_a_503_naming_via(stack: Stack) -> None:
    async with await stack.as_user("kcm-wim") as wim:
        contact = await open_contact(wim, DOEL, BSN)
        await stack.sim_behaviour("notifynl", fail="503")
        resp = await wim.post(f"/api/v1/contacten/{contact}/bevestigingen", json={"via": "email"})
        assert resp.status_code == 503, resp.text
        assert resp.json()["veld"] == "via"
        assert resp.json()["reden"] == "NOTIFY_FAILED"
        assert "code" in resp.json()["detail"]
        services = stack.app.state.services
        async with services.database.transaction() as session:
            rows = (await session.execute(select(ConfirmationRow.status))).scalars().all()
        assert rows == ["mislukt"]  # the unsent confirmation can never be used
        assert await level(wim, contact) == "controlevragen"
    assert "bevestig met DigiD: bericht niet verstuurd" in await ldv_names(stack)
