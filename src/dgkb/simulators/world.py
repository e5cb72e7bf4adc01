"""One coherent, deterministic, fictitious world shared by all simulators.

The same seed always gives the same persons, families, companies, zaken, klantcontacten, interne taken,
travel documents and products, so a BSN in the BRP simulator is the initiator of the zaken in the Zaken
simulator, the partij in the Klantinteracties simulator, the holder of documents in the Reisdocumenten
simulator and the owner of products in the Producten simulator, under the same name. Every BSN is a
test BSN (999…) passing the 11-proef. The world is pure data: it never reads the clock
(`REFERENCE_DATE` is "today").

Public API (`build_world(seed=2026, persons=200, companies=30)` -> `World`):

    world.persons            tuple[Person]; the first CORE_PERSONS (40) are the historic demo core: their
                             data does not change when `persons` grows (extra persons use their own
                             random stream), so README/test facts stay true (999993653 heads a family
                             with partner 999990639; ZAAK-2026-0000006 is a Wmo zaak of 999991425)
    world.person(bsn)        Person | None
    world.companies          tuple[Company]; KVK_TEST_NUMBERS come first
    world.company(kvk)       Company | None;  world.company_by_vestiging(vestigingsnummer) -> Company | None
    world.zaken()            zaken of persons only (initiator_bsn set)
    world.company_zaken()    zaken of companies (initiator_bsn == "", initiator_kvk set)
    world.reisdocumenten()   every travel document (also Person.reisdocumenten)
    world.producten()        every product of persons and companies (also Person/Company.producten)
    world.producttypen       tuple[ProductType]
    world.shielded_bsn, world.no_partij_bsn   as before
    world.special[name]      the BSN or KVK-nummer of each special case, see SPECIAL_CASES

    Person (new, with defaults): overlijdensdatum, reisdocumenten, producten
    Zaak (new, with default):    initiator_kvk
    Company: kvk_nummer, naam, handelsnamen, rechtsvorm, uitgebreide_rechtsvorm, rsin,
             formele_registratiedatum, sbi_activiteiten, vestigingen (hoofdvestiging first),
             adres, eigenaar_bsn (eenmanszaak), partij_uuid/partij_nummer, emailadressen,
             telefoonnummers, zaken, klantcontacten, interne_taken, producten

Special cases (`world.special`): passport_expires_soon, lost_document, recent_move, deceased,
repeat_contacts, shielded, no_partij, open_fine and overdue_tax_with_arrangement (the belastingen
simulator's FEATURED_BSN, 999993653), two_branches, eenmanszaak, eenmanszaak_owner, stichting,
vereniging_zonder_vestiging, valid_document (999990639: a passport valid for years after
REFERENCE_DATE, not withdrawn) and expired_document (a person, not shielded or deceased, with a
document whose validity ended before REFERENCE_DATE without inhouding or vermissing: expired, not
withdrawn). `world.document(name)` gives the document of such a case (also lost_document).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from dgkb.domain.identifiers import passes_elfproef

__all__ = [
    "CORE_PERSONS",
    "KVK_TEST_NUMBERS",
    "README_BSNS",
    "REFERENCE_DATE",
    "SPECIAL_CASES",
    "Actor",
    "Address",
    "Company",
    "DigitaalAdres",
    "InterneTaak",
    "Klantcontact",
    "Person",
    "Product",
    "ProductType",
    "Reisdocument",
    "Resultaattype",
    "SbiActiviteit",
    "Statustype",
    "Vestiging",
    "World",
    "Zaak",
    "ZaakStatus",
    "Zaaktype",
    "build_world",
]

# The test BSNs named in the reference README; always present, never shielded.
README_BSNS: tuple[str, ...] = ("999993653", "999990639", "999991425")
# "Today" of the world: the world is pure data and never reads the clock.
REFERENCE_DATE = date(2026, 11, 1)
# The first persons of every world, generated exactly as the original 40-person demo world.
CORE_PERSONS = 40
# Public fictitious KVK test numbers; always the first three companies.
KVK_TEST_NUMBERS: tuple[str, ...] = ("69599084", "68750110", "69599068")
SPECIAL_CASES: tuple[str, ...] = (
    "passport_expires_soon",
    "lost_document",
    "recent_move",
    "deceased",
    "repeat_contacts",
    "shielded",
    "no_partij",
    "open_fine",
    "overdue_tax_with_arrangement",
    "two_branches",
    "eenmanszaak",
    "eenmanszaak_owner",
    "stichting",
    "vereniging_zonder_vestiging",
    "valid_document",
    "expired_document",
)
# The belastingen simulator gives this BSN an open boete and an overdue aanslag under a
# betalingsregeling (belastingen.FEATURED_BSN; that module imports this one, not the other way round).
_BELASTINGEN_FEATURED_BSN = "999993653"
GEMEENTE_CODE = "0599"
GEMEENTE_NAAM = "Rotterdam"
_NAMESPACE = uuid.UUID("6f1c2e1e-7d0a-4c55-9a57-2f5c0f7f2026")


@dataclass(frozen=True, slots=True)
class Address:
    straat: str
    huisnummer: int
    postcode: str
    woonplaats: str
    gemeente_code: str
    gemeente_naam: str


@dataclass(frozen=True, slots=True)
class DigitaalAdres:
    uuid: str
    adres: str
    soort: str  # "email" | "telefoonnummer"
    omschrijving: str
    # Open Klant's verificatieDatum: when the customer proved the address is theirs (None: never).
    # Only verified addresses receive a "bevestig met DigiD" link (issue 9 §3).
    verificatie_datum: date | None = None


@dataclass(frozen=True, slots=True)
class Statustype:
    uuid: str
    volgnummer: int
    omschrijving: str
    is_eindstatus: bool


@dataclass(frozen=True, slots=True)
class Resultaattype:
    uuid: str
    omschrijving: str


@dataclass(frozen=True, slots=True)
class Zaaktype:
    uuid: str
    identificatie: str
    omschrijving: str
    doorlooptijd_dagen: int
    statustypen: tuple[Statustype, ...]
    resultaattypen: tuple[Resultaattype, ...]


@dataclass(frozen=True, slots=True)
class ZaakStatus:
    uuid: str
    statustype_uuid: str
    datum_status_gezet: datetime


@dataclass(frozen=True, slots=True)
class Zaak:
    uuid: str
    identificatie: str
    zaaktype_uuid: str
    omschrijving: str
    startdatum: date
    einddatum: date | None
    uiterlijke_einddatum_afdoening: date
    statussen: tuple[ZaakStatus, ...]  # oldest first; the last one is the current status
    resultaattype_uuid: str | None
    resultaat_uuid: str | None
    initiator_bsn: str  # "" for a company zaak, see initiator_kvk
    rol_uuid: str
    initiator_kvk: str | None = None

    @property
    def is_open(self) -> bool:
        return self.einddatum is None


@dataclass(frozen=True, slots=True)
class Klantcontact:
    uuid: str
    nummer: str
    kanaal: str  # "telefoon" | "e-mail" | "balie"
    onderwerp: str
    inhoud: str
    indicatie_contact_gelukt: bool
    plaatsgevonden_op: datetime
    zaak_identificatie: str | None
    betrokkene_uuid: str
    onderwerpobject_uuid: str | None


@dataclass(frozen=True, slots=True)
class InterneTaak:
    uuid: str
    nummer: str
    klantcontact_uuid: str
    gevraagde_handeling: str
    toelichting: str
    status: str  # "te_verwerken" | "verwerkt"
    actor_uuid: str
    toegewezen_op: datetime
    afgehandeld_op: datetime | None


@dataclass(frozen=True, slots=True)
class Actor:
    uuid: str
    naam: str
    functie: str
    telefoonnummer: str


@dataclass(frozen=True, slots=True)
class Reisdocument:
    """A Dutch travel document as BRP Reisdocumenten knows it."""

    reisdocumentnummer: str  # 9 characters [A-Z0-9]
    soort_code: str  # "PN" nationaal paspoort | "NI" Nederlandse identiteitskaart
    soort_omschrijving: str
    datum_uitgifte: date
    datum_einde_geldigheid: date
    houder_bsn: str
    # "I" ingehouden/ingeleverd | "R" van rechtswege vervallen | "V" vermist | None
    inhouding_of_vermissing: str | None = None
    datum_inhouding_of_vermissing: date | None = None

    @property
    def is_ingetrokken(self) -> bool:
        """Surrendered, lapsed or lost: no longer a usable document."""
        return self.inhouding_of_vermissing is not None


@dataclass(frozen=True, slots=True)
class ProductType:
    uuid: str
    code: str
    naam: str
    uniforme_product_naam: str  # UPL name
    soort: str  # "vergunning" | "subsidie" | "pas" | "regeling"; the first keyword
    keywords: tuple[str, ...]
    toegestane_statussen: tuple[str, ...]
    prijs: str  # decimal as text, as Open Producten serves it
    frequentie: str  # "eenmalig" | "maandelijks" | "jaarlijks"
    voor_bedrijven: bool


@dataclass(frozen=True, slots=True)
class Product:
    """A product (permit, subsidy, pass) held by a person or a company (Open Producten)."""

    uuid: str
    producttype: ProductType
    eigenaar_bsn: str | None
    eigenaar_kvk: str | None
    status: str  # initieel | gereed | actief | ingetrokken | geweigerd | verlopen
    start_datum: date | None
    eind_datum: date | None
    aanmaak_datum: datetime
    update_datum: datetime


@dataclass(frozen=True, slots=True)
class Person:
    bsn: str
    voornamen: str
    voorvoegsel: str
    geslachtsnaam: str
    geboortedatum: date
    geslacht: str  # "M" | "V"
    address: Address
    datum_inschrijving_in_gemeente: date
    geheimhouding: int  # 0-7, as in the BRP; > 0 means shielded
    partner_bsn: str | None
    partner_sinds: date | None
    kinderen_bsns: tuple[str, ...]
    ouders_bsns: tuple[str, ...]
    emailadressen: tuple[DigitaalAdres, ...]
    telefoonnummers: tuple[DigitaalAdres, ...]
    voorkeurskanaal: str  # "e-mail" | "telefoon" | "post"
    voorkeurstaal: str
    partij_uuid: str | None  # None: known in the BRP, no partij in Klantinteracties
    partij_nummer: str | None
    zaken: tuple[Zaak, ...]
    klantcontacten: tuple[Klantcontact, ...]
    interne_taken: tuple[InterneTaak, ...]
    overlijdensdatum: date | None = None
    reisdocumenten: tuple[Reisdocument, ...] = ()
    producten: tuple[Product, ...] = ()

    @property
    def volledige_naam(self) -> str:
        return " ".join(p for p in (self.voornamen, self.voorvoegsel, self.geslachtsnaam) if p)

    @property
    def voorletters(self) -> str:
        return "".join(f"{n[0]}." for n in self.voornamen.split())

    @property
    def digitale_adressen(self) -> tuple[DigitaalAdres, ...]:
        return self.emailadressen + self.telefoonnummers

    @property
    def voorkeurs_digitaal_adres(self) -> DigitaalAdres | None:
        wanted = {"e-mail": self.emailadressen, "telefoon": self.telefoonnummers}.get(self.voorkeurskanaal)
        return wanted[0] if wanted else None


@dataclass(frozen=True, slots=True)
class SbiActiviteit:
    sbi_code: str
    sbi_omschrijving: str
    ind_hoofdactiviteit: bool


@dataclass(frozen=True, slots=True)
class Vestiging:
    vestigingsnummer: str  # 12 digits
    eerste_handelsnaam: str
    adres: Address
    is_hoofdvestiging: bool
    werkzame_personen: int


@dataclass(frozen=True, slots=True)
class Company:
    """A business in the Handelsregister, with its data in the other sources."""

    kvk_nummer: str  # 8 digits
    naam: str
    handelsnamen: tuple[str, ...]
    rechtsvorm: str  # short, e.g. "Eenmanszaak", "BV", "Stichting"
    uitgebreide_rechtsvorm: str
    rsin: str | None  # rechtspersonen only
    formele_registratiedatum: date
    sbi_activiteiten: tuple[SbiActiviteit, ...]
    vestigingen: tuple[Vestiging, ...]  # hoofdvestiging first; empty for a rechtspersoon without one
    adres: Address  # bezoekadres of the hoofdvestiging, or the correspondence address
    eigenaar_bsn: str | None  # the owner of an eenmanszaak (a world person)
    partij_uuid: str
    partij_nummer: str
    emailadressen: tuple[DigitaalAdres, ...]
    telefoonnummers: tuple[DigitaalAdres, ...]
    zaken: tuple[Zaak, ...]
    klantcontacten: tuple[Klantcontact, ...]
    interne_taken: tuple[InterneTaak, ...]
    producten: tuple[Product, ...] = ()

    @property
    def hoofdvestiging(self) -> Vestiging | None:
        return next((v for v in self.vestigingen if v.is_hoofdvestiging), None)

    @property
    def totaal_werkzame_personen(self) -> int:
        return sum(v.werkzame_personen for v in self.vestigingen)

    @property
    def digitale_adressen(self) -> tuple[DigitaalAdres, ...]:
        return self.emailadressen + self.telefoonnummers


@dataclass(frozen=True, slots=True)
class World:
    seed: int
    reference_date: date
    persons: tuple[Person, ...]
    zaaktypen: tuple[Zaaktype, ...]
    actoren: tuple[Actor, ...]
    shielded_bsn: str
    no_partij_bsn: str
    companies: tuple[Company, ...] = ()
    producttypen: tuple[ProductType, ...] = ()
    special: dict[str, str] = field(default_factory=dict)  # special case -> BSN or KVK-nummer
    _by_bsn: dict[str, Person] = field(default_factory=dict, repr=False, compare=False)
    _by_kvk: dict[str, Company] = field(default_factory=dict, repr=False, compare=False)
    _by_vestiging: dict[str, Company] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_bsn.update({p.bsn: p for p in self.persons})
        self._by_kvk.update({c.kvk_nummer: c for c in self.companies})
        self._by_vestiging.update({v.vestigingsnummer: c for c in self.companies for v in c.vestigingen})

    def person(self, bsn: str) -> Person | None:
        """The person with this BSN, or None when the world does not know it."""
        return self._by_bsn.get(bsn)

    def company(self, kvk_nummer: str) -> Company | None:
        """The company with this KVK-nummer, or None."""
        return self._by_kvk.get(kvk_nummer)

    def company_by_vestiging(self, vestigingsnummer: str) -> Company | None:
        """The company one of whose vestigingen has this number, or None."""
        return self._by_vestiging.get(vestigingsnummer)

    @property
    def kvk_nummers(self) -> tuple[str, ...]:
        return tuple(c.kvk_nummer for c in self.companies)

    def company_zaken(self) -> tuple[Zaak, ...]:
        return tuple(z for c in self.companies for z in c.zaken)

    def reisdocumenten(self) -> tuple[Reisdocument, ...]:
        return tuple(d for p in self.persons for d in p.reisdocumenten)

    def document(self, case: str) -> Reisdocument:
        """The travel document of a document special case: lost_document (reported lost),
        expired_document (ran out, not withdrawn), valid_document (the passport valid longest) and
        passport_expires_soon (the passport that runs out soonest, still valid)."""
        holder = self.person(self.special[case])
        docs = holder.reisdocumenten if holder is not None else ()
        today = self.reference_date
        usable = [d for d in docs if d.inhouding_of_vermissing is None and d.datum_einde_geldigheid >= today]
        passports = sorted(
            (d for d in usable if d.soort_code == "PN"), key=lambda d: d.datum_einde_geldigheid
        )
        found = {
            "lost_document": [d for d in docs if d.inhouding_of_vermissing == "V"],
            "expired_document": [d for d in docs if _is_expired(d, today)],
            "valid_document": passports[::-1],
            "passport_expires_soon": passports,
        }.get(case, [])
        if not found:
            raise KeyError(f"no document for special case {case}")
        return found[0]

    def producten(self) -> tuple[Product, ...]:
        return tuple(pr for p in self.persons for pr in p.producten) + tuple(
            pr for c in self.companies for pr in c.producten
        )

    def zaaktype(self, zaaktype_uuid: str) -> Zaaktype:
        return next(z for z in self.zaaktypen if z.uuid == zaaktype_uuid)

    @property
    def bsns(self) -> tuple[str, ...]:
        return tuple(p.bsn for p in self.persons)

    def zaken(self) -> tuple[Zaak, ...]:
        return tuple(z for p in self.persons for z in p.zaken)


# --- vocabularies --------------------------------------------------------------------------------

_VOORNAMEN_V = (
    "Anna",
    "Sophie",
    "Emma",
    "Fatima",
    "Julia",
    "Maria",
    "Noor",
    "Sanne",
    "Lotte",
    "Eva",
    "Iris",
    "Fenna",
    "Yasmina",
    "Johanna",
    "Elif",
    "Merel",
)
_VOORNAMEN_M = (
    "Jan",
    "Pieter",
    "Mohammed",
    "Daan",
    "Lucas",
    "Willem",
    "Sem",
    "Thomas",
    "Hendrik",
    "Bram",
    "Ahmet",
    "Kees",
    "Joris",
    "Ruben",
    "Stefan",
    "Youssef",
)
_ACHTERNAMEN: tuple[tuple[str, str], ...] = (
    ("", "Jansen"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Yilmaz"),
    ("El", "Amrani"),
    ("van der", "Berg"),
    ("", "Kramer"),
)
_STRATEN = (
    "Coolsingel",
    "Lijnbaan",
    "Witte de Withstraat",
    "Nieuwe Binnenweg",
    "Kralingse Plaslaan",
    "Vlietlaan",
    "Oudedijk",
    "Zwart Janstraat",
    "Bergweg",
    "Schiedamseweg",
    "Beukelsdijk",
    "Groene Hilledijk",
    "Slinge",
    "Maashaven Oostzijde",
)
_ZAAKTYPEN: tuple[tuple[str, str, int, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "PARKEERVERGUNNING",
        "Aanvraag parkeervergunning",
        56,
        ("Ontvangen", "In behandeling", "Besluit genomen"),
        ("Verleend", "Geweigerd"),
        ("Bewonersvergunning {straat}", "Parkeervergunning tweede auto", "Bezoekersvergunning"),
    ),
    (
        "MELDING-OR",
        "Melding openbare ruimte",
        14,
        ("Ontvangen", "Ingepland", "Afgehandeld"),
        ("Opgelost", "Niet opgelost"),
        ("Losliggende stoeptegel {straat}", "Volle container {straat}", "Kapotte lantaarnpaal {straat}"),
    ),
    (
        "WMO-VOORZIENING",
        "Aanvraag Wmo-voorziening",
        56,
        ("Ontvangen", "Keukentafelgesprek gepland", "In behandeling", "Besluit genomen"),
        ("Toegekend", "Afgewezen"),
        ("Huishoudelijke hulp", "Scootmobiel", "Woningaanpassing traplift"),
    ),
    (
        "BEZWAAR-WOZ",
        "Bezwaar WOZ-beschikking",
        42,
        ("Ontvangen", "In behandeling", "Uitspraak gedaan"),
        ("Gegrond", "Ongegrond"),
        ("Bezwaar WOZ-waarde {straat} {huisnummer}",),
    ),
    (
        "EXPLOITATIEVERGUNNING",
        "Aanvraag exploitatievergunning horeca",
        56,
        ("Ontvangen", "Bibob-toets", "In behandeling", "Besluit genomen"),
        ("Verleend", "Geweigerd"),
        ("Exploitatievergunning {straat} {huisnummer}", "Wijziging leidinggevende {straat}"),
    ),
)
# Persons only get zaken of the first four zaaktypen (the original demo world); companies of all.
_PERSON_ZAAKTYPEN = 4
_COMPANY_ZAAKTYPEN = ("PARKEERVERGUNNING", "MELDING-OR", "BEZWAAR-WOZ", "EXPLOITATIEVERGUNNING")
_ONDERWERPEN: tuple[tuple[str, str], ...] = (
    ("Vraag over afvalinzameling", "Klant vraagt wanneer het grofvuil wordt opgehaald."),
    ("Adreswijziging doorgeven", "Klant wil weten hoe een verhuizing wordt doorgegeven."),
    ("Paspoort aanvragen", "Klant vraagt naar de levertijd van een paspoort."),
    ("Afspraak maken", "Afspraak gemaakt bij de balie voor een uittreksel."),
    ("Vraag over gemeentelijke belastingen", "Klant vraagt om uitleg over de aanslag."),
)
_HANDELINGEN = ("Terugbellen", "Informatie opvragen bij vakafdeling", "Terugmailen met antwoord")
_KANALEN = ("telefoon", "e-mail", "balie")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _bsn_candidates(rng: random.Random, taken: set[str]) -> str:
    while True:
        first = "999" + f"{rng.randrange(0, 100000):05d}"
        check = sum(int(d) * w for d, w in zip(first, range(9, 1, -1), strict=True)) % 11
        if check == 10:
            continue
        bsn = first + str(check)
        if bsn not in taken and passes_elfproef(bsn):
            taken.add(bsn)
            return bsn


def _build_zaaktypen() -> tuple[Zaaktype, ...]:
    result = []
    for ident, omschrijving, dagen, statussen, resultaten, _ in _ZAAKTYPEN:
        statustypen = tuple(
            Statustype(_uuid("statustype", ident, i), i + 1, naam, i == len(statussen) - 1)
            for i, naam in enumerate(statussen)
        )
        resultaattypen = tuple(
            Resultaattype(_uuid("resultaattype", ident, naam), naam) for naam in resultaten
        )
        result.append(
            Zaaktype(_uuid("zaaktype", ident), ident, omschrijving, dagen, statustypen, resultaattypen)
        )
    return tuple(result)


def _build_actoren() -> tuple[Actor, ...]:
    namen = (
        ("Team Parkeren", "Behandelaar"),
        ("Klantcontactcentrum", "Klantcontactmedewerker"),
        ("Team Wmo", "Consulent"),
        ("Team Belastingen", "Medewerker bezwaar"),
    )
    return tuple(
        Actor(_uuid("actor", naam), naam, functie, f"010{i + 1:07d}")
        for i, (naam, functie) in enumerate(namen)
    )


@dataclass(slots=True)
class _Draft:
    """A person while the world is being built (families are linked before freezing)."""

    bsn: str
    voornamen: str
    voorvoegsel: str
    geslachtsnaam: str
    geboortedatum: date
    geslacht: str
    address: Address
    datum_inschrijving: date
    partner_bsn: str | None = None
    partner_sinds: date | None = None
    kinderen: list[str] = field(default_factory=list)
    ouders: list[str] = field(default_factory=list)


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(0, max(1, (end - start).days)))


def _at(d: date, rng: random.Random) -> datetime:
    return datetime.combine(d, time(rng.randrange(8, 17), rng.choice((0, 15, 30, 45))), tzinfo=UTC)


class _Builder:
    def __init__(self, seed: int, count: int, today: date) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.count = count
        self.today = today
        self.taken: set[str] = set(README_BSNS)
        self.readme = list(README_BSNS)
        self.drafts: list[_Draft] = []
        self.zaak_seq = 0
        self.contact_seq = 0
        self.taak_seq = 0

    def next_bsn(self) -> str:
        return self.readme.pop(0) if self.readme else _bsn_candidates(self.rng, self.taken)

    def address(self) -> Address:
        rng = self.rng
        postcode = (
            f"30{rng.randrange(11, 89)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABEGHKLNPRSTVX')}"
        )
        return Address(
            rng.choice(_STRATEN), rng.randrange(1, 250), postcode, GEMEENTE_NAAM, GEMEENTE_CODE, GEMEENTE_NAAM
        )

    def draft(
        self, *, geslacht: str, born: date, address: Address, surname: tuple[str, str] | None = None
    ) -> _Draft:
        rng = self.rng
        voornamen_pool = _VOORNAMEN_V if geslacht == "V" else _VOORNAMEN_M
        voornamen = " ".join(rng.sample(voornamen_pool, rng.choice((1, 1, 2))))
        voorvoegsel, geslachtsnaam = surname or rng.choice(_ACHTERNAMEN)
        ingeschreven = _random_date(rng, max(born, date(1995, 1, 1)), self.today - timedelta(days=30))
        d = _Draft(
            self.next_bsn(), voornamen, voorvoegsel, geslachtsnaam, born, geslacht, address, ingeschreven
        )
        self.drafts.append(d)
        return d

    def household(self, *, force_family: bool = False) -> None:
        rng = self.rng
        address = self.address()
        left = self.count - len(self.drafts)
        kind = "gezin" if force_family else rng.choice(("alleen", "stel", "gezin", "eenouder"))
        first_geslacht = rng.choice(("V", "M"))
        # the first family (the README BSNs) is old enough for its children to be adults with zaken
        born = (
            _random_date(rng, date(1958, 1, 1), date(1966, 12, 31))
            if force_family
            else _random_date(rng, date(1955, 1, 1), date(1992, 12, 31))
        )
        first = self.draft(geslacht=first_geslacht, born=born, address=address)
        left -= 1
        adults = [first]
        if kind in ("stel", "gezin") and left >= 1:
            second_born = _random_date(rng, born - timedelta(days=1500), born + timedelta(days=1500))
            second = self.draft(
                geslacht="M" if first_geslacht == "V" else "V", born=second_born, address=address
            )
            left -= 1
            sinds = _random_date(
                rng,
                max(born, second_born) + timedelta(days=20 * 365),
                max(born, second_born) + timedelta(days=30 * 365),
            )
            first.partner_bsn, second.partner_bsn = second.bsn, first.bsn
            first.partner_sinds = second.partner_sinds = sinds
            adults.append(second)
        if kind in ("gezin", "eenouder") and left >= 1:
            for _ in range(min(left, rng.choice((1, 2, 2, 3)))):
                child_born = _random_date(
                    rng, born + timedelta(days=24 * 365), born + timedelta(days=36 * 365)
                )
                child_born = min(child_born, self.today - timedelta(days=200))
                surname = (first.voorvoegsel, first.geslachtsnaam)
                child = self.draft(
                    geslacht=rng.choice(("V", "M")), born=child_born, address=address, surname=surname
                )
                for parent in adults:
                    parent.kinderen.append(child.bsn)
                    child.ouders.append(parent.bsn)

    def zaken(
        self, bsn: str, zaaktypen: tuple[Zaaktype, ...], address: Address, *, n: int, open_first: bool = False
    ) -> tuple[Zaak, ...]:
        rng = self.rng
        result = []
        for i in range(n):
            self.zaak_seq += 1
            zaaktype = rng.choice(zaaktypen)
            templates = next(t for t in _ZAAKTYPEN if t[0] == zaaktype.identificatie)[5]
            omschrijving = rng.choice(templates).format(straat=address.straat, huisnummer=address.huisnummer)
            is_open = (i == 0) if open_first else (rng.random() < 0.45 if i != 1 else False)
            start = _random_date(rng, self.today - timedelta(days=700), self.today - timedelta(days=3))
            if is_open:
                start = max(start, self.today - timedelta(days=zaaktype.doorlooptijd_dagen - 2))
            uiterlijk = start + timedelta(days=zaaktype.doorlooptijd_dagen)
            zaak_uuid = _uuid("zaak", self.zaak_seq)
            types = zaaktype.statustypen
            reached = len(types) if not is_open else rng.randrange(1, len(types))
            statussen = []
            moment = start
            for s in range(reached):
                statussen.append(ZaakStatus(_uuid("status", zaak_uuid, s), types[s].uuid, _at(moment, rng)))
                moment = min(
                    moment + timedelta(days=rng.randrange(1, max(2, zaaktype.doorlooptijd_dagen // 3))),
                    self.today - timedelta(days=1),
                )
            einddatum = None if is_open else statussen[-1].datum_status_gezet.date()
            resultaattype = None if is_open else rng.choice(zaaktype.resultaattypen).uuid
            result.append(
                Zaak(
                    uuid=zaak_uuid,
                    identificatie=f"ZAAK-{start.year}-{self.zaak_seq:07d}",
                    zaaktype_uuid=zaaktype.uuid,
                    omschrijving=omschrijving,
                    startdatum=start,
                    einddatum=einddatum,
                    uiterlijke_einddatum_afdoening=uiterlijk,
                    statussen=tuple(statussen),
                    resultaattype_uuid=resultaattype,
                    resultaat_uuid=None if is_open else _uuid("resultaat", zaak_uuid),
                    initiator_bsn=bsn,
                    rol_uuid=_uuid("rol", zaak_uuid),
                )
            )
        return tuple(result)

    def contacten(
        self, bsn: str, zaken: tuple[Zaak, ...], actoren: tuple[Actor, ...], *, n: int, open_taak: bool
    ) -> tuple[tuple[Klantcontact, ...], tuple[InterneTaak, ...]]:
        rng = self.rng
        contacts = []
        for i in range(n):
            self.contact_seq += 1
            zaak = zaken[i % len(zaken)] if zaken and rng.random() < 0.5 else None
            if zaak is not None:
                onderwerp = f"Vraag over zaak {zaak.identificatie}"
                inhoud = f"Klant vraagt naar de voortgang van '{zaak.omschrijving}'."
            else:
                onderwerp, inhoud = rng.choice(_ONDERWERPEN)
            when = _at(
                _random_date(rng, self.today - timedelta(days=400), self.today - timedelta(days=1)), rng
            )
            contact_uuid = _uuid("klantcontact", self.contact_seq)
            contacts.append(
                Klantcontact(
                    uuid=contact_uuid,
                    nummer=f"{self.contact_seq:010d}",
                    kanaal=rng.choice(_KANALEN),
                    onderwerp=onderwerp,
                    inhoud=inhoud,
                    indicatie_contact_gelukt=rng.random() < 0.85,
                    plaatsgevonden_op=when,
                    zaak_identificatie=zaak.identificatie if zaak else None,
                    betrokkene_uuid=_uuid("betrokkene", contact_uuid),
                    onderwerpobject_uuid=_uuid("onderwerpobject", contact_uuid) if zaak else None,
                )
            )
        contacts.sort(key=lambda c: c.plaatsgevonden_op, reverse=True)
        taken = []
        for j, contact in enumerate(contacts):
            if not (open_taak and j == 0) and rng.random() > 0.35:
                continue
            self.taak_seq += 1
            is_open = (open_taak and j == 0) or rng.random() < 0.5
            actor = rng.choice(actoren)
            taken.append(
                InterneTaak(
                    uuid=_uuid("internetaak", self.taak_seq),
                    nummer=f"{self.taak_seq:010d}",
                    klantcontact_uuid=contact.uuid,
                    gevraagde_handeling=rng.choice(_HANDELINGEN),
                    toelichting=f"Naar aanleiding van: {contact.onderwerp}",
                    status="te_verwerken" if is_open else "verwerkt",
                    actor_uuid=actor.uuid,
                    toegewezen_op=contact.plaatsgevonden_op + timedelta(minutes=5),
                    afgehandeld_op=None if is_open else contact.plaatsgevonden_op + timedelta(days=2),
                )
            )
        return tuple(contacts), tuple(taken)


def _is_adult(d: _Draft, today: date) -> bool:
    return (today - d.geboortedatum).days >= 18 * 365


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


# --- companies, travel documents, products -------------------------------------------------------

_BEDRIJFSSTRATEN = (
    "Weena",
    "Blaak",
    "Westblaak",
    "Wilhelminakade",
    "Keizerstraat",
    "Meent",
    "Hoogstraat",
    "Van Oldenbarneveltstraat",
    "Marconistraat",
    "Waalhaven Zuidzijde",
)
# rechtsvorm -> (uitgebreide rechtsvorm, is rechtspersoon)
_RECHTSVORMEN: dict[str, tuple[str, bool]] = {
    "Eenmanszaak": ("Eenmanszaak", False),
    "BV": ("Besloten Vennootschap", True),
    "VOF": ("Vennootschap onder firma", False),
    "Stichting": ("Stichting", True),
    "Vereniging": ("Vereniging met volledige rechtsbevoegdheid", True),
    "Coöperatie": ("Coöperatie", True),
}
_SBI: dict[str, str] = {
    "10710": "Brood- en banketbakkerijen",
    "47241": "Winkels in brood en banket",
    "43320": "Bouwtimmeren",
    "43341": "Schildersbedrijven",
    "56101": "Restaurants",
    "56301": "Cafés",
    "62010": "Ontwikkelen, produceren en uitgeven van software",
    "69201": "Accountantskantoren",
    "88991": "Sociaal-cultureel werk",
    "94991": "Ideële organisaties",
    "93152": "Sportverenigingen",
    "96021": "Haarverzorging",
    "45201": "Algemene reparatie van auto's",
    "47761": "Winkels in bloemen en planten",
    "49410": "Goederenvervoer over de weg",
    "71111": "Architecten",
    "85592": "Bedrijfsopleiding en -training",
    "01131": "Teelt van groenten in de volle grond",
}
# naam, rechtsvorm, SBI codes (first = hoofdactiviteit), horeca
_BEDRIJVEN: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("Voorbeeld Bakkerijen B.V.", "BV", ("10710", "47241"), False),
    ("Stichting Buurthuis De Brug", "Stichting", ("88991", "94991"), False),
    ("Eetcafé De Maaskade", "VOF", ("56301", "56101"), True),
    ("Restaurant Het Zuiderpark B.V.", "BV", ("56101",), True),
    ("Kapsalon Knip & Krul", "Eenmanszaak", ("96021",), False),
    ("Autoherstel Rijnmond B.V.", "BV", ("45201",), False),
    ("Bloemenhuis De Tuinkamer", "Eenmanszaak", ("47761",), False),
    ("Transportbedrijf Waalhaven B.V.", "BV", ("49410",), False),
    ("Architectenbureau Maasoever", "VOF", ("71111",), False),
    ("Softwarehuis Blaak B.V.", "BV", ("62010", "85592"), False),
    ("Administratiekantoor Keizer", "Eenmanszaak", ("69201",), False),
    ("Schildersbedrijf Kleurrijk", "Eenmanszaak", ("43341",), False),
    ("Voetbalvereniging Zuidwijk", "Vereniging", ("93152",), False),
    ("Coöperatie Stadsmoestuin Rotterdam U.A.", "Coöperatie", ("01131",), False),
    ("Lunchroom De Meent", "Eenmanszaak", ("56101",), True),
    ("Stichting Taalmaatjes Rotterdam", "Stichting", ("94991",), False),
    ("Café Het Havenlicht", "VOF", ("56301",), True),
    ("Opleidingscentrum Marconi B.V.", "BV", ("85592",), False),
    ("Timmerwerkplaats Oudedijk", "Eenmanszaak", ("43320",), False),
    ("Bakkerij Van Oldenbarnevelt", "VOF", ("10710",), False),
    ("Hotel-Restaurant Wilhelmina B.V.", "BV", ("56101", "56301"), True),
    ("Garage Beukelsdijk", "Eenmanszaak", ("45201",), False),
    ("Stichting Speeltuin Kralingen", "Stichting", ("88991",), False),
    ("Koeriersdienst Snel & Zeker", "Eenmanszaak", ("49410",), False),
    ("Boekhoudpraktijk Hoogstraat B.V.", "BV", ("69201",), False),
    ("Bloemist Het Groene Hart", "VOF", ("47761",), False),
    ("Kapperszaak Coolsingel", "Eenmanszaak", ("96021",), False),
)
# code, naam, UPL naam, keywords (first = soort), allowed statuses, prijs, frequentie, business, years
_PRODUCTTYPEN: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, str, bool, int], ...] = (
    (
        "PV-BEWONER",
        "Parkeervergunning bewoners",
        "parkeervergunning",
        ("vergunning", "parkeren"),
        ("gereed", "actief", "ingetrokken", "verlopen"),
        "96.00",
        "jaarlijks",
        False,
        1,
    ),
    (
        "GPK",
        "Gehandicaptenparkeerkaart",
        "gehandicaptenparkeerkaart",
        ("vergunning", "parkeren"),
        ("gereed", "actief", "geweigerd", "verlopen"),
        "0.00",
        "eenmalig",
        False,
        5,
    ),
    (
        "OOIEVAARSPAS",
        "Ooievaarspas",
        "ooievaarspas",
        ("pas", "minimaregeling"),
        ("gereed", "actief", "geweigerd", "verlopen"),
        "0.00",
        "eenmalig",
        False,
        1,
    ),
    (
        "SUB-ENERGIE",
        "Subsidie energiebesparende maatregelen",
        "subsidie",
        ("subsidie", "duurzaamheid"),
        ("gereed", "actief", "geweigerd", "verlopen"),
        "0.00",
        "eenmalig",
        False,
        2,
    ),
    (
        "KWIJTSCHELDING",
        "Kwijtschelding gemeentelijke belastingen",
        "kwijtschelding belastingen",
        ("regeling", "belastingen"),
        ("gereed", "actief", "geweigerd", "verlopen"),
        "0.00",
        "eenmalig",
        False,
        1,
    ),
    (
        "EXPLOITATIE",
        "Exploitatievergunning horeca",
        "exploitatievergunning",
        ("vergunning", "horeca"),
        ("gereed", "actief", "ingetrokken", "verlopen"),
        "350.00",
        "eenmalig",
        True,
        5,
    ),
    (
        "TERRAS",
        "Terrasvergunning",
        "terrasvergunning",
        ("vergunning", "horeca"),
        ("gereed", "actief", "ingetrokken", "verlopen"),
        "120.00",
        "jaarlijks",
        True,
        1,
    ),
    (
        "PV-BEDRIJF",
        "Parkeervergunning bedrijven",
        "parkeervergunning",
        ("vergunning", "parkeren"),
        ("gereed", "actief", "ingetrokken", "verlopen"),
        "240.00",
        "jaarlijks",
        True,
        1,
    ),
    (
        "SUB-GEVEL",
        "Subsidie gevelverbetering ondernemers",
        "subsidie",
        ("subsidie", "ondernemers"),
        ("gereed", "actief", "geweigerd", "verlopen"),
        "0.00",
        "eenmalig",
        True,
        2,
    ),
)
_PRODUCT_YEARS: dict[str, int] = {t[0]: t[8] for t in _PRODUCTTYPEN}
_DOC_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DOC_CHARS = _DOC_LETTERS + "0123456789"
_SOORTEN = {"PN": "Nationaal paspoort", "NI": "Nederlandse identiteitskaart"}


def _build_producttypen() -> tuple[ProductType, ...]:
    return tuple(
        ProductType(
            uuid=_uuid("producttype", code),
            code=code,
            naam=naam,
            uniforme_product_naam=upn,
            soort=keywords[0],
            keywords=keywords,
            toegestane_statussen=statussen,
            prijs=prijs,
            frequentie=frequentie,
            voor_bedrijven=bedrijf,
        )
        for code, naam, upn, keywords, statussen, prijs, frequentie, bedrijf, _ in _PRODUCTTYPEN
    )


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class _Documents:
    """Travel documents: unique numbers across the world, one random stream per holder."""

    def __init__(self, seed: int, today: date) -> None:
        self.seed = seed
        self.today = today
        self.numbers: set[str] = set()

    def _number(self, rng: random.Random, soort: str) -> str:
        while True:
            prefix = "".join(rng.choice(_DOC_LETTERS) for _ in range(2))
            middle = "".join(rng.choice(_DOC_CHARS) for _ in range(6))
            number = (
                f"{prefix}{middle}{rng.randrange(10)}"
                if soort == "PN"
                else f"I{prefix[0]}{middle}{rng.randrange(10)}"
            )
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def _doc(
        self,
        rng: random.Random,
        bsn: str,
        soort: str,
        uitgifte: date,
        years: int,
        inhouding: str | None = None,
        inhouding_datum: date | None = None,
    ) -> Reisdocument:
        return Reisdocument(
            reisdocumentnummer=self._number(rng, soort),
            soort_code=soort,
            soort_omschrijving=_SOORTEN[soort],
            datum_uitgifte=uitgifte,
            datum_einde_geldigheid=_add_years(uitgifte, years),
            houder_bsn=bsn,
            inhouding_of_vermissing=inhouding,
            datum_inhouding_of_vermissing=inhouding_datum,
        )

    def of(self, person: Person) -> tuple[Reisdocument, ...]:
        rng = random.Random(f"{self.seed}/reisdocumenten/{person.bsn}")
        today, bsn = self.today, person.bsn
        if bsn == README_BSNS[0]:
            # the passport expires in about three months; the identity card was reported lost
            einde = today + timedelta(days=91)
            vorige = _add_years(einde, -20)
            return (
                self._doc(rng, bsn, "PN", _add_years(einde, -10), 10),
                self._doc(rng, bsn, "NI", today - timedelta(days=900), 10, "V", today - timedelta(days=200)),
                self._doc(rng, bsn, "PN", vorige, 10, "I", _add_years(einde, -10)),
            )
        docs: list[Reisdocument] = []
        for soort, chance in (("PN", 0.75), ("NI", 0.5)):
            if rng.random() >= chance:
                continue
            uitgifte = _random_date(rng, max(person.geboortedatum, today - timedelta(days=11 * 365)), today)
            minor = (uitgifte - person.geboortedatum).days < 18 * 365
            years = 5 if minor else 10
            roll = rng.random()
            if roll < 0.06:  # reported lost
                lost = _random_date(rng, uitgifte, today)
                docs.append(self._doc(rng, bsn, soort, uitgifte, years, "V", lost))
                uitgifte = lost + timedelta(days=rng.randrange(5, 20))
                if uitgifte < today:
                    docs.append(self._doc(rng, bsn, soort, uitgifte, years))
            elif roll < 0.2 and uitgifte - timedelta(days=years * 365) > person.geboortedatum:
                previous = _add_years(uitgifte, -years)  # the old one, surrendered at renewal
                docs.append(self._doc(rng, bsn, soort, previous, years, "I", uitgifte))
                docs.append(self._doc(rng, bsn, soort, uitgifte, years))
            else:
                docs.append(self._doc(rng, bsn, soort, uitgifte, years))
        return tuple(docs)


def _product(
    rng: random.Random,
    producttype: ProductType,
    today: date,
    owner: tuple[str | None, str | None],
    seq: str,
) -> Product:
    years = _PRODUCT_YEARS[producttype.code]
    # mostly still running: started within the validity period (plus half a year)
    start = _random_date(rng, today - timedelta(days=years * 365 + 180), today - timedelta(days=7))
    roll = rng.random()
    status: str
    eind: date | None = _add_years(start, years)
    if roll < 0.07:
        status, start_datum, eind = "gereed", None, None  # granted, not yet started
    elif roll < 0.12 and "geweigerd" in producttype.toegestane_statussen:
        status, start_datum, eind = "geweigerd", None, None
    elif roll < 0.16 and "ingetrokken" in producttype.toegestane_statussen:
        status, start_datum = "ingetrokken", start
        eind = _random_date(rng, start, today)
    else:
        start_datum = start
        status = "actief" if eind is None or eind > today else "verlopen"
    created = datetime.combine(start - timedelta(days=rng.randrange(3, 40)), time(10, 0), tzinfo=UTC)
    return Product(
        uuid=_uuid("product", seq, producttype.code),
        producttype=producttype,
        eigenaar_bsn=owner[0],
        eigenaar_kvk=owner[1],
        status=status,
        start_datum=start_datum,
        eind_datum=eind,
        aanmaak_datum=created,
        update_datum=created + timedelta(days=rng.randrange(0, 30)),
    )


def _person_products(
    seed: int, person: Person, producttypen: tuple[ProductType, ...], today: date
) -> tuple[Product, ...]:
    rng = random.Random(f"{seed}/producten/{person.bsn}")
    if (today - person.geboortedatum).days < 18 * 365:
        return ()
    by_code = {t.code: t for t in producttypen}
    chances = {
        "PV-BEWONER": 0.4,
        "GPK": 0.05,
        "OOIEVAARSPAS": 0.15,
        "SUB-ENERGIE": 0.1,
        "KWIJTSCHELDING": 0.08,
    }
    owner = (person.bsn, None)
    if person.bsn == README_BSNS[0]:  # the demo person: a running permit and pass, a refused subsidy
        created = datetime.combine(today - timedelta(days=230), time(10, 0), tzinfo=UTC)
        fixed = (
            ("PV-BEWONER", "actief", today - timedelta(days=200), today + timedelta(days=165)),
            ("OOIEVAARSPAS", "actief", today - timedelta(days=300), today + timedelta(days=65)),
            ("SUB-ENERGIE", "geweigerd", None, None),
        )
        return tuple(
            Product(
                _uuid("product", person.bsn, code),
                by_code[code],
                *owner,
                status,
                start,
                eind,
                created,
                created,
            )
            for code, status, start, eind in fixed
        )
    return tuple(
        _product(rng, by_code[code], today, owner, person.bsn)
        for code, chance in chances.items()
        if rng.random() < chance
    )


def _company_products(
    seed: int, kvk: str, horeca: bool, producttypen: tuple[ProductType, ...], today: date
) -> tuple[Product, ...]:
    rng = random.Random(f"{seed}/producten/{kvk}")
    by_code = {t.code: t for t in producttypen}
    chances = {"PV-BEDRIJF": 0.4, "SUB-GEVEL": 0.15}
    if horeca:
        chances = {"EXPLOITATIE": 1.0, "TERRAS": 0.8, **chances}
    owner = (None, kvk)
    return tuple(
        _product(rng, by_code[code], today, owner, kvk)
        for code, chance in chances.items()
        if rng.random() < chance
    )


def _postcode(rng: random.Random) -> str:
    return f"30{rng.randrange(11, 89)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABEGHKLNPRSTVX')}"


def _vestigingsnummer(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = f"{rng.randrange(10**9, 10**10):012d}"
        if number not in taken:
            taken.add(number)
            return number


def _kvk_nummer(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = f"{rng.randrange(50_000_000, 99_999_999)}"
        if number not in taken:
            taken.add(number)
            return number


def _rsin(rng: random.Random) -> str:
    while True:
        first = f"8{rng.randrange(10**7):07d}"
        check = sum(int(d) * w for d, w in zip(first, range(9, 1, -1), strict=True)) % 11
        if check < 10 and passes_elfproef(first + str(check)):
            return first + str(check)


def _build_companies(
    builder: _Builder,
    count: int,
    owner: Person,
    zaaktypen: tuple[Zaaktype, ...],
    actoren: tuple[Actor, ...],
    producttypen: tuple[ProductType, ...],
    first_partij_nummer: int,
) -> tuple[Company, ...]:
    """The companies; the builder's random stream is switched to the companies' own."""
    seed, today = builder.seed, builder.today
    rng = builder.rng = random.Random(f"{seed}/companies")
    company_zaaktypen = tuple(z for z in zaaktypen if z.identificatie in _COMPANY_ZAAKTYPEN)
    kvk_taken = set(KVK_TEST_NUMBERS)
    vestiging_taken: set[str] = set()
    owner_profile = (
        f"Klussenbedrijf {owner.voorvoegsel + ' ' if owner.voorvoegsel else ''}{owner.geslachtsnaam}".replace(
            "  ", " "
        ),
        "Eenmanszaak",
        ("43320", "43341"),
        False,
    )
    profiles = [owner_profile, *_BEDRIJVEN]
    result: list[Company] = []
    for i in range(count):
        naam, rechtsvorm, sbi_codes, horeca = profiles[i % len(profiles)]
        if i >= len(profiles):
            naam = f"{naam} {i // len(profiles) + 1}"
        kvk = KVK_TEST_NUMBERS[i] if i < len(KVK_TEST_NUMBERS) else _kvk_nummer(rng, kvk_taken)
        uitgebreid, rechtspersoon = _RECHTSVORMEN[rechtsvorm]
        is_owner_company = i == 0
        adres = (
            owner.address
            if is_owner_company
            else Address(
                rng.choice(_BEDRIJFSSTRATEN),
                rng.randrange(1, 400),
                _postcode(rng),
                GEMEENTE_NAAM,
                GEMEENTE_CODE,
                GEMEENTE_NAAM,
            )
        )
        vestigingen: list[Vestiging] = []
        if rechtsvorm != "Vereniging":  # a vereniging without a business is a rechtspersoon only
            vestigingen.append(
                Vestiging(_vestigingsnummer(rng, vestiging_taken), naam, adres, True, rng.randrange(1, 40))
            )
        if i == 1:  # the business with two branches
            branch = Address("Meent", 88, "3011 JN", GEMEENTE_NAAM, GEMEENTE_CODE, GEMEENTE_NAAM)
            vestigingen.append(
                Vestiging(
                    _vestigingsnummer(rng, vestiging_taken), "Bakkerij Voorbeeld Meent", branch, False, 6
                )
            )
        handelsnamen = tuple(dict.fromkeys([naam, *(v.eerste_handelsnaam for v in vestigingen)]))
        zaken = tuple(
            replace(z, initiator_bsn="", initiator_kvk=kvk)
            for z in builder.zaken(
                kvk, company_zaaktypen, adres, n=2 if i < 3 else rng.randrange(0, 4), open_first=i < 3
            )
        )
        contacts, taken = builder.contacten(kvk, zaken, actoren, n=rng.randrange(0, 4), open_taak=False)
        slug = _slug(naam)[:20]
        result.append(
            Company(
                kvk_nummer=kvk,
                naam=naam,
                handelsnamen=handelsnamen,
                rechtsvorm=rechtsvorm,
                uitgebreide_rechtsvorm=uitgebreid,
                rsin=_rsin(rng) if rechtspersoon else None,
                formele_registratiedatum=_random_date(rng, date(1985, 1, 1), today - timedelta(days=120)),
                sbi_activiteiten=tuple(
                    SbiActiviteit(code, _SBI[code], n == 0) for n, code in enumerate(sbi_codes)
                ),
                vestigingen=tuple(vestigingen),
                adres=adres,
                eigenaar_bsn=owner.bsn if is_owner_company else None,
                partij_uuid=_uuid("partij", "kvk", kvk),
                partij_nummer=f"{first_partij_nummer + i:010d}",
                emailadressen=(
                    DigitaalAdres(
                        _uuid("digitaaladres", kvk, "email"), f"info@{slug}.example.nl", "email", "Zakelijk"
                    ),
                ),
                telefoonnummers=(
                    DigitaalAdres(
                        _uuid("digitaaladres", kvk, "telefoon"),
                        f"010{rng.randrange(1000000, 9999999)}",
                        "telefoonnummer",
                        "Algemeen",
                    ),
                ),
                zaken=zaken,
                klantcontacten=contacts,
                interne_taken=taken,
                producten=_company_products(seed, kvk, horeca, producttypen, today),
            )
        )
    return tuple(result)


def _verified_on(bsn: str, soort: str, today: date, *, always: bool) -> date | None:
    """Whether (and when) a person's address was verified, from a hash of the BSN and not from the
    random stream (so adding it changed nothing else in the world): two in three addresses, and
    always those of README_BSNS[0]; the date lies 1-700 days back."""
    digest = hashlib.sha256(f"verificatie:{bsn}:{soort}".encode()).digest()
    if not always and digest[0] % 3 == 0:
        return None
    return today - timedelta(days=1 + int.from_bytes(digest[1:3], "big") % 700)


def _freeze(
    builder: _Builder,
    d: _Draft,
    zaaktypen: tuple[Zaaktype, ...],
    actoren: tuple[Actor, ...],
    *,
    shielded_bsn: str,
    no_partij_bsn: str,
    partij_nummer: int,
) -> Person:
    """Zaken, digital addresses and contacts of one drafted person, from the builder's random stream."""
    rng = builder.rng
    reference_date = builder.today
    main = d.bsn == README_BSNS[0]
    adult = _is_adult(d, reference_date)
    n_zaken = 3 if main else (rng.randrange(0, 5) if adult else 0)
    zaken = builder.zaken(d.bsn, zaaktypen, d.address, n=n_zaken, open_first=main)
    has_partij = d.bsn != no_partij_bsn
    email_user = f"{_slug(d.voornamen.split()[0])}.{_slug(d.voorvoegsel + d.geslachtsnaam)}"
    emails: tuple[DigitaalAdres, ...] = ()
    phones: tuple[DigitaalAdres, ...] = ()
    contacts: tuple[Klantcontact, ...] = ()
    taken: tuple[InterneTaak, ...] = ()
    if has_partij and adult:
        if main or rng.random() < 0.8:
            emails = (
                DigitaalAdres(
                    _uuid("digitaaladres", d.bsn, "email"),
                    f"{email_user}@example.nl",
                    "email",
                    "Privé",
                    _verified_on(d.bsn, "email", reference_date, always=main),
                ),
            )
        if main or rng.random() < 0.7:
            phones = (
                DigitaalAdres(
                    _uuid("digitaaladres", d.bsn, "telefoon"),
                    f"06{rng.randrange(10000000, 99999999)}",
                    "telefoonnummer",
                    "Mobiel",
                    _verified_on(d.bsn, "telefoon", reference_date, always=main),
                ),
            )
        contacts, taken = builder.contacten(
            d.bsn, zaken, actoren, n=3 if main else rng.randrange(0, 6), open_taak=main
        )
    kanalen = [k for k, has in (("e-mail", emails), ("telefoon", phones)) if has] or ["post"]
    return Person(
        bsn=d.bsn,
        voornamen=d.voornamen,
        voorvoegsel=d.voorvoegsel,
        geslachtsnaam=d.geslachtsnaam,
        geboortedatum=d.geboortedatum,
        geslacht=d.geslacht,
        address=d.address,
        datum_inschrijving_in_gemeente=d.datum_inschrijving,
        geheimhouding=rng.randrange(1, 8) if d.bsn == shielded_bsn else 0,
        partner_bsn=d.partner_bsn,
        partner_sinds=d.partner_sinds,
        kinderen_bsns=tuple(d.kinderen),
        ouders_bsns=tuple(d.ouders),
        emailadressen=emails,
        telefoonnummers=phones,
        voorkeurskanaal="e-mail" if main else rng.choice(kanalen),
        voorkeurstaal="nld",
        partij_uuid=_uuid("partij", d.bsn) if has_partij else None,
        partij_nummer=f"{partij_nummer:010d}" if has_partij else None,
        zaken=zaken,
        klantcontacten=contacts,
        interne_taken=taken,
    )


