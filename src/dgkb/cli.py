"""The `dgkb` command: run the demo, migrate, check configuration, read a klantbeeld, audit."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dgkb.domain.errors import DomainError, InvalidConfiguration
from dgkb.settings import Settings, require_shared_infrastructure

app = typer.Typer(help="DGKB — Doelmatig Geïntegreerd Klantbeeld", no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="Het toegangslog controleren en doorzoeken", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
simulators_app = typer.Typer(help="De simulatoren van de bronnen", no_args_is_help=True)
app.add_typer(simulators_app, name="simulators")
meten_app = typer.Typer(help="Meten en leren: het dashboard van de teamleider", no_args_is_help=True)
app.add_typer(meten_app, name="meten")


@meten_app.command("aggregeren")
def meten_aggregeren() -> None:
    """Tel de nieuwe gebeurtenissen op voor het dashboard (zoals de server elke paar minuten doet)."""
    from dgkb.operator import aggregate_meten

    report = asyncio.run(aggregate_meten(Settings()))
    if report.skipped:
        console.print("Een andere node telt nu op; probeer het straks opnieuw.")
        return
    console.print(
        f"[green]Bijgewerkt[/green]: {report.blocks} maanden, {report.cells} cellen "
        f"({report.shown} getoond, de rest onderdrukt) in {report.seconds:.1f} s"
    )


console = Console()
err = Console(stderr=True)


@app.command()
def migrate() -> None:
    """Breng het databaseschema naar de laatste versie."""
    from dgkb.store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    console.print(f"[green]Database bijgewerkt[/green] ({_safe_url(settings.database_url)})")


@app.command("seed-demo")
def seed_demo() -> None:
    """Vul de demo met klachten, meldingen, beoordelingen en een jaar meten en leren (alleen wat er
    nog niet is)."""
    from dgkb.operator import seed_demo as seed

    if asyncio.run(seed(Settings())):
        console.print(
            "[green]Demogegevens vastgelegd[/green] "
            "(klachten, meldingen, beoordelingen, een jaar meten en leren)"
        )
    else:
        console.print("Demogegevens staan er al")


@app.command()
def check(
    probe: Annotated[
        bool,
        typer.Option(
            help="Elke actieve bron aanroepen met de ingestelde inloggegevens (bereikbaar, "
            "geautoriseerd, versie) en de actoren uit onderwerpen.yaml bij de bron opzoeken"
        ),
    ] = True,
    strikt: Annotated[bool, typer.Option(help="Ook categorieën zonder bron laten falen (exit 1)")] = False,
) -> None:
    """Controleer register, catalogus, bronnen en onderwerpen; exit 1 met precieze meldingen.

    Met --probe (standaard) ook elke bron: bereikbaar, geautoriseerd met de ingestelde sleutel of
    token, en welke API-versie; en of de actoren van de afdelingen in de Klantinteracties-bron
    bestaan. Categorieën die geen bron levert: een waarschuwing (met --strikt een fout).
    Ingebouwde sleutels en demogeheimen: een waarschuwing, in productie een fout."""
    from dgkb.composition.root import identification_purposes, load_configuration
    from dgkb.demo_secrets import demo_secrets
    from dgkb.operator import uncovered_categories

    settings = Settings()
    try:
        config = load_configuration(settings)
        identification_purposes(config.register)
    except InvalidConfiguration as exc:
        err.print("[red]Configuratie ongeldig:[/red]")
        for line in exc.message.splitlines():
            err.print(f"  {line}", markup=False)
        raise typer.Exit(1) from None
    afdelingen = len(config.moments.afdelingen) if config.moments else 0
    console.print(
        f"[green]Configuratie geldig[/green]: {len(config.catalogue.categorieen)} categorieën, "
        f"{len(config.register.verwerkingsactiviteiten)} verwerkingsactiviteiten "
        f"(register {config.register.fingerprint}), {len(config.sources.sources)} bronnen, "
        f"{afdelingen} afdelingen"
    )
    demo = demo_secrets(settings, config)  # in production load_configuration refused these already
    if demo:
        err.print(
            "[yellow]Waarschuwing: ingebouwde sleutels en demogeheimen (geweigerd in productie):[/yellow]"
        )
        for line in demo:
            err.print(f"  {line}", markup=False)
    uncovered = uncovered_categories(config)
    if uncovered:
        err.print(
            "[yellow]Waarschuwing: categorieën zonder bron (de medewerker ziet 'geen bron aangesloten'):"
            "[/yellow]"
        )
        for line in uncovered:
            err.print(f"  {line}", markup=False)
    problems: list[str] = []
    if probe:
        problems = _probe(settings)
    if strikt and uncovered:
        problems.extend(f"categorie zonder bron: {line}" for line in uncovered)
    if problems:
        err.print("[red]Controle mislukt:[/red]")
        for line in problems:
            err.print(f"  {line}", markup=False)
        raise typer.Exit(1)


def _probe(settings: Settings) -> list[str]:
    """Every source called once with its configured credentials (a read that names no person) and
    the actors of onderwerpen.yaml looked up; prints both tables and returns the problems."""
    from dgkb.operator import check_sources

    report = asyncio.run(check_sources(settings))
    table = Table("bron", "soort", "url", "bereikbaar", "geautoriseerd", "API-versie", "ms", "melding")
    for item in report.sources:
        src, probe = item.config, item.report
        if not src.enabled:
            table.add_row(src.id, src.kind, src.baseUrl, "[dim]uitgeschakeld[/dim]", "", "", "", "")
            continue
        if probe is None:
            table.add_row(src.id, src.kind, src.baseUrl, "[dim]eigen opslag[/dim]", "", "", "", "")
            continue
        reachable = "[green]ja[/green]" if probe.reachable else "[red]nee[/red]"
        if probe.reachable and probe.problem and probe.authenticated is None:
            reachable = (
                f"[red]ja, maar fout[/red] (HTTP {probe.status})" if probe.status else "[red]fout[/red]"
            )
        authenticated = {True: "[green]ja[/green]", False: "[red]nee[/red]", None: "[dim]onbekend[/dim]"}[
            probe.authenticated
        ]
        if src.auth.type == "none" and probe.authenticated is not False:
            authenticated = "[dim]n.v.t.[/dim]"  # no credentials configured
        if probe.status is not None and probe.reachable:
            authenticated += f" (HTTP {probe.status})"
        table.add_row(
            src.id,
            src.kind,
            src.baseUrl,
            reachable,
            authenticated,
            probe.api_version or "[dim]—[/dim]",
            f"{probe.duration_ms:.0f}",
            probe.problem or "",
        )
    console.print(table)
    if report.actors:
        actors = Table("afdeling", "actor", "in de bron", "naam in de bron")
        for a in report.actors:
            colour = {"bestaat": "green", "niet actief": "yellow"}.get(a.status, "red")
            actors.add_row(a.afdeling, a.actor, f"[{colour}]{a.status}[/{colour}]", a.naam or "")
        console.print(actors)
    if report.zaaktypen:
        zaaktypen = Table("correctieroute", "zaaktype", "in de bron", "omschrijving in de bron")
        for z in report.zaaktypen:
            colour = "green" if z.status == "bestaat" else "red"
            zaaktypen.add_row(z.route, z.zaaktype, f"[{colour}]{z.status}[/{colour}]", z.naam or "")
        console.print(zaaktypen)
    for line in report.warnings:
        err.print(f"[yellow]Waarschuwing:[/yellow] {line}", markup=True)
    return report.problems


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Adres van de API")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Poort van de API")] = 8000,
    simulators: Annotated[bool, typer.Option(help="Start de lokale simulatoren van de bronnen")] = True,
    latency_ms: Annotated[int, typer.Option(help="Kunstmatige latency van de simulatoren")] = 0,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Aantal workerprocessen op één poort (granian, de productieserver; meer dan één vraagt "
            "om DGKB_NATS_URL en DGKB_REDIS_URL); 0 = de API in dit proces (uvicorn, de demo)",
        ),
    ] = 0,
) -> None:
    """Start de API (en de simulatoren): wat `make run` aanroept.

    Met --workers N draaien N workerprocessen achter één poort, met de HTTP-limieten van
    docs/productie.md; de simulatoren blijven in het hoofdproces."""
    settings = Settings(host=host, port=port)
    try:
        require_shared_infrastructure(settings, workers)  # before the heavy imports below
    except InvalidConfiguration as exc:
        err.print(f"[red]Configuratie ongeldig:[/red]\n{exc.message}")
        raise typer.Exit(1) from None
    from dgkb.runner import PortInUse, run_all, serve_workers

    try:
        if workers:
            serve_workers(
                settings, workers=workers, with_simulators=simulators, latency_ms=latency_ms, console=console
            )
            return
        asyncio.run(run_all(settings, with_simulators=simulators, latency_ms=latency_ms, console=console))
    except InvalidConfiguration as exc:
        err.print(f"[red]Configuratie ongeldig:[/red]\n{exc.message}")
        raise typer.Exit(1) from None
    except PortInUse as exc:
        err.print(f"[red]Starten mislukt:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command()
def klantbeeld(
    doel: Annotated[str, typer.Option("--doel", help="Id (URI) van de verwerkingsactiviteit")],
    rol: Annotated[str, typer.Option("--rol", help="Rol: kcm, behandelaar, …")],
    zekerheid: Annotated[str, typer.Option("--zekerheid", help="geen, controlevragen, digid-midden, …")],
    bsn: Annotated[str | None, typer.Option("--bsn", help="BSN van de klant")] = None,
    kvk: Annotated[str | None, typer.Option("--kvk", help="KVK-nummer van de klant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Toon het klantbeeld als JSON")] = False,
) -> None:
    """Lees een klantbeeld via dezelfde dienst als de API (en dus ook gelogd)."""
    from dgkb.operator import read_klantbeeld

    if (bsn is None) == (kvk is None):
        err.print("[red]Geef precies één van --bsn of --kvk.[/red]")
        raise typer.Exit(2)
    try:
        result = asyncio.run(
            read_klantbeeld(
                Settings(),
                purpose_id=doel,
                role=rol,
                assurance=zekerheid,
                bsn=bsn,
                kvk=kvk,
                operator=f"cli:{getpass.getuser()}",
            )
        )
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]" + (f" (veld: {exc.field})" if exc.field else ""))
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(
            json.dumps(result.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
        )
        sys.stdout.write("\n")
        return
    console.print(f"[bold]Klantbeeld[/bold] — {result.verwerkingsactiviteit.naam} (trace {result.trace_id})")
    table = Table("categorie", "status", "bron", "toelichting / gegevens")
    for s in result.secties:
        detail = s.toelichting or ""
        if s.status == "ok":
            detail = json.dumps(s.gegevens, ensure_ascii=False)[:120]
        table.add_row(s.categorie, s.status, s.bron or "", detail)
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Herbereken de hashketens van het toegangslog; meldt de eerste gebroken schakel."""
    from dgkb.operator import verify_audit

    report = asyncio.run(verify_audit(Settings()))
    if report.ok:
        console.print(f"[green]Toegangslog intact[/green]: {report.summary}")
        return
    err.print(f"[red]Toegangslog NIET intact[/red]: {report.summary}")
    raise typer.Exit(1)


