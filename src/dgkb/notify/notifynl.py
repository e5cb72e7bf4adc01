"""The notification port over the GOV.UK Notify API that NotifyNL serves, with the maintained
`notifications-python-client`.

The client is synchronous (requests), so every call runs in a worker thread (`asyncio.to_thread`),
with a connect and read timeout of `DGKB_NOTIFY_TIMEOUT_SECONDS` on the socket and an overall
deadline around the thread; a fresh client per call, because the client is not thread-safe.

**Idempotency.** GOV.UK Notify (and NotifyNL, its fork) does *not* deduplicate: `reference` is
stored as the notification's `client_reference` and can be listed and filtered on, but a second
POST with the same reference is a second message (notifications-api
`app/v2/notifications/post_notifications.py` persists every request under a new id). So this port
deduplicates itself: before sending it lists the service's notifications with that reference
(`GET /v2/notifications?reference=…`) and returns the existing notification's id when there is one
for the same channel, template and recipient (a reference used for another message is a
NotifyRejected). A per-reference lock makes concurrent sends in one process one message. Left open:
two DGKB nodes sending the same reference at the very same moment can both find nothing; callers
that need more (the confirmation flow) keep their own state in the database. Notify lists
notifications for its data retention period (7 days by default), so a retry must come within that.

**Personal data.** Phone numbers and e-mail addresses never reach DGKB's logs or exception messages:
DGKB logs the reference, the notification id and Notify's error *types*; the client's own warning
(which repeats Notify's error message) is silenced.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Callable
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from dgkb.notify.config import NotifyConfig, notify_config
from dgkb.notify.port import (
    Notifier,
    NotifyError,
    NotifyRejected,
    NotifyTemplates,
    NotifyUnavailable,
    Personalisation,
)
from dgkb.settings import Settings

__all__ = ["DisabledNotifier", "NotifyNLNotifier", "build_notifier"]

log = logging.getLogger("dgkb.notify")
# notifications_python_client.base logs each failed request with Notify's error message; DGKB logs
# its own line without it (see NotifyNLNotifier._failure).
logging.getLogger("notifications_python_client").setLevel(logging.ERROR)

MAX_REFERENCE_LENGTH = 1000  # Notify's schema: reference maxLength 1000
_MISSING = re.compile(r"Missing personalisation:\s*(?P<fields>[^.]*)", re.IGNORECASE)


def _phone_key(phone: str) -> str:
    """A Dutch phone number in one form (316xxxxxxxx), for comparing recipients only."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0031"):
        return digits[2:]
    if digits.startswith("0"):
        return "31" + digits[1:]
    return digits


def _same_recipient(kind: str, given: str, stored: Any) -> bool:
    if not isinstance(stored, str):
        return False
    if kind == "sms":
        return _phone_key(given) == _phone_key(stored)
    return given.strip().lower() == stored.strip().lower()


def _errors(response: Any) -> list[tuple[str, str]]:
    """(error type, message) of a Notify error body `{"status_code": …, "errors": [{…}]}`."""
    try:
        body = response.json()
    except ValueError:
        return []
    found = []
    for item in body.get("errors", []) if isinstance(body, dict) else []:
        if isinstance(item, dict):
            found.append((str(item.get("error", "")), str(item.get("message", ""))))
    return found


