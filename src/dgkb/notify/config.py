"""Configuration of the notification port from the settings (`DGKB_NOTIFY_*`).

Outside production every empty setting falls back to the local simulator's value (so a simulator
on another port needs only the base URL):

- `DGKB_NOTIFY_BASE_URL`: empty outside production = the local NotifyNL simulator of `dgkb run`
  (simulator base port + 10); empty in production = no outbound messages (sending raises
  NotifyUnavailable).
- `DGKB_NOTIFY_API_KEY`: empty outside production = the simulator's demo key (refused in production,
  dgkb.demo_secrets); required once a base URL is set.
- `DGKB_NOTIFY_TEMPLATE_BEVESTIG_SMS`, `…_EMAIL`: empty outside production = the simulator's
  `bevestig-digid` templates; empty in production = that kind cannot be sent. The same for
  `…_VERIFICATIE_SMS`/`…_EMAIL` (Mijn profiel: placeholders `organisatie`, `code`) and
  `…_BERICHT_SMS`/`…_EMAIL` (Mijn berichten: placeholders `organisatie`, `link`).
- `DGKB_NOTIFY_TIMEOUT_SECONDS` (5): connect and read timeout of one call.

A Notify API key is `{key name}-{service id}-{secret}`, service id and secret both UUIDs (the key
name may contain hyphens); the client signs each request with the secret (JWT HS256, `iss` = service
id). Production requires an https base URL (NotifyNL: `https://api.notifynl.nl`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from dgkb.domain.errors import InvalidConfiguration
from dgkb.notify.port import MessageKind, NotifyTemplates
from dgkb.settings import SIMULATOR_PORTS, Settings

__all__ = [
    "DEMO_API_KEY",
    "DEMO_TEMPLATES",
    "SIMULATOR_PORT_OFFSET",
    "NotifyConfig",
    "notify_config",
    "split_api_key",
]

# Port of the NotifyNL simulator relative to DGKB_SIMULATOR_BASE_PORT (settings.SIMULATOR_PORTS).
SIMULATOR_PORT_OFFSET = SIMULATOR_PORTS["notifynl"]

# The simulator's demo service: key name `demo-dgkb` (the `demo-` form marks it a demo secret),
# service id and secret. Only for the local simulator.
DEMO_SERVICE_ID = "d9b1a7c2-5e3f-4a60-9b8e-0c1d2e3f4a5b"
DEMO_API_KEY = f"demo-dgkb-{DEMO_SERVICE_ID}-6f0e2d1c-3b4a-4958-8a7b-1c2d3e4f5a6b"
# The simulator's demo templates (simulators/notifynl.py DEMO_TEMPLATES has the same ids).
DEMO_TEMPLATES = NotifyTemplates(
    bevestig_sms="b0e5f1a2-0001-4d6a-9c1e-5a7b8c9d0e01",
    bevestig_email="b0e5f1a2-0002-4d6a-9c1e-5a7b8c9d0e02",
    verificatie_sms="b0e5f1a2-0003-4d6a-9c1e-5a7b8c9d0e03",
    verificatie_email="b0e5f1a2-0004-4d6a-9c1e-5a7b8c9d0e04",
    bericht_sms="b0e5f1a2-0005-4d6a-9c1e-5a7b8c9d0e05",
    bericht_email="b0e5f1a2-0006-4d6a-9c1e-5a7b8c9d0e06",
)


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """The effective configuration; `base_url` empty = no outbound messages."""

    base_url: str
    api_key: str
    templates: NotifyTemplates
    timeout: float
    simulator: bool  # the local simulator's defaults are in use

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)


def split_api_key(key: str) -> tuple[str, str]:
    """(service id, secret) of a Notify API key `{name}-{service id}-{secret}`; ValueError when the
    key does not have that form."""
    if len(key) < 75 or key[-74] != "-" or key[-37] != "-":
        raise ValueError("not of the form {name}-{service id}-{secret}")
    service_id, secret = key[-73:-37], key[-36:]
    for part in (service_id, secret):
        uuid.UUID(part)  # raises ValueError
    return service_id, secret


def _uuid_or_none(value: str, field: str) -> str | None:
    if not value:
        return None
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidConfiguration(
            f"{field}: geen geldige sjabloon-id (UUID verwacht)", field=field
        ) from None
    return value


def notify_config(settings: Settings) -> NotifyConfig:
    """Read and check the `DGKB_NOTIFY_*` settings; InvalidConfiguration naming the setting."""
    production = settings.is_production
    base_url = settings.notify_base_url.strip().rstrip("/")
    key = settings.notify_api_key.get_secret_value().strip()
    simulator = not production and not base_url
    if simulator:
        base_url = settings.simulator_url("notifynl")
    if not production:  # every empty setting falls back to the simulator's value
        key = key or DEMO_API_KEY
    templates = NotifyTemplates(
        **{
            kind: _uuid_or_none(
                getattr(settings, f"notify_template_{kind}").strip(), f"DGKB_NOTIFY_TEMPLATE_{kind.upper()}"
            )
            or (getattr(DEMO_TEMPLATES, kind) if not production else None)
            for kind in MessageKind.ALL
        }
    )
    config = NotifyConfig(
        base_url=base_url,
        api_key=key,
        templates=templates,
        timeout=settings.notify_timeout_seconds,
        simulator=simulator,
    )
    if not base_url:
        return config  # production without NotifyNL: nothing is sent
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidConfiguration(
            "DGKB_NOTIFY_BASE_URL: verwacht een http(s)-URL, bijvoorbeeld https://api.notifynl.nl",
            field="DGKB_NOTIFY_BASE_URL",
        )
    if production and parts.scheme != "https":
        raise InvalidConfiguration(
            "DGKB_NOTIFY_BASE_URL: in productie alleen https", field="DGKB_NOTIFY_BASE_URL"
        )
    if not key:
        raise InvalidConfiguration(
            "DGKB_NOTIFY_API_KEY is verplicht als DGKB_NOTIFY_BASE_URL is gezet", field="DGKB_NOTIFY_API_KEY"
        )
    try:
        split_api_key(key)
    except ValueError:
        raise InvalidConfiguration(
            "DGKB_NOTIFY_API_KEY: verwacht '{naam}-{service-id}-{geheim}' (service-id en geheim zijn UUID's)",
            field="DGKB_NOTIFY_API_KEY",
        ) from None
    return config
