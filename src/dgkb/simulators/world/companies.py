"""The companies of the Handelsregister: the KVK test numbers first, an eenmanszaak of a world person,
a business with two branches, a vereniging without vestiging; with their zaken, contacts and products.
They have a random stream of their own, so adding companies never changes a person."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from dgkb.domain.identifiers import passes_elfproef
from dgkb.simulators.world.catalogue import COMPANY_ZAAKTYPEN
from dgkb.simulators.world.constants import GEMEENTE_CODE, GEMEENTE_NAAM, KVK_TEST_NUMBERS
from dgkb.simulators.world.draws import postcode, random_date, slug, stable_uuid
from dgkb.simulators.world.households import Builder
from dgkb.simulators.world.model import (
    Actor,
    Address,
    Company,
    DigitaalAdres,
    Person,
    ProductType,
    SbiActiviteit,
    Vestiging,
    Zaaktype,
)
from dgkb.simulators.world.names import BEDRIJFSSTRATEN
from dgkb.simulators.world.products import company_products
from dgkb.simulators.world.zaken import draw_contacten, draw_zaken

# rechtsvorm -> (uitgebreide rechtsvorm, is rechtspersoon)
RECHTSVORMEN: dict[str, tuple[str, bool]] = {
    "Eenmanszaak": ("Eenmanszaak", False),
    "BV": ("Besloten Vennootschap", True),
    "VOF": ("Vennootschap onder firma", False),
    "Stichting": ("Stichting", True),
    "Vereniging": ("Vereniging met volledige rechtsbevoegdheid", True),
    "Coöperatie": ("Coöperatie", True),
}
SBI: dict[str, str] = {
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
BEDRIJVEN: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
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


def build_companies(
    builder: Builder,
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
    company_zaaktypen = tuple(z for z in zaaktypen if z.identificatie in COMPANY_ZAAKTYPEN)
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
    profiles = [owner_profile, *BEDRIJVEN]
    result: list[Company] = []
    for i in range(count):
        naam, rechtsvorm, sbi_codes, horeca = profiles[i % len(profiles)]
        if i >= len(profiles):
            naam = f"{naam} {i // len(profiles) + 1}"
        kvk = KVK_TEST_NUMBERS[i] if i < len(KVK_TEST_NUMBERS) else _kvk_nummer(rng, kvk_taken)
        uitgebreid, rechtspersoon = RECHTSVORMEN[rechtsvorm]
        is_owner_company = i == 0
        adres = (
            owner.address
            if is_owner_company
            else Address(
                rng.choice(BEDRIJFSSTRATEN),
                rng.randrange(1, 400),
                postcode(rng),
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
            for z in draw_zaken(
                builder,
                kvk,
                company_zaaktypen,
                adres,
                n=2 if i < 3 else rng.randrange(0, 4),
                open_first=i < 3,
            )
        )
        contacts, taken = draw_contacten(builder, kvk, zaken, actoren, n=rng.randrange(0, 4), open_taak=False)
        mailbox = slug(naam)[:20]
        result.append(
            Company(
                kvk_nummer=kvk,
                naam=naam,
                handelsnamen=handelsnamen,
                rechtsvorm=rechtsvorm,
                uitgebreide_rechtsvorm=uitgebreid,
                rsin=_rsin(rng) if rechtspersoon else None,
                formele_registratiedatum=random_date(rng, date(1985, 1, 1), today - timedelta(days=120)),
                sbi_activiteiten=tuple(
                    SbiActiviteit(code, SBI[code], n == 0) for n, code in enumerate(sbi_codes)
                ),
                vestigingen=tuple(vestigingen),
                adres=adres,
                eigenaar_bsn=owner.bsn if is_owner_company else None,
                partij_uuid=stable_uuid("partij", "kvk", kvk),
                partij_nummer=f"{first_partij_nummer + i:010d}",
                emailadressen=(
                    DigitaalAdres(
                        stable_uuid("digitaaladres", kvk, "email"),
                        f"info@{mailbox}.example.nl",
                        "email",
                        "Zakelijk",
                    ),
                ),
                telefoonnummers=(
                    DigitaalAdres(
                        stable_uuid("digitaaladres", kvk, "telefoon"),
                        f"010{rng.randrange(1000000, 9999999)}",
                        "telefoonnummer",
                        "Algemeen",
                    ),
                ),
                zaken=zaken,
                klantcontacten=contacts,
                interne_taken=taken,
                producten=company_products(seed, kvk, horeca, producttypen, today),
            )
        )
    return tuple(result)
