"""Identity assurance levels of the data subject, ordered, for DigiD and eHerkenning alike."""

from __future__ import annotations

from enum import StrEnum


class Assurance(StrEnum):
    GEEN = "geen"
    CONTROLEVRAGEN = "controlevragen"
    DIGID_BASIS = "digid-basis"
    DIGID_MIDDEN = "digid-midden"
    DIGID_SUBSTANTIEEL = "digid-substantieel"
    DIGID_HOOG = "digid-hoog"
    EHERKENNING_EH1 = "eherkenning-eh1"
    EHERKENNING_EH2 = "eherkenning-eh2"
    EHERKENNING_EH2PLUS = "eherkenning-eh2+"
    EHERKENNING_EH3 = "eherkenning-eh3"
    EHERKENNING_EH4 = "eherkenning-eh4"

    @property
    def rank(self) -> int:
        """Position on one scale so DigiD and eHerkenning compare (eIDAS: basis≈EH2, midden≈EH2+,
        substantieel≈EH3, hoog≈EH4). Control questions rank as EH1: knowledge, no token."""
        return _RANK[self]

    def satisfies(self, minimum: Assurance) -> bool:
        return self.rank >= minimum.rank

    @property
    def label(self) -> str:
        return _LABEL[self]


_RANK: dict[Assurance, int] = {
    Assurance.GEEN: 0,
    Assurance.CONTROLEVRAGEN: 1,
    Assurance.EHERKENNING_EH1: 1,
    Assurance.DIGID_BASIS: 2,
    Assurance.EHERKENNING_EH2: 2,
    Assurance.DIGID_MIDDEN: 3,
    Assurance.EHERKENNING_EH2PLUS: 3,
    Assurance.DIGID_SUBSTANTIEEL: 4,
    Assurance.EHERKENNING_EH3: 4,
    Assurance.DIGID_HOOG: 5,
    Assurance.EHERKENNING_EH4: 5,
}

_LABEL: dict[Assurance, str] = {
    Assurance.GEEN: "geen identificatie",
    Assurance.CONTROLEVRAGEN: "controlevragen",
    Assurance.DIGID_BASIS: "DigiD basis",
    Assurance.DIGID_MIDDEN: "DigiD midden",
    Assurance.DIGID_SUBSTANTIEEL: "DigiD substantieel",
    Assurance.DIGID_HOOG: "DigiD hoog",
    Assurance.EHERKENNING_EH1: "eHerkenning EH1",
    Assurance.EHERKENNING_EH2: "eHerkenning EH2",
    Assurance.EHERKENNING_EH2PLUS: "eHerkenning EH2+",
    Assurance.EHERKENNING_EH3: "eHerkenning EH3",
    Assurance.EHERKENNING_EH4: "eHerkenning EH4",
}
