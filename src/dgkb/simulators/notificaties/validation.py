"""Validation of published messages and abonnementen as Open Notificaties does it (see the package
docstring for each deviation from the spec): errors as `invalidParams` entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dgkb.simulators.notificaties.state import NotificatiesStore, snake

MESSAGE_TEXT_FIELDS = (("kanaal", 50), ("resource", 100), ("actie", 100))
MESSAGE_URL_FIELDS = ("hoofdObject", "resourceUrl")
KENMERK_MAX_LENGTH = 1000


def param(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


def consistent(kanaal_filters: Sequence[str], names: Sequence[str]) -> bool:
    """`Kanaal.match_filter_names`: one set of names contains the other."""
    own, other = {snake(f) for f in kanaal_filters}, {snake(n) for n in names}
    return own <= other or own >= other


def kenmerk_errors(kenmerken: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The kenmerken as Django REST framework's DictField(child=CharField(allow_blank=True)) takes
    them: strings (empty too) and numbers (as strings); booleans, null and structures refused."""
    if kenmerken is None:
        return {}, []
    if not isinstance(kenmerken, dict):
        return {}, [param("kenmerken", "not_a_dict", "Verwachtte een dictionary van items.")]
    clean: dict[str, str] = {}
    errors = []
    for key, value in kenmerken.items():
        name = f"kenmerken.{key}"
        if value is None:
            errors.append(param(name, "null", "This field may not be null."))
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            errors.append(param(name, "invalid", "Not a valid string."))
        elif len(str(value)) > KENMERK_MAX_LENGTH:
            errors.append(
                param(
                    name, "max_length", f"Ensure this field has no more than {KENMERK_MAX_LENGTH} characters."
                )
            )
        else:
            clean[str(key)] = str(value)
    return clean, errors


def validate_abonnement(
    store: NotificatiesStore, data: dict[str, Any] | None, partial: bool
) -> dict[str, Any] | list[dict[str, str]]:
    """The clean abonnement (or, `partial`, the clean changes) of a request body, or its errors."""
    if data is None:
        return [param("body", "invalid", "body moet een JSON-object zijn")]
    required = () if partial else ("callbackUrl", "auth")
    for name in required:
        if name not in data:
            return [param(name, "required", f"{name} is verplicht")]
    clean: dict[str, Any] = {}
    if "callbackUrl" in data:
        if not isinstance(data["callbackUrl"], str) or not data["callbackUrl"].startswith("http"):
            return [param("callbackUrl", "invalid", "geen geldige URL")]
        clean["callbackUrl"] = data["callbackUrl"]
    if "auth" in data:
        if not isinstance(data["auth"], str) or not data["auth"]:
            return [param("auth", "required", "auth is verplicht")]
        clean["auth"] = data["auth"]
    if "kanalen" in data:
        if not isinstance(data["kanalen"], list):
            return [param("kanalen", "not_a_list", "lijst verwacht")]
        groups = []
        for group in data["kanalen"]:
            naam = group.get("naam") if isinstance(group, dict) else None
            kanaal = store.kanaal_named(naam)
            if kanaal is None:
                return [param("naam", "kanaal_naam", "Kanaal met deze naam bestaat niet.")]
            filters = group.get("filters") or {}
            if not isinstance(filters, dict):
                return [param("kanalen.filters", "not_a_dict", "object verwacht")]
            values, errors = kenmerk_errors(filters)
            if errors:
                return [{**e, "name": e["name"].replace("kenmerken", "filters", 1)} for e in errors]
            if values and not consistent(kanaal["filters"], list(values)):
                return [
                    param(
                        "filters",
                        "inconsistent-abonnement-filters",
                        "abonnement filters aren't consistent with kanaal filters",
                    )
                ]
            groups.append({"naam": naam, "filters": values})
        clean["kanalen"] = groups
    elif not partial:
        clean["kanalen"] = []
    return clean


def validate_message(
    store: NotificatiesStore, message: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The message with its kenmerken as strings, and its errors (none: it may be scheduled)."""
    errors = []
    for name, limit in MESSAGE_TEXT_FIELDS:
        value = message.get(name)
        if not isinstance(value, str) or not value:
            errors.append(param(name, "required", "Dit veld is vereist."))
        elif len(value) > limit:
            errors.append(
                param(name, "max_length", f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat.")
            )
    for name in MESSAGE_URL_FIELDS:
        value = message.get(name)
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            errors.append(param(name, "invalid", "Voer een geldige URL in."))
    raw = message.get("aanmaakdatum")
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        errors.append(param("aanmaakdatum", "invalid", "Datetime heeft een ongeldig formaat."))
    else:
        if moment.tzinfo is not None and moment > datetime.now(UTC):
            errors.append(param("aanmaakdatum", "future_not_allowed", "Deze datum ligt in de toekomst."))
    kenmerken, kenmerk_errs = kenmerk_errors(message.get("kenmerken"))
    errors += kenmerk_errs
    if errors:
        return message, errors
    kanaal = store.kanaal_named(message["kanaal"])
    if kanaal is None:
        return message, [param("kanaal", "message_kanaal", "Kanaal met deze naam bestaat niet.")]
    if not consistent(kanaal["filters"], list(kenmerken)):
        return message, [
            param("kenmerken", "kenmerken_inconsistent", "Kenmerken aren't consistent with kanaal filters")
        ]
    return {**message, "kenmerken": kenmerken}, []