def _repeat_contacts(builder: _Builder, person: Person) -> Person:
    """Three contacts about the same onderwerp within two weeks, none of them resolved at first."""
    onderwerp, inhoud = _ONDERWERPEN[0]
    added = []
    for days_ago, kanaal, gelukt in ((13, "telefoon", False), (6, "e-mail", False), (1, "telefoon", True)):
        builder.contact_seq += 1
        contact_uuid = _uuid("klantcontact", builder.contact_seq)
        when = datetime.combine(builder.today - timedelta(days=days_ago), time(10, 30), tzinfo=UTC)
        added.append(
            Klantcontact(
                uuid=contact_uuid,
                nummer=f"{builder.contact_seq:010d}",
                kanaal=kanaal,
                onderwerp=onderwerp,
                inhoud=f"{inhoud} (herhaald contact)",
                indicatie_contact_gelukt=gelukt,
                plaatsgevonden_op=when,
                zaak_identificatie=None,
                betrokkene_uuid=_uuid("betrokkene", contact_uuid),
                onderwerpobject_uuid=None,
            )
        )
    contacts = sorted((*person.klantcontacten, *added), key=lambda c: c.plaatsgevonden_op, reverse=True)
    return replace(person, klantcontacten=tuple(contacts))


def _is_expired(doc: Reisdocument, today: date) -> bool:
    return doc.inhouding_of_vermissing is None and doc.datum_einde_geldigheid < today


