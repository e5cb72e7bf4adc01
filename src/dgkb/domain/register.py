"""The register of processing activities (AVG art. 30 verwerkingsregister). It *is* the policy.

Parsed from `config/register.yaml` (top-level key `verwerkingsactiviteiten`). The policy engine
evaluates this data; nothing else decides who may see what.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue, Gevoeligheid, describe_validation_error
from dgkb.domain.channels import Kanaal
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.representation import Vertegenwoordiging
from dgkb.domain.roles import Role

_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


class Organisatie(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    naam: str
    oin: str = Field(pattern=r"^\d{20}$")


class Grondslag(BaseModel):
    """Legal basis: the AVG art. 6 ground (and art. 9 exception for special categories) + the law."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    avg: str  # e.g. "art. 6 lid 1 sub e AVG (publieke taak)"
    wet: str  # e.g. "art. 2.1 Wet maatschappelijke ondersteuning 2015"
    bijzondereCategorie: str | None = None  # e.g. "art. 9 lid 2 sub g AVG; art. 5.4.1 Wmo 2015"


class CategorieToegang(BaseModel):
    """Per category of a purpose: the fields and sources it may use, and optional stricter rules.

    `minimaleZekerheid` and `rollen` can only narrow what the purpose allows: the effective minimum
    is the stricter of purpose and category, the effective roles the category's (a subset).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    velden: tuple[str, ...] | None = None  # None = every field the catalogue lists for the category
    bronnen: tuple[str, ...] | None = None  # None = any configured source; else source ids only
    # Stricter identity assurance for this category only (financial data needs DigiD, a name does not).
    minimaleZekerheid: Assurance | None = None
    # Roles that may use this category; None = every role of the purpose. Must be a subset of those.
    rollen: tuple[Role, ...] | None = Field(default=None, min_length=1)
    # Kanaalinzet: the channels this category may be shown on at all; None = every channel.
    kanalen: tuple[Kanaal, ...] | None = Field(default=None, min_length=1)
    # Stricter identity assurance on particular channels only (e.g. financial data over chat).
    kanaalZekerheid: dict[Kanaal, Assurance] = Field(default_factory=dict)
    # May this purpose also *change* the category at its source (write back), e.g. the customer's
    # own e-mail address in Klantinteracties? Only categories in WRITABLE_CATEGORIES; a write is
    # decided like a read (every rule above applies) and then needs this too.
    schrijven: bool = False

    @property
    def channel_bound(self) -> bool:
        """Does the register restrict this category per channel at all?"""
        return self.kanalen is not None or bool(self.kanaalZekerheid)

    def channel_allowed(self, channel: Kanaal | None) -> bool:
        """May the category be shown on this channel at all (unknown channel: only if unrestricted)?"""
        if self.kanalen is None:
            return True
        return channel is not None and channel in self.kanalen

    def channel_minimum(self, channel: Kanaal | None) -> Assurance | None:
        """The stricter minimum on this channel, if any (unknown channel: the strictest of them)."""
        if channel is not None:
            return self.kanaalZekerheid.get(channel)
        return max(self.kanaalZekerheid.values(), key=lambda a: a.rank, default=None)


# The categories DGKB can write to their source, and only through that source's own API: the
# customer's digitale adressen and preferences in Klantinteracties, and — dienst.zaken-lopend — a new
# zaak with the customer as initiator, for a correction request routed as a zaak (sources.yaml
# `correcties: {route: zaak}`); DGKB never changes an existing zaak. Never BRP, KVK or tax data.
WRITABLE_CATEGORIES: frozenset[str] = frozenset(
    {"klant.contactgegevens", "klant.voorkeurskanaal", "dienst.zaken-lopend"}
)

FeedbackKind = Literal["klacht", "melding"]
# The register category that holds each kind of feedback a handling purpose decides on.
FEEDBACK_CATEGORY: dict[str, str] = {"klacht": "feedback.klachten", "melding": "feedback.meldingen"}


class Afhandeling(BaseModel):
    """Handling of complaints (Awb hoofdstuk 9) and/or reports under this purpose: only its roles, of
    its organisation, may move them on. One purpose per organisation and kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    soorten: tuple[FeedbackKind, ...] = Field(min_length=1)
    # Awb 9:11 lid 1: 10 weeks instead of 6 when an external complaints committee advises (afd. 9.3).
    klachtadviescommissie: bool = False


