"""The `dgkb` command as an operator uses it: a real subprocess, real simulators, a real database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.audit import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.roles import Role
from dgkb.store.db import Database
from tests.audit.support import KEYRING, OIN, T0, record
from tests.configs import config_for

DGKB = [sys.executable, "-m", "dgkb.cli"]
pytestmark = pytest.mark.slow  # every `dgkb` call starts a Python process (seconds each)

# `dgkb check` reads configuration and sources, never the database: one backend is enough for it.
ONE_BACKEND = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GEMEENTE = "https://register.voorbeeldstad.nl/verwerkingen/"
WATERSCHAP = "https://register.voorbeeldwaarden.nl/verwerkingen/"


async def dgkb(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *DGKB, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    # a bound for a hung process, not a performance check: seed-demo writes and aggregates a year of
    # meten-en-leren history, which takes a minute or more on a loaded machine
    out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def cli_env(database_url: str, tmp_path: Path, simulators: dict[str, str]) -> dict[str, str]:
    """A config dir whose sources point at the session's simulators (reset for this test), and a
    migrated DB."""
    config = config_for(simulators, tmp_path / "config")
    return {**os.environ, "DGKB_CONFIG_DIR": str(config), "DGKB_DATABASE_URL": database_url, "COLUMNS": "200"}


async def test_water_board_klantbeeld_via_cli_holds_no_municipal_dossier_data(
    cli_env: dict[str, str],
) -> None:
    code, out, err = await dgkb(
        cli_env,
        "klantbeeld",
        "--doel",
        WATERSCHAP + "waterschapsbelasting",
        "--bsn",
        "999993653",
        "--rol",
        "kcm",
        "--zekerheid",
        "digid-midden",
        "--json",
    )
    assert code == 0, err
    body = json.loads(out)
    financieel = [s for s in body["secties"] if s["categorie"] == "dossier.financieel"]
    assert [s["bronId"] for s in financieel] == ["waterschap-belastingen"]
    assert financieel[0]["status"] == "ok"
    assert all(item["organisatie"] == "Waterschap De Voorbeeldwaarden" for item in financieel[0]["gegevens"])
    assert not any((s["bronId"] or "").startswith("gemeente-") for s in body["secties"])

    # the CLI read is logged like any other: the audit search finds it, and the chains verify
    code, out, err = await dgkb(cli_env, "audit", "search", "--bsn", "999993653", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert any(r["processing_activity_id"] == WATERSCHAP + "waterschapsbelasting" for r in rows)
    assert all(r["actor_id"].startswith("cli:") for r in rows)
    code, out, err = await dgkb(cli_env, "audit", "verify")
    assert code == 0, out + err
    assert "intact" in out


async def test_audit_verify_catches_a_tampered_row(cli_env: dict[str, str], database_url: str) -> None:
    code, _, err = await dgkb(
        cli_env,
        "klantbeeld",
        "--doel",
        GEMEENTE + "kcc-algemene-vraag",
        "--bsn",
        "999993653",
        "--rol",
        "kcm",
        "--zekerheid",
        "controlevragen",
    )
    assert code == 0, err
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        # a DBA with enough rights first disables the append-only guard
        if engine.dialect.name == "sqlite":
            await conn.execute(text("DROP TRIGGER IF EXISTS access_records_no_update"))
            triggers = await conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='access_records'")
            )
            for (name,) in triggers:
                await conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            await conn.execute(text("ALTER TABLE access_records DISABLE TRIGGER USER"))
        await conn.execute(
            text(
                "UPDATE access_records SET actor_id = 'iemand-anders' "
                "WHERE id = (SELECT MIN(id) FROM access_records)"
            )
        )
    await engine.dispose()
    code, out, err = await dgkb(cli_env, "audit", "verify")
    assert code == 1
    assert "access_records" in out + err
    assert "NIET intact" in out + err


async def test_audit_verify_catches_the_newest_row_deleted(
    cli_env: dict[str, str], database_url: str
) -> None:
    """As a long-running DGKB process writes: several views per chain, the newest one then cut off."""
    database = Database(database_url)
    writer = AuditWriter(database, Pseudonymizer(KEYRING))
    context = RequestContext(
        actor=Actor(id="medewerker-42", role=Role.KCM, organisation=OIN, organisation_unit="KCC"),
        subject=Subject.person("999993653"),
        purpose_id=GEMEENTE + "kcc-algemene-vraag",
        assurance=Assurance.CONTROLEVRAGEN,
        channel=Kanaal.TELEFOON,
        trace=Trace(),
        contact_id="contact-1",
    )
    for i in range(10):  # four chains: the newest rows are at seq 2 and 3
        await record(writer, context, at=T0 + timedelta(seconds=i))
    await database.dispose()
    code, out, err = await dgkb(cli_env, "audit", "verify")
    assert code == 0, err
    assert "Toegangslog intact" in out
    newest = "FROM access_records WHERE id = (SELECT MAX(id) FROM access_records)"
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        chain, seq = (await conn.execute(text(f"SELECT chain_id, seq {newest}"))).one()
        # a DBA with enough rights disables the append-only guard and cuts off the newest record
        if engine.dialect.name == "sqlite":
            triggers = await conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='access_records'")
            )
            for (name,) in triggers.all():
                await conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            await conn.execute(text("ALTER TABLE access_records DISABLE TRIGGER USER"))
        await conn.execute(text(f"DELETE {newest}"))
    await engine.dispose()
    code, out, err = await dgkb(cli_env, "audit", "verify")
    assert code == 1
    assert "NIET intact" in err
    assert f"access_records keten {chain} seq {seq} (rij ontbreekt): truncated" in " ".join(err.split())


@ONE_BACKEND
async def test_check_reports_broken_register_with_file_and_path(cli_env: dict[str, str]) -> None:
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    register = yaml.safe_load((config / "register.yaml").read_text())
    register["verwerkingsactiviteiten"][2]["bewaartermijn"] = "een jaar"
    (config / "register.yaml").write_text(yaml.safe_dump(register))
    code, _, err = await dgkb(cli_env, "check", "--no-probe")
    assert code == 1
    assert "register.yaml: verwerkingsactiviteiten.2.bewaartermijn" in err
    # schema-valid but referring to a category the catalogue does not have
    register["verwerkingsactiviteiten"][2]["bewaartermijn"] = "P1Y"
    register["verwerkingsactiviteiten"][1]["categorieen"]["klant.bestaat-niet"] = {}
    (config / "register.yaml").write_text(yaml.safe_dump(register))
    code, _, err = await dgkb(cli_env, "check", "--no-probe")
    assert code == 1
    assert "register.yaml: verwerkingsactiviteiten.1.categorieen.klant.bestaat-niet" in err


def _line(out: str, source: str) -> str:
    return next(line for line in out.splitlines() if f" {source} " in line)


@ONE_BACKEND
async def test_check_probes_every_source_with_its_credentials(cli_env: dict[str, str]) -> None:
    """The shipped configuration against the demo simulators: every source reachable and
    authenticated with its configured credentials (Open Klant with `Token …`), its API version,
    every actor of onderwerpen.yaml found, and the categories no source serves listed."""
    code, out, err = await dgkb(cli_env, "check")
    assert code == 0, out + err
    assert "Configuratie geldig" in out
    for source in ("brp", "zaken", "klantinteracties", "kvk", "reisdocumenten", "producten"):
        cells = [c.strip() for c in _line(out, source).split("│")]
        assert cells[4].startswith("ja"), cells  # reachable
        assert cells[5].startswith("ja"), cells  # authenticated with the configured credentials
    assert "0.9.0" in _line(out, "klantinteracties")
    assert "1.5.1" in _line(out, "zaken")
    for afdeling in ("team-parkeren", "kcc", "team-wmo", "team-belastingen"):
        assert "bestaat" in _line(out, afdeling), afdeling
    assert "Team Parkeren" in _line(out, "team-parkeren")
    assert "klant.werk-en-inkomen: geen actieve bron levert deze categorie" in " ".join(err.split())
    assert "Wmo-aanvraag" in " ".join(err.split())
    code, out, err = await dgkb(cli_env, "check", "--strikt")
    assert code == 1
    assert "categorie zonder bron: klant.werk-en-inkomen" in " ".join(err.split())


@ONE_BACKEND
async def test_check_fails_naming_the_source_whose_credentials_are_refused(cli_env: dict[str, str]) -> None:
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    ki = next(s for s in sources["sources"] if s["id"] == "klantinteracties")
    for auth in (
        {"type": "token", "token": "verkeerde-sleutel"},
        {"type": "bearer", "token": "demo-openklant-token"},  # the right key, the wrong scheme
    ):
        ki["auth"] = auth
        (config / "sources.yaml").write_text(yaml.safe_dump(sources))
        code, out, err = await dgkb(cli_env, "check")
        assert code == 1, out + err
        text = " ".join(err.split())
        assert (
            "bron 'klantinteracties' (Klantinteracties (Open Klant)): niet geautoriseerd (HTTP 401)" in text
        ), text
        assert f"auth type '{auth['type']}'" in text
        hint = "Open Klant wil 'Authorization: Token <sleutel>': auth type 'token'"
        assert (hint in text) is (auth["type"] == "bearer")
        assert "nee" in _line(out, "klantinteracties")
        assert "niet te controleren" in _line(out, "team-parkeren")
        assert "bron 'brp'" not in text.split("Controle mislukt:")[1]  # only the refusing source


@ONE_BACKEND
async def test_check_fails_on_an_actor_the_source_does_not_know(cli_env: dict[str, str]) -> None:
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    onderwerpen = yaml.safe_load((config / "onderwerpen.yaml").read_text())
    onderwerpen["afdelingen"][1]["actor"] = "11111111-1111-4111-8111-111111111111"
    (config / "onderwerpen.yaml").write_text(yaml.safe_dump(onderwerpen, allow_unicode=True))
    code, out, err = await dgkb(cli_env, "check")
    assert code == 1, out + err
    assert (
        "onderwerpen.yaml: afdelingen.1.actor: actor 11111111-1111-4111-8111-111111111111 van afdeling "
        "'kcc' bestaat niet in bron 'klantinteracties'"
    ) in " ".join(err.split())
    assert "bestaat niet" in _line(out, "kcc")
    assert "bestaat" in _line(out, "team-wmo")


@ONE_BACKEND
async def test_check_fails_when_a_source_answers_with_an_error(cli_env: dict[str, str]) -> None:
    """An HTTP 500 is not "reachable: ja" and passing, as it used to be."""
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    zaken = next(s for s in sources["sources"] if s["id"] == "zaken")
    async with httpx.AsyncClient() as client:
        (await client.post(f"{zaken['baseUrl']}/_sim/behaviour", json={"fail": "500"})).raise_for_status()
    code, out, err = await dgkb(cli_env, "check")
    assert code == 1, out + err
    assert "bron 'zaken' (Zaaksysteem (ZGW Zaken API)): de bron gaf een fout (HTTP 500)" in " ".join(
        err.split()
    )


@ONE_BACKEND
async def test_check_refuses_an_afdeling_without_actor(cli_env: dict[str, str]) -> None:
    """Open Klant refuses a contactverzoek without an actor: the configuration says so at start-up,
    naming the file, the path and what to do — not the agent, after the call."""
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    onderwerpen = yaml.safe_load((config / "onderwerpen.yaml").read_text())
    del onderwerpen["afdelingen"][0]["actor"]
    onderwerpen["afdelingen"][2]["actor"] = "team-wmo"
    (config / "onderwerpen.yaml").write_text(yaml.safe_dump(onderwerpen, allow_unicode=True))
    code, _, err = await dgkb(cli_env, "check", "--no-probe")
    assert code == 1
    text = " ".join(err.split())
    assert "Configuratie ongeldig" in text
    assert "onderwerpen.yaml: afdelingen.0.actor: ontbreekt" in text
    assert "Open Klant weigert een interne taak zonder actor" in text
    assert "(afdeling 'team-parkeren')" in text
    assert "onderwerpen.yaml: afdelingen.2.actor: 'team-wmo' is geen uuid (afdeling 'team-wmo')" in text


@ONE_BACKEND
async def test_check_lists_demo_secrets_warning_outside_production_error_in_production(
    cli_env: dict[str, str],
) -> None:
    code, out, err = await dgkb(cli_env, "check", "--no-probe")
    assert code == 0, err
    assert "Configuratie geldig" in out
    assert "DGKB_PSEUDONYM_KEYS" in err
    assert "sources.yaml: sources.0.auth.value" in err  # brp's demo API key
    production = {
        **cli_env,
        "DGKB_ENV": "production",
        "DGKB_OIDC_ISSUER": "https://idp.voorbeeldstad.nl",
        "DGKB_OIDC_JWKS_URL": "http://127.0.0.1:9/jwks.json",
    }
    code, out, err = await dgkb(production, "check", "--no-probe")
    assert code == 1
    assert "Configuratie ongeldig" in err
    assert "DGKB_PSEUDONYM_KEYS" in err
    assert "sources.yaml: sources.1.auth.secret" in err  # the zaken ZGW JWT secret
    # with real secrets everywhere production passes, and nothing is listed
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    for i, src in enumerate(sources["sources"]):
        for field in ("value", "token", "secret"):
            if field in src.get("auth", {}):
                src["auth"][field] = f"echt-geheim-{i}-{os.urandom(12).hex()}"
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    real = {**production, "DGKB_PSEUDONYM_KEYS": f"prod-2026:{os.urandom(24).hex()}"}
    code, out, err = await dgkb(real, "check", "--no-probe")
    assert code == 0, err
    assert "Configuratie geldig" in out
    assert "demogeheim" not in out + err


async def test_cli_rejects_an_invalid_bsn_clearly(cli_env: dict[str, str]) -> None:
    code, _, err = await dgkb(
        cli_env,
        "klantbeeld",
        "--doel",
        GEMEENTE + "kcc-algemene-vraag",
        "--bsn",
        "123456789",
        "--rol",
        "kcm",
        "--zekerheid",
        "controlevragen",
    )
    assert code == 1
    assert "11-proef" in err


async def test_demo_seed_is_idempotent_and_shows_in_the_klantbeeld(cli_env: dict[str, str]) -> None:
    code, out, err = await dgkb(cli_env, "seed-demo")
    assert code == 0, err
    assert "vastgelegd" in out
    code, out, _ = await dgkb(cli_env, "seed-demo")
    assert "staan er al" in out
    code, out, err = await dgkb(
        cli_env,
        "klantbeeld",
        "--doel",
        GEMEENTE + "klachtbehandeling",
        "--bsn",
        "999993653",
        "--rol",
        "kcm",
        "--zekerheid",
        "controlevragen",
        "--json",
    )
    assert code == 0, err
    secties = {s["categorie"]: s for s in json.loads(out)["secties"]}
    assert [k["onderwerp"] for k in secties["feedback.klachten"]["gegevens"]] == ["Afvalinzameling"]
    assert {r["score"] for r in secties["beleving.oordeel"]["gegevens"]} == {8, 4}


async def test_citizen_own_view_shows_all_six_information_types(cli_env: dict[str, str]) -> None:
    code, _, err = await dgkb(cli_env, "seed-demo")
    assert code == 0, err
    code, out, err = await dgkb(
        cli_env,
        "klantbeeld",
        "--doel",
        GEMEENTE + "mijn-omgeving",
        "--bsn",
        "999993653",
        "--rol",
        "burger",
        "--zekerheid",
        "digid-midden",
        "--json",
    )
    assert code == 0, err
    secties = json.loads(out)["secties"]
    ok_types = {s["informatietype"] for s in secties if s["status"] == "ok"}
    assert ok_types == {
        "klantdata",
        "dienstdata",
        "contactdata",
        "dossierdata",
        "belevingsdata",
        "feedbackdata",
    }
    basis_sources = {s["bronId"] for s in secties if s["categorie"] == "klant.basis"}
    assert basis_sources == {"brp", "reisdocumenten"}, (
        "a person's base data: BRP and travel documents, not KVK"
    )


@ONE_BACKEND
async def test_check_looks_up_the_team_of_each_correction_route(cli_env: dict[str, str]) -> None:
    """sources.yaml `correcties`: the actor of each route must exist at the Klantinteracties source;
    a source shown in Mijn omgeving without a route is a warning (its requests stay in DGKB)."""
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    brp = next(i for i, s in enumerate(sources["sources"]) if s["id"] == "brp")
    sources["sources"][brp]["correcties"]["actor"] = "11111111-1111-4111-8111-111111111111"
    zaken = next(s for s in sources["sources"] if s["id"] == "zaken")
    del zaken["correcties"]
    (config / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    code, out, err = await dgkb(cli_env, "check")
    assert code == 1, out + err
    text = " ".join(err.split())
    assert (
        f"sources.yaml: sources.{brp}.correcties.actor: actor 11111111-1111-4111-8111-111111111111 voor "
        "correctieverzoeken over bron 'brp' bestaat niet in bron 'klantinteracties'"
    ) in text, text
    assert (
        "bron 'zaken' (Zaaksysteem (ZGW Zaken API)) staat in Mijn omgeving maar heeft geen 'correcties'"
        in text
    )
    assert "bestaat" in _line(out, "correcties gemeente-belastingen")


@ONE_BACKEND
async def test_check_looks_up_the_zaaktype_of_a_zaak_route(cli_env: dict[str, str]) -> None:
    """sources.yaml `correcties: {route: zaak}`: the zaaktype must exist in the Zaken source's
    catalogue, and the register must let the own view that shows the source make such a zaak."""
    config = Path(cli_env["DGKB_CONFIG_DIR"])
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    route = {"route": "zaak", "team": "Team Belastingen", "bronorganisatie": "123456782"}
    tax = next(i for i, s in enumerate(sources["sources"]) if s["id"] == "gemeente-belastingen")
    sources["sources"][tax]["correcties"] = {**route, "zaaktype": "CORRECTIEVERZOEK"}
    brp = next(i for i, s in enumerate(sources["sources"]) if s["id"] == "brp")
    sources["sources"][brp]["correcties"] = {**route, "zaaktype": "BESTAAT-NIET"}
    (config / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    code, out, err = await dgkb(cli_env, "check")
    assert code == 1, out + err
    text = " ".join(err.split())
    assert (
        f"sources.yaml: sources.{brp}.correcties.zaaktype: zaaktype 'BESTAAT-NIET' voor correctieverzoeken "
        "over bron 'brp' bestaat niet in bron 'zaken'"
    ) in text, text
    # the demo register does not let Mijn omgeving make zaken
    assert (
        f"sources.yaml: sources.{tax}.correcties: route 'zaak', maar het register laat 'Mijn omgeving' geen "
        "zaak aanmaken in bron 'zaken'"
    ) in text, text
    assert "bestaat" in _line(out, "correcties gemeente-belastingen")
    assert "Verzoek om correctie van gegevens" in _line(out, "correcties gemeente-belastingen")

    register = yaml.safe_load((config / "register.yaml").read_text())
    own = next(va for va in register["verwerkingsactiviteiten"] if va["id"] == GEMEENTE + "mijn-omgeving")
    own["categorieen"]["dienst.zaken-lopend"]["schrijven"] = True
    (config / "register.yaml").write_text(yaml.safe_dump(register, allow_unicode=True))
    sources["sources"][brp]["correcties"] = {
        "team": "Klantcontactcentrum",
        "actor": "7702d256-2f0b-5488-b6f3-645958e19686",
    }
    (config / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    code, out, err = await dgkb(cli_env, "check")
    assert code == 0, out + err
