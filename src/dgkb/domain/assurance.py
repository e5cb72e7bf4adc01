"""Identity assurance levels of the data subject, ordered, for DigiD and eHerkenning alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dgkb.domain.representation import Vertegenwoordiging


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


class IdentificationMethod(StrEnum):
    """How the identity of a contact's subject was established (kept with the identification).

    An agent attests only what an agent checks (`geen`, `controlevragen`; `document` at the counter);
    `digid` and `eherkenning` come only from a verified assertion of the organisation's broker."""

    GEEN = "geen"
    CONTROLEVRAGEN = "controlevragen"
    DOCUMENT = "document"
    DIGID = "digid"
    EHERKENNING = "eherkenning"

    @property
    def needs_assertion(self) -> bool:
        return self in (IdentificationMethod.DIGID, IdentificationMethod.EHERKENNING)


# Levels an employee may record by their own attestation; every other level needs evidence.
AGENT_ATTESTABLE: frozenset[Assurance] = frozenset({Assurance.GEEN, Assurance.CONTROLEVRAGEN})


def login_method(assurance: Assurance) -> IdentificationMethod | None:
    """The login that a DigiD or eHerkenning level can only come from; None for the other levels."""
    if assurance.value.startswith("digid-"):
        return IdentificationMethod.DIGID
    if assurance.value.startswith("eherkenning-"):
        return IdentificationMethod.EHERKENNING
    return None


@dataclass(frozen=True, slots=True)
class IdentificationEvidence:
    """How identity was established, kept with the identification and shown in its log record:
    the method and, for a login, the broker (`issuer`), its `acr` and when the customer logged in."""

    method: IdentificationMethod
    issuer: str | None = None
    acr: str | None = None
    authenticated_at: datetime | None = None
    # someone logged in for the subject (dgkb.domain.representation), named in the log record
    representation: Vertegenwoordiging | None = None

    def describe(self, assurance: Assurance) -> str:
        """Dutch, for the log: 'DigiD midden via https://broker…, acr …' or 'controlevragen'."""
        if not self.method.needs_assertion:
            return self.method.value
        text = f"{assurance.label} via {self.issuer}"
        if self.acr:
            text += f", acr {self.acr}"
        if self.authenticated_at is not None:
            text += f", ingelogd {self.authenticated_at:%Y-%m-%dT%H:%M:%SZ}"
        if self.representation is not None:
            text += f", namens de klant door een {self.representation.label}"
        return text