# The tasks DGKB performs in its own name, each under a purpose of its own (`systeemtaak`):
# - actualiseren: re-reading the sources of an open klantbeeld to notice a change a lost notification
#   did not announce (reconciliation); the agent's access trail shows only what the agent saw;
# - notificaties: reading whom a zaak or klantcontact of a change notification is about.
# - berichten: reading the customer's preferred channel and address, to tell them a new message
#   waits in Mijn omgeving (the notice names nothing else).
# - meten-en-leren: recording a pseudonymised event of each contact, rating, complaint and report
#   (no BSN, no employee; a pseudonym under a key of its own) and aggregating them for the
#   dashboard (dgkb.meten, dgkb.dashboard). Reads no source: such a purpose lists no categories.
SystemTask = Literal["actualiseren", "notificaties", "berichten", "meten-en-leren"]
# The system tasks that read nothing from a source: their purposes may not list categories, so the
# PDP can never permit a read under them.
NO_SOURCE_TASKS: frozenset[str] = frozenset({"meten-en-leren"})


# The levels a checked identity document may count as (`documentZekerheid`).
DOCUMENT_ASSURANCES: tuple[Assurance, ...] = (
    Assurance.GEEN,
    Assurance.CONTROLEVRAGEN,
    Assurance.DIGID_BASIS,
    Assurance.DIGID_MIDDEN,
    Assurance.DIGID_SUBSTANTIEEL,
)


class Verwerkingsactiviteit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^https?://\S+$")
    naam: str
    omschrijving: str = ""
    organisatie: Organisatie
    grondslag: Grondslag
    categorieen: dict[str, CategorieToegang]
    rollen: tuple[Role, ...] = Field(min_length=1)
    minimaleZekerheid: Assurance
    toestemmingVereist: tuple[str, ...] = ()
    bewaartermijn: str
    # When the subject has a BRP secrecy indication (geheimhoudingPersoonsgegevens), deny all
    # categories unless the purpose explicitly may process shielded persons.
    geheimhoudingToegestaan: bool = False
    # Zaaktypen (URLs or omschrijvingen) whose handling this purpose covers (case worker sessions).
    zaaktypen: tuple[str, ...] = ()
    # The organisation's identification purpose: finding and verifying who the customer is at the
    # start of a contact (search, control questions, identification). Exactly one per organisation.
    identificatie: bool = False
    # Case-worker sessions: may a closed zaak be opened (e.g. for an objection), and may a member of
    # the team (organisatorische eenheid) named as behandelaar open it, not only the named medewerker.
    geslotenZakenToegestaan: bool = False
    behandelteamToegestaan: bool = False
    # Complaint / report handling: who may change the status of a klacht or melding (back office).
    afhandeling: Afhandeling | None = None
    # What an identity document checked at the counter against BRP Reisdocumenten (valid, not
    # withdrawn, of this person) counts as under this purpose; at most DigiD substantieel (a visual
    # check without reading the chip is not "hoog"), never an eHerkenning level (persons only).
    documentZekerheid: Assurance = Assurance.CONTROLEVRAGEN
    # A purpose of DGKB itself (role `systeem` only): reconciliation, notification handling.
    systeemtaak: SystemTask | None = None
    # The kinds of representation (dgkb.domain.representation) under which someone may act for the
    # subject under this purpose, e.g. in Mijn omgeving; empty: only the subject themself.
    vertegenwoordiging: tuple[Vertegenwoordiging, ...] = ()
    # Proactive service (the organisation acts before the customer asks, e.g. a signal that they may
    # be entitled to something): a customer's objection (bezwaar, art. 21 AVG) to such a purpose takes
    # effect at once — the PDP denies every read under it for that customer (reason OBJECTION);
    # objections to other purposes go to the privacy officer.
    proactief: bool = False
    # Categories the purpose may also use for a business subject only, etc. could go here later.

    @field_validator("bewaartermijn")
    @classmethod
    def _iso_duration(cls, v: str) -> str:
        if not _ISO_DURATION.match(v):
            raise ValueError("bewaartermijn moet een ISO 8601-duur zijn, bijvoorbeeld P1Y of P6M")
        return v

    @field_validator("documentZekerheid")
    @classmethod
    def _document_level(cls, v: Assurance) -> Assurance:
        if v not in DOCUMENT_ASSURANCES:
            allowed = " | ".join(a.value for a in DOCUMENT_ASSURANCES)
            raise ValueError(f"een identiteitsbewijs telt als ten hoogste digid-substantieel: {allowed}")
        return v

    @model_validator(mode="after")
    def _consent_within_categories(self) -> Verwerkingsactiviteit:
        for cat in self.toestemmingVereist:
            if cat not in self.categorieen:
                raise ValueError(
                    f"toestemmingVereist noemt {cat}, maar die categorie hoort niet bij dit doel"
                )
        return self

    def minimum_assurance(self, category_id: str) -> Assurance:
        """The effective minimum for one category: the stricter of the purpose's and the category's."""
        access = self.categorieen.get(category_id)
        if access is None or access.minimaleZekerheid is None:
            return self.minimaleZekerheid
        return max(self.minimaleZekerheid, access.minimaleZekerheid, key=lambda a: a.rank)

    def may_write(self, category_id: str) -> bool:
        """Does the register let this purpose change the category at its source (`schrijven`)?"""
        access = self.categorieen.get(category_id)
        return access is not None and access.schrijven

    def roles_for(self, category_id: str) -> tuple[Role, ...]:
        """The roles that may use one category of this purpose (the purpose's roles by default)."""
        access = self.categorieen.get(category_id)
        if access is None or access.rollen is None:
            return self.rollen
        return access.rollen


