"""Mijn berichten (issue 14 part 5): a zaak's new status becomes a message for that customer only,
read/unread with CSRF, another customer's message is a 404, the unread count is in the menu, and the
customer gets a notice by their preferred channel through NotifyNL that says nothing personal."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.domain.identifiers import Subject
from dgkb.events.notificaties import DEV_TOKEN
from tests.api.conftest import Stack, running_stack
from tests.clients import http_client
from tests.conftest import DB_BACKENDS, fresh_database_url
from tests.events.conftest import open_zaak_of, set_status, zaak_message
from tests.web.mijn_helpers import BSN, OTHER_BSN, csrf, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h3profiel")


async def outbox(stack: Stack) -> list[dict[str, Any]]:
    async with http_client() as c:
        resp = await c.get(f"{stack.simulators['notifynl']}/_sim/outbox")
        resp.raise_for_status()
        result: list[dict[str, Any]] = resp.json()
        return result


async def zaak_status_notification(stack: Stack, bsn: str = BSN) -> str:
    """A new status of the person's open zaak at the Zaken simulator, and the notification of it
    delivered to DGKB as the routing component would; the zaak's identificatie."""
    zaken = stack.simulators["zaken"]
    zaak, statustypen = await open_zaak_of(zaken, bsn)
    status = await set_status(zaken, zaak, statustypen[-1]["url"])
    message = zaak_message(zaak, status["url"], datetime.now(UTC).isoformat())
    async with http_client(base_url=stack.api) as c:
        resp = await c.post(
            "/api/v1/notificaties", json=message, headers={"Authorization": f"Bearer {DEV_TOKEN}"}
        )
        assert resp.status_code == 204, resp.text
    return str(zaak["identificatie"])


def message_ids(page: str) -> list[str]:
    return re.findall(r'data-bericht="([0-9a-f-]{36})"', page)


async def notices_in_outbox(stack: Stack, *, at_least: int = 1, turns: int = 300) -> list[dict[str, Any]]:
    """The notices in the NotifyNL simulator's outbox, once there are `at_least` (the notice is sent
    in the background, after the notification was handled): asked up to `turns` times, 0.2 s apart."""
    for _ in range(turns):
        sent = [m for m in await outbox(stack) if m["templateName"] == "nieuw-bericht"]
        if len(sent) >= at_least:
            return sent
        await asyncio.sleep(0.2)
    return sent


async def notify_outcome(stack: Stack, bsn: str) -> str | None:
    """The notice's outcome on the customer's newest message, once it no longer waits."""
    for _ in range(100):
        (newest, *_older) = await stack.app.state.services.messages.list(Subject.person(bsn))
        if newest.notify_outcome != "wachtend":
            break
        await asyncio.sleep(0.1)
    outcome: str | None = newest.notify_outcome
    return outcome


async def notifynl(stack: Stack, fail: str) -> None:
    async with http_client() as c:
        resp = await c.post(f"{stack.simulators['notifynl']}/_sim/behaviour", json={"fail": fail})
        resp.raise_for_status()


async def test_a_zaak_status_becomes_a_message_for_that_customer_only(stack: Stack) -> None:
    identificatie = await zaak_status_notification(stack, BSN)
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/berichten")
        assert page.status_code == 200
        ids = message_ids(page.text)
        assert len(ids) == 1
        assert f"Uw zaak {identificatie} heeft een nieuwe status" in page.text
        assert 'data-gelezen="nee"' in page.text
        assert 'data-ongelezen="1"' in page.text  # the menu's unread count
        assert "mijn.overheid.nl" in page.text  # formal decisions: the Berichtenbox
        assert BSN not in page.text
        one = await client.get(f"/mijn/berichten/{ids[0]}")
        assert one.status_code == 200
        assert 'href="/mijn/zaken"' in one.text
    async with portal_client(stack) as other:
        await login(other, bsn=OTHER_BSN)
        page = await other.get("/mijn/berichten")
        assert message_ids(page.text) == []
        assert "data-geen-berichten" in page.text
        assert "data-ongelezen" not in page.text


async def prefer_new_mobile(stack: Stack, bsn: str, number: str) -> None:
    """Give the person's partij a mobile number and make it the preferred address (at the simulator,
    as another channel of the organisation would)."""
    source = stack.app.state.services.sources.configs["klantinteracties"]
    base = stack.simulators["klantinteracties"] + "/klantinteracties/api/v1"
    async with http_client(headers={"Authorization": f"Token {source.auth.token}"}) as c:
        partij = (
            await c.get(
                f"{base}/partijen",
                params={
                    "partijIdentificator__codeSoortObjectId": "bsn",
                    "partijIdentificator__objectId": bsn,
                },
            )
        ).json()["results"][0]
        adres = await c.post(
            f"{base}/digitaleadressen",
            json={
                "verstrektDoorPartij": {"uuid": partij["uuid"]},
                "verstrektDoorBetrokkene": None,
                "adres": number,
                "soortDigitaalAdres": "telefoonnummer",
            },
        )
        assert adres.status_code == 201, adres.text
        patched = await c.patch(
            f"{base}/partijen/{partij['uuid']}",
            json={"voorkeursDigitaalAdres": {"uuid": adres.json()["uuid"]}},
        )
        assert patched.status_code == 200, patched.text


