"""Correction requests ("Klopt er iets niet?"): the customer says which item of which section is
wrong and what it should be; DGKB keeps the request and routes it to the owner of that source.

The route is configuration (`correcties` of the source in sources.yaml, checked by `dgkb check`):

- `interne-taak` (the default): an interne taak in the Klantinteracties source, assigned to the
  responsible team's actor, arising from a klantcontact that records the request (kanaal
  `mijn-omgeving`);
- `zaak`: a zaak of the configured zaaktype in the Zaken source with the customer as initiator — only
  where the installation grants DGKB that scope and the register lets the own-view purpose write
  `dienst.zaken-lopend`; then the request is also recorded as a klantcontact of the customer about
  that zaak, so the KCC finds it in the contact history (best effort: the zaak is the routing).

DGKB writes only through those sources' own APIs, and only those resources: never to the source being
corrected (BRP, KVK, a tax system) — its team corrects it in its own way. Every write is logged by the
gateway before it is sent, under the customer's own-view purpose; storing the request is logged as a
processing too.

The request is kept whatever happens at the source (its status tells): `doorgestuurd` (a task or zaak
at the owner, with its number), `ontvangen` (kept in DGKB: no route configured, or the source refused
or was down — `fout` says why), `afgehandeld` (seen in the customer's own view: the task no longer
open, the zaak closed). The subject is stored by pseudonym only.

The owner may ask the customer something, in the source's own terms (`follow`): for a zaak, the zaak
is suspended for the customer (`opschorting` {"indicatie": true, "reden": the question}, Awb 4:15);
for an interne taak that is still `te_verwerken`, a klantcontact of the organisation with the customer
(the customer's betrokkene not its initiator) following up the request's klantcontact (an
onderwerpobject whose `wasKlantcontact` is that klantcontact), the question in its `inhoud`, with no
later contact of the customer in that thread. The customer answers (`answer`) with a klantcontact of
their own in Klantinteracties: following up the question's klantcontact for an interne taak; for a
zaak, about that zaak (an onderwerpobject naming its identificatie), because Klantinteracties is
where customer contacts live — Zaken 1.5's `zaakcontactmomenten` points to the Contactmomenten API
that Open Klant 2 replaced — and it is how the KCC links a contact to a zaak too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from dgkb.audit.writer import AuditWriter
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.events.service import ChangeService
from dgkb.gateway import SourceGateway, SourceMissing, SourceUnavailable, WriteNotPermitted
from dgkb.sources.base import KlantcontactThread, PartialWriteError, SourceError, SubjectNotFound
from dgkb.sources.config import CorrectionRoute, InterneTaakRoute, SourceConfig, ZaakRoute
from dgkb.store.corrections import CorrectionRepository, CorrectionRow
from dgkb.store.db import Database

__all__ = [
    "CorrectionInvalid",
    "CorrectionNotSent",
    "CorrectionService",
    "CorrectionStatus",
    "CorrectionView",
    "Vraag",
]

log = logging.getLogger(__name__)

MAX_ONDERDEEL = 200
MAX_TEXT = 400  # each of the two texts: both go into one toelichting of at most 1000 (Klantinteracties)
MAX_ANTWOORD = 1000  # the answer is a klantcontact's inhoud (Klantinteracties: at most 1000)
_OPEN_VERZOEKEN = "contact.open-verzoeken"
_HISTORIE = "contact.historie"
_LOPEND = "dienst.zaken-lopend"
_ZAKEN_HISTORIE = "dienst.zaken-historie"
_TE_VERWERKEN = "te_verwerken"


class CorrectionRouteKind:
    INTERNE_TAAK = "interne-taak"
    ZAAK = "zaak"


class CorrectionStatus:
    ONTVANGEN = "ontvangen"
    DOORGESTUURD = "doorgestuurd"
    AFGEHANDELD = "afgehandeld"


class CorrectionInvalid(DomainError):
    code = "correction.invalid"
    status = 400


class CorrectionNotSent(DomainError):
    """The customer's answer could not be written to the source now; nothing was kept."""

    code = "correction.not_sent"
    status = 503