# How long a log record of a processing under a purpose the register does not (or no longer) know is
# kept: the shortest term any purpose of the demo register has. Used by Register.retention only.
DEFAULT_RETENTION = "P1Y"


class Register(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    versie: str = "1"
    verwerkingsactiviteiten: tuple[Verwerkingsactiviteit, ...] = Field(min_length=1)

    def get(self, purpose_id: str) -> Verwerkingsactiviteit | None:
        for va in self.verwerkingsactiviteiten:
            if va.id == purpose_id:
                return va
        return None

    def retention(self, purpose_id: str) -> str:
        """The bewaartermijn of the log records of a processing under this purpose (ISO 8601)."""
        purpose = self.get(purpose_id)
        return purpose.bewaartermijn if purpose is not None else DEFAULT_RETENTION

    def for_organisation(self, oin: str) -> tuple[Verwerkingsactiviteit, ...]:
        """The purposes of one organisation (what an actor of that organisation can choose from)."""
        return tuple(va for va in self.verwerkingsactiviteiten if va.organisatie.oin == oin)

    def handling_purpose(self, oin: str, soort: str) -> Verwerkingsactiviteit | None:
        """The organisation's purpose for handling one kind of feedback (`afhandeling.soorten`)."""
        for va in self.verwerkingsactiviteiten:
            if va.afhandeling is not None and soort in va.afhandeling.soorten and va.organisatie.oin == oin:
                return va
        return None

    def identification_purpose(self, oin: str) -> Verwerkingsactiviteit | None:
        """The organisation's identification purpose (`identificatie: true`), if it has one."""
        for va in self.verwerkingsactiviteiten:
            if va.identificatie and va.organisatie.oin == oin:
                return va
        return None

    def system_purpose(self, oin: str, task: SystemTask) -> Verwerkingsactiviteit | None:
        """The organisation's purpose for one of DGKB's own tasks (`systeemtaak`), if registered."""
        for va in self.verwerkingsactiviteiten:
            if va.systeemtaak == task and va.organisatie.oin == oin:
                return va
        return None

    def organisation_name(self, oin: str) -> str | None:
        """Name of an organisation known to the register, for explanations; None when unknown."""
        for va in self.verwerkingsactiviteiten:
            if va.organisatie.oin == oin:
                return va.organisatie.naam
        return None

    @property
    def fingerprint(self) -> str:
        """Content hash: the register version the decision log records (changes with any edit)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return f"{self.versie}+sha256:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def parse_register(
    data: Any, *, catalogue: Catalogue, source: str = "register.yaml", source_ids: set[str] | None = None
) -> Register:
    """Validate the register against its schema and against the catalogue (and known source ids).

    Errors name the file and the path: `register.yaml: verwerkingsactiviteiten.2.categorieen.x: ...`.
    Besides the schema it checks: unique ids, known categories, fields and sources, category roles
    within the purpose's roles, and an art. 9 AVG ground for every special category used.
    """
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        raise InvalidConfiguration(describe_validation_error(exc, source), field=source) from None
    problems: list[str] = []
    ids: set[str] = set()
    for i, va in enumerate(register.verwerkingsactiviteiten):
        base = f"{source}: verwerkingsactiviteiten.{i}"
        if va.id in ids:
            problems.append(f"{base}.id: {va.id} staat dubbel in het register")
        ids.add(va.id)
        for cat_id, access in va.categorieen.items():
            cat = catalogue.get(cat_id)
            if cat is None:
                problems.append(f"{base}.categorieen.{cat_id}: onbekende categorie (niet in de catalogus)")
                continue
            for veld in access.velden or ():
                if veld not in cat.velden:
                    problems.append(
                        f"{base}.categorieen.{cat_id}.velden: '{veld}' is geen veld van {cat_id} "
                        f"(toegestaan: {', '.join(cat.velden)})"
                    )
            if source_ids is not None:
                for bron in access.bronnen or ():
                    if bron not in source_ids:
                        problems.append(f"{base}.categorieen.{cat_id}.bronnen: onbekende bron '{bron}'")
            for rol in access.rollen or ():
                if rol not in va.rollen:
                    problems.append(
                        f"{base}.categorieen.{cat_id}.rollen: rol '{rol}' hoort niet bij de rollen "
                        f"van dit doel ({', '.join(va.rollen)})"
                    )
            if access.schrijven and cat_id not in WRITABLE_CATEGORIES:
                problems.append(
                    f"{base}.categorieen.{cat_id}.schrijven: DGKB schrijft alleen "
                    f"{', '.join(sorted(WRITABLE_CATEGORIES))} terug naar de bron"
                )
            if access.schrijven and va.systeemtaak is not None:
                problems.append(
                    f"{base}.categorieen.{cat_id}.schrijven: een systeemtaak wijzigt geen gegevens"
                )
            if cat.gevoeligheid is not Gevoeligheid.NORMAAL and not va.grondslag.bijzondereCategorie:
                problems.append(
                    f"{base}.grondslag.bijzondereCategorie: ontbreekt, maar het doel gebruikt {cat_id} "
                    f"({cat.gevoeligheid}); noem de uitzondering van art. 9 of 10 AVG en de wet"
                )
    identifying: dict[str, int] = {}
    for i, va in enumerate(register.verwerkingsactiviteiten):
        if not va.identificatie:
            continue
        base = f"{source}: verwerkingsactiviteiten.{i}"
        if va.organisatie.oin in identifying:
            problems.append(
                f"{base}.identificatie: {va.organisatie.naam} heeft al een identificatiedoel "
                f"(verwerkingsactiviteiten.{identifying[va.organisatie.oin]})"
            )
        identifying.setdefault(va.organisatie.oin, i)
        if "klant.basis" not in va.categorieen:
            problems.append(f"{base}.categorieen: een identificatiedoel moet klant.basis bevatten")
    problems.extend(_system_problems(register, source))
    problems.extend(_proactive_problems(register, source))
    problems.extend(_handling_problems(register, source))
    problems.extend(_channel_problems(register, source))
    if problems:
        raise InvalidConfiguration("\n".join(problems), field=source)
    return register


def _system_problems(register: Register, source: str) -> list[str]:
    """A purpose of DGKB's own is for the role `systeem` only, and one per organisation and task;
    and no person's purpose may be chosen by the system role in its place."""
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for i, va in enumerate(register.verwerkingsactiviteiten):
        base = f"{source}: verwerkingsactiviteiten.{i}"
        if va.systeemtaak is None:
            continue
        if va.rollen != (Role.SYSTEEM,):
            problems.append(f"{base}.rollen: een systeemtaak is alleen voor de rol '{Role.SYSTEEM}'")
        if va.identificatie or va.afhandeling is not None:
            problems.append(f"{base}.systeemtaak: een systeemtaak is geen identificatie- of afhandeldoel")
        if va.systeemtaak in NO_SOURCE_TASKS and va.categorieen:
            problems.append(
                f"{base}.categorieen: '{va.systeemtaak}' leest niets bij een bron; noem geen categorieën "
                "(dan kan de PDP onder dit doel nooit iets toestaan)"
            )
        key = (va.organisatie.oin, va.systeemtaak)
        if key in seen:
            problems.append(
                f"{base}.systeemtaak: {va.organisatie.naam} heeft al een doel voor '{va.systeemtaak}' "
                f"(verwerkingsactiviteiten.{seen[key]})"
            )
        seen.setdefault(key, i)
    return problems


def _proactive_problems(register: Register, source: str) -> list[str]:
    """Proactive service is a purpose of its own, used by staff or systems for the customer: not the
    identification, own-view (role burger), system-task or handling purpose of an organisation."""
    problems: list[str] = []
    for i, va in enumerate(register.verwerkingsactiviteiten):
        if not va.proactief:
            continue
        base = f"{source}: verwerkingsactiviteiten.{i}.proactief"
        if va.identificatie or va.systeemtaak is not None or va.afhandeling is not None:
            problems.append(
                f"{base}: een identificatie-, systeemtaak- of afhandeldoel kan niet proactief zijn; "
                "proactieve dienstverlening is een eigen doel"
            )
        if Role.BURGER in va.rollen:
            problems.append(
                f"{base}: een doel voor de klant zelf (rol '{Role.BURGER}') is niet proactief; "
                "proactief is wat de organisatie uit zichzelf doet"
            )
    return problems


def _handling_problems(register: Register, source: str) -> list[str]:
    """One handling purpose per organisation and kind, and it must see what it handles."""
    problems: list[str] = []
    handling: dict[tuple[str, str], int] = {}
    for i, va in enumerate(register.verwerkingsactiviteiten):
        if va.afhandeling is None:
            continue
        base = f"{source}: verwerkingsactiviteiten.{i}.afhandeling"
        for soort in va.afhandeling.soorten:
            key = (va.organisatie.oin, soort)
            if key in handling:
                problems.append(
                    f"{base}.soorten: {va.organisatie.naam} heeft al een doel voor de afhandeling van "
                    f"{soort} (verwerkingsactiviteiten.{handling[key]})"
                )
            handling.setdefault(key, i)
            if FEEDBACK_CATEGORY[soort] not in va.categorieen:
                problems.append(
                    f"{base}.soorten: {soort} afhandelen vraagt categorie {FEEDBACK_CATEGORY[soort]}"
                )
        if va.afhandeling.klachtadviescommissie and "klacht" not in va.afhandeling.soorten:
            problems.append(f"{base}.klachtadviescommissie: geldt alleen voor de afhandeling van klachten")
    return problems


def _channel_problems(register: Register, source: str) -> list[str]:
    """Kanaalinzet rules must bite: a channel minimum on a channel the category is shown on, and
    stricter than the category's minimum. A policy enforcement point never reads data itself."""
    problems: list[str] = []
    for i, va in enumerate(register.verwerkingsactiviteiten):
        base = f"{source}: verwerkingsactiviteiten.{i}"
        if Role.PEP in va.rollen:
            problems.append(
                f"{base}.rollen: rol '{Role.PEP}' is een policy enforcement point; die vraagt beslissingen "
                "voor anderen en leest zelf geen gegevens"
            )
        for cat_id, access in va.categorieen.items():
            minimum = va.minimum_assurance(cat_id)
            for kanaal, level in access.kanaalZekerheid.items():
                path = f"{base}.categorieen.{cat_id}.kanaalZekerheid.{kanaal}"
                if access.kanalen is not None and kanaal not in access.kanalen:
                    problems.append(
                        f"{path}: kanaal '{kanaal}' staat niet in kanalen "
                        f"({', '.join(access.kanalen)}); daar wordt de categorie helemaal niet getoond"
                    )
                if level.rank <= minimum.rank:
                    problems.append(
                        f"{path}: {level} is niet strenger dan de minimale zekerheid van deze categorie "
                        f"({minimum}); laat de regel weg of kies een hoger niveau"
                    )
    return problems
