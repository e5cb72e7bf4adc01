"""The outbound notification port: what DGKB asks of a message service, and how that can fail.

A `Notifier` sends one text message or e-mail from a template of the message service, with the
template's placeholders filled from `personalisation`, and returns the service's notification id.
`reference` is DGKB's own identifier of that one message (e.g. `bevestig-<confirmation id>`): sending
again with the same reference returns the first message's id instead of sending twice.

Failures are one of two kinds, so a caller can decide without knowing the message service:

- `NotifyRejected`: the service refused *this* message (no valid Dutch mobile number, no valid
  e-mail address, unknown template, a placeholder without a value, a reference already used for
  another message). Sending it again will fail again; the caller picks another way (e.g. the code
  shown at a short URL).
- `NotifyUnavailable`: the service could not be asked (down, slow, rate limited, refusing DGKB's key,
  not configured). The same message may succeed later under the same reference.

Messages are Dutch (they reach the console); they never contain a phone number or e-mail address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "MessageKind",
    "Notifier",
    "NotifyError",
    "NotifyRejected",
    "NotifyTemplates",
    "NotifyUnavailable",
]

# What personalisation may hold: Notify renders str/int/float as text (lists as bullets in e-mail;
# DGKB does not use those).
Personalisation = Mapping[str, str | int | float]


class NotifyError(Exception):
    """Base of the port's errors; `message` is Dutch and free of personal data."""

    def __init__(self, message: str, *, reason: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status_code = status_code


class NotifyUnavailable(NotifyError):
    """The message service could not be asked now; trying again later (same reference) may work."""


class NotifyRejected(NotifyError):
    """The message service refused this message; `reason` says why (`telefoonnummer`, `e-mailadres`,
    `sjabloon`, `personalisatie`, `referentie`, `lengte`, `overig`)."""


class MessageKind:
    """The message kinds DGKB sends, each with one template per channel (settings
    `DGKB_NOTIFY_TEMPLATE_<KIND>_SMS` / `…_EMAIL`)."""

    BEVESTIG_SMS = "bevestig_sms"  # "bevestig met DigiD": link and code during a call
    BEVESTIG_EMAIL = "bevestig_email"
    VERIFICATIE_SMS = "verificatie_sms"  # Mijn profiel: the code that proves a new number is theirs
    VERIFICATIE_EMAIL = "verificatie_email"
    BERICHT_SMS = "bericht_sms"  # Mijn berichten: "U heeft een nieuw bericht in Mijn omgeving"
    BERICHT_EMAIL = "bericht_email"

    ALL = (BEVESTIG_SMS, BEVESTIG_EMAIL, VERIFICATIE_SMS, VERIFICATIE_EMAIL, BERICHT_SMS, BERICHT_EMAIL)


@dataclass(frozen=True, slots=True)
class NotifyTemplates:
    """Template id per message kind (`MessageKind`); None = not configured."""

    bevestig_sms: str | None = None
    bevestig_email: str | None = None
    verificatie_sms: str | None = None
    verificatie_email: str | None = None
    bericht_sms: str | None = None
    bericht_email: str | None = None

    def get(self, kind: str) -> str:
        """The template id for `kind`; NotifyUnavailable naming the setting when it is not set."""
        if kind not in MessageKind.ALL:
            raise ValueError(f"unknown message kind {kind!r}")
        template_id: str | None = getattr(self, kind)
        if not template_id:
            raise NotifyUnavailable(
                f"Er is geen NotifyNL-sjabloon ingesteld voor '{kind}' "
                f"(DGKB_NOTIFY_TEMPLATE_{kind.upper()}).",
                reason="niet-ingesteld",
            )
        return template_id


@runtime_checkable
class Notifier(Protocol):
    """Sends messages through a message service (NotifyNL, or a simulator of it)."""

    @property
    def templates(self) -> NotifyTemplates:
        """The configured template per message kind."""
        ...

    async def send_sms(
        self, phone: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        """Send a text message to `phone` (a Dutch mobile number); the notification id."""
        ...

    async def send_email(
        self, email: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        """Send an e-mail to `email`; the notification id."""
        ...