@dataclass(frozen=True, slots=True)
class Vraag:
    """The owner's question a correction request waits on: `id` says which (the question's
    klantcontact uuid, or for a zaak a digest of the opschorting's reden, which has no id of its own)."""

    id: str
    tekst: str
    gesteld_op: datetime | None = None


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
    route: str = CorrectionRouteKind.INTERNE_TAAK
    zaak_identificatie: str | None = None
    beantwoord_op: datetime | None = None
    # set by `follow`: the owner's open question, as the source shows it now
    vraag: Vraag | None = None
    # internal: what `follow` needs to find the request at the source
    taak_uuid: str | None = None
    klantcontact_uuid: str | None = None
    beantwoorde_vraag: str | None = None

    @property
    def wacht_op_antwoord(self) -> bool:
        return self.vraag is not None


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
        route=row.route,
        zaak_identificatie=row.zaak_identificatie,
        beantwoord_op=row.beantwoord_op,
        taak_uuid=row.taak_uuid,
        klantcontact_uuid=row.klantcontact_uuid,
        beantwoorde_vraag=row.beantwoorde_vraag,
    )


def opschorting_vraag(reden: str) -> Vraag:
    """The question of a zaak suspended for the customer (its opschorting's reden)."""
    digest = hashlib.sha256(reden.encode()).hexdigest()[:32]
    return Vraag(id=f"opschorting:{digest}", tekst=reden)


