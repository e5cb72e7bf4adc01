"""The source port: what every adapter offers, and the failures it may raise.

Exception tree (each maps onto a klantbeeld section status in federation):

    SourceError                 -> "fout"
    ├── SourceTimeout           -> "timeout"
    ├── SourceUnavailable       -> "onbereikbaar"  (connection refused, DNS, 502/503/504, open breaker)
    ├── SourceUnauthorized      -> "niet-geautoriseerd"  (401/403: the source refuses DGKB's credentials)
    ├── SourceRejected          -> "fout"  (400: the source refused the request, naming the fields)
    └── SubjectNotFound         -> "niet-gevonden"

Adapters receive exactly the permitted fields per category and the headers federation rendered
(purpose headers + W3C traceparent). They ask the source for no more than those fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.queries import PersonQuery

# JSON-serialisable data of one category: usually a dict (one object) or a list of dicts.
CategoryData = Any


class SourceError(Exception):
    code = "source.error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


class SourceTimeout(SourceError):
    code = "source.timeout"


class SourceUnavailable(SourceError):
    code = "source.unavailable"


class SubjectNotFound(SourceError):
    code = "source.not_found"


class SourceUnauthorized(SourceError):
    """The source answered 401 or 403: it does not accept DGKB's credentials (wrong, expired, the
    wrong auth type) or they lack the right. Retrying cannot help; an administrator must fix them."""

    code = "source.unauthorized"

    def __init__(self, message: str = "", *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class InvalidParam:
    """One field a source refused, as its 400 answer names it (`invalidParams`)."""

    name: str
    code: str
    reason: str


class SourceRejected(SourceError):
    """The source answered 400: it refused what DGKB sent and (in `params`) said why. The source is
    up; sending the same again gives the same answer. The reasons are the source's own texts."""

    code = "source.rejected"

    def __init__(self, message: str = "", *, params: Sequence[InvalidParam] = ()) -> None:
        super().__init__(message)
        self.params = tuple(params)

    def describe(self) -> str:
        """The refused fields and the source's reasons, for people: "name: reason; …"."""
        return "; ".join(f"{p.name}: {p.reason}" if p.reason else p.name for p in self.params)


class SourceValidationError(SourceError):
    """A value the source would reject (too long); nothing was sent. Names the field and the limit."""

    code = "source.invalid"

    def __init__(self, field: str, limit: int, length: int) -> None:
        super().__init__(f"{field} is {length} tekens lang; de bron staat er hoogstens {limit} toe")
        self.field = field
        self.limit = limit
        self.length = length


class PartialWriteError(SourceError):
    """The klantcontact (or zaak) was stored but its betrokkene, an onderwerpobject (or the zaak's
    initiator rol) was not: the caller must not register it again, and should report or repair the
    missing link. `klantcontact` holds what was stored, whichever of the two it is."""

    code = "source.partial_write"

    def __init__(self, message: str, klantcontact: dict[str, Any]) -> None:
        super().__init__(message)
        self.klantcontact = klantcontact


@dataclass(frozen=True, slots=True)
class FetchRequest:
    subject: Subject
    # category id -> the permitted fields of that category (never empty)
    fields: Mapping[str, tuple[str, ...]]
    # purpose headers and traceparent, already rendered; adapters add them to every outbound call
    headers: Mapping[str, str] = field(default_factory=dict)
    # the subject's pseudonym: the only key an adapter may keep anything under (an identity map that
    # saves a dependent round trip); never the identifier itself
    subject_key: str = ""


@runtime_checkable
class SourceAdapter(Protocol):
    """One source API. `fetch` returns category id -> data; None for a category means the source
    knows nothing of this subject for that category ("niet-gevonden"); an empty list is "ok, none"."""

    id: str
    categories: frozenset[str]
    # Which kinds of subject this source knows (BRP: persons; KVK: businesses).
    subject_kinds: frozenset[SubjectKind]
    # Per category the fields this source can deliver; a category absent here = all its fields.
    # Several sources can serve one category with different fields (klant.basis: BRP's name and
    # address, Reisdocumenten' travel documents, KVK's trade names), so federation sends each
    # source only the permitted fields of its own vocabulary.
    vocabulary: Mapping[str, frozenset[str]]

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]: ...

    async def aclose(self) -> None: ...


ALL_SUBJECT_KINDS: frozenset[SubjectKind] = frozenset(SubjectKind)


