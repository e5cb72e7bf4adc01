"""Correction requests ("Klopt er iets niet?"): the customer says which item of which section is
wrong and what it should be; DGKB keeps the request and routes it to the owner of that source.

The route is configuration (`correcties` of the source in sources.yaml, checked by `dgkb check`): an
interne taak in the Klantinteracties source, assigned to the responsible team's actor, arising from
a klantcontact that records the request (kanaal `mijn-omgeving`). DGKB writes only through that
source's own API, and only those two resources: never to the source being corrected (BRP, KVK, a tax
system) — its team corrects it in its own way. Every write is logged by the gateway before it is
sent, under the customer's own-view purpose; storing the request is logged as a processing too.

The request is kept whatever happens at the source (its status tells): `doorgestuurd` (a task at the
owner, with its number), `ontvangen` (kept in DGKB: no route configured, or the source refused or was
down — `fout` says why), `afgehandeld` (the task is no longer open at the source, seen in the
customer's own view). The subject is stored by pseudonym only.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from dgkb.audit.writer import AuditWriter
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.events.service import ChangeService
from dgkb.gateway import SourceGateway, SourceMissing, SourceUnavailable
from dgkb.sources.base import PartialWriteError, SourceError, SubjectNotFound
from dgkb.sources.config import CorrectionRoute, SourceConfig
from dgkb.store.corrections import CorrectionRepository, CorrectionRow
from dgkb.store.db import Database

__all__ = ["CorrectionInvalid", "CorrectionService", "CorrectionStatus", "CorrectionView"]

MAX_ONDERDEEL = 200
MAX_TEXT = 400  # each of the two texts: both go into one toelichting of at most 1000 (Klantinteracties)
_OPEN_VERZOEKEN = "contact.open-verzoeken"
_HISTORIE = "contact.historie"


class CorrectionStatus:
    ONTVANGEN = "ontvangen"
    DOORGESTUURD = "doorgestuurd"
    AFGEHANDELD = "afgehandeld"


class CorrectionInvalid(DomainError):
    code = "correction.invalid"
    status = 400


@dataclass(frozen=True, slots=True)
class CorrectionView:
    id: str
    nummer: str
    organisation: str
    categorie: str
    bron_id: str
    onderdeel: str
    wat_klopt_niet: str
    juiste_gegevens: str | None
    status: str
    team: str | None
    taak_nummer: str | None
    fout: str | None
    ingediend_op: datetime
    bijgewerkt_op: datetime


def _view(row: CorrectionRow) -> CorrectionView:
    return CorrectionView(
        id=row.id,
        nummer=row.nummer,
        organisation=row.organisation,
        categorie=row.categorie,
        bron_id=row.bron_id,
        onderdeel=row.onderdeel,
        wat_klopt_niet=row.wat_klopt_niet,
        juiste_gegevens=row.juiste_gegevens,
        status=row.status,
        team=row.team,
        taak_nummer=row.taak_nummer,
        fout=row.fout,
        ingediend_op=row.ingediend_op,
        bijgewerkt_op=row.bijgewerkt_op,
    )


class CorrectionService:
    def __init__(
        self,
        *,
        database: Database,
        pseudonymizer: Pseudonymizer,
        gateway: SourceGateway,
        audit: AuditWriter,
        changes: ChangeService,
        sources: Sequence[SourceConfig],
    ) -> None:
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._gateway = gateway
        self._audit = audit
        self._changes = changes
        self._sources: Mapping[str, SourceConfig] = {s.id: s for s in sources}
        self._repo = CorrectionRepository()

    def route(self, bron_id: str) -> CorrectionRoute | None:
        cfg = self._sources.get(bron_id)
        return cfg.correcties if cfg is not None else None

    async def submit(
        self,
        context: RequestContext,
        *,
        categorie: str,
        categorie_label: str,
        bron_id: str,
        onderdeel: str,
        wat_klopt_niet: str,
        juiste_gegevens: str | None,
    ) -> CorrectionView:
        """Keep the request and send it on to the source's owner as configured. The caller has
        checked that the customer was shown this section (category and source) and item."""
        onderdeel, wat_klopt_niet = onderdeel.strip(), wat_klopt_niet.strip()
        juiste_gegevens = (juiste_gegevens or "").strip() or None
        if not onderdeel or len(onderdeel) > MAX_ONDERDEEL:
            raise CorrectionInvalid("Kies om welk gegeven het gaat.", field="onderdeel")
        if not wat_klopt_niet:
            raise CorrectionInvalid("Wat klopt er niet: vul dit in.", field="watKloptNiet")
        if len(wat_klopt_niet) > MAX_TEXT:
            raise CorrectionInvalid(f"Wat klopt er niet: hoogstens {MAX_TEXT} tekens.", field="watKloptNiet")
        if juiste_gegevens is not None and len(juiste_gegevens) > MAX_TEXT:
            raise CorrectionInvalid(
                f"Wat het moet zijn: hoogstens {MAX_TEXT} tekens.", field="juisteGegevens"
            )
        source = self._sources.get(bron_id)
        if source is None:
            raise CorrectionInvalid("Deze bron kennen wij niet.", field="bron")
        now = datetime.now(UTC)
        pseudonym = self._pseudonymizer.pseudonym(context.subject)
        row = CorrectionRow(
            id=str(uuid.uuid4()),
            nummer=f"CV-{now:%Y}-{secrets.token_hex(4).upper()}",
            subject_key=pseudonym.value,
            key_id=pseudonym.key_id,
            subject_kind=context.subject.kind.value,
            organisation=context.actor.organisation,
            processing_activity_id=context.purpose_id,
            categorie=categorie,
            bron_id=bron_id,
            onderdeel=onderdeel,
            wat_klopt_niet=wat_klopt_niet,
            juiste_gegevens=juiste_gegevens,
            status=CorrectionStatus.ONTVANGEN,
            route="interne-taak",
            trace_id=context.trace.trace_id,
            ingediend_op=now,
            bijgewerkt_op=now,
        )
        # no request without its record (fail closed: AuditUnavailable propagates, nothing is kept)
        await self._audit.record_processing(
            context=context,
            name="correctieverzoek vastleggen",
            categories=[categorie],
            started_at=now,
            ended_at=datetime.now(UTC),
        )
        route = source.correcties
        if route is None:
            row.fout = "Voor deze bron is geen behandelaar ingesteld; wij bekijken uw verzoek zelf."
        else:
            await self._send(context, row, route, categorie_label, source)
        row.bijgewerkt_op = datetime.now(UTC)
        async with self._db.transaction() as session:
            await self._repo.add(session, row)
        return _view(row)

    async def _send(
        self,
        context: RequestContext,
        row: CorrectionRow,
        route: CorrectionRoute,
        categorie_label: str,
        source: SourceConfig,
    ) -> None:
        """The klantcontact recording the request, then the interne taak for the team (Klantinteracties
        only). A failure leaves the request `ontvangen` with the reason; it is never lost."""
        what = f"{categorie_label} uit {source.name}"
        details = (
            f"Correctieverzoek {row.nummer} via Mijn omgeving over {what}, gegeven '{row.onderdeel}'.\n"
            f"Wat klopt niet: {row.wat_klopt_niet}\n"
            f"Wat het moet zijn: {row.juiste_gegevens or '(niet opgegeven)'}"
        )
        try:
            written = await self._gateway.register_klantcontact(
                context,
                name="correctieverzoek registreren",
                onderwerp=f"Correctieverzoek {row.nummer}: {categorie_label}"[:200],
                inhoud=details[:1000],
            )
            klantcontact = str(written["klantcontact"]["uuid"])
            row.klantcontact_uuid = klantcontact
            taak = await self._gateway.create_interne_taak(
                context,
                name="correctieverzoek doorsturen",
                klantcontact=klantcontact,
                gevraagde_handeling=f"Correctieverzoek {row.nummer} beoordelen: {what}"[:200],
                toelichting=details[:1000],
                toegewezen_aan=route.actor,
            )
        except PartialWriteError as exc:
            row.klantcontact_uuid = str(exc.klantcontact.get("uuid") or "") or None
            row.fout = "Uw verzoek is bewaard, maar nog niet doorgestuurd. Wij sturen het alsnog door."
            return
        except SubjectNotFound:
            row.fout = "U bent nog niet bekend in ons klantsysteem; wij bekijken uw verzoek zelf."
            return
        except (SourceUnavailable, SourceMissing, SourceError):
            row.fout = "Doorsturen lukte nu niet; uw verzoek is bewaard en wij sturen het alsnog door."
            return
        row.status = CorrectionStatus.DOORGESTUURD
        row.team = route.team
        row.taak_uuid = str(taak.get("uuid") or "") or None
        row.taak_nummer = str(taak.get("nummer") or "") or None
        # open views of this customer show the new task, and cached answers are dropped
        await self._changes.publish_change(context.subject, (_HISTORIE, _OPEN_VERZOEKEN), self._writer_id())

    def _writer_id(self) -> str:
        try:
            return self._gateway.klantcontact_source().id
        except SourceMissing:
            return "dgkb"

    async def list_for(
        self, context: RequestContext, organisations: Sequence[str] | None = None
    ) -> list[CorrectionView]:
        """The subject's requests (at these organisations), newest first; logged as a read when
        there are any (none found reads nothing about the subject)."""
        started = datetime.now(UTC)
        rows = await self._rows(context.subject, organisations)
        if not rows:
            return []
        await self._audit.record_processing(
            context=context,
            name="correctieverzoeken raadplegen",
            categories=sorted({r.categorie for r in rows}),
            started_at=started,
            ended_at=datetime.now(UTC),
        )
        return [_view(r) for r in rows]

    async def _rows(self, subject: Subject, organisations: Sequence[str] | None) -> list[CorrectionRow]:
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]
        async with self._db.read() as session:
            return await self._repo.for_subject(session, subject_keys=keys, organisations=organisations)

    async def mark_handled(self, subject: Subject, taak_nummers: Sequence[str]) -> int:
        """Requests of `subject` whose task is no longer open at the source: `afgehandeld`."""
        if not taak_nummers:
            return 0
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]
        async with self._db.transaction() as session:
            result = await session.execute(
                update(CorrectionRow)
                .where(
                    CorrectionRow.subject_key.in_(keys),
                    CorrectionRow.taak_nummer.in_(list(taak_nummers)),
                    CorrectionRow.status == CorrectionStatus.DOORGESTUURD,
                )
                .values(status=CorrectionStatus.AFGEHANDELD, bijgewerkt_op=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0)
