"""Travel documents (BRP Reisdocumenten) of the persons: passports and identity cards, some surrendered
at renewal or reported lost, each holder from a random stream of its own."""

from __future__ import annotations

import random
from datetime import date, timedelta

from dgkb.simulators.world.constants import README_BSNS
from dgkb.simulators.world.draws import add_years, random_date
from dgkb.simulators.world.model import Person, Reisdocument

_DOC_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DOC_CHARS = _DOC_LETTERS + "0123456789"
_SOORTEN = {"PN": "Nationaal paspoort", "NI": "Nederlandse identiteitskaart"}


class Documents:
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
            datum_einde_geldigheid=add_years(uitgifte, years),
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
            vorige = add_years(einde, -20)
            return (
                self._doc(rng, bsn, "PN", add_years(einde, -10), 10),
                self._doc(rng, bsn, "NI", today - timedelta(days=900), 10, "V", today - timedelta(days=200)),
                self._doc(rng, bsn, "PN", vorige, 10, "I", add_years(einde, -10)),
            )
        docs: list[Reisdocument] = []
        for soort, chance in (("PN", 0.75), ("NI", 0.5)):
            if rng.random() >= chance:
                continue
            uitgifte = random_date(rng, max(person.geboortedatum, today - timedelta(days=11 * 365)), today)
            minor = (uitgifte - person.geboortedatum).days < 18 * 365
            years = 5 if minor else 10
            roll = rng.random()
            if roll < 0.06:  # reported lost
                lost = random_date(rng, uitgifte, today)
                docs.append(self._doc(rng, bsn, soort, uitgifte, years, "V", lost))
                uitgifte = lost + timedelta(days=rng.randrange(5, 20))
                if uitgifte < today:
                    docs.append(self._doc(rng, bsn, soort, uitgifte, years))
            elif roll < 0.2 and uitgifte - timedelta(days=years * 365) > person.geboortedatum:
                previous = add_years(uitgifte, -years)  # the old one, surrendered at renewal
                docs.append(self._doc(rng, bsn, soort, previous, years, "I", uitgifte))
                docs.append(self._doc(rng, bsn, soort, uitgifte, years))
            else:
                docs.append(self._doc(rng, bsn, soort, uitgifte, years))
        return tuple(docs)
