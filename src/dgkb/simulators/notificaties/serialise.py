"""The JSON of the Notificaties API 1.0 as Open Notificaties renders it: kanalen and abonnementen with
full URLs on the caller's host (`b`, …/api/v1), the `test` probe message, and the simulator's own
view of the scheduled messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dgkb.simulators.notificaties.state import Scheduled

API_PATH = "/api/v1"
API_VERSION = "1.0.0"


def kanaal_json(b: str, key: str, kanaal: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"{b}/kanaal/{key}", **kanaal}


def abonnement_json(b: str, key: str, abonnement: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in abonnement.items() if k != "auth"}  # auth is write-only
    return {"url": f"{b}/abonnement/{key}", **shown}


def probe_message() -> dict[str, Any]:
    """The `test` message Open Notificaties sends a callback before accepting an abonnement."""
    return {
        "kanaal": "test",
        "hoofdObject": "http://some.hoofdobject.nl/",
        "resource": "some_resource",
        "resourceUrl": "http://some.resource.nl/",
        "actie": "create",
        "aanmaakdatum": datetime.now(UTC).isoformat(),
        "kenmerken": {},
    }


def scheduled_json(entry: Scheduled, now: float) -> dict[str, Any]:
    """A message waiting for a round (`GET /_sim/scheduled`), without its body."""
    return {
        **{k: entry.message.get(k) for k in ("kanaal", "resource", "resourceUrl", "actie")},
        "attempt": entry.attempt,
        "due": entry.execute_after <= now,
    }