def _pick(rng: random.Random, pool: list[Person], used: set[str], ok: Callable[[Person], bool]) -> Person:
    choices = [p for p in pool if p.bsn not in used and ok(p)] or [p for p in pool if p.bsn not in used]
    chosen = rng.choice(choices)
    used.add(chosen.bsn)
    return chosen


def build_world(
    seed: int = 2026, persons: int = 200, companies: int = 30, *, reference_date: date = REFERENCE_DATE
) -> World:
    """Build the fictitious world: the same arguments always give the same world."""
    if persons < 5:
        raise ValueError("persons must be at least 5")
    if companies < len(KVK_TEST_NUMBERS):
        raise ValueError(f"companies must be at least {len(KVK_TEST_NUMBERS)}")
    core = min(persons, CORE_PERSONS)
    builder = _Builder(seed, core, reference_date)
    builder.household(force_family=True)  # 999993653 heads a family
    while len(builder.drafts) < core:
        builder.household()
    rng = builder.rng
    zaaktypen = _build_zaaktypen()
    person_zaaktypen = zaaktypen[:_PERSON_ZAAKTYPEN]
    actoren = _build_actoren()
    producttypen = _build_producttypen()
    drafts = builder.drafts
    candidates = [d.bsn for d in drafts if d.bsn not in README_BSNS]
    shielded_bsn = rng.choice(candidates)
    no_partij_bsn = rng.choice(
        [
            d.bsn
            for d in drafts
            if d.bsn in candidates and d.bsn != shielded_bsn and _is_adult(d, reference_date)
        ]
    )
    marks = {"shielded_bsn": shielded_bsn, "no_partij_bsn": no_partij_bsn}
    result = [
        _freeze(builder, d, person_zaaktypen, actoren, **marks, partij_nummer=i + 1)
        for i, d in enumerate(drafts)
    ]
    if persons > core:  # the extension has its own random stream: the core never changes
        builder.rng = random.Random(f"{seed}/extension")
        builder.count = persons
        while len(builder.drafts) < persons:
            builder.household()
        result.extend(
            _freeze(builder, d, person_zaaktypen, actoren, **marks, partij_nummer=core + i + 1)
            for i, d in enumerate(builder.drafts[core:])
        )
    # special cases, preferably among the extension persons so the core stays as it was
    today = reference_date
    special_rng = random.Random(f"{seed}/special")
    pool = [p for p in (result[core:] or result) if p.bsn not in README_BSNS and p.bsn not in marks.values()]
    used: set[str] = set()
    deceased = _pick(special_rng, pool, used, lambda p: (today - p.geboortedatum).days > 70 * 365)
    mover = _pick(special_rng, pool, used, lambda p: p.partij_uuid is not None and not p.kinderen_bsns)
    repeat = _pick(special_rng, pool, used, lambda p: p.partij_uuid is not None and bool(p.emailadressen))
    moved_on = today - timedelta(days=12)
    by_bsn = {p.bsn: i for i, p in enumerate(result)}
    for bsn in {mover.bsn, *(b for b in (mover.partner_bsn,) if b and b not in used)}:
        result[by_bsn[bsn]] = replace(result[by_bsn[bsn]], datum_inschrijving_in_gemeente=moved_on)
    result[by_bsn[deceased.bsn]] = replace(deceased, overlijdensdatum=today - timedelta(days=40))
    result[by_bsn[repeat.bsn]] = _repeat_contacts(builder, result[by_bsn[repeat.bsn]])
    documents = _Documents(seed, today)
    result = [
        replace(
            p,
            reisdocumenten=documents.of(p),
            producten=_person_products(seed, p, producttypen, today),
        )
        for p in result
    ]
    owner = result[by_bsn[README_BSNS[1]]]
    company_list = _build_companies(
        builder, companies, owner, zaaktypen, actoren, producttypen, first_partij_nummer=len(result) + 1
    )
    vereniging = next((c.kvk_nummer for c in company_list if not c.vestigingen), "")
    # a document that ran out before "today" and was never withdrawn, of an ordinary person
    expired_holder = next(
        p
        for p in result[core:] or result
        if p.bsn not in README_BSNS
        and p.bsn not in (shielded_bsn, deceased.bsn)
        and any(_is_expired(d, today) for d in p.reisdocumenten)
    )
    special = {
        "passport_expires_soon": README_BSNS[0],
        "lost_document": README_BSNS[0],
        "recent_move": mover.bsn,
        "deceased": deceased.bsn,
        "repeat_contacts": repeat.bsn,
        "shielded": shielded_bsn,
        "no_partij": no_partij_bsn,
        "open_fine": _BELASTINGEN_FEATURED_BSN,
        "overdue_tax_with_arrangement": _BELASTINGEN_FEATURED_BSN,
        "two_branches": KVK_TEST_NUMBERS[1],
        "eenmanszaak": KVK_TEST_NUMBERS[0],
        "eenmanszaak_owner": owner.bsn,
        "stichting": KVK_TEST_NUMBERS[2],
        "vereniging_zonder_vestiging": vereniging,
        "valid_document": README_BSNS[1],
        "expired_document": expired_holder.bsn,
    }
    return World(
        seed=seed,
        reference_date=reference_date,
        persons=tuple(result),
        zaaktypen=zaaktypen,
        actoren=actoren,
        shielded_bsn=shielded_bsn,
        no_partij_bsn=no_partij_bsn,
        companies=company_list,
        producttypen=producttypen,
        special=special,
    )
