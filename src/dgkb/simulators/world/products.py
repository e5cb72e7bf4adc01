"""Products (Open Producten: permits, subsidies, passes) of persons and companies, each owner from a
random stream of its own."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from dgkb.simulators.world.catalogue import PRODUCT_YEARS
from dgkb.simulators.world.constants import README_BSNS
from dgkb.simulators.world.draws import add_years, random_date, stable_uuid
from dgkb.simulators.world.model import Person, Product, ProductType


def _product(
    rng: random.Random,
    producttype: ProductType,
    today: date,
    owner: tuple[str | None, str | None],
    seq: str,
) -> Product:
    years = PRODUCT_YEARS[producttype.code]
    # mostly still running: started within the validity period (plus half a year)
    start = random_date(rng, today - timedelta(days=years * 365 + 180), today - timedelta(days=7))
    roll = rng.random()
    status: str
    eind: date | None = add_years(start, years)
    if roll < 0.07:
        status, start_datum, eind = "gereed", None, None  # granted, not yet started
    elif roll < 0.12 and "geweigerd" in producttype.toegestane_statussen:
        status, start_datum, eind = "geweigerd", None, None
    elif roll < 0.16 and "ingetrokken" in producttype.toegestane_statussen:
        status, start_datum = "ingetrokken", start
        eind = random_date(rng, start, today)
    else:
        start_datum = start
        status = "actief" if eind is None or eind > today else "verlopen"
    created = datetime.combine(start - timedelta(days=rng.randrange(3, 40)), time(10, 0), tzinfo=UTC)
    return Product(
        uuid=stable_uuid("product", seq, producttype.code),
        producttype=producttype,
        eigenaar_bsn=owner[0],
        eigenaar_kvk=owner[1],
        status=status,
        start_datum=start_datum,
        eind_datum=eind,
        aanmaak_datum=created,
        update_datum=created + timedelta(days=rng.randrange(0, 30)),
    )


def person_products(
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
                stable_uuid("product", person.bsn, code),
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


def company_products(
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
