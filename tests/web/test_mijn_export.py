"""Download mijn gegevens (issue 14, part 11): the JSON export holds the customer's own data and no
one else's, the PDF is tagged PDF/UA with a language, the download needs the portal session, and the
export is logged as a processing that the customer sees in the access history."""

from __future__ import annotations

import io
import json
from typing import Any

import pypdf
import pytest

from dgkb.domain.identifiers import Subject, SubjectKind
from tests.api.conftest import GEMEENTE, Stack, open_contact
from tests.web.mijn_helpers import BSN, KVK, login, portal_client

pytestmark = pytest.mark.xdist_group("mijn-h4export")

# a customer with no family ties to BSN (OTHER_BSN is its partner, whose BSN its family section shows)
STRANGER = "999845147"


def _section(export: dict[str, Any], oin_name: str, categorie: str, bron: str) -> dict[str, Any]:
    """One section of the export (a category may have a section per source)."""
    org = next(o for o in export["organisaties"] if o["organisatie"]["naam"] == oin_name)
    return next(
        s for s in org["klantbeeld"]["secties"] if s["categorie"] == categorie and bron in (s["bron"] or "")
    )


async def _export(stack: Stack, bsn: str) -> dict[str, Any]:
    async with portal_client(stack) as client:
        assert (await login(client, bsn=bsn)).status_code == 303
        resp = await client.get("/mijn/download/mijn-gegevens.json")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/json")
        assert resp.headers["content-disposition"].startswith("attachment;")
        assert bsn not in resp.headers["content-disposition"]
        assert resp.headers["cache-control"] == "no-store"
        return dict(resp.json())