def _rejection(errors: list[tuple[str, str]]) -> NotifyRejected:
    """A 400 from Notify as a NotifyRejected with a Dutch message (no recipient in it)."""
    text = " | ".join(message for _, message in errors)
    lowered = text.lower()
    if (missing := _MISSING.search(text)) is not None:
        fields = missing.group("fields").strip()
        return NotifyRejected(
            f"Het NotifyNL-sjabloon mist gegevens: {fields}.", reason="personalisatie", status_code=400
        )
    if "template" in lowered:
        return NotifyRejected(
            "NotifyNL kent dit sjabloon niet, of het past niet bij sms of e-mail; "
            "controleer de sjabloon-id's (DGKB_NOTIFY_TEMPLATE_…).",
            reason="sjabloon",
            status_code=400,
        )
    if "phone_number" in lowered or "mobile" in lowered:
        return NotifyRejected(
            "NotifyNL weigert het telefoonnummer: dit is geen geldig Nederlands mobiel nummer.",
            reason="telefoonnummer",
            status_code=400,
        )
    if "email_address" in lowered or "email address" in lowered:
        return NotifyRejected(
            "NotifyNL weigert het e-mailadres: dit is geen geldig e-mailadres.",
            reason="e-mailadres",
            status_code=400,
        )
    if "too long" in lowered:
        return NotifyRejected("Het bericht is te lang voor NotifyNL.", reason="lengte", status_code=400)
    if "recipient" in lowered:
        return NotifyRejected(
            "NotifyNL mag niet naar deze ontvanger sturen (proefmodus of teamsleutel).",
            reason="ontvanger",
            status_code=400,
        )
    return NotifyRejected("NotifyNL weigerde het bericht.", reason="overig", status_code=400)


def _is_timeout(exc: BaseException | None) -> bool:
    return exc is not None and any(cls.__name__ == "Timeout" for cls in type(exc).__mro__)


