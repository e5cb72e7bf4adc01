"""Built-in keys, secrets and demo tokens: production refuses to start with any of them.

One list of what counts as a demo value, used by start-up (`load_configuration` raises in
production) and by `dgkb check` (warnings outside production):

- the shipped defaults of the settings: the development pseudonym key (anyone holding it can
  reverse every pseudonym in the log by hashing all valid BSNs) and the notification secret that
  stands in when DGKB_NOTIFICATIES_TOKEN is not set;
- DGKB's credentials at the Notificaties API (DGKB_NOTIFICATIES_API_SECRET, …_AUTH) in the demo form
  below, e.g. the demo ZGW client's secret that `dgkb run` uses at its local simulator;
- the NotifyNL simulator's demo API key (DGKB_NOTIFY_API_KEY, the default outside production), also
  as the secret part of another key;
- a DigiD/eHerkenning broker setting that points at the built-in test broker (its tokens are
  signed by a key that anyone running DGKB outside production holds);
- every secret whose value (or a word of it, as in "Token demo-…") has the demo form: it starts
  with `demo-`, or says it is not for production (`niet-voor-productie`, `not-secret`). The demo
  secrets in `config/sources.yaml` are written that way; write real ones differently.
"""

from __future__ import annotations

from typing import Protocol

from dgkb.domain.errors import InvalidConfiguration
from dgkb.events.notificaties import DEV_TOKEN
from dgkb.notify.config import DEMO_API_KEY as NOTIFY_DEMO_API_KEY
from dgkb.settings import Settings
from dgkb.sources.config import ApiKeyAuth, BearerAuth, SourcesConfig, TokenAuth, ZgwJwtAuth

__all__ = ["DEMO_PREFIX", "demo_secrets", "is_demo_secret", "refuse_demo_secrets_in_production"]

DEMO_PREFIX = "demo-"
# the built-in test broker's path (dgkb.api.test_broker): an issuer or JWKS URL there is a demo value
TEST_BROKER_MARK = "/test-broker"
_NOT_FOR_PRODUCTION = ("niet-voor-productie", "not-secret", "development-only")


def _shipped_defaults() -> frozenset[str]:
    """The secret defaults written in the code, computed from the settings themselves."""
    keys = Settings.model_fields["pseudonym_keys"].get_default(call_default_factory=True)
    raw = keys.get_secret_value()
    values = {raw, DEV_TOKEN, NOTIFY_DEMO_API_KEY}
    values.update(part.strip().partition(":")[2] for part in raw.split(","))
    return frozenset(v for v in values if v)


SHIPPED_DEFAULTS = _shipped_defaults()


class HasSources(Protocol):
    """The loaded configuration (`dgkb.composition.root.Configuration`); only its sources are read here."""

    @property
    def sources(self) -> SourcesConfig: ...


def is_demo_secret(value: str) -> bool:
    """A shipped default, or a value (or one word of it) in the demo form."""
    if value.strip() in SHIPPED_DEFAULTS:
        return True
    for word in value.split():
        lowered = word.lower()
        if word in SHIPPED_DEFAULTS or lowered.startswith(DEMO_PREFIX):
            return True
        if any(marker in lowered for marker in _NOT_FOR_PRODUCTION):
            return True
    return False


def demo_secrets(settings: Settings, config: HasSources) -> list[str]:
    """Every setting and configuration path that holds a built-in or demo secret, one line each
    (`DGKB_…: …` or `sources.yaml: sources.N.auth.…: …`); empty when there is none."""
    found: list[str] = []
    ring = [part.strip().partition(":") for part in settings.pseudonym_keys.get_secret_value().split(",")]
    demo_keys = [key_id or "?" for key_id, _, secret in ring if is_demo_secret(secret)]
    if demo_keys:
        found.append(
            f"DGKB_PSEUDONYM_KEYS: ingebouwde ontwikkelsleutel ({', '.join(demo_keys)}); "
            "zet eigen geheime sleutels ('sleutelid:geheim')"
        )
    meten = [
        part.strip().partition(":") for part in settings.meten_pseudonym_keys.get_secret_value().split(",")
    ]
    demo_meten = [key_id or "?" for key_id, _, secret in meten if secret and is_demo_secret(secret)]
    if demo_meten:
        found.append(
            f"DGKB_METEN_PSEUDONYM_KEYS: demosleutel ({', '.join(demo_meten)}); "
            "zet eigen geheime sleutels ('sleutelid:geheim') of laat de instelling leeg"
        )
    for name, secret in (
        ("DGKB_NOTIFICATIES_TOKEN", settings.notificaties_token.get_secret_value()),
        ("DGKB_NOTIFICATIES_API_SECRET", settings.notificaties_api_secret.get_secret_value()),
        ("DGKB_NOTIFICATIES_API_AUTH", settings.notificaties_api_auth.get_secret_value()),
    ):
        if secret and is_demo_secret(secret):
            found.append(f"{name}: demogeheim; zet een eigen geheim")
    notify_key = settings.notify_api_key.get_secret_value().strip()
    if not notify_key and not settings.is_production:
        notify_key = NOTIFY_DEMO_API_KEY  # the default: the local NotifyNL simulator (dgkb.notify.config)
    if notify_key and (is_demo_secret(notify_key) or notify_key[-36:] == NOTIFY_DEMO_API_KEY[-36:]):
        found.append(
            "DGKB_NOTIFY_API_KEY: demosleutel van de NotifyNL-simulator; zet de API-sleutel van NotifyNL"
        )
    for name, value in (
        ("DGKB_DIGID_ISSUER", settings.digid_issuer),
        ("DGKB_DIGID_JWKS_URL", settings.digid_jwks_url),
        ("DGKB_EHERKENNING_ISSUER", settings.eherkenning_issuer),
        ("DGKB_EHERKENNING_JWKS_URL", settings.eherkenning_jwks_url),
    ):
        if TEST_BROKER_MARK in value:
            found.append(
                f"{name}: de ingebouwde testbroker (geen echte DigiD/eHerkenning); "
                "zet de broker van de organisatie"
            )
    file = settings.config_files["sources"].name
    for i, src in enumerate(config.sources.sources):
        auth = src.auth
        fields: list[tuple[str, str]] = []
        if isinstance(auth, ApiKeyAuth):
            fields.append(("value", auth.value))
        elif isinstance(auth, BearerAuth | TokenAuth):
            fields.append(("token", auth.token))
        elif isinstance(auth, ZgwJwtAuth):
            fields.append(("secret", auth.secret))
        found.extend(
            f"{file}: sources.{i}.auth.{field}: demogeheim van bron '{src.id}'; zet een eigen geheim"
            for field, value in fields
            if is_demo_secret(value)
        )
        found.extend(
            f"{file}: sources.{i}.headers.{header}: demogeheim van bron '{src.id}'; zet een eigen geheim"
            for header, value in src.headers.items()
            if is_demo_secret(value)
        )
    return found


def refuse_demo_secrets_in_production(settings: Settings, config: HasSources) -> None:
    """In production: InvalidConfiguration naming every built-in or demo secret."""
    if not settings.is_production:
        return
    problems = demo_secrets(settings, config)
    if problems:
        raise InvalidConfiguration(
            "In productie zijn ingebouwde sleutels en demogeheimen niet toegestaan:\n" + "\n".join(problems),
            field=problems[0].split(":", 1)[0],
        )