@audit_app.command("sleutels")
def audit_keys() -> None:
    """Onder welke pseudoniemsleutels het toegangslog is geschreven, tegen de sleutelring.

    Exit 1 als er records zijn onder een sleutel die niet (meer) in DGKB_PSEUDONYM_KEYS staat: hun
    betrokkenen zijn dan niet meer te vinden. Draai dit met de nieuwe ring voordat u een oude
    sleutel weghaalt."""
    from dgkb.operator import audit_keys as usage

    keys = asyncio.run(usage(Settings()))
    table = Table("sleutel", "in de ring", "records", "oudste", "nieuwste")
    for k in keys:
        ring = "[green]huidig[/green]" if k.current else "ja" if k.in_ring else "[red]ONTBREEKT[/red]"
        table.add_row(
            k.key_id,
            ring,
            str(k.records),
            f"{k.oldest:%Y-%m-%d}" if k.oldest else "",
            f"{k.newest:%Y-%m-%d}" if k.newest else "",
        )
    console.print(table)
    missing = [k.key_id for k in keys if not k.in_ring]
    if missing:
        err.print(
            f"[red]Records onder sleutels die niet in DGKB_PSEUDONYM_KEYS staan[/red]: {', '.join(missing)}; "
            "hun betrokkenen zijn zo niet te vinden. Zet die sleutels terug in de ring (achteraan)."
        )
        raise typer.Exit(1)


