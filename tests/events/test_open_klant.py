"""Issue 11 §1 and §2: Open Klant's notifications and changes reach open views.

§1: a notification as the spec allows and Open Klant sends it — empty kenmerk values, booleans, null —
is accepted. §2: Open Klant publishes interne taken and partijen on kanalen of their own (`internetaken`,
`partijen`); DGKB follows them. Open Notificaties 1.16 refuses Open Klant's `klantcontacten`
notifications (boolean kenmerken) and delivers only in scheduler rounds, so reconciliation covers what
no notification brings (yet): both are shown with the simulators, which behave the same way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from dgkb.events.notificaties import Notificatie
from dgkb.events.reconcile import Reconciler
from dgkb.runner import DEMO_OPENKLANT_TOKEN
from dgkb.simulators.klantinteracties import BASE_PATH as KI
from tests.events.conftest import ALGEMEEN, BSN, SseClient, World, open_contact

VERZOEKEN = "contact.open-verzoeken"


class OpenKlant:
    """The Klantinteracties simulator, as the back office (or another application) uses Open Klant."""

    def __init__(self, world: World) -> None:
        self.root = world.simulators["klantinteracties"]
        self.base = f"{self.root}{KI}"
        self.http = httpx.AsyncClient(
            timeout=10,
            headers={"Authorization": f"Token {DEMO_OPENKLANT_TOKEN}"},  # Open Klant's token auth
        )

    async def __aenter__(self) -> OpenKlant:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def partij(self, bsn: str = BSN) -> dict[str, Any]:
        page = (
            await self.http.get(f"{self.base}/partijen", params={"partijIdentificator__objectId": bsn})
        ).json()
        return dict(page["results"][0])

    async def klantcontacten(self, partij: dict[str, Any]) -> list[dict[str, Any]]:
        params = {"hadBetrokkene__wasPartij__uuid": partij["uuid"], "expand": "leiddeTotInterneTaken"}
        return list((await self.http.get(f"{self.base}/klantcontacten", params=params)).json()["results"])

    async def open_taak(self, partij: dict[str, Any]) -> dict[str, Any]:
        for contact in await self.klantcontacten(partij):
            for taak in contact.get("_expand", {}).get("leiddeTotInterneTaken", []):
                if taak["status"] == "te_verwerken":
                    return dict(taak)
        raise AssertionError("the demo world gives this person an open contactverzoek")

    async def patch(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.patch(url, json=body)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    async def post(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.post(f"{self.base}/{resource}", json=body)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def published(self, count: int) -> list[dict[str, Any]]:
        """Open Klant's notifications and the routing component's answers, once `count` are in."""
        for _ in range(250):
            log: list[dict[str, Any]] = (await self.http.get(f"{self.root}/_sim/notificaties")).json()
            if len(log) >= count:
                return log
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {count} notifications published: {log}")


def _section(klantbeeld: dict[str, Any], categorie: str) -> Any:
    return next(s["gegevens"] for s in klantbeeld["secties"] if s["categorie"] == categorie)


def _reconciler(world: World) -> Reconciler:
    services = world.nodes[0].services
    return Reconciler(
        hub=services.hub,
        reader=services.klantbeeld,
        invalidate=services.changes.invalidate,
        publish=services.changes.publish_for_key,
    )


async def test_kenmerken_as_open_klant_sends_them_are_accepted(world: World) -> None:
    """§1: empty strings, booleans, null and numbers as kenmerk values: accepted and handled."""
    node = world.nodes[0]
    async with OpenKlant(world) as ok, await node.as_user("kcm-anna") as anna:
        contact_url = (await ok.klantcontacten(await ok.partij()))[0]["url"]
        contact = await open_contact(anna, ALGEMEEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            for i, kenmerken in enumerate(
                [
                    {
                        "hoofdOnderwerpType": "",
                        "indicatieContactGelukt": True,
                        "verdereActieOndernomen": False,
                    },
                    {
                        "hoofdOnderwerpType": "",
                        "indicatieContactGelukt": None,
                        "verdereActieOndernomen": True,
                    },
                    {"aantal": 3, "score": 7.5, "leeg": ""},
                ]
            ):
                message = {
                    "kanaal": "klantcontacten",
                    "hoofdObject": contact_url,
                    "resource": "klantcontact",
                    "resourceUrl": contact_url,
                    "actie": "partial_update",
                    "aanmaakdatum": f"2026-03-0{i + 1}T10:00:00Z",
                    "kenmerken": kenmerken,
                }
                resp = await node.notify(message)
                assert resp.status_code == 204, resp.text
                kind, data = await sse.next()
                assert kind == "bijgewerkt"
                assert set(data["categorieen"]) == {"contact.historie", VERZOEKEN}
                assert data["bron"] == "klantinteracties"
    # what is still refused: a message without what the spec requires
    bad = await node.notify({"kanaal": "klantcontacten", "hoofdObject": "", "kenmerken": {"x": True}})
    assert bad.status_code == 400
    assert {p["name"] for p in bad.json()["invalidParams"]} >= {"hoofdObject", "resourceUrl", "aanmaakdatum"}


@given(
    st.dictionaries(
        st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=20),  # NUL: refused
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(st.characters(blacklist_characters="\x00"), max_size=50),
        max_size=5,
    )
)
def test_any_json_scalar_is_a_kenmerk(kenmerken: dict[str, Any]) -> None:
    message = Notificatie.model_validate(
        {
            "kanaal": "klantcontacten",
            "hoofdObject": "http://ok.example/kc/1",
            "resource": "klantcontact",
            "resourceUrl": "http://ok.example/kc/1",
            "actie": "create",
            "aanmaakdatum": "2026-03-01T10:00:00Z",
            "kenmerken": kenmerken,
        }
    )
    assert message.kenmerken == kenmerken
    assert all(type(message.kenmerken[k]) is type(v) for k, v in kenmerken.items())


async def test_a_new_and_a_handled_contactverzoek_reach_the_open_view(world: World) -> None:
    """§2: Open Klant publishes interne taken on kanaal `internetaken`; DGKB follows it."""
    node = world.nodes[0]
    async with OpenKlant(world) as ok, await node.as_user("kcm-anna") as anna:
        partij = await ok.partij()
        taak = await ok.open_taak(partij)
        contact = await open_contact(anna, ALGEMEEN)
        before = _section((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), VERZOEKEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            # a colleague's contactverzoek, registered in Open Klant by another application
            await ok.post(
                "internetaken",
                {
                    "gevraagdeHandeling": "Terugbellen over de aanvraag",
                    "aanleidinggevendKlantcontact": {"uuid": taak["aanleidinggevendKlantcontact"]["uuid"]},
                    "toelichting": "",
                    "status": "te_verwerken",
                    # Open Klant requires an actor (the Klantcontactcentrum of config/onderwerpen.yaml)
                    "toegewezenAanActoren": [{"uuid": "7702d256-2f0b-5488-b6f3-645958e19686"}],
                },
            )
            delivered = await world.deliver()
            assert [(d["kanaal"], d["status"]) for d in delivered] == [("internetaken", 204)]
            kind, data = await sse.next()
            assert (kind, data["categorieen"], data["bron"]) == (
                "bijgewerkt",
                [VERZOEKEN],
                "klantinteracties",
            )
            middle = _section((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), VERZOEKEN)
            assert len(middle) == len(before) + 1
            # the back office handles the older one
            await ok.patch(taak["url"], {"status": "verwerkt"})
            delivered = await world.deliver()
            assert [(d["kanaal"], d["status"]) for d in delivered] == [("internetaken", 204)]
            kind, data = await sse.next()
            assert (kind, data["categorieen"]) == ("bijgewerkt", [VERZOEKEN])
        after = _section((await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), VERZOEKEN)
    assert len(after) == len(before)
    assert taak["gevraagdeHandeling"] not in str(after)


async def test_a_changed_partij_reaches_the_open_view(world: World) -> None:
    """§2: Open Klant publishes partijen on kanaal `partijen` (preferred address, language)."""
    node = world.nodes[0]
    async with OpenKlant(world) as ok, await node.as_user("kcm-anna") as anna:
        partij = await ok.partij()
        other = next(
            a for a in partij["digitaleAdressen"] if a["uuid"] != partij["voorkeursDigitaalAdres"]["uuid"]
        )
        contact = await open_contact(anna, ALGEMEEN)
        before = _section(
            (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), "klant.voorkeurskanaal"
        )
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            await ok.patch(partij["url"], {"voorkeursDigitaalAdres": {"uuid": other["uuid"]}})
            delivered = await world.deliver()
            assert [(d["kanaal"], d["status"]) for d in delivered] == [("partijen", 204)]
            kind, data = await sse.next()
        after = _section(
            (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json(), "klant.voorkeurskanaal"
        )
    assert kind == "bijgewerkt"
    assert set(data["categorieen"]) == {"klant.contactgegevens", "klant.voorkeurskanaal"}
    assert data["bron"] == "klantinteracties"
    assert after != before


async def test_an_internetaak_change_reaches_the_open_view_by_reconciliation(world: World) -> None:
    """Before the routing component's next round (or when it refused the message) only reconciliation
    can tell: the change reaches the open view all the same."""
    node = world.nodes[0]
    reconciler = _reconciler(world)
    async with OpenKlant(world) as ok, await node.as_user("kcm-anna") as anna:
        taak = await ok.open_taak(await ok.partij())
        contact = await open_contact(anna, ALGEMEEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert await reconciler.run_once() == 0  # baseline
            await ok.patch(taak["url"], {"status": "verwerkt"})
            assert await reconciler.run_once() == 1  # the routing component has not delivered yet
            kind, data = await sse.next()
            assert (kind, data["bron"]) == ("bijgewerkt", "reconciliatie")
            assert VERZOEKEN in data["categorieen"]
            # the notification arrives in the next round all the same (and is handled, once)
            delivered = await world.deliver()
            assert [(d["kanaal"], d["status"]) for d in delivered] == [("internetaken", 204)]
            kind, data = await sse.next()
            assert (data["categorieen"], data["bron"]) == ([VERZOEKEN], "klantinteracties")


async def test_a_klantcontact_refused_upstream_reaches_the_open_view_by_reconciliation(world: World) -> None:
    """Open Notificaties refuses Open Klant's klantcontacten notifications (boolean kenmerken): a
    contact registered elsewhere reaches the open view through reconciliation only."""
    node = world.nodes[0]
    reconciler = _reconciler(world)
    async with OpenKlant(world) as ok, await node.as_user("kcm-anna") as anna:
        partij = await ok.partij()
        contact = await open_contact(anna, ALGEMEEN)
        async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
            assert await reconciler.run_once() == 0
            kc = await ok.post(
                "klantcontacten",
                {
                    "kanaal": "e-mail",
                    "onderwerp": "Vraag over de afvalkalender",
                    "taal": "nld",
                    "vertrouwelijk": False,
                    "plaatsgevondenOp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                },
            )
            await ok.post(
                "betrokkenen",
                {
                    "hadKlantcontact": {"uuid": kc["uuid"]},
                    "wasPartij": {"uuid": partij["uuid"]},
                    "rol": "klant",
                    "initiator": True,
                },
            )
            log = await ok.published(1)
            assert [(n["kanaal"], n["status"]) for n in log] == [("klantcontacten", 400)]
            async with httpx.AsyncClient() as c:
                assert (await c.get(f"{world.simulators['notificaties']}/_sim/scheduled")).json() == []
            assert await reconciler.run_once() == 1
            kind, data = await sse.next()
    assert (kind, data["bron"]) == ("bijgewerkt", "reconciliatie")
    assert "contact.historie" in data["categorieen"]
