"""Klopt er iets niet? (issue 14, part 9) beyond sending the request: the zaak route (a zaak of a
configured zaaktype in the Zaken source, with the customer as initiator, where the installation grants
DGKB that scope and the register lets the own view write dienst.zaken-lopend), the owner asking the
customer a question in the source's own terms (the zaak suspended for the customer; a follow-up
klantcontact of the organisation on the request's klantcontact while the interne taak is open), the
question on Mijn taken and on the request's page, the answer written back to Klantinteracties, the
status following the source, and the KCC agent seeing it. Over HTTP against the simulators, on both
databases, with the attempts to break it: another customer's request, a request that waits for no
answer, a question that is not the one it waits on, and a Zaken client without `zaken.aanmaken`."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import yaml

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.runner import DEMO_ZGW_CLIENT
from dgkb.settings import PROJECT_ROOT
from dgkb.simulators import zaken
from dgkb.simulators.common import ZgwAutorisatie, ZgwJwtVerifier
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import build_world
from dgkb.simulators.zaken.state import EXTRA_ZAAKTYPEN
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack
from tests.clients import http_client
from tests.conftest import DB_BACKENDS, fresh_database_url
from tests.web.mijn_helpers import BSN, OTHER_BSN, csrf, login, portal_client
from tests.web.test_mijn_correctie import KI, KI_AUTH, _form, _internetaken, _options, _status

ZAKEN = "/zaken/api/v1"
CRS = {"Accept-Crs": "EPSG:4326"}
RSIN = "123456782"
TAX_TEAM = "Team Belastingen"
CORRECTIE_ZAAKTYPE = EXTRA_ZAAKTYPEN[0]


@pytest.fixture(params=DB_BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases (the browser tests of tests/web run on one): these are HTTP tests."""
    return await fresh_database_url(request.param, tmp_path)