@audit_app.command("search")
def audit_search(
    bsn: Annotated[str | None, typer.Option("--bsn", help="BSN van de betrokkene")] = None,
    medewerker: Annotated[str | None, typer.Option("--medewerker", help="Id van de medewerker")] = None,
    doel: Annotated[str | None, typer.Option("--doel", help="Id van de verwerkingsactiviteit")] = None,
    limiet: Annotated[int, typer.Option("--limiet")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Zoek in het toegangslog: wie heeft wanneer, waarom, welke gegevens ingezien."""
    from dgkb.operator import search_audit

    try:
        rows = asyncio.run(
            search_audit(Settings(), bsn=bsn, actor_id=medewerker, purpose_id=doel, limit=limiet)
        )
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    table = Table("tijdstip", "medewerker", "rol", "doel", "kanaal", "geleverd", "geweigerd")
    for r in rows:
        table.add_row(
            str(r["occurred_at"]),
            str(r["actor_id"]),
            str(r["actor_role"]),
            str(r["processing_activity_id"]).rsplit("/", 1)[-1],
            str(r["channel"]),
            ", ".join(r["categories_delivered"]),
            ", ".join(r["categories_denied"]),
        )
    console.print(table)
    console.print(f"{len(rows)} regels (tot {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


@simulators_app.command("import-gba")
def simulators_import_gba(
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="De GBA-V testset (CSV, puntkomma-gescheiden)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Het personenbestand voor de BRP-simulator (JSON)")
    ] = None,
) -> None:
    """Laad de personen van de GBA-V testset in de BRP-simulator (naast de gegenereerde wereld).

    Schrijft ze naar var/gba-personen.json; de BRP-simulator van `dgkb run` leest dat bestand bij de
    start (of het bestand in DGKB_SIMULATOR_GBA_FILE)."""
    from dgkb.simulators.gba_import import DEFAULT_CSV, DEFAULT_OUTPUT, ENV_FILE, import_gba

    source = csv_path or DEFAULT_CSV
    if not source.is_file():
        err.print(f"[red]GBA-V testset niet gevonden[/red]: {source}")
        raise typer.Exit(1)
    report = import_gba(source, output or DEFAULT_OUTPUT)
    console.print(
        f"[green]{report.imported} personen geïmporteerd[/green], {report.skipped_total} overgeslagen "
        f"-> {report.output}"
    )
    for reason, count in sorted(report.skipped.items()):
        console.print(f"  overgeslagen: {count} × {reason}")
    if output is not None and output != DEFAULT_OUTPUT:
        console.print(f"Start de simulatoren met {ENV_FILE}={output} om deze personen te laden.")


notificaties_app = typer.Typer(
    help="Notificaties (ZGW Notificaties API) voor het actuele klantbeeld", no_args_is_help=True
)
app.add_typer(notificaties_app, name="notificaties")


@notificaties_app.command("abonneer")
def notificaties_abonneer(
    api: Annotated[
        str | None,
        typer.Option(
            help="Basis-URL van de Notificaties API (…/api/v1); standaard DGKB_NOTIFICATIES_API_URL"
        ),
    ] = None,
    kanaal: Annotated[list[str] | None, typer.Option(help="Kanaal (herhaalbaar)")] = None,
    maak_kanalen: Annotated[
        bool,
        typer.Option(
            "--maak-kanalen",
            help="Maak ontbrekende kanalen aan (gewoonlijk registreert de bron haar eigen kanalen)",
        ),
    ] = False,
) -> None:
    """Neem het abonnement van DGKB (callback {public_url}/api/v1/notificaties) op zaken, klantcontacten,
    partijen en internetaken; een kanaal dat (nog) niet bestaat wordt overgeslagen. Inloggen bij de
    Notificaties API: een ZGW JWT van DGKB_NOTIFICATIES_API_CLIENT_ID + …_SECRET, anders de vaste waarde
    DGKB_NOTIFICATIES_API_AUTH; ligt de API eruit, dan nog drie pogingen (1, 2, 4 s)."""
    from dgkb.events.notificaties import DEFAULT_KANALEN, Backoff, abonneer
    from dgkb.events.routing_auth import notificaties_api_auth
    from dgkb.events.service import inbound_token

    settings = Settings()
    api_url = api or settings.notificaties_api_url
    if not api_url:
        err.print("[red]Geen Notificaties API[/red]: geef --api of zet DGKB_NOTIFICATIES_API_URL")
        raise typer.Exit(1)
    token = inbound_token(settings)
    if not token:
        err.print("[red]DGKB_NOTIFICATIES_TOKEN ontbreekt[/red] (verplicht in productie)")
        raise typer.Exit(1)
    try:
        api_auth = notificaties_api_auth(settings)
    except InvalidConfiguration as exc:
        err.print(f"[red]Configuratie ongeldig:[/red] {exc.message}")
        raise typer.Exit(1) from None
    try:
        result = asyncio.run(
            abonneer(
                api_url,
                callback_url=f"{settings.base_url}/api/v1/notificaties",
                callback_auth=f"Bearer {token}",
                kanalen=tuple(kanaal or DEFAULT_KANALEN),
                api_auth=api_auth,
                backoff=Backoff(first=1.0, retries=3),
                create_missing=maak_kanalen,
            )
        )
    except Exception as exc:
        err.print(f"[red]Abonneren mislukt[/red]: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    namen = [str(k.get("naam", "?")) for k in result.get("kanalen", [])]
    console.print(
        f"[green]Abonnement[/green] {result.get('url')} op {', '.join(namen)} -> {result.get('callbackUrl')}"
    )
    if overgeslagen := [k for k in (kanaal or DEFAULT_KANALEN) if k not in namen]:
        err.print(f"[yellow]Niet geabonneerd[/yellow] (kanaal bestaat niet): {', '.join(overgeslagen)}")


def _safe_url(url: str) -> str:
    """Database URL without password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # pragma: no cover
    app()