class NotifyNLNotifier:
    """`Notifier` over the GOV.UK Notify v2 API (NotifyNL, or the simulator of it)."""

    def __init__(self, config: NotifyConfig) -> None:
        if not config.enabled:
            raise ValueError("NotifyNLNotifier needs a base URL")
        self._config = config
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def templates(self) -> NotifyTemplates:
        return self._config.templates

    @property
    def base_url(self) -> str:
        return self._config.base_url

    async def send_sms(
        self, phone: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        return await self._send("sms", phone, template_id, personalisation, reference)

    async def send_email(
        self, email: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        return await self._send("email", email, template_id, personalisation, reference)

    async def _send(
        self, kind: str, recipient: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        if not reference or len(reference) > MAX_REFERENCE_LENGTH:
            raise ValueError(f"reference must be 1..{MAX_REFERENCE_LENGTH} characters")
        lock = self._locks.get(reference)
        if lock is None:
            lock = self._locks[reference] = asyncio.Lock()
        async with lock:
            existing = await self._existing(kind, recipient, template_id, reference)
            if existing is not None:
                log.info(
                    "NotifyNL: %s met referentie %s bestaat al (%s); niet opnieuw verstuurd",
                    kind,
                    reference,
                    existing,
                )
                return existing
            values = dict(personalisation)

            def post(client: Any) -> Any:
                if kind == "sms":
                    return client.send_sms_notification(
                        phone_number=recipient,
                        template_id=template_id,
                        personalisation=values,
                        reference=reference,
                    )
                return client.send_email_notification(
                    email_address=recipient,
                    template_id=template_id,
                    personalisation=values,
                    reference=reference,
                )

            answer = await self._call(post, f"{kind} versturen", reference)
            notification_id = answer.get("id") if isinstance(answer, dict) else None
            if not isinstance(notification_id, str) or not notification_id:
                raise NotifyUnavailable("NotifyNL gaf een onverwacht antwoord (geen notificatie-id).")
            log.info(
                "NotifyNL: %s verstuurd, referentie %s, notificatie %s", kind, reference, notification_id
            )
            return notification_id

    async def _existing(self, kind: str, recipient: str, template_id: str, reference: str) -> str | None:
        """The id of the notification already sent under `reference`, if any."""
        answer = await self._call(
            lambda client: client.get_all_notifications(reference=reference), "referentie opzoeken", reference
        )
        notifications = answer.get("notifications") if isinstance(answer, dict) else None
        if not isinstance(notifications, list):
            raise NotifyUnavailable("NotifyNL gaf een onverwacht antwoord op het opzoeken van de referentie.")
        for found in notifications:
            if not isinstance(found, dict) or found.get("reference") != reference:
                continue
            template = found.get("template")
            same = (
                found.get("type") == kind
                and isinstance(template, dict)
                and template.get("id") == template_id
                and _same_recipient(
                    kind, recipient, found.get("phone_number" if kind == "sms" else "email_address")
                )
            )
            if not same or not isinstance(found.get("id"), str):
                log.warning("NotifyNL: referentie %s is al gebruikt voor een ander bericht", reference)
                raise NotifyRejected(
                    "Deze referentie is al gebruikt voor een ander bericht; gebruik een nieuwe referentie.",
                    reason="referentie",
                )
            return str(found["id"])
        return None

    async def _call(self, request: Callable[[Any], Any], action: str, reference: str) -> Any:
        """Run one client call in a worker thread, within the deadline; errors as the port's."""
        config = self._config

        def blocking() -> Any:
            factory: Any = NotificationsAPIClient  # untyped library
            client = factory(
                config.api_key, base_url=config.base_url, timeout=(config.timeout, config.timeout)
            )
            try:
                return request(client)
            finally:
                client.request_session.close()

        try:
            return await asyncio.wait_for(asyncio.to_thread(blocking), timeout=2 * config.timeout + 1)
        except TimeoutError:
            log.warning("NotifyNL: %s duurde te lang (referentie %s)", action, reference)
            raise NotifyUnavailable(
                "NotifyNL reageerde niet op tijd; probeer het later opnieuw.", reason="onbereikbaar"
            ) from None
        except APIError as exc:
            raise self._failure(exc, action, reference) from None

    @staticmethod
    def _failure(exc: APIError, action: str, reference: str) -> NotifyError:
        response = exc.response
        if response is None:  # no answer at all: refused, DNS, timeout
            timeout = _is_timeout(exc.__cause__)
            log.warning(
                "NotifyNL: %s mislukt (referentie %s): %s",
                action,
                reference,
                "time-out" if timeout else "niet bereikbaar",
            )
            return NotifyUnavailable(
                "NotifyNL reageerde niet op tijd; probeer het later opnieuw."
                if timeout
                else "NotifyNL is niet bereikbaar; probeer het later opnieuw.",
                reason="onbereikbaar",
            )
        status = exc.status_code
        errors = _errors(response)
        log.warning(
            "NotifyNL: %s mislukt (referentie %s): HTTP %s %s",
            action,
            reference,
            status,
            ", ".join(sorted({kind for kind, _ in errors})) or "-",
        )
        if status == 400:
            return _rejection(errors)
        if status in (401, 403):
            return NotifyUnavailable(
                "NotifyNL weigert de toegang van DGKB; controleer DGKB_NOTIFY_API_KEY en de systeemklok.",
                reason="toegang",
                status_code=status,
            )
        if status == 429:
            return NotifyUnavailable(
                "NotifyNL: te veel berichten tegelijk; probeer het later opnieuw.",
                reason="limiet",
                status_code=status,
            )
        return NotifyUnavailable(
            f"NotifyNL is niet beschikbaar (HTTP {status}); probeer het later opnieuw.",
            reason="storing",
            status_code=status,
        )


class DisabledNotifier:
    """No message service configured (production without DGKB_NOTIFY_BASE_URL): every send is a
    NotifyUnavailable, so callers fall back (e.g. to the code read out by the agent)."""

    templates = NotifyTemplates()

    async def send_sms(
        self, phone: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        raise self._unavailable()

    async def send_email(
        self, email: str, template_id: str, personalisation: Personalisation, reference: str
    ) -> str:
        raise self._unavailable()

    @staticmethod
    def _unavailable() -> NotifyUnavailable:
        return NotifyUnavailable(
            "Berichten versturen is niet ingesteld (DGKB_NOTIFY_BASE_URL).", reason="niet-ingesteld"
        )


def build_notifier(settings: Settings) -> Notifier:
    """The notifier the settings ask for (see dgkb.notify.config)."""
    config = notify_config(settings)
    if not config.enabled:
        return DisabledNotifier()
    return NotifyNLNotifier(config)
