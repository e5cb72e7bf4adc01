"""`build_world`: the core persons household by household, the extension persons from their own random
stream, the special cases, then documents, products and companies."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from dgkb.simulators.world.catalogue import (
    PERSON_ZAAKTYPEN,
    build_actoren,
    build_producttypen,
    build_zaaktypen,
)
from dgkb.simulators.world.companies import build_companies
from dgkb.simulators.world.constants import (
    BELASTINGEN_FEATURED_BSN,
    CORE_PERSONS,
    KVK_TEST_NUMBERS,
    README_BSNS,
    REFERENCE_DATE,
)
from dgkb.simulators.world.documents import Documents
from dgkb.simulators.world.households import Builder, is_adult
from dgkb.simulators.world.model import Person, World, is_expired
from dgkb.simulators.world.persons import freeze_person
from dgkb.simulators.world.products import person_products
from dgkb.simulators.world.zaken import repeat_contacts


def _pick(rng: random.Random, pool: list[Person], used: set[str], ok: Callable[[Person], bool]) -> Person:
    """A person of `pool` not used yet, one for whom `ok` holds when there is one."""
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
    builder = Builder(seed, core, reference_date)
    builder.household(force_family=True)  # 999993653 heads a family
    while len(builder.drafts) < core:
        builder.household()
    rng = builder.rng
    zaaktypen = build_zaaktypen()
    person_zaaktypen = zaaktypen[:PERSON_ZAAKTYPEN]
    actoren = build_actoren()
    producttypen = build_producttypen()
    drafts = builder.drafts
    candidates = [d.bsn for d in drafts if d.bsn not in README_BSNS]
    shielded_bsn = rng.choice(candidates)
    no_partij_bsn = rng.choice(
        [
            d.bsn
            for d in drafts
            if d.bsn in candidates and d.bsn != shielded_bsn and is_adult(d, reference_date)
        ]
    )
    marks = {"shielded_bsn": shielded_bsn, "no_partij_bsn": no_partij_bsn}
    result = [
        freeze_person(builder, d, person_zaaktypen, actoren, **marks, partij_nummer=i + 1)
        for i, d in enumerate(drafts)
    ]
    if persons > core:  # the extension has its own random stream: the core never changes
        builder.rng = random.Random(f"{seed}/extension")
        builder.count = persons
        while len(builder.drafts) < persons:
            builder.household()
        result.extend(
            freeze_person(builder, d, person_zaaktypen, actoren, **marks, partij_nummer=core + i + 1)
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
    result[by_bsn[repeat.bsn]] = repeat_contacts(builder, result[by_bsn[repeat.bsn]])
    documents = Documents(seed, today)
    result = [
        replace(
            p,
            reisdocumenten=documents.of(p),
            producten=person_products(seed, p, producttypen, today),
        )
        for p in result
    ]
    owner = result[by_bsn[README_BSNS[1]]]
    company_list = build_companies(
        builder, companies, owner, zaaktypen, actoren, producttypen, first_partij_nummer=len(result) + 1
    )
    vereniging = next((c.kvk_nummer for c in company_list if not c.vestigingen), "")
    # a document that ran out before "today" and was never withdrawn, of an ordinary person
    expired_holder = next(
        p
        for p in result[core:] or result
        if p.bsn not in README_BSNS
        and p.bsn not in (shielded_bsn, deceased.bsn)
        and any(is_expired(d, today) for d in p.reisdocumenten)
    )
    special = {
        "passport_expires_soon": README_BSNS[0],
        "lost_document": README_BSNS[0],
        "recent_move": mover.bsn,
        "deceased": deceased.bsn,
        "repeat_contacts": repeat.bsn,
        "shielded": shielded_bsn,
        "no_partij": no_partij_bsn,
        "open_fine": BELASTINGEN_FEATURED_BSN,
        "overdue_tax_with_arrangement": BELASTINGEN_FEATURED_BSN,
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
