"""Operator use cases behind the CLI: the same services as the API, without HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from dgkb.api.test_broker import TestBroker
from dgkb.audit import KeyUsage
from dgkb.audit.chain import VerifyReport
from dgkb.composition.root import (
    TEST_BROKER_PATH,
    BuiltInIssuer,
    Configuration,
    Services,
    build_services,
    load_configuration,
    test_broker_key_file,
)
from dgkb.dashboard.aggregate import RunReport
from dgkb.dashboard.demo import DEMO_TEAMS, DEMO_VOLUME, DemoOrganisation, seed_history
from dgkb.domain.assurance import Assurance, login_method
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.periods import today_local
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.feedback.service import FeedbackSoort, FeedbackStatus
from dgkb.gateway import ProbeReport, SourceMissing, SourceUnavailable
from dgkb.identity.acr import load_acr_table
from dgkb.klantbeeld.schemas import Klantbeeld
from dgkb.settings import Settings
from dgkb.sources.config import InterneTaakRoute, SourceConfig, ZaakRoute
from dgkb.store.db import Database


@contextlib.asynccontextmanager
async def _services(settings: Settings, *, test_broker: TestBroker | None = None) -> AsyncIterator[Services]:
    config = load_configuration(settings)
    database = Database(settings.database_url)
    # Operators authenticate at the OS level: the same services as the API, without token validation.
    services = build_services(
        settings,
        config,
        database=database,
        test_broker=BuiltInIssuer(test_broker.issuer, test_broker.jwks()) if test_broker else None,
    )
    try:
        yield services
    finally:
        await services.aclose()
        await database.dispose()


class OperatorError(DomainError):
    code = "operator.invalid"


def _cli_test_broker(settings: Settings) -> TestBroker:
    """The test broker, for a DigiD/eHerkenning level asked of the CLI outside production; in
    production a level comes only from a real login of the customer, which a CLI cannot give."""
    if settings.is_production:
        raise OperatorError(
            "een DigiD- of eHerkenningniveau komt uit een inlog van de klant, niet uit invoer; in "
            "productie kan de CLI zo'n niveau niet vastleggen (kies geen of controlevragen)",
            field="--zekerheid",
        )
    return TestBroker(
        issuer=f"{settings.base_url}{TEST_BROKER_PATH}",
        audience=settings.digid_audience,
        acr=load_acr_table(settings.config_files["acr"]),
        key_file=test_broker_key_file(settings),
        production=settings.is_production,
        bsn_claim=settings.digid_bsn_claim,
        kvk_claim=settings.eherkenning_kvk_claim,
        vestiging_claim=settings.eherkenning_vestiging_claim,
        acting_person_claim=settings.eherkenning_acting_person_claim,
    )


async def read_klantbeeld(
    settings: Settings,
    *,
    purpose_id: str,
    role: str,
    assurance: str,
    bsn: str | None,
    kvk: str | None,
    operator: str,
) -> Klantbeeld:
    """Contact session + identification + klantbeeld + end, exactly as an agent would via the API."""
    try:
        role_ = Role(role)
    except ValueError:
        raise OperatorError(
            f"onbekende rol '{role}' (kies uit {', '.join(r.value for r in Role)})", field="--rol"
        ) from None
    try:
        assurance_ = Assurance(assurance)
    except ValueError:
        raise OperatorError(
            f"onbekend zekerheidsniveau '{assurance}' (kies uit {', '.join(a.value for a in Assurance)})",
            field="--zekerheid",
        ) from None
    subject = Subject.person(bsn) if bsn is not None else Subject.business(kvk)
    broker = _cli_test_broker(settings) if login_method(assurance_) is not None else None
    async with _services(settings, test_broker=broker) as services:
        purpose = services.register.get(purpose_id)
        if purpose is None:
            raise OperatorError(
                f"verwerkingsactiviteit '{purpose_id}' staat niet in het register", field="--doel"
            )
        actor = Actor(
            id=operator, role=role_, organisation=purpose.organisatie.oin, organisation_unit="beheer (CLI)"
        )
        trace = Trace()
        contact = await services.contacts.start(
            actor, kanaal=Kanaal.BACKOFFICE, purpose_id=purpose_id, reden="klantbeeld via de CLI"
        )
        try:
            if broker is not None:
                # A DigiD/eHerkenning level is never typed, here neither: the test broker logs the
                # test customer in and DGKB verifies its ID token, the same path as the API's.
                nonce = secrets.token_urlsafe(16)
                await services.contacts.identify_with_id_token(
                    actor,
                    contact.id,
                    subject=subject,
                    id_token=broker.id_token(subject, assurance_, nonce=nonce),
                    nonce=nonce,
                    trace=trace,
                )
            else:
                if assurance_ is Assurance.CONTROLEVRAGEN:
                    # as at the console: the answers are read (and logged) before they can be attested
                    await services.identification.answers(actor, contact.id, subject, trace=trace)
                await services.contacts.identify(
                    actor, contact.id, subject=subject, assurance=assurance_, trace=trace
                )
            context = await services.contacts.context_for(actor, contact.id, trace=trace)
            return await services.klantbeeld.read(context)
        finally:
            await services.contacts.end(actor, contact.id)


DEMO_COMPLAINTS = (
    # (bsn, soort, onderwerp, omschrijving, locatie, eindstatus)
    (
        "999993653",
        FeedbackSoort.KLACHT,
        "Afvalinzameling",
        "De container is drie weken niet geleegd.",
        None,
        FeedbackStatus.IN_BEHANDELING,
    ),
    (
        "999993653",
        FeedbackSoort.MELDING,
        "Losliggende stoeptegel",
        "Tegel ligt los voor de deur, struikelgevaar.",
        "Hoofdstraat 12",
        FeedbackStatus.AFGEHANDELD,
    ),
    (
        "999990639",
        FeedbackSoort.KLACHT,
        "Bejegening aan de balie",
        "Ik voelde me niet serieus genomen.",
        None,
        FeedbackStatus.ONTVANGEN,
    ),
)
DEMO_RATINGS = (
    ("999993653", 8, "Snel geholpen"),
    ("999993653", 4, "Lang in de wacht"),
    ("999990639", 9, None),
)


async def seed_demo(settings: Settings) -> bool:
    """Demo data for what DGKB owns itself (complaints, reports, ratings, and a year of meten-en-leren
    history for the dashboard); the simulators hold the rest. Complaints and ratings are recorded
    through the same service as in production, so the access log shows them too. Idempotent: each
    part does nothing when anything of it was recorded before. Returns whether it seeded."""
    async with _services(settings) as services:
        seeded = await _seed_feedback(services)
        if await _seed_meten(services):
            seeded = True
            await services.dashboard.aggregate()  # the dashboard is ready at once
    return seeded


async def _seed_meten(services: Services) -> bool:
    """A year of meten-en-leren history per organisation with a meten-en-leren purpose (once)."""
    options = services.moments.options
    organisations = []
    for oin, (per_day, customers) in DEMO_VOLUME.items():
        purpose = services.register.system_purpose(oin, "meten-en-leren")
        if purpose is None:
            continue
        organisations.append(
            DemoOrganisation(
                organisation=oin,
                per_werkdag=per_day,
                klanten=customers,
                onderwerpen=[o.id for o in options.onderwerpen_for(oin)],
                teams=DEMO_TEAMS[oin],
                doorverwijzen=[
                    d for d in options.doorverwijzen if d != services.register.organisation_name(oin)
                ],
                bewaartermijn=purpose.bewaartermijn,
            )
        )
    return await seed_history(
        services.database,
        organisations,
        [cfg.id for cfg in services.sources.configs.values()],
        today=today_local(),
    )


async def _seed_feedback(services: Services) -> bool:
    """Complaints, reports and ratings (once)."""
    if not await services.feedback.is_empty():
        return False
    purpose = next(
        va for va in services.register.verwerkingsactiviteiten if va.id.endswith("/klachtbehandeling")
    )
    actor = Actor(
        id="demo-seed", role=Role.KCM, organisation=purpose.organisatie.oin, organisation_unit="demo"
    )

    def context(bsn: str) -> RequestContext:
        return RequestContext(
            actor=actor,
            subject=Subject.person(bsn),
            purpose_id=purpose.id,
            assurance=Assurance.CONTROLEVRAGEN,
            channel=Kanaal.TELEFOON,
            trace=Trace(),
        )

    for bsn, soort, onderwerp, omschrijving, locatie, status in DEMO_COMPLAINTS:
        item = await services.feedback.submit(
            context(bsn), soort=soort, onderwerp=onderwerp, omschrijving=omschrijving, locatie=locatie
        )
        if status is not FeedbackStatus.ONTVANGEN:
            # moved on by whoever the register lets handle this kind, as in production
            handling = services.register.handling_purpose(actor.organisation, soort.value)
            if handling is None:
                continue
            handler = Actor(
                id="demo-seed",
                role=handling.rollen[0],
                organisation=actor.organisation,
                organisation_unit="demo",
            )
            await services.feedback.set_status(
                handler,
                item.id,
                soort=soort,
                status=status,
                toelichting="Demogegevens",
                uitkomst="De tegel is teruggelegd." if status is FeedbackStatus.AFGEHANDELD else None,
            )
    for bsn, score, toelichting in DEMO_RATINGS:
        await services.feedback.record_rating(
            context(bsn), score=score, toelichting=toelichting, onderwerp=None
        )
    return True


async def aggregate_meten(settings: Settings) -> RunReport:
    """One aggregation run for the dashboard (logged as one processing per organisation)."""
    async with _services(settings) as services:
        return await services.dashboard.aggregate()


async def verify_audit(settings: Settings) -> VerifyReport:
    async with _services(settings) as services:
        return await services.access_log.verify()


async def audit_keys(settings: Settings) -> tuple[KeyUsage, ...]:
    async with _services(settings) as services:
        return await services.access_log.key_usage()


async def search_audit(
    settings: Settings, *, bsn: str | None, actor_id: str | None, purpose_id: str | None, limit: int
) -> list[dict[str, Any]]:
    subject = Subject.person(bsn) if bsn else None
    async with _services(settings) as services:
        page = await services.access_log.search(
            subject=subject,
            actor_id=actor_id,
            processing_activity_id=purpose_id,
            since=None,
            until=None,
            limit=limit,
            cursor=None,
        )
    return [entry.as_dict() for entry in page.items]


# --- `dgkb check`: the sources with their credentials, the actors, the categories without a source ---


def uncovered_categories(config: Configuration) -> list[str]:
    """Catalogue categories that no enabled source serves, and categories a purpose allows whose
    allowed sources (`bronnen`) serve none of them: agents see "geen bron aangesloten" there.
    One Dutch line each, naming the purposes that allow the category."""
    enabled = [s for s in config.sources.sources if s.enabled]
    lines = []
    for category in config.catalogue.ids:
        serving = {s.id for s in enabled if category in s.categories}
        gaps = [
            va.naam
            for va in config.register.verwerkingsactiviteiten
            if (access := va.categorieen.get(category)) is not None
            and not (serving if access.bronnen is None else serving & set(access.bronnen))
        ]
        if not serving:
            allowed = f"; het register staat haar toe voor: {', '.join(gaps)}" if gaps else ""
            lines.append(f"{category}: geen actieve bron levert deze categorie{allowed}")
        elif gaps:
            lines.append(
                f"{category}: voor {', '.join(gaps)} levert geen toegestane bron (bronnen) deze categorie"
            )
    return lines


@dataclass(frozen=True, slots=True)
class SourceCheck:
    config: SourceConfig
    report: ProbeReport | None  # None: not called (disabled, or DGKB's own store)


@dataclass(frozen=True, slots=True)
class ActorCheck:
    """One afdeling of onderwerpen.yaml and what the Klantinteracties source knows of its actor."""

    index: int
    afdeling: str
    actor: str
    naam: str | None = None  # the actor's name at the source
    status: str = "onbekend"  # "bestaat" | "bestaat niet" | "niet actief" | "niet te controleren"


@dataclass(frozen=True, slots=True)
class ZaaktypeCheck:
    """The zaaktype of one correction route `zaak` and what the Zaken source's catalogue knows of it."""

    index: int
    route: str
    zaaktype: str
    naam: str | None = None  # its omschrijving in the catalogue
    status: str = "onbekend"  # "bestaat" | "bestaat niet" | "concept" | "niet te controleren"