async def test_the_notice_goes_by_the_preferred_channel_and_says_nothing_personal(stack: Stack) -> None:
    await prefer_new_mobile(stack, BSN, "0687650000")
    identificatie = await zaak_status_notification(stack, BSN)
    sent = await notices_in_outbox(stack)  # sent in the background
    assert len(sent) == 1
    notice = sent[0]
    assert notice["type"] == "sms"  # the preferred address, although the partij has e-mail addresses
    assert notice["normalisedTo"].endswith("687650000")
    text = f"{notice['subject'] or ''} {notice['body']}"
    assert "U heeft een nieuw bericht in Mijn omgeving" in text
    assert "/mijn/berichten" in text
    assert "zaak" not in text.lower()  # no title, no zaak, nothing about the person
    assert identificatie not in text
    assert BSN not in text
    assert notice["reference"].startswith("bericht-")
    # the preferred address of the partij, or its first e-mail address / mobile number
    stored = await notify_outcome(stack, BSN)
    assert stored == "verstuurd"
    # the read of the preferred channel is DGKB's own processing, logged under its purpose
    log = await stack.app.state.services.access_log.processings_of(Subject.person(BSN), limit=200)
    reads = [e for e in log.items if e.name == "nieuw bericht melden"]
    assert reads
    assert reads[0].processing_activity_id.endswith("/dgkb-berichten-melden")


