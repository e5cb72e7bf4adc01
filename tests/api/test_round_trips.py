"""Issue 12 §1: a klantbeeld costs each source one round trip. The Klantinteracties adapter used to look
the partij up first and then ask for its digitale adressen and klantcontacten by the partij's uuid (two
round trips, one after the other); now it asks for the partij (with its digitale adressen expanded)
and for the klantcontacten by the partij's identificator at the same time, so no request needs the
answer of another. Counted on the simulator's own request log, with the real API's filters (the
conformance tests check them against the spec)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from dgkb.domain.identifiers import Subject
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack

BSN = "999993653"  # open_contact's customer
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"  # contactgegevens, voorkeur, historie, open verzoeken, zaken


async def requests_of(stack: Stack, source: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as c:
        return list((await c.get(f"{stack.simulators[source]}/_sim/requests")).json())


async def forget(stack: Stack, source: str) -> None:
    async with httpx.AsyncClient(timeout=10) as c:
        await c.delete(f"{stack.simulators[source]}/_sim/requests")


@pytest.mark.postgres
async def test_klantinteracties_answers_a_klantbeeld_in_one_round_trip(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")  # the afdelingen' names are cached now
        await stack.app.state.services.gateway.invalidate(Subject.person(BSN))  # no source cache hit
        await forget(stack, "klantinteracties")
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    served = {s["categorie"]: s for s in body["secties"] if s.get("bronId") == "klantinteracties"}
    assert {"klant.contactgegevens", "contact.historie", "contact.open-verzoeken"} <= set(served)
    assert all(s["status"] == "ok" for s in served.values())
    assert served["contact.historie"]["gegevens"], "the demo customer has contact history"

    sent = [r for r in await requests_of(stack, "klantinteracties") if r["method"] == "GET"]
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in sent) == ["klantcontacten", "partijen"]
    # no request depends on another's answer: none names a partij (or anything else) by uuid
    for request in sent:
        params = parse_qs(request["query"])
        assert not [k for k in params if k.endswith("__uuid")], request
        assert params.get("expand"), request  # the related objects come along


@pytest.fixture
async def patient_stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """A stack whose sources may take 30 s: the test below holds the zaken list back until it has
    seen the /statussen calls arrive, which on a loaded machine can outlast the usual 1 s deadline."""
    async with running_stack(database_url, simulators, source_deadline_seconds=30.0) as stack:
        yield stack


@pytest.mark.postgres
async def test_zaken_answers_a_klantbeeld_in_one_round_trip(
    patient_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One zaken request with everything expanded (zaaktype, status, statustype, rollen, resultaat);
    the catalogi names are cached. The Zaken API cannot embed a zaak's whole status history, so the
    adapter remembers the URLs of the subject's zaken under its pseudonym (an identity map, also with
    the source cache off) and asks /statussen for them together with the zaken list: no request
    waits for another's answer. (Cold, the first view asks /statussen after the list.)"""
    stack = patient_stack
    adapter = stack.app.state.services.sources.adapters["zaken"]
    list_zaken = adapter.zaken_of
    seen_before_list: list[int] = []

    async def zaken_of_after_the_statussen(*args: Any, **kwargs: Any) -> Any:
        # the zaken list is asked only once the /statussen calls have reached the source: were
        # they dependent on the list's answer, they could never arrive first
        for _ in range(500):
            sent = await requests_of(stack, "zaken")
            if [r for r in sent if r["path"].endswith("/statussen")]:
                break
            await asyncio.sleep(0.01)
        seen_before_list.append(len([r for r in sent if r["path"].endswith("/statussen")]))
        return await list_zaken(*args, **kwargs)

    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK)
        await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")  # catalogi names and zaak URLs known
        await stack.app.state.services.gateway.invalidate(Subject.person(BSN))  # no source cache hit
        await forget(stack, "zaken")
        monkeypatch.setattr(adapter, "zaken_of", zaken_of_after_the_statussen)
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    historie = next(s for s in body["secties"] if s["categorie"] == "dienst.zaken-historie")
    assert historie["status"] == "ok"
    assert historie["gegevens"], "the demo customer has closed zaken"
    assert all(z["statushistorie"] for z in historie["gegevens"])
    assert seen_before_list
    assert seen_before_list[0] >= 1
    paths = [r["path"] for r in await requests_of(stack, "zaken")]
    assert paths.count("/zaken/api/v1/zaken") == 1, paths
    assert set(paths) <= {"/zaken/api/v1/zaken", "/zaken/api/v1/statussen"}, paths
