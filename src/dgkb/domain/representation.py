"""Acting for someone else (vertegenwoordiging): a parent for a child, a bewindvoerder, curator or
mentor by court order, someone authorised through DigiD Machtigen, or a company's employee acting
for another company through an intermediary (eHerkenning ketenmachtiging).

The broker says who acts and for whom (NL GOV OIDC profile: the End-User in the top-level claims,
the represented party in the deepest nested `represents` claim); the register says per purpose which
kinds it accepts (`vertegenwoordiging`); the log records both (the represented party as the subject,
the representative by pseudonym in the actor id).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dgkb.domain.identifiers import Subject


class Vertegenwoordiging(StrEnum):
    OUDERLIJK_GEZAG = "ouderlijk-gezag"  # parent or guardian of a minor
    BEWIND = "bewind"  # beschermingsbewind: money matters, by court order
    CURATELE = "curatele"  # curator: money and personal matters, by court order
    MENTORSCHAP = "mentorschap"  # mentor: personal (care) matters, by court order
    VRIJWILLIG = "vrijwillig"  # a voluntary authorisation (DigiD Machtigen)
    KETENMACHTIGING = "ketenmachtiging"  # eHerkenning: for a company through an intermediary

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Vertegenwoordiging.OUDERLIJK_GEZAG: "ouder of voogd",
    Vertegenwoordiging.BEWIND: "bewindvoerder",
    Vertegenwoordiging.CURATELE: "curator",
    Vertegenwoordiging.MENTORSCHAP: "mentor",
    Vertegenwoordiging.VRIJWILLIG: "gemachtigde",
    Vertegenwoordiging.KETENMACHTIGING: "intermediair (ketenmachtiging)",
}


@dataclass(frozen=True, slots=True)
class Representation:
    """Who acts (the End-User of the login) for the subject, and on what ground."""

    kind: Vertegenwoordiging
    representative: Subject  # the person (DigiD) or the intermediary company (eHerkenning)
