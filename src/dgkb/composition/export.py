"""The export of everything DGKB shows or holds about one subject (art. 15 and 20 AVG): a
machine-readable JSON document and an accessible PDF (PDF/UA-1, tagged, in Dutch).

One service for every caller. Mijn omgeving asks it for the logged-in customer, with the customer's
own contacts; the privacy officer's inzage (a later issue) asks it for any subject, with contexts of
the privacy officer's own purposes. The caller hands in the request contexts — one per organisation,
all about one subject — and so decides whose data and under which purposes: this service takes no
identifier of its own.

What goes in, per organisation of those contexts:

* the klantbeeld as the PDP allows it under that context's purpose (`KlantbeeldService.read`: the
  gateway logs the read before it returns, fail closed), each section with its source and status;
* what DGKB itself holds about the subject there: consents, ratings, complaints and reports (with
  their status history, without the employees who set it), correction requests;

and, over those organisations, the contacts DGKB held with the subject (channel, purpose, how the
subject was identified, never the employee) and the access history: when, which organisation, for
which purpose, by whom in general terms ("een klantcontactmedewerker", "uzelf", "DGKB automatisch")
— never an employee's identity.

The export itself is a processing: it is logged under every context (LDV + access) before it is
returned, so it shows up in the access history like any other read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from dgkb.audit.access_log import AccessLog
from dgkb.audit.writer import AuditWriter
from dgkb.composition.root import Services
from dgkb.consent.service import ConsentService
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.feedback.handling import LOCAL_TIME
from dgkb.feedback.service import outcome_of
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.policy.explanations import ROLE_LABELS
from dgkb.store.corrections import CorrectionRepository
from dgkb.store.db import Database
from dgkb.store.feedback import FeedbackRepository
from dgkb.store.tables import ContactSessionRow

__all__ = ["Export", "ExportDep", "ExportInvalid", "ExportService", "export_service"]

FORMAT_VERSION = "1"
# The access history in an export: the newest this many records (the portal's own page pages further)
MAX_ACCESS_RECORDS = 2000
MAX_CONTACTS = 1000
_ACCESS_PAGE = 500  # dgkb.audit.query's page limit

_STATUS_TEXT = {
    "ok": "Getoond",
    "niet-gevonden": "Geen gegevens",
    "timeout": "Tijdelijk niet beschikbaar (bron te traag)",
    "onbereikbaar": "Tijdelijk niet beschikbaar (bron niet bereikbaar)",
    "niet-geautoriseerd": "Tijdelijk niet beschikbaar",
    "fout": "Tijdelijk niet beschikbaar (fout bij de bron)",
    "niet-toegestaan": "Niet getoond",
    "niet-geconfigureerd": "Geen bron aangesloten",
}


# Left out of the PDF (the JSON keeps them): a source's API address of an item and a zaaktype's list of
# steps are for machines, not for reading.
PDF_SKIP = frozenset({"url", "statustypen"})


class ExportInvalid(DomainError):
    code = "export.invalid"
    status = 400


@dataclass(frozen=True, slots=True)
class Export:
    """One export: `data` is the JSON document (lowerCamelCase keys, ISO 8601 times)."""

    data: dict[str, Any]
    created_at: datetime

    @property
    def filename_stem(self) -> str:
        # no identifier of the subject in a file name (it ends up in download folders and logs)
        return f"mijn-gegevens-{self.created_at:%Y%m%d-%H%M}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(role: str) -> str:
    """Who read, in general terms: never the employee's identity (art. 15 AVG without staff names)."""
    if role == Role.BURGER.value:
        return "uzelf"
    if role == Role.SYSTEEM.value:
        return "DGKB automatisch"
    try:
        label = ROLE_LABELS[Role(role)]
    except ValueError:
        return "een medewerker"
    return f"een {label}"