async def test_json_export_holds_own_data_and_no_one_elses(stack: Stack) -> None:
    # an agent reads the customer's klantbeeld first: that read must show up in the access history
    async with await stack.as_user("kcm-anna") as agent:
        contact = await open_contact(agent, GEMEENTE + "kcc-algemene-vraag", bsn=BSN)
        assert (await agent.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200

    mine = await _export(stack, BSN)
    other = await _export(stack, STRANGER)
    assert mine["soort"] == "dgkb-inzage"
    assert {o["organisatie"]["naam"] for o in mine["organisaties"]} == {
        "Gemeente Voorbeeldstad",
        "Waterschap De Voorbeeldwaarden",
    }
    basis = _section(mine, "Gemeente Voorbeeldstad", "klant.basis", "BRP Personen")
    assert basis["status"] == "ok"
    assert basis["gegevens"]["naam"]
    text = json.dumps(mine)
    assert STRANGER not in text
    assert BSN not in json.dumps(other)
    assert other["organisaties"][0]["klantbeeld"]["secties"]
    other_basis = _section(other, "Gemeente Voorbeeldstad", "klant.basis", "BRP Personen")["gegevens"]
    assert other_basis["naam"] != basis["gegevens"]["naam"]
    assert json.dumps(basis["gegevens"]["naam"]) not in json.dumps(other)

    # the access history: the agent's read with organisation and purpose, never the agent
    history = mine["inzagegeschiedenis"]
    agent_reads = [h for h in history if h["wie"] == "een klantcontactmedewerker"]
    assert agent_reads, history[:5]
    assert any(h["doel"] == "Algemene vraag aan het klantcontactcentrum" for h in agent_reads)
    assert "kcm-anna" not in text
    assert "Anna" not in text
    assert any(h["wie"] == "uzelf" for h in history)
    # the contacts DGKB held with the customer: the agent's and the portal's, without who
    kanalen = {c["kanaal"] for c in mine["contacten"]}
    assert {"telefoon", "mijn-omgeving"} <= kanalen
    assert all("kcm" not in json.dumps(c) for c in mine["contacten"])


async def test_export_is_logged_as_a_processing(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        assert (await client.get("/mijn/download/mijn-gegevens.json")).status_code == 200
        again = (await client.get("/mijn/download/mijn-gegevens.json")).json()
    # the first export's own processing is in the second one's access history (by the customer)
    assert any(h["wie"] == "uzelf" and h["uitkomst"] == "delivered" for h in again["inzagegeschiedenis"])
    # in the customer's own processing log (LDV) under each organisation's own-view purpose
    access_log = stack.app.state.services.access_log
    page = await access_log.processings_of(Subject(SubjectKind.BSN, BSN), limit=200)
    exports = [e for e in page.items if e.name == "gegevens exporteren (json)"]
    assert {e.processing_activity_id for e in exports} == {
        GEMEENTE + "mijn-omgeving",
        "https://register.voorbeeldwaarden.nl/verwerkingen/mijn-omgeving",
    }


async def test_pdf_is_tagged_with_language(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        resp = await client.get("/mijn/download/mijn-gegevens.pdf")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    pdf = pypdf.PdfReader(io.BytesIO(resp.content))
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == "nl"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert pdf.metadata is not None
    assert pdf.metadata.title
    assert pdf.metadata.title.startswith("Mijn gegevens")
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Gemeente Voorbeeldstad" in text
    assert "Wie heeft uw gegevens bekeken" in text
    # the structure tree names headings (H1…) and tables, so a screen reader can navigate
    raw = json.dumps(str(_struct_types(root["/StructTreeRoot"])))
    assert "/H1" in raw
    assert "/H2" in raw


def _struct_types(node: Any, depth: int = 0, found: set[str] | None = None) -> set[str]:
    found = set() if found is None else found
    if depth > 8 or len(found) > 50:
        return found
    obj = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(obj, dict):
        if "/S" in obj:
            found.add(str(obj["/S"]))
        kids = obj.get("/K")
        if kids is not None:
            for kid in kids if isinstance(kids, list) else [kids]:
                _struct_types(kid, depth + 1, found)
    return found


async def test_download_needs_the_portal_session(stack: Stack) -> None:
    async with portal_client(stack) as client:
        for path in (
            "/mijn/download",
            "/mijn/download/mijn-gegevens.json",
            "/mijn/download/mijn-gegevens.pdf",
        ):
            resp = await client.get(path)
            assert resp.status_code == 303, path
            assert resp.headers["location"] == "/mijn/inloggen"
    # a staff token does not open the portal's download
    async with await stack.as_user("kcm-anna") as agent:
        resp = await agent.get("/mijn/download/mijn-gegevens.json", follow_redirects=False)
        assert resp.status_code == 303


async def test_download_page_and_crafted_parameters(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN)
        page = await client.get("/mijn/download")
        assert page.status_code == 200
        assert 'href="/mijn/download/mijn-gegevens.pdf"' in page.text
        assert 'aria-current="page"' in page.text
        crafted = await client.get(
            "/mijn/download/mijn-gegevens.json", params={"bsn": STRANGER}, headers={"X-Bsn": STRANGER}
        )
        assert crafted.status_code == 200
        assert STRANGER not in crafted.text
        assert (await client.get("/mijn/download/mijn-gegevens.xml")).status_code == 404


async def test_a_business_exports_its_own_data(stack: Stack) -> None:
    async with portal_client(stack) as client:
        assert (
            await login(client, kvk=KVK, niveau="eherkenning-eh3", naam="Test Handelend Persoon")
        ).status_code == 303
        resp = await client.get("/mijn/download/mijn-gegevens.json")
        assert resp.status_code == 200, resp.text
        export = resp.json()
        assert export["betrokkene"] == {"soort": "kvk"}
        basis = [
            s
            for o in export["organisaties"]
            for s in o["klantbeeld"]["secties"]
            if s["categorie"] == "klant.basis" and s["status"] == "ok"
        ]
        assert any(KVK in json.dumps(s["gegevens"]) for s in basis)
        assert BSN not in resp.text
        pdf = await client.get("/mijn/download/mijn-gegevens.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")


async def test_a_source_that_is_down_leaves_the_rest_of_the_export(stack: Stack) -> None:
    async with portal_client(stack) as client:
        assert (await login(client, bsn=BSN)).status_code == 303
        await stack.sim_behaviour("brp", fail="503")
        resp = await client.get("/mijn/download/mijn-gegevens.json")
        assert resp.status_code == 200, resp.text
        brp = _section(resp.json(), "Gemeente Voorbeeldstad", "klant.basis", "BRP Personen")
        assert brp["status"] != "ok"
        assert brp["statusTekst"].startswith("Tijdelijk niet beschikbaar")
        assert brp["gegevens"] is None
        zaken = _section(resp.json(), "Gemeente Voorbeeldstad", "dienst.zaken-lopend", "Zaaksysteem")
        assert zaken["status"] == "ok"
        pdf = await client.get("/mijn/download/mijn-gegevens.pdf")
        assert pdf.status_code == 200
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Tijdelijk niet beschikbaar" in text
