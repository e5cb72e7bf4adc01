"""Credentials of a source and the actors of contactverzoeken (issue 11 §3, §4).

Open Klant wants `Authorization: Token <key>`, and the shipped configuration sends it. A source that
refuses DGKB's credentials (401/403) is not "fout" or "onbereikbaar": the klantbeeld section says
"niet geautoriseerd bij de bron", search and registration are one clear problem naming the source,
and /api/v1/bronnen counts the refusals apart. A contactverzoek the source refuses (an actor it does
not know) says what is wrong instead of "probeer het opnieuw".
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from dgkb.app import create_app
from dgkb.contacts.moment import Contactverzoek, Uitkomst, Vraag, parse_options
from dgkb.domain.context import Actor, Trace
from dgkb.domain.errors import InvalidConfiguration
from dgkb.gateway import SourceUnauthorized
from dgkb.runner import rebase_sources
from dgkb.settings import PROJECT_ROOT, Environment, Settings, load_yaml
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import GEMEENTE, Stack, open_contact, sections

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
UNKNOWN_ACTOR = "11111111-1111-4111-8111-111111111111"
StackWith = Callable[[Callable[[Path], None]], Any]


@pytest.fixture
async def stack_with(
    database_url: str, tmp_path: Path, simulators: dict[str, str]
) -> AsyncIterator[StackWith]:
    """stack_with(edit) -> the whole stack over a copy of config/ that `edit(config_dir)` changed
    (the session's simulators, reset for this test)."""
    opened: list[Any] = []

    async def start(edit: Callable[[Path], None]) -> Stack:
        config = tmp_path / f"config-{len(opened)}"
        shutil.copytree(PROJECT_ROOT / "config", config)
        edit(config)
        sims = simulators
        settings = Settings(
            env=Environment.TEST,
            database_url=database_url,
            port=0,
            source_deadline_seconds=1.0,
            config_dir=config,
            notify_base_url=sims.get("notifynl", ""),
        )
        app = create_app(settings, source_overrides=rebase_sources(settings, sims))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        opened.append(lifespan)
        served = serve_in_background(app)
        _, api = await served.__aenter__()
        opened.append(served)
        client = httpx.AsyncClient(base_url=api, timeout=10)
        opened.append(client)
        return Stack(api=api, simulators=sims, settings=settings, client=client, app=app)

    yield start
    for cm in reversed(opened):
        await cm.__aexit__(None, None, None)


def _sources(config: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = config / "sources.yaml"
    data = load_yaml(path)
    change(next(s for s in data["sources"] if s["id"] == "klantinteracties"))
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def wrong_token(config: Path) -> None:
    _sources(config, lambda ki: ki.update(auth={"type": "token", "token": "verkeerde-sleutel"}))


def unknown_actor(config: Path) -> None:
    path = config / "onderwerpen.yaml"
    data = load_yaml(path)
    next(a for a in data["afdelingen"] if a["id"] == "team-parkeren")["actor"] = UNKNOWN_ACTOR
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


async def _agent(stack: Stack, client: httpx.AsyncClient) -> Actor:
    actor: Actor = await stack.app.state.validator.actor(client.headers["Authorization"].split()[1])
    return actor


VRAAG = Vraag(
    onderwerp="parkeren",
    vraag="Wanneer krijg ik mijn vergunning?",
    antwoord="Uitgezocht.",
    uitkomst=Uitkomst.TERUGBELVERZOEK,
)


async def _sent_to(stack: Stack, source: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as c:
        return list((await c.get(f"{stack.simulators[source]}/_sim/requests")).json())


@pytest.mark.postgres
async def test_the_shipped_configuration_authenticates_to_open_klant_with_a_token(stack: Stack) -> None:
    """config/sources.yaml sends `Authorization: Token <key>` to Klantinteracties, as Open Klant
    wants (the simulator refuses anything else), and a contactverzoek goes to the afdeling's actor."""
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        kb = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        assert sections(kb)["contact.historie"][0]["status"] == "ok"
        result = await stack.app.state.services.moments.register(
            await _agent(stack, anna),
            contact,
            vragen=[VRAAG],
            contactverzoek=Contactverzoek(afdeling="team-parkeren", gevraagde_handeling="Terugbellen"),
            trace=Trace(),
        )
    assert result.alles_opgeslagen, result
    sent = await _sent_to(stack, "klantinteracties")
    assert sent
    assert {r["headers"].get("authorization") for r in sent} == {"Token demo-openklant-token"}
    taak = next(r for r in sent if r["method"] == "POST" and r["path"].endswith("/internetaken"))
    options = stack.app.state.services.moments.options
    assert taak["body"]["toegewezenAanActoren"] == [{"uuid": options.afdeling("team-parkeren").actor}]


@pytest.mark.postgres
async def test_a_source_refusing_the_credentials_is_niet_geautoriseerd(stack_with: StackWith) -> None:
    stack: Stack = await stack_with(wrong_token)
    services = stack.app.state.services
    name = services.sources.configs["klantinteracties"].name
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        # the klantbeeld: the source's sections say why, the others are fine
        kb = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
        historie = sections(kb)["contact.historie"][0]
        assert historie["status"] == "niet-geautoriseerd"
        assert historie["bronId"] == "klantinteracties"
        assert historie["toelichting"].startswith("Niet geautoriseerd bij de bron")
        assert "Opnieuw proberen helpt niet" in historie["toelichting"]
        assert sections(kb)["klant.basis"][0]["status"] == "ok"
        # search by phone number: one problem naming the source and the reason
        resp = await anna.post(
            "/api/v1/klantzoekopdrachten", json={"contactId": contact, "zoekterm": "06-45408799"}
        )
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert (body["code"], body["reden"], body["bron"]) == (
            "source.unauthorized",
            "SOURCE_UNAUTHORIZED",
            "klantinteracties",
        )
        assert f"{name}: niet geautoriseerd bij de bron" in body["detail"]
        # registering the contact moment: nothing written, the same clear problem
        with pytest.raises(SourceUnauthorized) as caught:
            await services.moments.register(await _agent(stack, anna), contact, vragen=[VRAAG], trace=Trace())
        assert caught.value.source == "klantinteracties"
        assert "niet geautoriseerd bij de bron" in caught.value.message
    async with await stack.as_user("beheer-bea") as bea:
        health = {s["id"]: s for s in (await bea.get("/api/v1/bronnen")).json()["resultaten"]}
    ki = health["klantinteracties"]
    assert ki["nietGeautoriseerd"] >= 3  # klantbeeld, search, registration
    assert ki["laatsteFout"] == "source.unauthorized"
    assert ki["stroomonderbreker"] == "gesloten", "a refusal is an answer: the reason stays visible"
    assert health["brp"]["nietGeautoriseerd"] == 0
    assert health["brp"]["aanroepen"] >= 1


@pytest.mark.postgres
async def test_a_refused_contactverzoek_says_what_is_wrong(stack_with: StackWith) -> None:
    """An afdeling whose actor the source does not know: the questions are saved, and the
    contactverzoek's error names the refused field, the afdeling and its actor — not "try again"."""
    stack: Stack = await stack_with(unknown_actor)
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        result = await stack.app.state.services.moments.register(
            await _agent(stack, anna),
            contact,
            vragen=[VRAAG],
            contactverzoek=Contactverzoek(afdeling="team-parkeren", gevraagde_handeling="Terugbellen"),
            trace=Trace(),
        )
    assert result.vragen[0].nummer is not None
    assert result.contactverzoek is None
    fout = result.contactverzoek_fout or ""
    assert "toegewezenAanActoren: Ongeldige hyperlink - Object bestaat niet." in fout
    assert f"Afdeling 'Team Parkeren' is in onderwerpen.yaml gekoppeld aan actor {UNKNOWN_ACTOR}" in fout
    assert "dgkb check" in fout
    assert "probeer het opnieuw" not in fout.lower()


def test_an_afdeling_needs_an_actor_at_start_up() -> None:
    """Open Klant requires an actor on an interne taak: an afdeling without one is a configuration
    error at start-up (load_configuration, `dgkb check`), naming file, path and what to do."""
    data = load_yaml(PROJECT_ROOT / "config" / "onderwerpen.yaml")
    assert all(a.get("actor") for a in data["afdelingen"])
    parse_options(data)
    del data["afdelingen"][1]["actor"]
    with pytest.raises(InvalidConfiguration) as caught:
        parse_options(data)
    assert caught.value.message.startswith("onderwerpen.yaml: afdelingen.1.actor: ontbreekt")
    assert "(afdeling 'kcc')" in caught.value.message