class ExportService:
    def __init__(
        self,
        *,
        database: Database,
        register: Register,
        pseudonymizer: Pseudonymizer,
        klantbeeld: KlantbeeldService,
        consent: ConsentService,
        access_log: AccessLog,
        audit: AuditWriter,
    ) -> None:
        self._db = database
        self._register = register
        self._pseudonymizer = pseudonymizer
        self._klantbeeld = klantbeeld
        self._consent = consent
        self._access_log = access_log
        self._audit = audit
        self._feedback = FeedbackRepository()
        self._corrections = CorrectionRepository()

    async def collect(self, contexts: Sequence[RequestContext], *, formaat: str = "json") -> Export:
        """Everything shown or held about the subject of `contexts` (one per organisation, one
        subject), logged as a processing under each context before it is returned. Raises
        AuditUnavailable when it cannot be logged (nothing is returned then)."""
        if not contexts:
            raise ExportInvalid("Er is geen organisatie om gegevens van te tonen.", field="contexten")
        subject = contexts[0].subject
        if any(c.subject != subject for c in contexts):
            raise ExportInvalid("Een export gaat over één persoon of bedrijf.", field="contexten")
        started = datetime.now(UTC)
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]
        organisations = list(dict.fromkeys(c.actor.organisation for c in contexts))
        per_org = await asyncio.gather(*(self._organisation(c, keys) for c in contexts))
        contacts, access = await asyncio.gather(
            self._contacts(keys, organisations), self._access_history(contexts)
        )
        created = datetime.now(UTC)
        data: dict[str, Any] = {
            "soort": "dgkb-inzage",
            "formaatversie": FORMAT_VERSION,
            "aangemaaktOp": created.isoformat(),
            "toelichting": (
                "Alle gegevens die wij over u tonen of zelf bewaren, met per onderdeel de bron "
                "(artikel 15 en 20 AVG). Wie uw gegevens bekeek staat erbij, zonder namen van medewerkers."
            ),
            "betrokkene": {"soort": subject.kind.value},
            "organisaties": per_org,
            "contacten": contacts,
            "inzagegeschiedenis": access,
        }
        for context in contexts:
            await self._audit.record_processing(
                context=context,
                name=f"gegevens exporteren ({formaat})",
                categories=sorted(
                    {
                        s["categorie"]
                        for org in per_org
                        if org["organisatie"]["oin"] == context.actor.organisation
                        for s in org["klantbeeld"]["secties"]
                        if s["status"] == "ok"
                    }
                ),
                started_at=started,
                ended_at=datetime.now(UTC),
            )
        return Export(data=data, created_at=created)

    async def _organisation(self, context: RequestContext, keys: list[str]) -> dict[str, Any]:
        oin = context.actor.organisation
        purpose = self._register.get(context.purpose_id)
        klantbeeld = await self._klantbeeld.read(context)
        consents = await self._consent.list_for(context)
        async with self._db.read() as session:
            ratings = await self._feedback.ratings(session, subject_keys=keys, organisation=oin, limit=1000)
            items = [
                item
                for soort in ("klacht", "melding")
                for item in await self._feedback.items(
                    session, subject_keys=keys, organisation=oin, soort=soort, limit=1000
                )
            ]
            history = await self._feedback.history(session, [i.id for i in items])
            corrections = await self._corrections.for_subject(
                session, subject_keys=keys, organisations=[oin], limit=1000
            )
        return {
            "organisatie": {"oin": oin, "naam": self._register.organisation_name(oin) or oin},
            "doel": {"id": context.purpose_id, "naam": purpose.naam if purpose else None},
            "klantbeeld": {
                "opgehaaldOp": klantbeeld.opgehaald_op.isoformat(),
                "secties": [
                    {
                        "categorie": s.categorie,
                        "informatietype": s.informatietype,
                        "omschrijving": s.omschrijving,
                        "status": s.status,
                        "statusTekst": _STATUS_TEXT.get(s.status, s.status),
                        "bron": s.bron,
                        "toelichting": s.toelichting if s.status != "ok" else None,
                        "opgehaaldOp": _iso(s.opgehaald_op),
                        "gegevens": s.gegevens if s.status == "ok" else None,
                    }
                    for s in klantbeeld.secties
                    if not (s.status == "niet-toegestaan" and s.reden == "CATEGORY_NOT_IN_PURPOSE")
                ],
            },
            "toestemmingen": [
                {
                    "doel": c.processing_activity_id,
                    "doelNaam": (p.naam if (p := self._register.get(c.processing_activity_id)) else None),
                    "categorieen": list(c.categories),
                    "kanaal": c.channel,
                    "gegevenOp": c.given_at.isoformat(),
                    "verlooptOp": _iso(c.expires_at),
                    "ingetrokkenOp": _iso(c.withdrawn_at),
                }
                for c in consents
            ],
            "beoordelingen": [
                {
                    "datum": r.recorded_at.isoformat(),
                    "kanaal": r.kanaal,
                    "onderwerp": r.onderwerp,
                    "waardering": r.waardering,
                    "score": r.score,
                    "toelichting": r.toelichting,
                    "gaatOver": {"soort": r.gekoppeld_soort, "id": r.gekoppeld_aan}
                    if r.gekoppeld_soort
                    else None,
                }
                for r in ratings
            ],
            "klachtenEnMeldingen": [
                {
                    "nummer": i.nummer,
                    "soort": i.soort,
                    "onderwerp": i.onderwerp,
                    "omschrijving": i.omschrijving,
                    "locatie": i.locatie,
                    "kanaal": i.kanaal,
                    "status": i.status,
                    "ingediendOp": i.ingediend_op.isoformat(),
                    "afgehandeldOp": _iso(i.afgehandeld_op),
                    "uitkomst": outcome_of(history.get(i.id, [])),
                    # the steps without who set them: the customer sees what happened, not which employee
                    "statushistorie": [
                        {
                            "status": h.status,
                            "datum": h.gezet_op.isoformat(),
                            "bericht": h.bericht_tekst,
                        }
                        for h in history.get(i.id, [])
                    ],
                }
                for i in items
            ],
            "correctieverzoeken": [
                {
                    "nummer": c.nummer,
                    "categorie": c.categorie,
                    "bron": c.bron_id,
                    "onderdeel": c.onderdeel,
                    "watKloptNiet": c.wat_klopt_niet,
                    "juisteGegevens": c.juiste_gegevens,
                    "status": c.status,
                    "doorgestuurdNaar": c.team,
                    "ingediendOp": c.ingediend_op.isoformat(),
                    "bijgewerktOp": c.bijgewerkt_op.isoformat(),
                }
                for c in corrections
            ],
        }

    async def _contacts(self, keys: list[str], organisations: list[str]) -> list[dict[str, Any]]:
        """The contacts DGKB held with the subject: when, where, why, how identified — not by whom."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ContactSessionRow)
                .where(
                    ContactSessionRow.subject_key.in_(keys),
                    ContactSessionRow.organisation.in_(organisations),
                )
                .order_by(ContactSessionRow.started_at.desc())
                .limit(MAX_CONTACTS)
            )
            found = list(rows)
        return [
            {
                "organisatie": self._register.organisation_name(r.organisation) or r.organisation,
                "kanaal": r.channel,
                "doel": (p.naam if r.purpose_id and (p := self._register.get(r.purpose_id)) else None),
                "gestartOp": r.started_at.isoformat(),
                "beeindigdOp": _iso(r.ended_at),
                "identificatie": r.identification_method,
                "zekerheid": r.assurance,
                "metWie": _who(r.actor_role),
            }
            for r in found
        ]

    async def _access_history(self, contexts: Sequence[RequestContext]) -> list[dict[str, Any]]:
        """Who looked at the subject's data, newest first: organisation, purpose, channel, what, and
        who in general terms — never the employee's identity."""
        organisations = {c.actor.organisation for c in contexts}
        subject = contexts[0].subject
        entries: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(entries) < MAX_ACCESS_RECORDS:
            page = await self._access_log.search(subject=subject, limit=_ACCESS_PAGE, cursor=cursor)
            for e in page.items:
                if e.organisation not in organisations:
                    continue
                purpose = self._register.get(e.processing_activity_id)
                entries.append(
                    {
                        "tijdstip": e.occurred_at.isoformat(),
                        "organisatie": self._register.organisation_name(e.organisation) or e.organisation,
                        "doel": purpose.naam if purpose else e.processing_activity_id,
                        "wie": _who(e.actor_role),
                        "kanaal": e.channel,
                        "gegevens": list(e.categories_delivered),
                        "uitkomst": e.outcome,
                    }
                )
            cursor = page.next_cursor
            if cursor is None:
                break
        return entries[:MAX_ACCESS_RECORDS]

    # --- rendering ----------------------------------------------------------------------------------
    @staticmethod
    def to_json(export: Export) -> bytes:
        return orjson.dumps(export.data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)

    async def to_pdf(self, export: Export) -> bytes:
        """An accessible PDF (PDF/UA-1: tagged, with the document's language and title, headings per
        organisation and section); rendered in a worker thread (WeasyPrint is CPU-bound)."""
        html = _template().render(export=export.data, fmt=_format_value, when=_when, skip=PDF_SKIP)
        return await asyncio.to_thread(_render_pdf, html)