def fields_for(adapter: SourceAdapter, category: str, permitted: tuple[str, ...]) -> tuple[str, ...]:
    """The permitted fields of `category` this adapter can deliver (order kept)."""
    own = adapter.vocabulary.get(category)
    return permitted if own is None else tuple(f for f in permitted if f in own)


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What identification learns from the base registry: does the subject exist, is it shielded."""

    exists: bool
    shielded: bool = False
    display_name: str | None = None  # shown to the agent to confirm they have the right person


@runtime_checkable
class SubjectVerifier(Protocol):
    """Implemented by the base-registry adapters (BRP, later KVK) for the identification step."""

    async def verify_subject(self, subject: Subject, headers: Mapping[str, str]) -> SubjectFacts: ...


@dataclass(frozen=True, slots=True)
class TravelDocument:
    """One identity document as the base registry knows it (BRP Reisdocumenten), for checking a
    document shown at the counter. `withdrawn` is the BRP aanduiding inhouding of vermissing:
    "V" vermist (lost or stolen), "I" ingehouden/ingeleverd, "R" van rechtswege vervallen."""

    number: str
    kind: str | None  # soort.code: "PN" paspoort, "NI" identiteitskaart, ...
    valid_until: date | None  # None when the registry does not know the full date
    holder_bsn: str | None
    withdrawn: str | None = None
    holder_shielded: bool = False


@runtime_checkable
class DocumentLookup(Protocol):
    """Implemented by the Reisdocumenten adapter: one document by its number (None if unknown)."""

    async def lookup_document(self, number: str, headers: Mapping[str, str]) -> TravelDocument | None: ...


@dataclass(frozen=True, slots=True)
class ZaakFacts:
    """What a case worker session needs of a zaak: its type, its initiator, who handles it and
    whether it is closed."""

    url: str
    identificatie: str
    zaaktype: str  # zaaktype URL
    zaaktype_omschrijving: str | None
    initiator: Subject | None
    # medewerker identificaties named in a behandelaar rol of the zaak
    behandelaars: tuple[str, ...] = ()
    # organisatorische eenheden (teams) named in a behandelaar rol of the zaak
    behandelteams: tuple[str, ...] = ()
    afgesloten: bool = False  # the zaak has an einddatum


@runtime_checkable
class ZaakLookup(Protocol):
    """Implemented by the Zaken adapter, for case-worker sessions bound to a zaak."""

    async def zaak_facts(self, identificatie: str, headers: Mapping[str, str]) -> ZaakFacts: ...


@runtime_checkable
class ZaakDocumenten(Protocol):
    """Implemented by the Zaken adapter: the titles of one zaak's documents (zaakinformatieobjecten),
    for a zaak the caller holds from a read about the subject."""

    async def zaak_documenten(self, zaak_url: str, headers: Mapping[str, str]) -> list[dict[str, Any]]: ...


@runtime_checkable
class BehandelaarZaken(Protocol):
    """Implemented by the Zaken adapter: the open zaken a medewerker handles ("mijn zaken")."""

    async def zaken_of_medewerker(
        self, identificatie: str, headers: Mapping[str, str]
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class DigitaalAdresMatch:
    """A stored digitaal adres equal to the searched one, and whom it belongs to (if anyone)."""

    adres: str
    soort_digitaal_adres: str
    partij_uuid: str | None
    subjects: tuple[Subject, ...]  # BSN / KVK-nummer / vestigingsnummer of the partij


# --- capabilities beyond `fetch`: the gateway (dgkb.gateway) finds the adapter offering each ------


@runtime_checkable
class PersonSearch(Protocol):
    """Implemented by the BRP adapter: persons by a search query, or one by BSN (customer search)."""

    async def search(
        self, query: PersonQuery, fields: Sequence[str], headers: Mapping[str, str]
    ) -> list[dict[str, Any]]: ...

    async def lookup(
        self, bsn: str, fields: Sequence[str], headers: Mapping[str, str]
    ) -> dict[str, Any] | None: ...


@runtime_checkable
class BusinessSearch(Protocol):
    """Implemented by the KVK adapter: Zoeken results by number, name or address."""

    async def search(
        self,
        headers: Mapping[str, str],
        *,
        kvk_nummer: str | None = None,
        vestigingsnummer: str | None = None,
        naam: str | None = None,
        postcode: str | None = None,
        huisnummer: int | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]: ...


@runtime_checkable
class DigitalAddressSearch(Protocol):
    """Implemented by the Klantinteracties adapter: who has this phone number or e-mail address."""

    async def search_digitale_adressen(
        self, text: str, headers: Mapping[str, str], *, limit: int = 25
    ) -> list[DigitaalAdresMatch]: ...


@runtime_checkable
class KlantcontactWriter(Protocol):
    """Implemented by the Klantinteracties adapter: register a contact moment and a contactverzoek.
    An interne taak is always assigned to an actor: Open Klant refuses one without (see the
    simulator's module docstring), although its spec marks the field optional."""

    async def register_klantcontact(
        self,
        *,
        subject: Subject,
        kanaal: str,
        onderwerp: str,
        inhoud: str,
        indicatie_contact_gelukt: bool | None,
        zaak_identificaties: Sequence[str] = (),
        was_klantcontact: str | None = None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]: ...

    async def create_interne_taak(
        self,
        *,
        klantcontact: str,
        gevraagde_handeling: str,
        toelichting: str = "",
        toegewezen_aan: str,
        headers: Mapping[str, str],
    ) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A klantcontact that follows up an earlier one of the same customer: one of its onderwerpobjecten
    `wasKlantcontact` that earlier one (Klantinteracties API: "'Onderwerpobject' was 'Klantcontact'"),
    e.g. the owner's question about a request and the customer's answer to that question."""

    uuid: str
    vorige: str  # the uuid of the klantcontact it follows up
    inhoud: str
    plaatsgevonden_op: str | None
    van_klant: bool  # the customer's betrokkene was its initiator (else the organisation began it)
    diepte: int  # 1: follows up the first klantcontact itself, 2: a follow-up of that, …


@dataclass(frozen=True, slots=True)
class KlantcontactThread:
    """A klantcontact of the customer with what followed from it: the interne taken it led to (uuid,
    status) and every klantcontact following it up, directly or through another, in the order they
    took place."""

    klantcontact: str
    taken: tuple[tuple[str, str], ...]
    vervolg: tuple[FollowUp, ...]


@runtime_checkable
class KlantcontactThreads(Protocol):
    """Implemented by the Klantinteracties adapter: the threads of these klantcontacten (uuids) of the
    subject, in one list read; a klantcontact that is not the subject's is left out."""

    async def klantcontact_threads(
        self, subject: Subject, klantcontacten: Sequence[str], headers: Mapping[str, str]
    ) -> dict[str, KlantcontactThread]: ...


@runtime_checkable
class ZaakCreator(Protocol):
    """Implemented by the Zaken adapter: a new zaak of a zaaktype with the subject as initiator (a
    correction request routed as a zaak), and the zaaktype looked up for `dgkb check`."""

    async def find_zaaktype(self, zaaktype: str, headers: Mapping[str, str]) -> dict[str, Any] | None: ...

    async def create_zaak(
        self,
        subject: Subject,
        *,
        zaaktype: str,
        bronorganisatie: str,
        verantwoordelijke_organisatie: str,
        omschrijving: str,
        toelichting: str,
        roltoelichting: str,
        headers: Mapping[str, str],
    ) -> dict[str, Any]: ...


@runtime_checkable
class ProfileWriter(Protocol):
    """Implemented by the Klantinteracties adapter: the customer changes their own digitale adressen
    and preferences (Mijn profiel). Every method finds the subject's own partij by its identificator
    first and only ever touches that partij and the addresses it provided: an address is named by its
    soort and value, never by an id a caller could take from someone else. SubjectNotFound when the
    subject has no partij; SourceValidationError before sending when a text is too long."""

    async def add_digitaal_adres(
        self,
        subject: Subject,
        *,
        soort: str,
        adres: str,
        omschrijving: str,
        verified_on: date | None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]: ...

    async def remove_digitaal_adres(
        self, subject: Subject, *, soort: str, adres: str, headers: Mapping[str, str]
    ) -> bool: ...

    async def set_preferences(
        self,
        subject: Subject,
        *,
        preferred: tuple[str, str] | None = None,
        language: str | None = None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]: ...


@runtime_checkable
class ActorLookup(Protocol):
    """Implemented by the Klantinteracties adapter: an actor (an organisational unit or employee, not
    a customer) by uuid, {"uuid", "naam", "actief"}, or None when the source does not know it. For
    checking the actors config/onderwerpen.yaml assigns contactverzoeken to."""

    async def find_actor(self, uuid: str, headers: Mapping[str, str]) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The answer to a probe: the source answered the cheap authenticated read with these
    credentials (`authenticated`: True when it answered as an authenticated client, None when the
    answer does not tell) and, when it says so, the version of the API it serves."""

    status: int
    authenticated: bool | None
    api_version: str | None = None


@runtime_checkable
class SourceProbe(Protocol):
    """Implemented by every HTTP adapter: one cheap read with the configured credentials that names
    no person (`dgkb check`). Raises SourceUnauthorized on 401/403 and the other SourceErrors when
    the source cannot be reached or fails."""

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult: ...


@runtime_checkable
class VerifiedAddresses(Protocol):
    """Implemented by the Klantinteracties adapter: the subject's verified phone numbers / e-mail."""

    async def verified_addresses(
        self, subject: Subject, headers: Mapping[str, str]
    ) -> list[dict[str, Any]]: ...


@runtime_checkable
class ZaakSubjects(Protocol):
    """Implemented by the Zaken adapter: whom the zaak at `url` is about (None: not this source's URL)."""

    async def subjects_of_zaak(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None: ...


@runtime_checkable
class ZaakReference(Protocol):
    """Implemented by the Zaken adapter: the identificatie of the zaak at `url` (what the customer
    knows it by), or None when `url` is not this source's or the zaak is gone."""

    async def zaak_identificatie(self, url: str, headers: Mapping[str, str]) -> str | None: ...


@runtime_checkable
class KlantcontactSubjects(Protocol):
    """Implemented by the Klantinteracties adapter: whom the klantcontact, interne taak or partij at
    `url` is about (Open Klant's kanalen klantcontacten, internetaken, partijen); None: not this
    source's URL."""

    async def subjects_of_klantcontact(
        self, url: str, headers: Mapping[str, str]
    ) -> list[Subject] | None: ...

    async def subjects_of_internetaak(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None: ...

    async def subjects_of_partij(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None: ...