@dataclass
class SourcesCheck:
    sources: list[SourceCheck] = field(default_factory=list)
    actors: list[ActorCheck] = field(default_factory=list)
    zaaktypen: list[ZaaktypeCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each fails `dgkb check`
    warnings: list[str] = field(default_factory=list)


async def check_sources(settings: Settings) -> SourcesCheck:
    """Call every enabled source once with its configured credentials (a cheap read that names no
    person) and look up every actor of onderwerpen.yaml at the Klantinteracties source. Problems
    name the source (or the file and path) and what is wrong."""
    result = SourcesCheck()
    async with _services(settings) as services:
        gateway = services.gateway
        configs = services.sources.all_configs
        reports = await asyncio.gather(*(gateway.probe(c.id) if c.enabled else _nothing() for c in configs))
        for cfg, report in zip(configs, reports, strict=True):
            result.sources.append(SourceCheck(cfg, report))
            if report is not None and report.problem:
                hint = ""
                if (
                    report.authenticated is False
                    and cfg.kind == "klantinteracties"
                    and cfg.auth.type != "token"
                ):
                    hint = "; Open Klant wil 'Authorization: Token <sleutel>': auth type 'token'"
                result.problems.append(f"bron '{cfg.id}' ({cfg.name}): {report.problem}{hint}")
        moments = services.moments.options
        # (index, label, actor uuid, where in the configuration, what a missing actor breaks)
        targets: list[tuple[int, str, str, str, str]] = [
            (
                i,
                a.id,
                a.actor,
                f"onderwerpen.yaml: afdelingen.{i}.actor",
                f"van afdeling '{a.id}'",
            )
            for i, a in enumerate(moments.afdelingen)
        ]
        zaak_routes = [
            (i, cfg, cfg.correcties)
            for i, cfg in enumerate(services.sources.all_configs)
            if isinstance(cfg.correcties, ZaakRoute)
        ]
        await _check_zaak_routes(services, result, zaak_routes)
        for i, cfg in enumerate(services.sources.all_configs):
            if isinstance(cfg.correcties, InterneTaakRoute):
                targets.append(
                    (
                        i,
                        f"correcties {cfg.id} ({cfg.correcties.team})",
                        cfg.correcties.actor,
                        f"sources.yaml: sources.{i}.correcties.actor",
                        f"voor correctieverzoeken over bron '{cfg.id}'",
                    )
                )
            elif cfg.correcties is None and cfg.enabled and _shown_to_customers(services.register, cfg):
                result.warnings.append(
                    f"sources.yaml: sources.{i}: bron '{cfg.id}' ({cfg.name}) staat in Mijn omgeving maar "
                    "heeft geen 'correcties': een correctieverzoek daarover blijft in DGKB liggen"
                )
        if not targets:
            return result
        actor_source = gateway.actor_source()
        if actor_source is None:
            result.warnings.append(
                "onderwerpen.yaml: afdelingen / sources.yaml: correcties: er is geen Klantinteracties-bron "
                "aangesloten; een contactverzoek of correctieverzoek kan nergens heen"
            )
            return result
        probed = next((s.report for s in result.sources if s.config.id == actor_source.id), None)
        blocked = probed is not None and probed.problem is not None
        for index, label, actor, where, what in targets:
            check = ActorCheck(index, label, actor)
            if blocked:
                result.actors.append(replace(check, status="niet te controleren"))
                continue
            try:
                found = await gateway.find_actor(actor)
            except (SourceUnavailable, SourceMissing) as exc:
                result.actors.append(replace(check, status="niet te controleren"))
                result.problems.append(f"{where}: niet te controleren: {exc.message}")
                continue
            if found is None:
                result.actors.append(replace(check, status="bestaat niet"))
                result.problems.append(
                    f"{where}: actor {actor} {what} bestaat niet in bron "
                    f"'{actor_source.id}' ({actor_source.name}); een taak voor deze actor "
                    "zou worden geweigerd"
                )
                continue
            naam = found.get("naam") if isinstance(found.get("naam"), str) else None
            if found.get("actief") is False:
                result.actors.append(replace(check, naam=naam, status="niet actief"))
                result.warnings.append(
                    f"{where}: actor {actor} ({naam}) {what} is niet actief in bron '{actor_source.id}'"
                )
                continue
            result.actors.append(replace(check, naam=naam, status="bestaat"))
    return result


def _own_view_purposes_of(register: Register, cfg: SourceConfig) -> list[Verwerkingsactiviteit]:
    """The own-view purposes (role burger) that read this source: they show its data in Mijn
    omgeving, and a correction request about it is made under one of them."""
    found = []
    for va in register.verwerkingsactiviteiten:
        if Role.BURGER not in va.rollen or va.systeemtaak is not None:
            continue
        if any(
            cat in cfg.categories and (not access.bronnen or cfg.id in access.bronnen)
            for cat, access in va.categorieen.items()
        ):
            found.append(va)
    return found


def _shown_to_customers(register: Register, cfg: SourceConfig) -> bool:
    """Whether an own-view purpose (role burger) reads this source: its data is then in Mijn omgeving."""
    return bool(_own_view_purposes_of(register, cfg))


async def _check_zaak_routes(
    services: Services, result: SourcesCheck, routes: list[tuple[int, SourceConfig, ZaakRoute]]
) -> None:
    """Each correction route `zaak`: a Zaken source must be there, the register must let every
    own-view purpose showing the source write dienst.zaken-lopend to it, and the zaaktype must exist
    (published) in its catalogue. DGKB cannot see its own autorisaties at the Zaken API: a missing
    scope shows when a request is made (kept as `ontvangen` with the reason)."""
    gateway = services.gateway
    zaken = gateway.zaak_source()
    probed = next((c.report for c in result.sources if zaken is not None and c.config.id == zaken.id), None)
    blocked = probed is not None and probed.problem is not None
    for i, cfg, route in routes:
        where = f"sources.yaml: sources.{i}.correcties"
        check = ZaaktypeCheck(i, f"correcties {cfg.id} ({route.team})", route.zaaktype)
        if zaken is None:
            result.zaaktypen.append(replace(check, status="niet te controleren"))
            result.problems.append(f"{where}: route 'zaak', maar er is geen Zaken-bron aangesloten")
            continue
        for va in _own_view_purposes_of(services.register, cfg):
            access = va.categorieen.get("dienst.zaken-lopend")
            if not va.may_write("dienst.zaken-lopend") or (
                access is not None and access.bronnen and zaken.id not in access.bronnen
            ):
                result.problems.append(
                    f"{where}: route 'zaak', maar het register laat '{va.naam}' geen zaak aanmaken in "
                    f"bron '{zaken.id}' (register.yaml: dienst.zaken-lopend met schrijven: true en die bron)"
                )
        if blocked:
            result.zaaktypen.append(replace(check, status="niet te controleren"))
            continue
        try:
            found = await gateway.find_zaaktype(route.zaaktype)
        except (SourceUnavailable, SourceMissing) as exc:
            result.zaaktypen.append(replace(check, status="niet te controleren"))
            result.problems.append(f"{where}.zaaktype: niet te controleren: {exc.message}")
            continue
        if found is None:
            result.zaaktypen.append(replace(check, status="bestaat niet"))
            result.problems.append(
                f"{where}.zaaktype: zaaktype '{route.zaaktype}' voor correctieverzoeken over bron "
                f"'{cfg.id}' bestaat niet in bron '{zaken.id}' ({zaken.name}); een zaak daarvan zou "
                "worden geweigerd"
            )
            continue
        naam = found.get("omschrijving") if isinstance(found.get("omschrijving"), str) else None
        if found.get("concept"):
            result.zaaktypen.append(replace(check, naam=naam, status="concept"))
            result.problems.append(
                f"{where}.zaaktype: zaaktype '{route.zaaktype}' is nog een concept in bron '{zaken.id}'; "
                "een zaak daarvan zou worden geweigerd"
            )
            continue
        result.zaaktypen.append(replace(check, naam=naam, status="bestaat"))


async def _nothing() -> None:
    return None