# One PDF at a time per process: WeasyPrint is CPU-bound Python (it holds the GIL), so parallel
# renders would only slow each other and the event loop down; its thread safety is not documented.
_PDF_LOCK = threading.Lock()


def _render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango takes a while and only exports need it

    with _PDF_LOCK:
        pdf = HTML(string=html, base_url=None).write_pdf(pdf_variant="pdf/ua-1")
    assert pdf is not None
    return bytes(pdf)


@cache
def _template() -> Any:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("export.html")


def _when(value: str | None, *, time: bool = True) -> str:
    """An ISO 8601 time as Dutch local text (dd-mm-jjjj uu:mm)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return f"{moment:%d-%m-%Y}"
    local = moment.astimezone(LOCAL_TIME)
    return f"{local:%d-%m-%Y %H:%M}" if time else f"{local:%d-%m-%Y}"


def _format_value(value: Any) -> str:
    """A value as text for the PDF: lists and objects in short readable form."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, dict):
        # the readable form a source already gives: a Haal Centraal date's langFormaat, a coded
        # value's omschrijving, a name's volledigeNaam
        for readable in ("langFormaat", "volledigeNaam"):
            if isinstance(value.get(readable), str) and value[readable]:
                return str(value[readable])
        if set(value) <= {"code", "omschrijving"} and value.get("omschrijving"):
            return str(value["omschrijving"])
        return "; ".join(f"{k}: {_format_value(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return ", ".join(_format_value(v) for v in value) or "—"
    return str(value)


def export_service(services: Services) -> ExportService:
    return ExportService(
        database=services.database,
        register=services.register,
        pseudonymizer=services.pseudonymizer,
        klantbeeld=services.klantbeeld,
        consent=services.consent,
        access_log=services.access_log,
        audit=services.audit,
    )


async def _export(request: Request) -> ExportService:
    return export_service(request.app.state.services)


ExportDep = Annotated[ExportService, Depends(_export)]
