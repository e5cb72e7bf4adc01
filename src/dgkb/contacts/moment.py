"""ContactMomentService: register what a contact was about, in the Klantinteracties source.

One contact often holds several questions ("en dan had ik nog een vraag over…"); existing tools lose
all but the first. Here every question becomes its own klantcontact (onderwerp, vraag and antwoord,
uitkomst, linked zaken), all validated before the first one is written, each written and reported
separately, so a failure of one never silently drops the others. An optional contactverzoek (interne
taak) for a department or colleague follows the last question. The processing is logged before
anything leaves DGKB, and the subject's cached source answers are dropped so the next klantbeeld
shows the new contact. The console and the API (/api/v1/contacten/{id}/contactmomenten: a chat
platform, a web form, a phone system) both register through this service, so the rules are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from dgkb.contacts.service import ContactError, ContactForbidden, ContactService
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.events.service import ChangeService
from dgkb.gateway import SourceGateway, SourceRefused, SourceUnavailable
from dgkb.meten import ContactEvent, MetenRecorder
from dgkb.sources.base import PartialWriteError, SourceError, SubjectNotFound

__all__ = [
    "ContactMomentService",
    "Contactverzoek",
    "MomentError",
    "MomentOptions",
    "OpgeslagenVraag",
    "Registratie",
    "Uitkomst",
    "Vraag",
    "parse_options",
]

# The Klantinteracties API's maxLength of what is written (checked before the first write).
_MAX_ONDERWERP = 200
_MAX_INHOUD = 1000
_MAX_HANDELING = 200
_MAX_TOELICHTING = 1000
_MAX_MEDEWERKER = 200  # part of the toelichting
MAX_VRAGEN = 10
MAX_ZAKEN = 10  # per question: each zaak is one more write (onderwerpobject) at the source
# Who registers what a contact with a customer was about: the employees who have those contacts. Not
# the customer (a contact of their own is for reading), an auditor, an administrator or a system.
REGISTRATION_ROLES = frozenset({Role.KCM, Role.BEHANDELAAR, Role.KLACHTBEHANDELAAR})


class Uitkomst(StrEnum):
    AFGEHANDELD = "afgehandeld"
    DOORVERBONDEN = "doorverbonden"
    TERUGBELVERZOEK = "terugbelverzoek"
    DOORVERWEZEN = "doorverwezen"

    @property
    def label(self) -> str:
        return _UITKOMST_LABEL[self]


_UITKOMST_LABEL = {
    Uitkomst.AFGEHANDELD: "Afgehandeld",
    Uitkomst.DOORVERBONDEN: "Doorverbonden",
    Uitkomst.TERUGBELVERZOEK: "Terugbelverzoek",
    Uitkomst.DOORVERWEZEN: "Doorverwezen naar andere organisatie",
}


class MomentError(ContactError):
    code = "contactmoment.invalid"
    status = 400
    reason = "CONTACTMOMENT_INVALID"


# --- configuration (config/onderwerpen.yaml) ---------------------------------------------------


class Onderwerp(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    naam: str = Field(min_length=1, max_length=_MAX_ONDERWERP)
    organisaties: tuple[str, ...] = ()  # OINs; empty = every organisation


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Afdeling(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    naam: str = Field(min_length=1, max_length=200)
    # uuid of the actor (organisatorische eenheid) in the Klantinteracties source that a contactverzoek
    # for this department is assigned to. Required: Open Klant refuses an interne taak without an
    # actor (its spec marks the field optional). `dgkb check` verifies that the actor exists there.
    actor: str = Field(pattern=_UUID)


class MomentOptions(BaseModel):
    onderwerpen: tuple[Onderwerp, ...] = Field(min_length=1)
    afdelingen: tuple[Afdeling, ...] = ()
    doorverwijzen: tuple[str, ...] = ()

    def onderwerpen_for(self, organisation: str) -> tuple[Onderwerp, ...]:
        """The subjects an employee of `organisation` may choose from."""
        return tuple(o for o in self.onderwerpen if not o.organisaties or organisation in o.organisaties)

    def onderwerp(self, onderwerp_id: str, organisation: str) -> Onderwerp | None:
        return next((o for o in self.onderwerpen_for(organisation) if o.id == onderwerp_id), None)

    def afdeling(self, afdeling_id: str) -> Afdeling | None:
        return next((a for a in self.afdelingen if a.id == afdeling_id), None)


ACTOR_REQUIRED = (
    "ontbreekt: een contactverzoek wordt in Klantinteracties toegewezen aan een actor en Open Klant "
    "weigert een interne taak zonder actor; geef de uuid van de actor (organisatorische eenheid) "
    "van deze afdeling in de Klantinteracties-bron"
)


def _problem(data: Any, error: Any) -> str:
    """One validation error in words an administrator can act on."""
    loc = tuple(error["loc"])
    if len(loc) == 3 and loc[0] == "afdelingen" and loc[2] == "actor":
        try:
            afdeling = data["afdelingen"][loc[1]]
        except (TypeError, KeyError, IndexError):
            afdeling = None
        naam = afdeling.get("id") if isinstance(afdeling, dict) else None
        which = f" (afdeling '{naam}')" if naam else ""
        if error["type"] == "missing":
            return ACTOR_REQUIRED + which
        if error["type"] == "string_pattern_mismatch":
            return f"'{error['input']}' is geen uuid{which}"
    return str(error["msg"])


def parse_options(data: Any, *, source: str = "onderwerpen.yaml") -> MomentOptions:
    """Validate config/onderwerpen.yaml (at start-up and by `dgkb check`); every error names the
    file and the path, one per line."""
    try:
        options = MomentOptions.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"{source}: {'.'.join(str(p) for p in e['loc'])}: {_problem(data, e)}" for e in exc.errors()
        )
        raise InvalidConfiguration(problems, field=source) from None
    for name, ids in (
        ("onderwerpen", [o.id for o in options.onderwerpen]),
        ("afdelingen", [a.id for a in options.afdelingen]),
    ):
        if len(ids) != len(set(ids)):
            raise InvalidConfiguration(f"{source}: {name}: een id staat dubbel", field=source)
    return options


# --- input and result ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vraag:
    """One question of the customer within the contact."""

    onderwerp: str  # id from the configured list
    vraag: str
    antwoord: str
    uitkomst: Uitkomst
    doorverwezen_naar: str | None = None
    zaken: tuple[str, ...] = ()
    # "Vraag beantwoord?" (mate van beantwoording): kept in DGKB's own contact event for the
    # first-contact resolution on the dashboard; None = not asked (the console's form has no field yet)
    beantwoord: bool | None = None


@dataclass(frozen=True, slots=True)
class Contactverzoek:
    """A request for the back office: who should do what, by when."""

    afdeling: str  # id from the configured list
    gevraagde_handeling: str
    toelichting: str = ""
    medewerker: str | None = None
    deadline: date | None = None


@dataclass(frozen=True, slots=True)
class OpgeslagenVraag:
    index: int
    onderwerp: str  # the subject's name as written
    uitkomst: Uitkomst
    nummer: str | None = None  # klantcontact nummer in the source when saved
    fout: str | None = None  # Dutch text when not (or not completely) saved
    volledig: bool = True  # False: saved, but a link (betrokkene, zaak) is missing
    reden: str | None = None  # stable code with `fout`: SUBJECT_NOT_IN_SOURCE, SOURCE_*, LINK_FAILED


@dataclass(frozen=True, slots=True)
class Registratie:
    vragen: tuple[OpgeslagenVraag, ...]
    contactverzoek: str | None = None  # nummer of the interne taak
    contactverzoek_fout: str | None = None
    bron: str = ""

    @property
    def alles_opgeslagen(self) -> bool:
        return all(v.nummer and v.volledig for v in self.vragen) and self.contactverzoek_fout is None

    @property
    def mislukt(self) -> tuple[int, ...]:
        """Indexes of the questions that were not saved (to offer them again)."""
        return tuple(v.index for v in self.vragen if v.nummer is None)


def _inhoud(vraag: Vraag) -> str:
    uitkomst = vraag.uitkomst.label
    if vraag.uitkomst is Uitkomst.DOORVERWEZEN and vraag.doorverwezen_naar:
        uitkomst = f"Doorverwezen naar {vraag.doorverwezen_naar}"
    return f"Vraag: {vraag.vraag.strip()}\nAntwoord: {vraag.antwoord.strip()}\nUitkomst: {uitkomst}"


def _toelichting(verzoek: Contactverzoek, afdeling: Afdeling) -> str:
    parts = [verzoek.toelichting.strip()] if verzoek.toelichting.strip() else []
    parts.append(f"Afdeling: {afdeling.naam}")
    if verzoek.medewerker:
        parts.append(f"Medewerker: {verzoek.medewerker.strip()}")
    if verzoek.deadline:
        parts.append(f"Graag afhandelen vóór {verzoek.deadline.strftime('%d-%m-%Y')}")
    return "\n".join(parts)


class ContactMomentService:
    def __init__(
        self,
        *,
        register: Register,
        gateway: SourceGateway,
        contacts: ContactService,
        changes: ChangeService,
        options: MomentOptions,
        meten: MetenRecorder | None = None,
    ) -> None:
        self._register = register
        self._gateway = gateway
        self._contacts = contacts
        self._changes = changes
        self.options = options
        self._meten = meten

    def _validate(
        self, actor: Actor, vragen: Sequence[Vraag], verzoek: Contactverzoek | None, today: date
    ) -> None:
        """Everything that could be refused is refused before the first write (no half contacts)."""
        if not vragen:
            raise MomentError("Registreer minstens één vraag.", field="vragen")
        if len(vragen) > MAX_VRAGEN:
            raise MomentError(f"Hoogstens {MAX_VRAGEN} vragen per contact.", field="vragen")
        for i, v in enumerate(vragen):
            where = f"vragen.{i}"
            if self.options.onderwerp(v.onderwerp, actor.organisation) is None:
                raise MomentError(
                    f"Vraag {i + 1}: kies een onderwerp uit de lijst.", field=f"{where}.onderwerp"
                )
            if not v.vraag.strip():
                raise MomentError(f"Vraag {i + 1}: vul de vraag van de klant in.", field=f"{where}.vraag")
            if v.uitkomst is Uitkomst.DOORVERWEZEN and not (v.doorverwezen_naar or "").strip():
                raise MomentError(
                    f"Vraag {i + 1}: naar welke organisatie is de klant doorverwezen?",
                    field=f"{where}.doorverwezenNaar",
                )
            if len(_inhoud(v)) > _MAX_INHOUD:
                raise MomentError(
                    f"Vraag {i + 1}: vraag en antwoord samen zijn te lang ({len(_inhoud(v))} tekens; "
                    f"de bron staat er {_MAX_INHOUD} toe).",
                    field=f"{where}.antwoord" if v.antwoord.strip() else f"{where}.vraag",
                )
            if len(v.zaken) > MAX_ZAKEN:
                raise MomentError(
                    f"Vraag {i + 1}: hoogstens {MAX_ZAKEN} zaken per vraag.", field=f"{where}.zaken"
                )
            for zaak in v.zaken:
                if len(zaak) > 200:
                    raise MomentError(f"Vraag {i + 1}: zaaknummer te lang.", field=f"{where}.zaken")
                if not zaak.strip():
                    raise MomentError(f"Vraag {i + 1}: een zaaknummer is leeg.", field=f"{where}.zaken")
        if verzoek is not None:
            afdeling = self.options.afdeling(verzoek.afdeling)
            if afdeling is None:
                raise MomentError(
                    "Kies een afdeling voor het contactverzoek.", field="contactverzoek.afdeling"
                )
            if not verzoek.gevraagde_handeling.strip():
                raise MomentError(
                    "Wat moet er met het contactverzoek gebeuren?", field="contactverzoek.gevraagdeHandeling"
                )
            if verzoek.medewerker is not None and len(verzoek.medewerker) > _MAX_MEDEWERKER:
                raise MomentError(
                    f"De naam van de medewerker is te lang (hoogstens {_MAX_MEDEWERKER} tekens).",
                    field="contactverzoek.medewerker",
                )
            if len(verzoek.gevraagde_handeling) > _MAX_HANDELING:
                raise MomentError(
                    f"De gevraagde handeling is te lang (hoogstens {_MAX_HANDELING} tekens).",
                    field="contactverzoek.gevraagdeHandeling",
                )
            if len(_toelichting(verzoek, afdeling)) > _MAX_TOELICHTING:
                raise MomentError(
                    f"De toelichting is te lang (hoogstens {_MAX_TOELICHTING} tekens).",
                    field="contactverzoek.toelichting",
                )
            if verzoek.deadline is not None and verzoek.deadline < today:
                raise MomentError("De deadline ligt in het verleden.", field="contactverzoek.deadline")

    async def register(
        self,
        actor: Actor,
        contact_id: str,
        *,
        vragen: Sequence[Vraag],
        contactverzoek: Contactverzoek | None = None,
        trace: Trace,
    ) -> Registratie:
        """Write every question as a klantcontact of the contact's customer (+ the contactverzoek).
        SourceUnavailable (naming the source) only when nothing was saved yet."""
        if actor.role not in REGISTRATION_ROLES:
            raise ContactForbidden(
                f"Uw rol ({actor.role.value}) registreert geen contactmomenten.", reason="ROLE_NOT_ALLOWED"
            )
        context = await self._contacts.context_for(actor, contact_id, trace=trace)
        self._validate(actor, vragen, contactverzoek, datetime.now(UTC).date())
        # each write is logged by the gateway before it is sent (fail closed), never retried
        cfg = self._gateway.klantcontact_source()

        saved: list[OpgeslagenVraag] = []
        last_uuid: str | None = None
        for i, v in enumerate(vragen):
            onderwerp = self.options.onderwerp(v.onderwerp, actor.organisation)
            assert onderwerp is not None  # validated above
            result, uuid = await self._write(context, i, v, onderwerp.naam, first=last_uuid is None)
            saved.append(result)
            if uuid is not None:
                last_uuid = uuid
        nummer, fout = None, None
        if contactverzoek is not None:
            nummer, fout = await self._taak(context, contactverzoek, last_uuid)
        await self._record_events(actor, contact_id, context, vragen, saved)
        # every open view of this customer (on any node) updates, and the cache forgets the old answer
        await self._changes.publish_change(
            context.subject, ("contact.historie", "contact.open-verzoeken"), cfg.id
        )
        return Registratie(tuple(saved), contactverzoek=nummer, contactverzoek_fout=fout, bron=cfg.name)

    async def _record_events(
        self,
        actor: Actor,
        contact_id: str,
        context: RequestContext,
        vragen: Sequence[Vraag],
        saved: Sequence[OpgeslagenVraag],
    ) -> None:
        """Meten en leren: one pseudonymised event per saved question (dgkb.meten); never fails the
        registration, which has reached the source by now."""
        if self._meten is None:
            return
        events = [
            ContactEvent(
                onderwerp=vragen[v.index].onderwerp,
                uitkomst=v.uitkomst.value,
                beantwoord=vragen[v.index].beantwoord,
                doorverwezen_naar=vragen[v.index].doorverwezen_naar
                if v.uitkomst is Uitkomst.DOORVERWEZEN
                else None,
            )
            for v in saved
            if v.nummer is not None
        ]
        if not events:
            return
        try:  # the contact timer: from the start of the contact to its registration
            started_at: datetime | None = (await self._contacts.get(actor, contact_id)).gestart_op
        except ContactError:
            started_at = None
        await self._meten.record_contact(context, events, team=actor.organisation_unit, started_at=started_at)

    async def _write(
        self, context: RequestContext, index: int, vraag: Vraag, onderwerp: str, *, first: bool
    ) -> tuple[OpgeslagenVraag, str | None]:
        def result(
            nummer: str | None = None,
            fout: str | None = None,
            volledig: bool = True,
            reden: str | None = None,
        ) -> OpgeslagenVraag:
            return OpgeslagenVraag(
                index, onderwerp, vraag.uitkomst, nummer=nummer, fout=fout, volledig=volledig, reden=reden
            )

        try:
            written = await self._gateway.register_klantcontact(
                context,
                name="contactmoment registreren",
                onderwerp=onderwerp,
                inhoud=_inhoud(vraag),
                zaak_identificaties=vraag.zaken,
            )
        except PartialWriteError as exc:
            contact = exc.klantcontact
            return result(
                nummer=str(contact.get("nummer") or contact.get("uuid")),
                fout="Opgeslagen, maar de koppeling aan klant of zaak mislukte; meld dit aan beheer.",
                volledig=False,
                reden="LINK_FAILED",
            ), str(contact.get("uuid"))
        except SubjectNotFound:
            return result(
                fout="Deze klant is (nog) niet bekend in Klantinteracties; niet opgeslagen.",
                reden="SUBJECT_NOT_IN_SOURCE",
            ), None
        except SourceUnavailable as exc:
            if first:
                raise  # nothing saved yet: one clear problem naming the source
            return result(fout=f"Niet opgeslagen. {exc.message}", reden="SOURCE_UNAVAILABLE"), None
        except SourceError as exc:
            return result(fout=f"Niet opgeslagen: {exc.message}", reden="SOURCE_REFUSED"), None
        contact = written["klantcontact"]
        return result(nummer=str(contact.get("nummer") or contact["uuid"])), str(contact["uuid"])

    async def _taak(
        self, context: RequestContext, verzoek: Contactverzoek, klantcontact: str | None
    ) -> tuple[str | None, str | None]:
        if klantcontact is None:
            return None, "Het contactverzoek is niet aangemaakt: er is geen vraag opgeslagen."
        afdeling = self.options.afdeling(verzoek.afdeling)
        assert afdeling is not None
        try:
            taak = await self._gateway.create_interne_taak(
                context,
                name="contactverzoek aanmaken",
                klantcontact=klantcontact,
                gevraagde_handeling=verzoek.gevraagde_handeling.strip(),
                toelichting=_toelichting(verzoek, afdeling),
                toegewezen_aan=afdeling.actor,
            )
        except SourceRefused as exc:
            # the source says what is wrong; with the actor of the department that is usually the
            # configuration, which `dgkb check` verifies
            return None, (
                f"Het contactverzoek is niet aangemaakt. {exc.message} Afdeling '{afdeling.naam}' is in "
                f"onderwerpen.yaml gekoppeld aan actor {afdeling.actor}; `dgkb check` controleert of "
                "die in de bron bestaat."
            )
        except SourceUnavailable as exc:  # also not authorised: its message says what to do
            return None, f"Het contactverzoek is niet aangemaakt. {exc.message}"
        except SourceError as exc:
            return None, f"Het contactverzoek is niet aangemaakt: {exc.message}"
        return str(taak.get("nummer") or taak.get("uuid")), None
