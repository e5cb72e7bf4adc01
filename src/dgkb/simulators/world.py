"""One coherent, deterministic, fictitious world shared by all simulators.

The same seed always gives the same persons, families, zaken, klantcontacten and interne taken, so a
BSN in the BRP simulator is the initiator of the zaken in the Zaken simulator and the partij in the
Klantinteracties simulator, under the same name. Every BSN is a test BSN (999…) passing the 11-proef.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from dgkb.domain.identifiers import passes_elfproef

__all__ = [
    "README_BSNS",
    "REFERENCE_DATE",
    "Actor",
    "Address",
    "DigitaalAdres",
    "InterneTaak",
    "Klantcontact",
    "Person",
    "Resultaattype",
    "Statustype",
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
    initiator_bsn: str
    rol_uuid: str

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
class World:
    seed: int
    reference_date: date
    persons: tuple[Person, ...]
    zaaktypen: tuple[Zaaktype, ...]
    actoren: tuple[Actor, ...]
    shielded_bsn: str
    no_partij_bsn: str
    _by_bsn: dict[str, Person] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_bsn.update({p.bsn: p for p in self.persons})

    def person(self, bsn: str) -> Person | None:
        """The person with this BSN, or None when the world does not know it."""
        return self._by_bsn.get(bsn)

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
)
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


def build_world(seed: int = 2026, persons: int = 40, *, reference_date: date = REFERENCE_DATE) -> World:
    """Build the fictitious world: the same arguments always give the same world."""
    if persons < 5:
        raise ValueError("persons must be at least 5")
    builder = _Builder(seed, persons, reference_date)
    builder.household(force_family=True)  # 999993653 heads a family
    while len(builder.drafts) < persons:
        builder.household()
    rng = builder.rng
    zaaktypen = _build_zaaktypen()
    actoren = _build_actoren()
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
    result: list[Person] = []
    for d in drafts:
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
                        _uuid("digitaaladres", d.bsn, "email"), f"{email_user}@example.nl", "email", "Privé"
                    ),
                )
            if main or rng.random() < 0.7:
                phones = (
                    DigitaalAdres(
                        _uuid("digitaaladres", d.bsn, "telefoon"),
                        f"06{rng.randrange(10000000, 99999999)}",
                        "telefoonnummer",
                        "Mobiel",
                    ),
                )
            contacts, taken = builder.contacten(
                d.bsn, zaken, actoren, n=3 if main else rng.randrange(0, 6), open_taak=main
            )
        kanalen = [k for k, has in (("e-mail", emails), ("telefoon", phones)) if has] or ["post"]
        result.append(
            Person(
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
                partij_nummer=f"{len(result) + 1:010d}" if has_partij else None,
                zaken=zaken,
                klantcontacten=contacts,
                interne_taken=taken,
            )
        )
    return World(
        seed=seed,
        reference_date=reference_date,
        persons=tuple(result),
        zaaktypen=zaaktypen,
        actoren=actoren,
        shielded_bsn=shielded_bsn,
        no_partij_bsn=no_partij_bsn,
    )
