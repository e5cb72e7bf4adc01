"""The world's data model: frozen dataclasses for persons, companies and what the sources know of them
(zaken, klantcontacten, interne taken, travel documents, products), and the `World` that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


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
            "expired_document": [d for d in docs if is_expired(d, today)],
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


def is_expired(doc: Reisdocument, today: date) -> bool:
    """Ran out before `today` without being withdrawn (no inhouding or vermissing)."""
    return doc.inhouding_of_vermissing is None and doc.datum_einde_geldigheid < today
