"""KlantbeeldService's narrower reads for Mijn omgeving's pages: `read(only=...)` decides as always but
fetches, logs and returns only the named categories; `zaak_documenten` reads nothing where the decision
does not permit the field `documenten`."""

from __future__ import annotations

from .conftest import Heart


async def test_read_only_some_categories_asks_only_their_sources(heart: Heart) -> None:
    context = heart.context()
    view = await heart.service.read(context, only={"contact.historie", "klant.familie"})
    assert sorted(s.categorie for s in view.secties) == ["contact.historie", "klant.familie"]
    # klant.basis (personen) is permitted but not asked for: that source is not called
    assert list(heart.asked()) == ["contacten"]
    assert set(heart.asked()["contacten"][0]) == {"contact.historie"}
    assert {s.categorie: s.status for s in view.secties}["klant.familie"] == "niet-toegestaan"
    assert await heart.access_log()  # the read is logged


async def test_documents_are_not_read_where_the_purpose_has_no_zaken(heart: Heart) -> None:
    context = heart.context()
    found = await heart.service.zaak_documenten(
        context, "dienst.zaken-lopend", "http://zaken.example/zaken/api/v1/zaken/1"
    )
    assert found is None
    assert heart.asked() == {}
    assert await heart.access_log() == []