@pytest.mark.parametrize("backend", DB_BACKENDS)
async def test_the_notice_waits_for_notifynl_without_holding_the_notification_and_is_never_lost(
    backend: str, simulators: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """NotifyNL hanging: the notification is handled and the message stored without waiting for it;
    the notice is kept in the database (not in a process's memory) and retried — also by the next
    process when this one stops — and goes once NotifyNL answers again."""
    database_url = await fresh_database_url(backend, tmp_path)
    subject = Subject.person(BSN)
    settings = {"notify_timeout_seconds": 1.0, "notify_retry_seconds": 0.2}
    try:
        async with running_stack(database_url, simulators, **settings) as first:
            await notifynl(first, "hang")
            await zaak_status_notification(first, BSN)  # answered 204: handled
            (message,) = await first.app.state.services.messages.list(subject)
            # the handler did not wait for the notice: it is still to be sent
            assert message.notify_outcome == "wachtend"
            assert await notices_in_outbox(first, turns=3) == []
        # this process stopped while NotifyNL still hung; the next one finds the notice and sends it
        async with running_stack(database_url, simulators, **settings) as second:
            await notifynl(second, "503")  # down a while longer: refused, retried
            await asyncio.sleep(0.5)
            assert await notices_in_outbox(second, turns=1) == []
            await notifynl(second, "none")
            sent = await notices_in_outbox(second)
            assert len(sent) == 1
            assert sent[0]["reference"] == f"bericht-{message.id}"
            assert await notify_outcome(second, BSN) == "verstuurd"
    finally:
        async with http_client() as c:
            await c.post(f"{simulators['notifynl']}/_sim/behaviour", json={"fail": "none"})
    assert len(await notices_in_outbox(second, turns=1)) == 1  # sent once, in all those tries
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert BSN not in logged
    assert "@" not in logged  # no e-mail address
    assert not re.search(r"06-?\d{8}|\+316\d{8}", logged)  # no mobile number


async def test_mark_read_needs_csrf_and_another_customers_message_is_404(stack: Stack) -> None:
    services = stack.app.state.services
    mine = await services.messages.post(
        Subject.person(BSN),
        "00000001001234567000",
        "Antwoord op uw vraag",
        "Wij hebben uw vraag beantwoord.",
        "/mijn",
        kind="contactverzoek",
        notify=False,
    )
    theirs = await services.messages.post(
        Subject.person(OTHER_BSN), "00000001001234567000", "Voor een ander", "Niet voor u.", notify=False
    )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/berichten")
        assert message_ids(page.text) == [mine.id]
        token = csrf(page)
        # without the token: refused, still unread
        refused = await client.post(f"/mijn/berichten/{mine.id}/gelezen", data={})
        assert refused.status_code in (400, 403)
        assert (await services.messages.get(Subject.person(BSN), mine.id)).unread
        done = await client.post(f"/mijn/berichten/{mine.id}/gelezen", data={"csrf_token": token})
        assert done.status_code == 303
        assert not (await services.messages.get(Subject.person(BSN), mine.id)).unread
        page = await client.get("/mijn/berichten")
        assert 'data-gelezen="ja"' in page.text
        assert "data-ongelezen" not in page.text
        # another customer's message: as unknown, and it stays unread
        assert (await client.get(f"/mijn/berichten/{theirs.id}")).status_code == 404
        crafted = await client.post(f"/mijn/berichten/{theirs.id}/gelezen", data={"csrf_token": token})
        assert crafted.status_code == 404
        assert "Voor een ander" not in crafted.text
        assert (await client.get("/mijn/berichten/niet-een-id")).status_code == 404
    assert (await services.messages.get(Subject.person(OTHER_BSN), theirs.id)).unread


async def interne_taak_of(stack: Stack, bsn: str) -> dict[str, Any]:
    """An interne taak (contactverzoek) arising from a klantcontact of the person."""
    source = stack.app.state.services.sources.configs["klantinteracties"]
    base = stack.simulators["klantinteracties"] + "/klantinteracties/api/v1"
    async with http_client(headers={"Authorization": f"Token {source.auth.token}"}) as c:
        page = (
            await c.get(
                f"{base}/klantcontacten",
                params={
                    "hadBetrokkene__wasPartij__partijIdentificator__codeSoortObjectId": "bsn",
                    "hadBetrokkene__wasPartij__partijIdentificator__objectId": bsn,
                    "expand": "leiddeTotInterneTaken",
                },
            )
        ).json()
    taken = [t for c in page["results"] for t in c["_expand"]["leiddeTotInterneTaken"]]
    assert taken, "the demo world gives this person a contactverzoek"
    return dict(taken[0])


async def deliver(stack: Stack, message: dict[str, Any]) -> None:
    async with http_client(base_url=stack.api) as c:
        resp = await c.post(
            "/api/v1/notificaties", json=message, headers={"Authorization": f"Bearer {DEV_TOKEN}"}
        )
        assert resp.status_code == 204, resp.text


async def test_a_handled_contactverzoek_becomes_a_message_an_open_one_does_not(stack: Stack) -> None:
    taak = await interne_taak_of(stack, BSN)
    base = {
        "kanaal": "internetaken",
        "hoofdObject": taak["url"],
        "resource": "internetaak",
        "resourceUrl": taak["url"],
        "actie": "partial_update",
    }
    await deliver(
        stack, {**base, "aanmaakdatum": "2026-12-01T10:00:00Z", "kenmerken": {"status": "te_verwerken"}}
    )
    subject = Subject.person(BSN)
    assert await stack.app.state.services.messages.list(subject) == []
    await deliver(
        stack, {**base, "aanmaakdatum": "2026-12-01T10:05:00Z", "kenmerken": {"status": "verwerkt"}}
    )
    found = await stack.app.state.services.messages.list(subject)
    assert [(m.kind, m.title, m.link) for m in found] == [
        ("contactverzoek", "Uw vraag is afgehandeld", "/mijn/contactmomenten")
    ]
    assert await stack.app.state.services.messages.list(Subject.person(OTHER_BSN)) == []


def _inzage_entries(page: str) -> list[str]:
    return re.findall(r"<li class=\"mijn-log__item[^>]*>(.*?)</li>", page, re.S)


async def test_reading_the_messages_is_the_customers_own_read_in_the_access_history(stack: Stack) -> None:
    services = stack.app.state.services
    mine = await services.messages.post(
        Subject.person(BSN), "00000001001234567000", "Antwoord op uw vraag", "Beantwoord.", notify=False
    )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert (await client.get("/mijn/berichten")).status_code == 200
        assert (await client.get(f"/mijn/berichten/{mine.id}")).status_code == 200
        history = await client.get("/mijn/inzage")
    read = [e for e in _inzage_entries(history.text) if "Uw berichten gelezen" in e]
    # the list at each organisation, and the one message at the organisation that sent it
    assert len(read) == 3, _inzage_entries(history.text)
    assert all("uzelf, in Mijn omgeving" in e and "Geen gegevens getoond" in e for e in read)
    assert sum("Gemeente Voorbeeldstad" in e for e in read) == 2
    # another customer's message id reads nothing and logs nothing
    async with portal_client(stack) as other:
        await login(other, bsn=OTHER_BSN)
        assert (await other.get(f"/mijn/berichten/{mine.id}")).status_code == 404
        theirs = await other.get("/mijn/inzage")
    assert [e for e in _inzage_entries(theirs.text) if "Uw berichten gelezen" in e] == []


async def test_the_messages_are_not_shown_when_the_read_cannot_be_logged(stack: Stack) -> None:
    """Log before you show: with the access log unwritable the page says so and shows nothing."""
    await stack.app.state.services.messages.post(
        Subject.person(BSN), "00000001001234567000", "Antwoord op uw vraag", "Beantwoord.", notify=False
    )
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        engine = create_async_engine(stack.settings.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE access_records RENAME TO access_records_away"))
        try:
            page = await client.get("/mijn/berichten")
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE access_records_away RENAME TO access_records"))
            await engine.dispose()
        assert page.status_code == 503
        assert "Antwoord op uw vraag" not in page.text
        assert "Antwoord op uw vraag" in (await client.get("/mijn/berichten")).text
