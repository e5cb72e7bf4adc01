"""The fixed types of the world: zaaktypen with their statustypen and resultaattypen, the actoren
(teams) interne taken are assigned to, and the producttypen."""

from __future__ import annotations

from dgkb.simulators.world.draws import stable_uuid
from dgkb.simulators.world.model import Actor, ProductType, Resultaattype, Statustype, Zaaktype

ZAAKTYPEN: tuple[tuple[str, str, int, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
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
PERSON_ZAAKTYPEN = 4
COMPANY_ZAAKTYPEN = ("PARKEERVERGUNNING", "MELDING-OR", "BEZWAAR-WOZ", "EXPLOITATIEVERGUNNING")
# code, naam, UPL naam, keywords (first = soort), allowed statuses, prijs, frequentie, business, years
PRODUCTTYPEN: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, str, bool, int], ...] = (
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
PRODUCT_YEARS: dict[str, int] = {t[0]: t[8] for t in PRODUCTTYPEN}


def build_zaaktypen() -> tuple[Zaaktype, ...]:
    """The zaaktypen of ZAAKTYPEN, with uuids derived from their identificatie."""
    result = []
    for ident, omschrijving, dagen, statussen, resultaten, _ in ZAAKTYPEN:
        statustypen = tuple(
            Statustype(stable_uuid("statustype", ident, i), i + 1, naam, i == len(statussen) - 1)
            for i, naam in enumerate(statussen)
        )
        resultaattypen = tuple(
            Resultaattype(stable_uuid("resultaattype", ident, naam), naam) for naam in resultaten
        )
        result.append(
            Zaaktype(stable_uuid("zaaktype", ident), ident, omschrijving, dagen, statustypen, resultaattypen)
        )
    return tuple(result)


def build_actoren() -> tuple[Actor, ...]:
    """The teams interne taken are assigned to."""
    namen = (
        ("Team Parkeren", "Behandelaar"),
        ("Klantcontactcentrum", "Klantcontactmedewerker"),
        ("Team Wmo", "Consulent"),
        ("Team Belastingen", "Medewerker bezwaar"),
    )
    return tuple(
        Actor(stable_uuid("actor", naam), naam, functie, f"010{i + 1:07d}")
        for i, (naam, functie) in enumerate(namen)
    )


def build_producttypen() -> tuple[ProductType, ...]:
    """The producttypen of PRODUCTTYPEN, with uuids derived from their code."""
    return tuple(
        ProductType(
            uuid=stable_uuid("producttype", code),
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
        for code, naam, upn, keywords, statussen, prijs, frequentie, bedrijf, _ in PRODUCTTYPEN
    )
