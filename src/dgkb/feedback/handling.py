"""Who may handle a complaint or report, and the Awb chapter 9 terms — decided from the register only.

The one place that decides whether an actor may move a klacht or melding on: the register names the
organisation's handling purpose per kind (`afhandeling.soorten`) and its roles. No role is written
down here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dgkb.domain.context import Actor
from dgkb.domain.errors import DomainError
from dgkb.domain.register import FEEDBACK_CATEGORY, Register, Verwerkingsactiviteit
from dgkb.policy.decision import ReasonCode
from dgkb.policy.explanations import ROLE_LABELS

# Awb 9:11 lid 1: six weeks after receipt, ten with an external complaints committee (afd. 9.3);
# lid 2: extendable once by at most four weeks, with written notice to the complainant.
TERM_WEEKS = 6
TERM_WEEKS_COMMITTEE = 10
MAX_EXTENSION_WEEKS = 4
NO_HANDLING_PURPOSE = "NO_HANDLING_PURPOSE"

# Dates in letters and terms are Dutch calendar dates.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
# Awb 9:12 asks a written reply: the preferred channel when it is written, else a letter.
WRITTEN_CHANNELS = frozenset({"e-mail", "brief"})

_KIND_LABEL = {"klacht": "klachten", "melding": "meldingen"}


class HandlingRefused(DomainError):
    """403 with a stable `reden`: this actor may not handle this complaint or report."""

    code = "feedback.handling_refused"
    status = 403

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def decide_handling(
    register: Register, actor: Actor, *, soort: str, organisation: str
) -> Verwerkingsactiviteit:
    """The handling purpose under which `actor` may change an item of `organisation`, or refuse.

    Permitted only when the item belongs to the actor's organisation, that organisation's register
    has a handling purpose for this kind, and the actor's role is one of that purpose's roles (for the
    category of this kind)."""
    if organisation != actor.organisation:
        raise HandlingRefused(
            "Deze melding of klacht hoort bij een andere organisatie.",
            reason=ReasonCode.ORGANISATION_MISMATCH.value,
        )
    purpose = register.handling_purpose(actor.organisation, soort)
    if purpose is None or purpose.organisatie.oin != actor.organisation:
        raise HandlingRefused(
            f"Het register van uw organisatie noemt geen doel voor het afhandelen van {_KIND_LABEL[soort]}.",
            reason=NO_HANDLING_PURPOSE,
        )
    allowed = purpose.roles_for(FEEDBACK_CATEGORY[soort])
    if actor.role not in allowed:
        names = ", ".join(ROLE_LABELS[r] for r in allowed)
        raise HandlingRefused(
            f"Het afhandelen van {_KIND_LABEL[soort]} ({purpose.naam}) is voorbehouden aan: {names}.",
            reason=ReasonCode.ROLE_NOT_ALLOWED.value,
        )
    return purpose


def term_weeks(register: Register, organisation: str) -> int:
    """The statutory term for a new complaint of this organisation (Awb 9:11 lid 1)."""
    purpose = register.handling_purpose(organisation, "klacht")
    committee = (
        purpose is not None and purpose.afhandeling is not None and purpose.afhandeling.klachtadviescommissie
    )
    return TERM_WEEKS_COMMITTEE if committee else TERM_WEEKS


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def deadline(received: datetime, weeks: int, extension_weeks: int | None) -> date:
    """Uiterlijke afhandeldatum: the receipt's calendar date plus the term and any extension."""
    return local_date(received) + timedelta(weeks=weeks + (extension_weeks or 0))


def exceeded(due: date, *, closed_at: datetime | None, now: datetime) -> bool:
    """Handled (or still open) after the last day of the term."""
    return local_date(closed_at or now) > due


def reply_channel(preferred: str | None, received_by: str | None) -> str:
    """The channel of a written message to the customer: preferred if written, else the written
    channel the item came in by, else a letter."""
    for channel in (preferred, received_by):
        if channel in WRITTEN_CHANNELS:
            return channel
    return "brief"
