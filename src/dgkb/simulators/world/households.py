"""Persons drafted household by household: the builder holds the world's random stream and running
numbers (BSNs, zaak/contact/taak sequences); families are linked while the persons are still drafts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from dgkb.domain.identifiers import passes_elfproef
from dgkb.simulators.world.constants import GEMEENTE_CODE, GEMEENTE_NAAM, README_BSNS
from dgkb.simulators.world.draws import postcode, random_date
from dgkb.simulators.world.model import Address
from dgkb.simulators.world.names import ACHTERNAMEN, STRATEN, VOORNAMEN_M, VOORNAMEN_V


def bsn_candidate(rng: random.Random, taken: set[str]) -> str:
    while True:
        first = "999" + f"{rng.randrange(0, 100000):05d}"
        check = sum(int(d) * w for d, w in zip(first, range(9, 1, -1), strict=True)) % 11
        if check == 10:
            continue
        bsn = first + str(check)
        if bsn not in taken and passes_elfproef(bsn):
            taken.add(bsn)
            return bsn


@dataclass(slots=True)
class Draft:
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


class Builder:
    """The world's random stream and running numbers, and the persons drafted so far."""

    def __init__(self, seed: int, count: int, today: date) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.count = count
        self.today = today
        self.taken: set[str] = set(README_BSNS)
        self.readme = list(README_BSNS)
        self.drafts: list[Draft] = []
        self.zaak_seq = 0
        self.contact_seq = 0
        self.taak_seq = 0

    def next_bsn(self) -> str:
        return self.readme.pop(0) if self.readme else bsn_candidate(self.rng, self.taken)

    def address(self) -> Address:
        rng = self.rng
        code = postcode(rng)
        return Address(
            rng.choice(STRATEN), rng.randrange(1, 250), code, GEMEENTE_NAAM, GEMEENTE_CODE, GEMEENTE_NAAM
        )

    def draft(
        self, *, geslacht: str, born: date, address: Address, surname: tuple[str, str] | None = None
    ) -> Draft:
        rng = self.rng
        voornamen_pool = VOORNAMEN_V if geslacht == "V" else VOORNAMEN_M
        voornamen = " ".join(rng.sample(voornamen_pool, rng.choice((1, 1, 2))))
        voorvoegsel, geslachtsnaam = surname or rng.choice(ACHTERNAMEN)
        ingeschreven = random_date(rng, max(born, date(1995, 1, 1)), self.today - timedelta(days=30))
        d = Draft(
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
            random_date(rng, date(1958, 1, 1), date(1966, 12, 31))
            if force_family
            else random_date(rng, date(1955, 1, 1), date(1992, 12, 31))
        )
        first = self.draft(geslacht=first_geslacht, born=born, address=address)
        left -= 1
        adults = [first]
        if kind in ("stel", "gezin") and left >= 1:
            second_born = random_date(rng, born - timedelta(days=1500), born + timedelta(days=1500))
            second = self.draft(
                geslacht="M" if first_geslacht == "V" else "V", born=second_born, address=address
            )
            left -= 1
            sinds = random_date(
                rng,
                max(born, second_born) + timedelta(days=20 * 365),
                max(born, second_born) + timedelta(days=30 * 365),
            )
            first.partner_bsn, second.partner_bsn = second.bsn, first.bsn
            first.partner_sinds = second.partner_sinds = sinds
            adults.append(second)
        if kind in ("gezin", "eenouder") and left >= 1:
            for _ in range(min(left, rng.choice((1, 2, 2, 3)))):
                child_born = random_date(
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


def is_adult(d: Draft, today: date) -> bool:
    return (today - d.geboortedatum).days >= 18 * 365
