"""Issue 5: a change at a source reaches every open view, filtered by each viewer's purpose."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dgkb.domain.identifiers import Subject
from dgkb.events.reconcile import Reconciler
from dgkb.store.audit_tables import AccessRecord
from tests.events.conftest import (
    ALGEMEEN,
    BSN,
    LOPENDE_ZAAK,
    TOKEN,
    SseClient,
    World,
    open_contact,
    open_zaak_of,
    set_status,
    zaak_message,
)


def _zaak_in(klantbeeld: dict[str, Any], url: str) -> dict[str, Any] | None:
    for sectie in klantbeeld["secties"]:
        if sectie["categorie"] in ("dienst.zaken-lopend", "dienst.zaken-historie") and sectie["gegevens"]:
            for zaak in sectie["gegevens"]:
                if zaak.get("url") == url:
                    return dict(zaak)
    return None


async def _deliveries(world: World) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as c:
        data: list[dict[str, Any]] = (
            await c.get(f"{world.simulators['notificaties']}/_sim/deliveries")
        ).json()
        return data


async def test_zaak_status_change_reaches_the_open_view_end_to_end(world: World) -> None:
    node = world.nodes[0]
    zaak, statustypen = await open_zaak_of(world.simulators["zaken"])
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        before = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        shown = _zaak_in(before, zaak["url"])
        assert shown is not None
        new = next(
            s
            for s in statustypen
            if not s["isEindstatus"] and s["omschrijving"] != shown["status"]["omschrijving"]
        )
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert sse.headers is not None
            assert sse.headers["content-type"].startswith("text/event-stream")
            # the back office sets a status; Zaken publishes to the routing component, which delivers
            # to DGKB in its next scheduler round
            await set_status(world.simulators["zaken"], zaak, new["url"])
            assert [d["status"] for d in await world.deliver()] == [204]
            kind, data = await sse.next(wait=5)
        assert kind == "bijgewerkt"
        assert "dienst.zaken-lopend" in data["categorieen"]
        assert data["bron"] == "zaken"
        assert datetime.fromisoformat(data["op"])
        after = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert _zaak_in(after, zaak["url"])["status"]["omschrijving"] == new["omschrijving"]  # type: ignore[index]
    delivered = await _deliveries(world)
    assert delivered
    assert delivered[-1]["status"] == 204
    assert BSN not in json.dumps(delivered), "a zaak notification carries no BSN"


async def test_event_never_leaks_a_category_the_purpose_does_not_permit(world: World) -> None:
    node = world.nodes[0]
    zaak, statustypen = await open_zaak_of(world.simulators["zaken"])
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)  # a general question: no zaken
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            await set_status(world.simulators["zaken"], zaak, statustypen[0]["url"])
            assert [d["status"] for d in await world.deliver()] == [204]
            changes = node.services.changes
            subject = Subject.person(BSN)
            # mixed: only the permitted part is shown
            await changes.publish_change(subject, ["dienst.zaken-historie", "contact.historie"], "dgkb")
            kind, data = await sse.next()
            assert (kind, data["categorieen"]) == ("bijgewerkt", ["contact.historie"])
            # nothing permitted at all: nothing is sent
            await changes.publish_change(subject, ["dienst.zaken-lopend", "dossier.financieel"], "dgkb")
            await changes.publish_change(subject, ["klant.contactgegevens"], "klantinteracties")
            kind, data = await sse.next()
            assert data["categorieen"] == ["klant.contactgegevens"]
            assert data["bron"] == "klantinteracties"


async def test_another_customer_s_change_is_not_sent(world: World) -> None:
    node = world.nodes[0]
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            other = Subject.person("999990639")
            await node.services.changes.publish_change(other, ["contact.historie"], "dgkb")
            await node.services.changes.publish_change(Subject.person(BSN), ["klant.basis"], "dgkb")
            _, data = await sse.next()
            assert data["categorieen"] == ["klant.basis"]


async def test_inbound_authentication_probe_and_validation(world: World) -> None:
    node = world.nodes[0]
    zaak, _ = await open_zaak_of(world.simulators["zaken"])
    message = zaak_message(zaak, zaak["url"], datetime.now(UTC).isoformat())
    for token in ("fout", TOKEN[:-1]):
        resp = await node.notify(message, token=token)
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "notificaties.unauthenticated"
    resp = await node.client.post("/api/v1/notificaties", json=message)
    assert resp.status_code == 401
    probe = {**message, "kanaal": "test", "hoofdObject": "http://some.hoofdobject.nl/"}
    assert (await node.notify(probe)).status_code == 204
    bad = await node.notify({"kanaal": "zaken", "resource": "status"})
    assert bad.status_code == 400
    assert {p["name"] for p in bad.json()["invalidParams"]} >= {"hoofdObject", "aanmaakdatum"}
    not_json = await node.client.post(
        "/api/v1/notificaties", content=b"{", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert not_json.status_code == 400
    # a fresh ZGW-style JWT signed with the shared secret is accepted too (see test_inbound_tokens.py)
    import time

    import jwt

    claims = {"iss": "open-notificaties", "client_id": "on", "iat": int(time.time())}
    signed = jwt.encode(claims, TOKEN, algorithm="HS256")
    assert (await node.notify(probe, token=signed)).status_code == 204
    # a URL no configured source owns is never followed: accepted and ignored
    foreign = {**message, "hoofdObject": "http://elders.example/zaken/api/v1/zaken/1"}
    assert (await node.notify(foreign)).status_code == 204


async def test_duplicate_delivery_is_processed_once(world: World) -> None:
    node = world.nodes[0]
    zaak, _ = await open_zaak_of(world.simulators["zaken"])
    message = zaak_message(zaak, zaak["url"] + "/status-x", "2026-03-01T10:00:00Z")
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert (await node.notify(message)).status_code == 204
            assert (await node.notify(message)).status_code == 204
            await node.services.changes.publish_change(Subject.person(BSN), ["klant.basis"], "sentinel")
            first = await sse.next()
            second = await sse.next()
    assert first[1]["bron"] == "zaken"
    assert second[1]["bron"] == "sentinel", "the duplicate produced no second event"


async def test_a_failing_listener_does_not_fail_the_notification(world: World) -> None:
    """Mijn berichten listens to notifications; when it fails (its source slow, its database busy)
    the change is still handled once: 204, the event delivered, no redelivery needed."""
    node = world.nodes[0]
    zaak, _ = await open_zaak_of(world.simulators["zaken"])
    message = zaak_message(zaak, zaak["url"] + "/status-y", "2026-03-02T10:00:00Z")
    calls: list[str] = []

    async def failing(*_: object) -> None:
        calls.append("called")
        raise RuntimeError("listener down")

    original = node.services.changes.on_notification
    node.services.changes.on_notification = failing
    try:
        async with await node.as_user("kcm-anna") as anna:
            contact = await open_contact(anna, LOPENDE_ZAAK)
            async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
                assert (await node.notify(message)).status_code == 204
                event = await sse.next()
    finally:
        node.services.changes.on_notification = original
    assert calls == ["called"]
    assert event[1]["bron"] == "zaken"


async def test_cloudevents_structured_and_binary(world: World) -> None:
    from cloudevents.core.bindings.http import to_binary_event, to_structured_event
    from cloudevents.core.v1.event import CloudEvent

    node = world.nodes[0]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    zaak, _ = await open_zaak_of(world.simulators["zaken"])
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            verhuisd = CloudEvent(
                attributes={
                    "id": "evt-1",
                    "source": "urn:nld:oin:00000001234567890000:systeem:brp",
                    "type": "nl.brp.verhuisd",
                    "datacontenttype": "application/json",
                    "time": datetime.now(UTC),
                },
                data={"bsn": BSN},
            )
            structured = to_structured_event(verhuisd)
            resp = await node.client.post(
                "/api/v1/cloudevents", content=structured.body, headers={**structured.headers, **auth}
            )
            assert resp.status_code == 204, resp.text
            kind, data = await sse.next()
            assert (kind, data["categorieen"], data["bron"]) == ("bijgewerkt", ["klant.basis"], "brp")
            # the same event again (same source + id) is a duplicate
            resp = await node.client.post(
                "/api/v1/cloudevents", content=structured.body, headers={**structured.headers, **auth}
            )
            assert resp.status_code == 204
            gekoppeld = CloudEvent(
                attributes={
                    "id": "evt-2",
                    "source": "urn:nld:oin:00000001234567890000:systeem:openzaak",
                    "type": "nl.overheid.zaken.zaak-gekoppeld",
                    "datacontenttype": "application/json",
                },
                data={
                    "zaak": zaak["url"],
                    "linkTo": "http://klantinteracties/kc/1",
                    "linkObjectType": "klantcontact",
                },
            )
            binary = to_binary_event(gekoppeld)
            assert any(k.lower().startswith("ce-") for k in binary.headers)
            resp = await node.client.post(
                "/api/v1/cloudevents", content=binary.body, headers={**binary.headers, **auth}
            )
            assert resp.status_code == 204, resp.text
            kind, data = await sse.next()
            assert set(data["categorieen"]) == {
                "dienst.zaken-lopend",
                "dienst.zaken-historie",
                "contact.historie",
                "contact.open-verzoeken",
            }
            assert data["bron"] == "zaken"
    bad = await node.client.post(
        "/api/v1/cloudevents",
        content=b'{"specversion": "1.0", "type": "nl.brp.verhuisd"}',
        headers={"content-type": "application/cloudevents+json", **auth},
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    plain = await node.client.post("/api/v1/cloudevents", json={"a": 1}, headers=auth)
    assert plain.status_code == 415
    unauth = await node.client.post(
        "/api/v1/cloudevents", content=structured.body, headers=structured.headers
    )
    assert unauth.status_code == 401


async def test_stream_needs_login_and_an_identified_contact_and_ends_with_the_contact(world: World) -> None:
    node = world.nodes[0]
    node.app.state.sse_heartbeat_seconds = 0.2
    assert (await node.client.get("/api/v1/contacten/x/gebeurtenissen")).status_code == 401
    async with await node.as_user("kcm-anna") as anna, await node.as_user("kcm-wim") as wim:
        resp = await anna.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
        )
        unidentified = resp.json()["id"]
        resp = await anna.get(f"/api/v1/contacten/{unidentified}/gebeurtenissen")
        assert resp.status_code == 403
        assert resp.json()["reden"] == "SUBJECT_NOT_IDENTIFIED"
        contact = await open_contact(anna, ALGEMEEN)
        assert (await wim.get(f"/api/v1/contacten/{contact}/gebeurtenissen")).status_code == 403
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert await sse.next(skip_comments=False) == ("comment", "hartslag")
            assert (await anna.post(f"/api/v1/contacten/{contact}/beeindiging")).status_code == 200
            kind, _data = await sse.next(wait=5)
            assert kind == "beeindigd"
            await asyncio.wait_for(sse.closed.wait(), 5)


async def test_purpose_change_during_the_stream_changes_what_is_sent(world: World) -> None:
    node = world.nodes[0]
    subject = Subject.person(BSN)
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            resp = await anna.put(
                f"/api/v1/contacten/{contact}/verwerkingsactiviteit",
                json={"verwerkingsactiviteit": LOPENDE_ZAAK},
            )
            assert resp.status_code == 200
            await node.services.changes.publish_change(subject, ["dienst.zaken-lopend"], "zaken")
            _, data = await sse.next()
            assert data["categorieen"] == ["dienst.zaken-lopend"]


async def test_reconciliation_finds_a_lost_notification(world: World) -> None:
    node = world.nodes[0]
    services = node.services
    zaak, statustypen = await open_zaak_of(world.simulators["zaken"])
    # the routing component loses everything from now on: DGKB's abonnement is gone
    async with httpx.AsyncClient() as c:
        for a in (await c.get(f"{world.routing_component}/abonnement")).json():
            await c.delete(a["url"])
    reconciler = Reconciler(
        hub=services.hub,
        reader=services.klantbeeld,
        invalidate=services.changes.invalidate,
        publish=services.changes.publish_for_key,
    )
    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert await reconciler.run_once() == 0  # baseline
            assert await reconciler.run_once() == 0  # nothing changed
            await set_status(world.simulators["zaken"], zaak, statustypen[-1]["url"])  # closes the zaak
            assert await reconciler.run_once() == 1
            kind, data = await sse.next()
    assert kind == "bijgewerkt"
    assert data["bron"] == "reconciliatie"
    assert set(data["categorieen"]) == {"dienst.zaken-lopend", "dienst.zaken-historie"}


async def test_reconciliation_reads_in_dgkbs_own_name_not_the_agents(world: World) -> None:
    """Issue 10 §2: the employee's access trail shows only what the employee saw; the re-reads are
    DGKB's, under the organisation's registered `actualiseren` purpose, and no decision is logged
    for them in the employee's name."""
    node = world.nodes[0]
    services = node.services
    reconciler = Reconciler(
        hub=services.hub,
        reader=services.klantbeeld,
        invalidate=services.changes.invalidate,
        publish=services.changes.publish_for_key,
    )
    purpose = services.register.system_purpose("00000001001234567000", "actualiseren")
    assert purpose is not None

    async def trail() -> list[tuple[str, str, str]]:
        async with services.database.sessions() as session:
            rows = (await session.execute(select(AccessRecord).order_by(AccessRecord.id))).scalars().all()
        return [(r.actor_id, r.actor_role, r.processing_activity_id) for r in rows]

    async with await node.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen"):
            before = await trail()
            for _ in range(3):
                await reconciler.run_once()
            after = await trail()
    new = after[len(before) :]
    assert len(new) == 3, "one record per round"
    assert {(a, r, p) for a, r, p in new} == {("dgkb-actualiseren", "systeem", purpose.id)}
    assert [t for t in after if t[1] == "kcm"] == [t for t in before if t[1] == "kcm"]


@pytest.mark.parametrize("n", [1])
async def test_hub_is_usable_by_the_console(world: World, n: int) -> None:
    """The console subscribes to the hub directly: an async context manager yielding an async iterator."""
    services = world.nodes[0].services
    key = services.pseudonymizer.pseudonym(Subject.person(BSN)).value
    async with services.hub.subscribe(key) as events:
        await services.changes.publish_change(Subject.person(BSN), ["contact.historie"], "dgkb")
        event = await asyncio.wait_for(anext(aiter(events)), 2)
    assert event.categories == ("contact.historie",)
    assert event.subject_key == key
    assert BSN not in event.to_json().decode()
    assert services.hub.count() == 0