def zaak_route_config(target: Path, *, schrijven: bool = True) -> Path:
    """The demo configuration with the municipal tax system's corrections routed as a zaak of
    CORRECTIEVERZOEK, and (`schrijven`) the municipality's own view allowed to make that zaak."""
    shutil.copytree(PROJECT_ROOT / "config", target)
    sources = yaml.safe_load((target / "sources.yaml").read_text())
    for src in sources["sources"]:
        if src["id"] == "gemeente-belastingen":
            src["correcties"] = {
                "route": "zaak",
                "team": TAX_TEAM,
                "zaaktype": CORRECTIE_ZAAKTYPE.identificatie,
                "bronorganisatie": RSIN,
            }
    (target / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    register = yaml.safe_load((target / "register.yaml").read_text())
    own = next(va for va in register["verwerkingsactiviteiten"] if va["id"] == GEMEENTE + "mijn-omgeving")
    own["categorieen"]["dienst.zaken-lopend"]["schrijven"] = schrijven
    (target / "register.yaml").write_text(yaml.safe_dump(register, allow_unicode=True))
    return target


@pytest.fixture
async def zaak_stack(database_url: str, simulators: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    config = zaak_route_config(tmp_path / "config")
    async with running_stack(
        database_url, simulators, source_deadline_seconds=2.0, config_dir=config
    ) as running:
        yield running


# --- the customer's side ------------------------------------------------------------------------------


async def _send(client: httpx.AsyncClient, categorie: str, bron: str, wat: str) -> str:
    page, form = await _form(client, categorie, bron)
    resp = await client.post(
        "/mijn/correctie", data={**form, "onderdeel": _options(page.text)[0], "watKloptNiet": wat}
    )
    assert resp.status_code == 303, resp.text
    return dict(parse_qsl(urlsplit(resp.headers["location"]).query))["verstuurd"]


def _verzoek_id(listing: str, nummer: str) -> str:
    found = re.search(rf'data-verzoek="{nummer}".*?href="/mijn/correctie/([0-9a-f-]{{36}})"', listing, re.S)
    assert found, f"geen link naar verzoek {nummer}"
    return found.group(1)


def _vraag(page: str) -> tuple[str, str] | None:
    """(question id, question text) of the answer form on a request's page, None without one."""
    ident = re.search(r'name="vraag" value="([^"]+)"', page)
    tekst = re.search(r"<blockquote[^>]*data-vraag><p[^>]*>(.*?)</p>", page, re.S)
    if ident is None or tekst is None:
        return None
    return html.unescape(ident.group(1)), html.unescape(tekst.group(1))


def _taken(page: str) -> list[tuple[str, str]]:
    """(soort, link) of every task on Mijn taken."""
    return [
        (soort, html.unescape(link))
        for soort, link in re.findall(r'data-taak="([a-z]+)".*?href="([^"]+)"', page, re.S)
    ]


async def _answer(
    client: httpx.AsyncClient, verzoek: str, antwoord: str, vraag: str | None = None
) -> httpx.Response:
    page = await client.get(f"/mijn/correctie/{verzoek}")
    assert page.status_code == 200, page.text
    shown = _vraag(page.text)
    return await client.post(
        f"/mijn/correctie/{verzoek}/antwoord",
        data={
            "csrf_token": csrf(page),
            "vraag": vraag if vraag is not None else (shown[0] if shown else ""),
            "antwoord": antwoord,
        },
    )


async def _changed(stack: Stack, source: str) -> None:
    """What DGKB does when the source's change notification arrives (tests/events cover that path):
    the customer's cached answers are dropped."""
    await stack.app.state.services.changes.publish_change(
        Subject(SubjectKind.BSN, BSN), ["dienst.zaken-lopend", "contact.historie"], source
    )


# --- the owner's side, through the simulators ---------------------------------------------------------


async def _zaak_of(stack: Stack, nummer: str) -> dict[str, Any]:
    async with http_client(base_url=stack.simulators["zaken"], headers=CRS) as sim:
        page = await sim.get(
            f"{ZAKEN}/zaken",
            params={"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": BSN, "expand": "rollen"},
        )
    [zaak] = [z for z in page.json()["results"] if nummer in z["omschrijving"]]
    return dict(zaak)


async def _team_suspends(stack: Stack, zaak: dict[str, Any], reden: str) -> None:
    async with http_client(base_url=stack.simulators["zaken"]) as sim:
        resp = await sim.post(
            f"/_sim/zaken/{zaak['uuid']}/opschorting", json={"indicatie": True, "reden": reden}
        )
        assert resp.status_code == 200, resp.text
    await _changed(stack, "zaken")


async def _team_closes(stack: Stack, zaak: dict[str, Any]) -> None:
    async with http_client(base_url=stack.simulators["zaken"]) as sim:
        zaaktype = (await sim.get(zaak["zaaktype"])).json()
        resp = await sim.post(
            f"/_sim/zaken/{zaak['uuid']}/status", json={"statustype": zaaktype["statustypen"][-1]}
        )
        assert resp.status_code == 201, resp.text
    await _changed(stack, "zaken")


async def _partij(ki: httpx.AsyncClient, bsn: str) -> str:
    page = await ki.get(
        f"{KI}/partijen",
        params={"partijIdentificator__codeSoortObjectId": "bsn", "partijIdentificator__objectId": bsn},
    )
    return str(page.json()["results"][0]["uuid"])


async def _team_asks(stack: Stack, previous: str, question: str, *, bsn: str = BSN) -> str:
    """The team asks the customer something about the klantcontact `previous`, as Klantinteracties
    models it: a klantcontact with the customer as betrokkene who did not begin it, following up
    `previous` (an onderwerpobject whose wasKlantcontact is that one), the question as its inhoud."""
    async with http_client(base_url=stack.simulators["klantinteracties"], headers=KI_AUTH) as ki:
        contact = await ki.post(
            f"{KI}/klantcontacten",
            json={
                "kanaal": "e-mail",
                "onderwerp": "Vraag over uw correctieverzoek",
                "inhoud": question,
                "indicatieContactGelukt": True,
                "taal": "nld",
                "vertrouwelijk": False,
            },
        )
        assert contact.status_code == 201, contact.text
        link = {"uuid": contact.json()["uuid"]}
        betrokkene = await ki.post(
            f"{KI}/betrokkenen",
            json={
                "hadKlantcontact": link,
                "wasPartij": {"uuid": await _partij(ki, bsn)},
                "rol": "klant",
                "initiator": False,
            },
        )
        assert betrokkene.status_code == 201, betrokkene.text
        objekt = await ki.post(
            f"{KI}/onderwerpobjecten",
            json={
                "klantcontact": link,
                "wasKlantcontact": {"uuid": previous},
                "onderwerpobjectidentificator": None,
            },
        )
        assert objekt.status_code == 201, objekt.text
    await _changed(stack, "klantinteracties")
    return str(contact.json()["uuid"])


async def _klantcontacten(stack: Stack, bsn: str = BSN) -> list[dict[str, Any]]:
    async with http_client(base_url=stack.simulators["klantinteracties"], headers=KI_AUTH) as ki:
        page = await ki.get(
            f"{KI}/klantcontacten",
            params={
                "hadBetrokkene__wasPartij__partijIdentificator__objectId": bsn,
                "expand": "gingOverOnderwerpobjecten,hadBetrokkenen",
                "pageSize": "500",
            },
        )
    return list(page.json()["results"])


async def _writes(stack: Stack, source: str) -> list[dict[str, Any]]:
    async with http_client() as sim:
        calls = (await sim.get(f"{stack.simulators[source]}/_sim/requests")).json()
    return [c for c in calls if c["method"] != "GET"]


# --- the zaak route -----------------------------------------------------------------------------------


async def test_a_correction_routed_as_a_zaak_asks_the_customer_and_follows_the_zaak(
    zaak_stack: Stack,
) -> None:
    stack = zaak_stack
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        page, _ = await _form(client, "dossier.financieel", "gemeente-belastingen")
        assert f"Wij sturen uw verzoek naar {TAX_TEAM}." in page.text
        nummer = await _send(
            client, "dossier.financieel", "gemeente-belastingen", "Deze aanslag is al betaald."
        )
        listing = (await client.get("/mijn/correctie")).text
        assert _status(listing, nummer) == "doorgestuurd", listing
        zaak = await _zaak_of(stack, nummer)
        assert f"(zaak {zaak['identificatie']})" in listing
        assert f"bij {TAX_TEAM}" in listing
        verzoek = _verzoek_id(listing, nummer)

        # the zaak at the Zaken source: of the configured zaaktype, the customer its initiator
        assert zaak["zaaktype"].endswith(CORRECTIE_ZAAKTYPE.uuid)
        assert zaak["bronorganisatie"] == RSIN
        assert zaak["verantwoordelijkeOrganisatie"] == RSIN
        assert "Deze aanslag is al betaald." in zaak["toelichting"]
        [rol] = zaak["_expand"]["rollen"]
        assert rol["omschrijvingGeneriek"] == "initiator"
        assert rol["betrokkeneIdentificatie"]["inpBsn"] == BSN
        # written only through the Zaken and Klantinteracties APIs; nothing to the tax system
        assert await _writes(stack, "gemeente-belastingen") == []
        assert {w["path"] for w in await _writes(stack, "zaken")} == {f"{ZAKEN}/zaken", f"{ZAKEN}/rollen"}
        # and the write was logged under the customer's own-view purpose
        processings = await stack.app.state.services.access_log.processings_of(Subject(SubjectKind.BSN, BSN))
        made = [p for p in processings.items if p.name == "correctieverzoek als zaak doorsturen"]
        assert made
        assert made[0].processing_activity_id == GEMEENTE + "mijn-omgeving"
        assert made[0].categories == ("dienst.zaken-lopend",)

        # the request as a klantcontact of the customer about the zaak (the KCC's contact history)
        [recorded] = [k for k in await _klantcontacten(stack) if nummer in k["onderwerp"]]
        zaak_links = [
            o["onderwerpobjectidentificator"] for o in recorded["_expand"]["gingOverOnderwerpobjecten"]
        ]
        assert [z["objectId"] for z in zaak_links] == [zaak["identificatie"]]

        # nothing asked yet: no task, no form
        taken = (await client.get("/mijn/taken")).text
        assert ("correctie", f"/mijn/correctie/{verzoek}") not in _taken(taken)
        assert _vraag((await client.get(f"/mijn/correctie/{verzoek}")).text) is None

        # the team suspends the zaak with its question (Awb 4:15)
        question = "Welke aanslag bedoelt u: die van 2025 of die van 2026?"
        await _team_suspends(stack, zaak, question)
        taken = (await client.get("/mijn/taken")).text
        assert ("correctie", f"/mijn/correctie/{verzoek}") in _taken(taken), taken
        assert f"Wacht op uw antwoord: verzoek {nummer}" in taken
        assert question in html.unescape(taken)
        # the same zaak is not also a "send us" task
        assert not [
            link for soort, link in _taken(taken) if soort == "aanvullen" and zaak["identificatie"] in link
        ]
        detail = (await client.get(f"/mijn/correctie/{verzoek}")).text
        shown = _vraag(detail)
        assert shown is not None
        assert shown[1] == question
        assert "Wacht op uw antwoord" in detail
        listing = (await client.get("/mijn/correctie")).text
        assert "data-wacht-op-antwoord" in listing

        # the KCC agent: the zaak among the customer's running zaken, the request in the history
        async with await stack.as_user("kcm-anna") as agent:
            contact = await open_contact(agent, GEMEENTE + "vraag-lopende-zaak", bsn=BSN)
            kb = (await agent.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
            lopend = [s for s in kb["secties"] if s["categorie"] == "dienst.zaken-lopend"]
            assert [
                z["omschrijving"]
                for z in lopend[0]["gegevens"]
                if z["identificatie"] == zaak["identificatie"]
            ] == [zaak["omschrijving"]]
            historie = [s for s in kb["secties"] if s["categorie"] == "contact.historie"]
            mine = [c for c in historie[0]["gegevens"] if nummer in (c.get("onderwerp") or "")]
            assert mine, historie
            assert mine[0]["zaken"] == [zaak["identificatie"]]

        # the customer answers: a klantcontact of theirs about the zaak, at Klantinteracties
        answer = "Het gaat om de aanslag van 2026, betaald op 3 maart."
        resp = await _answer(client, verzoek, answer)
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == f"/mijn/correctie/{verzoek}?beantwoord=1"
        done = (await client.get(resp.headers["location"])).text
        assert "Wij hebben uw antwoord verstuurd" in done
        assert _vraag(done) is None
        [sent] = [k for k in await _klantcontacten(stack) if k["inhoud"] == answer]
        assert nummer in sent["onderwerp"]
        assert [
            o["onderwerpobjectidentificator"]["objectId"]
            for o in sent["_expand"]["gingOverOnderwerpobjecten"]
        ] == [zaak["identificatie"]]
        assert [b["initiator"] for b in sent["_expand"]["hadBetrokkenen"]] == [True]
        # the zaak stays suspended until the team goes on, but the question is answered: no task
        taken = (await client.get("/mijn/taken")).text
        assert ("correctie", f"/mijn/correctie/{verzoek}") not in _taken(taken)
        # answering the same question twice: it waits for none now
        twice = await _answer(client, verzoek, "Nog een keer", vraag="opschorting:x")
        assert twice.status_code == 409
        assert "Bij dit verzoek wachten wij niet op een antwoord van u." in twice.text

        # the team closes the zaak: the request is handled
        await _team_closes(stack, zaak)
        listing = (await client.get("/mijn/correctie")).text
        assert _status(listing, nummer) == "afgehandeld", listing


async def test_a_zaken_client_without_zaken_aanmaken_keeps_the_request_as_received(
    database_url: str, simulators: dict[str, str], tmp_path: Path
) -> None:
    """DGKB's ZGW client may read but not make zaken of CORRECTIEVERZOEK: the Zaken API refuses
    (403), the request stays in DGKB as 'ontvangen' with the reason, no zaak and no rol exist."""
    client_id, secret = DEMO_ZGW_CLIENT
    auth = ZgwJwtVerifier(
        {client_id: secret},
        autorisaties={client_id: (ZgwAutorisatie(frozenset({"zaken.lezen"}), CORRECTIE_ZAAKTYPE.uuid),)},
    )
    async with serve_in_background(zaken.create_app(build_world(), zgw_auth=auth)) as (_, guarded):
        config = zaak_route_config(tmp_path / "config")
        sims = {**simulators, "zaken": guarded}
        async with running_stack(database_url, sims, source_deadline_seconds=2.0, config_dir=config) as stack:
            async with portal_client(stack) as client:
                await login(client, bsn=BSN, niveau="digid-midden")
                nummer = await _send(
                    client, "dossier.financieel", "gemeente-belastingen", "Dubbel aangeslagen."
                )
                listing = (await client.get("/mijn/correctie")).text
                assert _status(listing, nummer) == "ontvangen", listing
                assert (
                    "Doorsturen lukte nu niet; uw verzoek is bewaard en wij sturen het alsnog door."
                    in listing
                )
            async with http_client() as sim:
                calls = (await sim.get(f"{guarded}/_sim/requests")).json()
            posts = [(c["path"], c["response"]["status"]) for c in calls if c["method"] == "POST"]
            assert posts == [(f"{ZAKEN}/zaken", 403)]
            processings = await stack.app.state.services.access_log.processings_of(
                Subject(SubjectKind.BSN, BSN)
            )
            names = {p.name for p in processings.items}
            assert {
                "correctieverzoek als zaak doorsturen",
                "correctieverzoek als zaak doorsturen mislukt",
            } <= names


async def test_without_the_registers_permission_no_zaak_is_made(
    database_url: str, simulators: dict[str, str], tmp_path: Path
) -> None:
    """The route says zaak, but the register does not let the own view write dienst.zaken-lopend:
    nothing is sent to the Zaken API; the request is kept with the reason."""
    config = zaak_route_config(tmp_path / "config", schrijven=False)
    async with running_stack(
        database_url, simulators, source_deadline_seconds=2.0, config_dir=config
    ) as stack:
        async with portal_client(stack) as client:
            await login(client, bsn=BSN, niveau="digid-midden")
            nummer = await _send(client, "dossier.financieel", "gemeente-belastingen", "Verkeerd bedrag.")
            listing = (await client.get("/mijn/correctie")).text
            assert _status(listing, nummer) == "ontvangen"
            assert "Wij kunnen uw verzoek hier niet als zaak aanmaken; wij bekijken het zelf." in listing
        assert await _writes(stack, "zaken") == []


# --- the interne-taak route ----------------------------------------------------------------------------


async def test_the_team_asks_through_klantinteracties_and_the_customer_answers(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        nummer = await _send(client, "klant.basis", "brp", "Mijn huisnummer is 12.")
        listing = (await client.get("/mijn/correctie")).text
        verzoek = _verzoek_id(listing, nummer)
        [taak] = [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
        request_contact = taak["aanleidinggevendKlantcontact"]["uuid"]

        question = "Woont u sinds 1 mei op nummer 12? Stuur ons dan uw huurcontract."
        asked = await _team_asks(stack, request_contact, question)
        taken = (await client.get("/mijn/taken")).text
        assert ("correctie", f"/mijn/correctie/{verzoek}") in _taken(taken), taken
        assert f"Klantcontactcentrum vraagt: {html.escape(question)}" in taken
        detail = (await client.get(f"/mijn/correctie/{verzoek}")).text
        assert _vraag(detail) == (asked, question)

        # the answer empty, then too long: a Dutch message naming the field, nothing written
        before = len(await _writes(stack, "klantinteracties"))
        empty = await _answer(client, verzoek, "   ")
        assert empty.status_code == 400
        assert "Uw antwoord: vul dit in." in empty.text
        assert 'aria-invalid="true"' in empty.text
        long = await _answer(client, verzoek, "x" * 1001)
        assert long.status_code == 400
        assert "Uw antwoord: gebruik hoogstens 1000 tekens." in long.text
        assert len(await _writes(stack, "klantinteracties")) == before

        answer = "Ja, sinds 1 mei. Het huurcontract stuur ik per post."
        resp = await _answer(client, verzoek, answer)
        assert resp.status_code == 303, resp.text
        # a klantcontact of the customer (initiator) following up the question
        [sent] = [k for k in await _klantcontacten(stack) if k["inhoud"] == answer]
        assert [o["wasKlantcontact"]["uuid"] for o in sent["_expand"]["gingOverOnderwerpobjecten"]] == [asked]
        assert [b["initiator"] for b in sent["_expand"]["hadBetrokkenen"]] == [True]
        taken = (await client.get("/mijn/taken")).text
        assert ("correctie", f"/mijn/correctie/{verzoek}") not in _taken(taken)
        assert (
            "U heeft de vraag van Klantcontactcentrum beantwoord op"
            in (await client.get(f"/mijn/correctie/{verzoek}")).text
        )

        # the team asks again, about the answer: the request waits again, on the new question
        again = await _team_asks(stack, sent["uuid"], "Op welke datum precies?")
        assert _vraag((await client.get(f"/mijn/correctie/{verzoek}")).text) == (
            again,
            "Op welke datum precies?",
        )

        # the team handles the task: no question waits any more, the request is handled
        async with http_client(base_url=stack.simulators["klantinteracties"], headers=KI_AUTH) as ki:
            done = await ki.patch(f"{KI}/internetaken/{taak['uuid']}", json={"status": "verwerkt"})
            assert done.status_code == 200
        listing = (await client.get("/mijn/correctie")).text
        assert _status(listing, nummer) == "afgehandeld"
        assert "data-wacht-op-antwoord" not in listing
        assert ("correctie", f"/mijn/correctie/{verzoek}") not in _taken(
            (await client.get("/mijn/taken")).text
        )


async def test_answers_only_to_ones_own_request_and_to_the_question_it_waits_on(stack: Stack) -> None:
    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        nummer = await _send(client, "klant.basis", "brp", "Mijn achternaam is anders gespeld.")
        verzoek = _verzoek_id((await client.get("/mijn/correctie")).text, nummer)
        # a klantcontact with another customer that follows up this request: not this customer's
        # question (only contacts the customer took part in count), never shown to them
        [taak] = [t for t in await _internetaken(stack) if nummer in t["gevraagdeHandeling"]]
        await _team_asks(
            stack, taak["aanleidinggevendKlantcontact"]["uuid"], "Een vraag aan iemand anders", bsn=OTHER_BSN
        )
        detail = (await client.get(f"/mijn/correctie/{verzoek}")).text
        assert _vraag(detail) is None
        assert "Een vraag aan iemand anders" not in detail
        assert ("correctie", f"/mijn/correctie/{verzoek}") not in _taken(
            (await client.get("/mijn/taken")).text
        )
        # not asked anything yet: an answer is refused, nothing written
        before = len(await _writes(stack, "klantinteracties"))
        premature = await _answer(
            client, verzoek, "Alvast mijn antwoord", vraag="00000000-0000-4000-8000-000000000000"
        )
        assert premature.status_code == 409
        assert "Bij dit verzoek wachten wij niet op een antwoord van u." in premature.text
        assert len(await _writes(stack, "klantinteracties")) == before

    await _team_asks(stack, taak["aanleidinggevendKlantcontact"]["uuid"], "Hoe schrijft u uw naam?")

    # another customer's request and question: the other customer files one and is asked too
    async with portal_client(stack) as other:
        await login(other, bsn=OTHER_BSN, niveau="digid-midden")
        other_nummer = await _send(other, "klant.basis", "brp", "Mijn geboorteplaats klopt niet.")
    [other_taak] = [t for t in await _internetaken(stack) if other_nummer in t["gevraagdeHandeling"]]
    other_question = await _team_asks(
        stack, other_taak["aanleidinggevendKlantcontact"]["uuid"], "Waar bent u geboren?", bsn=OTHER_BSN
    )

    async with portal_client(stack) as client:
        await login(client, bsn=BSN, niveau="digid-midden")
        before = len(await _writes(stack, "klantinteracties"))
        # the other customer's question, sent as the answer to one's own request: refused (409)
        crafted = await _answer(client, verzoek, "Met een y", vraag=other_question)
        assert crafted.status_code == 409
        assert "De vraag is intussen veranderd." in crafted.text
        assert len(await _writes(stack, "klantinteracties")) == before

    async with portal_client(stack) as other:
        await login(other, bsn=OTHER_BSN, niveau="digid-midden")
        # the first customer's request, by its id: not found, and nothing is written
        assert (await other.get(f"/mijn/correctie/{verzoek}")).status_code == 404
        page = await other.get("/mijn/correctie")
        stolen = await other.post(
            f"/mijn/correctie/{verzoek}/antwoord",
            data={
                "csrf_token": csrf(page),
                "vraag": other_question,
                "antwoord": "Ik antwoord voor een ander",
            },
        )
        assert stolen.status_code == 404
        assert nummer not in page.text
    assert len(await _writes(stack, "klantinteracties")) == before
    assert not [
        k for k in await _klantcontacten(stack, OTHER_BSN) if "Ik antwoord voor een ander" in k["inhoud"]
    ]
