"""A dead source costs microseconds once its breaker is open; answers are cached briefly."""

from __future__ import annotations

import httpx

from dgkb.domain.identifiers import Subject
from tests.api.conftest import GEMEENTE, Stack, open_contact, sections

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"


async def sim_requests(stack: Stack, source: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as c:
        resp = await c.get(f"{stack.simulators[source]}/_sim/requests")
        resp.raise_for_status()
        data: list[dict[str, object]] = resp.json()
        return data


async def test_breaker_opens_for_a_dead_source_and_health_shows_it(stack: Stack) -> None:
    await stack.sim_behaviour("zaken", fail="503")
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        for _ in range(5):
            resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert sections(resp.json())["dienst.zaken-lopend"][0]["status"] == "onbereikbaar"
        before = len(await sim_requests(stack, "zaken"))
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        zaken = sections(resp.json())["dienst.zaken-lopend"][0]
        assert zaken["status"] == "onbereikbaar"
        # an open breaker answers without calling the source (counted, not timed: a loaded machine)
        assert len(await sim_requests(stack, "zaken")) == before
        assert sections(resp.json())["klant.basis"][0]["status"] == "ok"
    async with await stack.as_user("beheer-bea") as bea:
        resp = await bea.get("/api/v1/bronnen")
        assert resp.status_code == 200
        by_id = {b["id"]: b for b in resp.json()["resultaten"]}
        assert by_id["zaken"]["stroomonderbreker"] == "open"
        assert by_id["zaken"]["foutpercentage"] == 1.0
        assert by_id["brp"]["stroomonderbreker"] == "gesloten"
        assert by_id["brp"]["latencyP50Ms"] is not None
    async with await stack.as_user("kcm-anna") as anna:
        assert (await anna.get("/api/v1/bronnen")).status_code == 403


async def test_source_answers_are_cached_and_invalidated_per_subject(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        first = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        calls = len(await sim_requests(stack, "zaken"))
        second = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert len(await sim_requests(stack, "zaken")) == calls, "second read within the TTL is a cache hit"
        assert (
            sections(second)["dienst.zaken-lopend"][0]["gegevens"]
            == sections(first)["dienst.zaken-lopend"][0]["gegevens"]
        )
        services = stack.app.state.services
        key = services.pseudonymizer.pseudonym(Subject.person("999993653")).value
        assert await services.federation.invalidate(key) > 0
        await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert len(await sim_requests(stack, "zaken")) > calls
