"""The Zaken adapter's fields for the customer's own timeline (statustypen, opschorting, the history of
an open zaak) and the documents of one zaak (zaakinformatieobjecten), against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import World, zaak_documenten
from dgkb.sources.base import FetchRequest, SourceError, ZaakDocumenten
from dgkb.sources.zaken import ZakenAdapter

from .conftest import HEADERS, SimControl, source_config

CATEGORIES = ("dienst.zaken-lopend", "dienst.zaken-historie")
BSN = "999993653"
LOPEND = ("identificatie", "status", "statushistorie", "statustypen", "opschorting", "documenten")


@pytest.fixture
async def adapter(zaken_url: str) -> AsyncIterator[ZakenAdapter]:
    a = ZakenAdapter(source_config("zgw-zaken", zaken_url, CATEGORIES, deadline=0.5))
    yield a
    await a.aclose()


async def test_open_zaken_carry_their_steps_history_and_suspension(
    adapter: ZakenAdapter, world: World
) -> None:
    # the gateway asks an adapter only for its vocabulary: `documenten` never in a list read
    assert "documenten" not in adapter.vocabulary["dienst.zaken-lopend"]
    fields = tuple(f for f in LOPEND if f in adapter.vocabulary["dienst.zaken-lopend"])
    result = await adapter.fetch(FetchRequest(Subject.person(BSN), {"dienst.zaken-lopend": fields}, HEADERS))
    lopend = result["dienst.zaken-lopend"]
    assert isinstance(lopend, list)
    assert lopend
    person = world.person(BSN)
    assert person is not None
    for item in lopend:
        zaak = next(z for z in person.zaken if z.identificatie == item["identificatie"])
        zaaktype = world.zaaktype(zaak.zaaktype_uuid)
        assert [s["omschrijving"] for s in item["statustypen"]] == [
            s.omschrijving for s in zaaktype.statustypen
        ]
        assert [s["isEindstatus"] for s in item["statustypen"]][-1] is True
        assert [h["omschrijving"] for h in item["statushistorie"]][-1] == item["status"]["omschrijving"]
        assert len(item["statushistorie"]) == len(zaak.statussen)
    waiting = [z for z in lopend if z["opschorting"]["indicatie"]]
    assert waiting
    assert waiting[0]["opschorting"]["reden"].startswith("Wacht op aanvulling: ")


async def test_the_documents_of_one_zaak_in_one_request(
    adapter: ZakenAdapter, zaken_url: str, sim: Callable[[str], Awaitable[SimControl]], world: World
) -> None:
    assert isinstance(adapter, ZaakDocumenten)
    result = await adapter.fetch(
        FetchRequest(Subject.person(BSN), {"dienst.zaken-historie": ("identificatie", "url")}, HEADERS)
    )
    historie = result["dienst.zaken-historie"]
    assert isinstance(historie, list)
    closed = historie[0]
    control = await sim(zaken_url)
    documenten = await adapter.zaak_documenten(closed["url"], HEADERS)
    sent = await control.requests()
    assert [r["path"] for r in sent] == ["/zaken/api/v1/zaakinformatieobjecten"]
    zaak = next(z for z in world.zaken() if z.identificatie == closed["identificatie"])
    assert [d["titel"] for d in documenten] == [
        d.titel for d in zaak_documenten(zaak, world.zaaktype(zaak.zaaktype_uuid))
    ]
    assert all(set(d) == {"titel", "beschrijving", "registratiedatum"} for d in documenten)


async def test_a_foreign_zaak_url_is_never_followed(adapter: ZakenAdapter) -> None:
    with pytest.raises(SourceError):
        await adapter.zaak_documenten("https://elders.example/zaken/api/v1/zaken/1", HEADERS)