def open_question(thread: KlantcontactThread) -> Vraag | None:
    """The organisation's question in a request's thread that the customer has not answered yet: the
    thread's newest contact, when the organisation began it."""
    if not thread.vervolg:
        return None
    newest = thread.vervolg[-1]
    if newest.van_klant or not newest.inhoud.strip():
        return None
    return Vraag(id=newest.uuid, tekst=newest.inhoud.strip(), gesteld_op=_when(newest.plaatsgevonden_op))


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
            route=source.correcties.route
            if source.correcties is not None
            else CorrectionRouteKind.INTERNE_TAAK,
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
        what = f"{categorie_label} uit {source.name}"
        details = (
            f"Correctieverzoek {row.nummer} via Mijn omgeving over {what}, gegeven '{row.onderdeel}'.\n"
            f"Wat klopt niet: {row.wat_klopt_niet}\n"
            f"Wat het moet zijn: {row.juiste_gegevens or '(niet opgegeven)'}"
        )
        if isinstance(route, ZaakRoute):
            await self._send_as_zaak(context, row, route, categorie_label, details)
        else:
            await self._send_as_taak(context, row, route, categorie_label, what, details)

    async def _send_as_taak(
        self,
        context: RequestContext,
        row: CorrectionRow,
        route: InterneTaakRoute,
        categorie_label: str,
        what: str,
        details: str,
    ) -> None:
        """The klantcontact recording the request, then the interne taak for the team (Klantinteracties
        only). A failure leaves the request `ontvangen` with the reason; it is never lost."""
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

    async def _send_as_zaak(
        self,
        context: RequestContext,
        row: CorrectionRow,
        route: ZaakRoute,
        categorie_label: str,
        details: str,
    ) -> None:
        """The zaak with the customer as initiator (Zaken API), then — for the KCC's contact history —
        a klantcontact of the customer about that zaak. A zaak that could not be made leaves the
        request `ontvangen` with the reason (also when DGKB lacks the scope: 403)."""
        onderwerp = f"Correctieverzoek {row.nummer}: {categorie_label}"
        try:
            made = await self._gateway.create_zaak(
                context,
                name="correctieverzoek als zaak doorsturen",
                zaaktype=route.zaaktype,
                bronorganisatie=route.bronorganisatie,
                verantwoordelijke_organisatie=route.verantwoordelijke,
                omschrijving=onderwerp[:80],
                toelichting=details[:1000],
                roltoelichting="Indiener van het correctieverzoek",
            )
        except PartialWriteError as exc:
            self._remember_zaak(row, exc.klantcontact)
            row.fout = "Uw verzoek is bewaard, maar nog niet doorgestuurd. Wij sturen het alsnog door."
            return
        except WriteNotPermitted:
            row.fout = "Wij kunnen uw verzoek hier niet als zaak aanmaken; wij bekijken het zelf."
            return
        except (SourceUnavailable, SourceMissing, SourceError):
            row.fout = "Doorsturen lukte nu niet; uw verzoek is bewaard en wij sturen het alsnog door."
            return
        self._remember_zaak(row, made.get("zaak") or {})
        row.status = CorrectionStatus.DOORGESTUURD
        row.team = route.team
        if row.zaak_identificatie:
            try:
                written = await self._gateway.register_klantcontact(
                    context,
                    name="correctieverzoek registreren",
                    onderwerp=onderwerp[:200],
                    inhoud=details[:1000],
                    zaak_identificaties=[row.zaak_identificatie],
                )
                row.klantcontact_uuid = str(written["klantcontact"]["uuid"])
            except PartialWriteError as exc:
                row.klantcontact_uuid = str(exc.klantcontact.get("uuid") or "") or None
            except (SubjectNotFound, SourceUnavailable, SourceMissing, SourceError) as exc:
                # the zaak is at the owner; only the KCC's contact history lacks it
                log.warning("correctieverzoek: zaak gemaakt, klantcontact niet (%s)", type(exc).__name__)
        zaken = self._gateway.zaak_source()
        await self._changes.publish_change(
            context.subject,
            (_LOPEND, _ZAKEN_HISTORIE, _HISTORIE),
            zaken.id if zaken is not None else self._writer_id(),
        )

    @staticmethod
    def _remember_zaak(row: CorrectionRow, zaak: Mapping[str, Any]) -> None:
        ident, url = zaak.get("identificatie"), zaak.get("url")
        row.zaak_identificatie = str(ident)[:40] if isinstance(ident, str) and ident else None
        row.zaak_url = str(url)[:1000] if isinstance(url, str) and url else None

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

    async def follow(
        self,
        context: RequestContext,
        views: Sequence[CorrectionView],
        *,
        open_zaken: Sequence[Mapping[str, Any]] | None = None,
        closed_zaken: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[CorrectionView]:
        """The requests as the owner's source shows them now, in the customer's own view: handled
        (the interne taak no longer `te_verwerken`, the zaak among the closed ones) or waiting for the
        customer's answer (`vraag`, see the module docstring). Interne taken: one read of the
        request klantcontacten's threads in Klantinteracties (logged; skipped when the purpose
        allows no such read or the source is down). Zaken: pure over the customer's zaken the page
        read (`open_zaken`, `closed_zaken`: lists of zaken with identificatie and opschorting; None
        when not read): no call here. A request the source does not show (yet) keeps its status."""
        sent = [v for v in views if v.status == CorrectionStatus.DOORGESTUURD]
        handled: set[str] = set()
        asking: dict[str, Vraag] = {}
        threads = await self._threads(
            context, [v for v in sent if v.route == CorrectionRouteKind.INTERNE_TAAK]
        )
        for v in sent:
            if v.route == CorrectionRouteKind.INTERNE_TAAK:
                thread = threads.get(v.klantcontact_uuid or "")
                if thread is None or not thread.taken:
                    continue  # the source does not show the request or its task: it cannot tell
                statuses = dict(thread.taken)
                still_open = (
                    statuses.get(v.taak_uuid) == _TE_VERWERKEN
                    if v.taak_uuid
                    else _TE_VERWERKEN in statuses.values()
                )
                if not still_open:
                    handled.add(v.id)
                elif (vraag := open_question(thread)) is not None and vraag.id != v.beantwoorde_vraag:
                    asking[v.id] = vraag
            elif v.route == CorrectionRouteKind.ZAAK and v.zaak_identificatie:
                if _zaak(closed_zaken, v.zaak_identificatie) is not None:
                    handled.add(v.id)
                elif (zaak := _zaak(open_zaken, v.zaak_identificatie)) is not None:
                    vraag = _suspended_for(zaak)
                    if vraag is not None and vraag.id != v.beantwoorde_vraag:
                        asking[v.id] = vraag
        if handled:
            await self._mark_handled(context.subject, handled)
        now = datetime.now(UTC)
        return [
            replace(v, status=CorrectionStatus.AFGEHANDELD, bijgewerkt_op=now)
            if v.id in handled
            else replace(v, vraag=asking.get(v.id))
            for v in views
        ]

    async def _threads(
        self, context: RequestContext, views: Sequence[CorrectionView]
    ) -> Mapping[str, KlantcontactThread]:
        wanted = [v.klantcontact_uuid for v in views if v.klantcontact_uuid]
        if not wanted:
            return {}
        try:
            return await self._gateway.klantcontact_threads(
                context, name="correctieverzoeken volgen", klantcontacten=wanted
            )
        except (SourceMissing, SourceUnavailable, SubjectNotFound):
            return {}  # the requests keep their status until the source can tell

    async def _mark_handled(self, subject: Subject, ids: set[str]) -> None:
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(subject)]
        async with self._db.transaction() as session:
            await session.execute(
                update(CorrectionRow)
                .where(
                    CorrectionRow.subject_key.in_(keys),
                    CorrectionRow.id.in_(sorted(ids)),
                    CorrectionRow.status == CorrectionStatus.DOORGESTUURD,
                )
                .values(status=CorrectionStatus.AFGEHANDELD, bijgewerkt_op=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )

    async def answer(self, context: RequestContext, view: CorrectionView, antwoord: str) -> CorrectionView:
        """The customer's answer to the question `view` waits on (the caller found `view` among the
        subject's own requests through `follow`, just now): a klantcontact of the customer in
        Klantinteracties (see the module docstring), logged by the gateway before it is sent. The
        answer's text is not kept in DGKB; which question was answered is, so it is not asked twice.
        CorrectionInvalid for an empty or too long answer or a request that waits for none;
        CorrectionNotSent when the source could not take it now."""
        antwoord = antwoord.strip()
        if not antwoord:
            raise CorrectionInvalid("Uw antwoord: vul dit in.", field="antwoord")
        if len(antwoord) > MAX_ANTWOORD:
            raise CorrectionInvalid(f"Uw antwoord: hoogstens {MAX_ANTWOORD} tekens.", field="antwoord")
        vraag = view.vraag
        if vraag is None:
            raise CorrectionInvalid("Bij dit verzoek wachten wij niet op een antwoord van u.", field="vraag")
        zaak = view.route == CorrectionRouteKind.ZAAK
        if zaak and not view.zaak_identificatie:
            raise CorrectionInvalid("Bij dit verzoek wachten wij niet op een antwoord van u.", field="vraag")
        try:
            await self._gateway.register_klantcontact(
                context,
                name="antwoord op vraag over correctieverzoek",
                onderwerp=f"Antwoord op vraag over correctieverzoek {view.nummer}"[:200],
                inhoud=antwoord,
                zaak_identificaties=[view.zaak_identificatie] if zaak and view.zaak_identificatie else (),
                was_klantcontact=None if zaak else vraag.id,
            )
        except PartialWriteError:
            pass  # the answer is at the source; the team sees it there (never send it twice)
        except (SubjectNotFound, SourceUnavailable, SourceMissing, SourceError) as exc:
            raise CorrectionNotSent(
                "Uw antwoord kon nu niet worden verstuurd. Probeer het over een paar minuten opnieuw."
            ) from exc
        now = datetime.now(UTC)
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(context.subject)]
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(CorrectionRow).where(CorrectionRow.id == view.id, CorrectionRow.subject_key.in_(keys))
            )
            if row is not None:
                row.beantwoorde_vraag = vraag.id
                row.beantwoord_op = now
                row.bijgewerkt_op = now
        await self._changes.publish_change(context.subject, (_HISTORIE,), self._writer_id())
        return replace(view, vraag=None, beantwoorde_vraag=vraag.id, beantwoord_op=now, bijgewerkt_op=now)


def _zaak(zaken: Sequence[Mapping[str, Any]] | None, identificatie: str) -> Mapping[str, Any] | None:
    return next((z for z in zaken or () if z.get("identificatie") == identificatie), None)


def _suspended_for(zaak: Mapping[str, Any]) -> Vraag | None:
    """The question of a zaak suspended for the customer (Zaken API `opschorting`), if it is."""
    opschorting = zaak.get("opschorting")
    if not isinstance(opschorting, Mapping) or opschorting.get("indicatie") is not True:
        return None
    reden = opschorting.get("reden")
    return opschorting_vraag(reden.strip()) if isinstance(reden, str) and reden.strip() else None
