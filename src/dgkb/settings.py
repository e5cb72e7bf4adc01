"""Process settings from the environment (prefix DGKB_) and the YAML configuration files.

Everything configurable lives here or in `config/*.yaml`; the domain never reads the environment.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dgkb.domain.catalogue import Catalogue, parse_catalogue
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.register import Register, parse_register

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The demo's local simulators that `dgkb run` starts: name -> port offset from DGKB_SIMULATOR_BASE_PORT.
# config/sources.yaml points at them as `{simulator.<name>}` (dgkb.sources.config), and the NotifyNL
# client defaults to "notifynl", so a second demo with another base port talks to its own simulators.
SIMULATOR_PORTS: Mapping[str, int] = MappingProxyType(
    {
        "brp": 0,
        "zaken": 1,
        "klantinteracties": 2,
        "gemeente-belastingen": 3,
        "gemeente-boetes": 4,
        "waterschap-belastingen": 5,
        "reisdocumenten": 6,
        "kvk": 7,
        "producten": 8,
        "notificaties": 9,
        "notifynl": 10,
    }
)
SIMULATOR_HOST = "127.0.0.1"

# Rate limits per route group (dgkb.api.ratelimit): ceilings against a runaway client or a copied token,
# with room for the benchmarks (one account for ~50 agents) and the tests; lower them in production.
DEFAULT_RATE_LIMITS = (
    "klantbeeld=12000/minute;zoeken=6000/minute;schrijven=24000/minute;lezen=12000/minute;"
    "web=3000/minute;notificaties=6000/minute"
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DGKB_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'dgkb.sqlite3'}"
    config_dir: Path = PROJECT_ROOT / "config"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # e.g. https://klantbeeld.gemeente.nl; default http://host:port

    # PostgreSQL connection pool of ONE process: every worker of `dgkb run --workers N` has its own,
    # so keep N × (pool size + overflow) + the CLI's few below the server's max_connections (default
    # 100): the defaults allow 4 workers. SQLite keeps its fixed pool (dgkb.store.db).
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)

    # HTTP limits of the production server (`dgkb run --workers N`, granian; docs/productie.md):
    # a request whose header block does not fit in `http_max_header_bytes` gets 431, one whose header
    # block is not complete `http_header_timeout_seconds` after its first byte is closed; at most
    # `http_max_concurrency` requests in progress per worker, then new connections wait in the backlog.
    http_max_header_bytes: int = Field(default=32 * 1024, ge=8192, le=1024 * 1024)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    http_backlog: int = Field(default=1024, ge=128)
    http_max_concurrency: int = Field(default=512, ge=1)

    # Pseudonymisation (HMAC-SHA256) of subject ids in logs, cache keys and indexes.
    # `pseudonym_keys` is "keyid:secret,keyid:secret"; the first is current, the others still match.
    # The default is a development key: production refuses to start with it (see dgkb.demo_secrets).
    pseudonym_keys: SecretStr = SecretStr("dev-2026:dgkb-development-only-not-secret")

    # Meten en leren (issue 15 §4, dgkb.meten, dgkb.dashboard). The customer pseudonym of the
    # pseudonymised events has a key of its own, so an event cannot be joined to the access log by
    # its pseudonym: `meten_pseudonym_keys` ("keyid:secret,…"); empty = a key derived from each key of
    # `pseudonym_keys` (HMAC with a fixed label: unrelated values, no extra secret to manage; set it
    # to be able to destroy this key apart from the log's). A contact is a repeat contact when the
    # customer had ≥ 2 earlier contacts about the same onderwerp within `meten_herhaal_dagen` days.
    # The aggregation for the dashboard runs every `meten_aggregatie_seconds` (0 = never by itself;
    # `dgkb meten aggregeren`), source health is sampled every `meten_gezondheid_seconds` (0 = never).
    meten_pseudonym_keys: SecretStr = SecretStr("")
    meten_herhaal_dagen: int = Field(default=30, ge=1, le=365)
    meten_aggregatie_seconds: float = Field(default=300.0, ge=0)
    meten_gezondheid_seconds: float = Field(default=300.0, ge=0)

    # Authentication: OIDC bearer tokens.
    oidc_issuer: str = ""  # empty outside production = the built-in dev issuer
    oidc_audience: str = "dgkb"
    oidc_jwks_url: str = ""
    oidc_role_claim: str = "dgkb_rol"
    oidc_organisation_claim: str = "dgkb_organisatie"
    oidc_unit_claim: str = "dgkb_afdeling"
    # The employee's identificatie in the zaaksysteem (ZGW medewerker identificatie), for binding a
    # case worker to the zaken that name them as behandelaar; falls back to `sub` when absent.
    oidc_employee_claim: str = "medewerker_identificatie"
    # The dev issuer's signing key (never in production). Empty: var/dev-issuer-key.pem in
    # development, a fresh key per process otherwise, so a token of one node is invalid on another.
    # Nodes behind one load balancer (a test topology) name one file here, made by the first to start.
    dev_issuer_key_file: Path | None = None

    # DigiD and eHerkenning (issue 9): ID tokens of the organisation's broker (NL GOV OIDC profile).
    # Empty issuer outside production = the built-in test broker (/test-broker, never trusted in
    # production); in production a broker is used only when its issuer and JWKS URL are set.
    # `*_audience`: the client id(s) whose ID tokens DGKB accepts, comma-separated.
    digid_issuer: str = ""
    digid_jwks_url: str = ""
    digid_audience: str = "dgkb"
    # The claim with the BSN; the broker may instead put it in a sectoral identifier claim,
    # e.g. "urn:nl-eid-gdi:1.0:id:BSN": list several, comma-separated, the first present counts.
    digid_bsn_claim: str = "bsn"
    eherkenning_issuer: str = ""
    eherkenning_jwks_url: str = ""
    eherkenning_audience: str = "dgkb"
    eherkenning_kvk_claim: str = "kvk"  # e.g. urn:etoegang:1.9:EntityConcernedID:KvKnr
    eherkenning_vestiging_claim: str = "vestiging"  # e.g. urn:etoegang:1.9:ServiceRestriction:Vestigingsnr
    eherkenning_acting_person_claim: str = "acting_subject"  # who acts for the business (name/pseudonym)
    # clock skew for exp/iat of assertions; an assertion issued longer ago than max age is refused
    assertion_leeway_seconds: int = Field(default=30, ge=0, le=300)
    assertion_max_age_seconds: int = Field(default=3600, gt=0)

    # Source answer cache shared by several nodes and workers; empty = in-process cache (one worker).
    redis_url: str = ""
    # Redis is an optimisation (source cache, notification de-duplication): each call is bounded by
    # these socket timeouts (a Redis that is down or hung is a cache miss, not a slow view), and after
    # a failure Redis is left alone for `redis_retry_after_seconds` (issue 13).
    redis_connect_timeout_seconds: float = Field(default=0.05, gt=0, le=10)
    redis_timeout_seconds: float = Field(default=0.05, gt=0, le=10)
    redis_retry_after_seconds: float = Field(default=1.0, ge=0, le=300)
    # Rate limits (dgkb.api.ratelimit, docs/productie.md): "group=N/period;…" over DEFAULT_RATE_LIMITS
    # (groups klantbeeld, zoeken, schrijven, lezen per user; web, notificaties per client IP),
    # "group=off" lifts one, "" or "off" all. Counted in Redis when `redis_url` is set. The client IP
    # is taken from X-Forwarded-For only when the peer is in `trusted_proxies` (addresses or CIDR
    # ranges, comma-separated; the shipped HAProxy sets `option forwardfor`).
    rate_limits: str = DEFAULT_RATE_LIMITS
    trusted_proxies: str = ""
    # An outage fails every request the same way: seconds between two log lines about the same kind
    # of failure (e.g. the database unreachable: 503 problems, one line per error type).
    error_log_interval_seconds: float = Field(default=60.0, ge=0, le=3600)

    # Operating (issue 13, docs/productie.md): Prometheus metrics on a port of their own (0 = none),
    # bound to `metrics_host` (loopback: not reachable from outside the host unless opened); with
    # `metrics_token` (at least 16 characters) also GET /metrics on the API's port, for a scraper
    # sending it as Bearer (empty = no /metrics there). Traces over OTLP/HTTP to `otlp_endpoint`, the
    # collector's base URL (empty = the standard OTEL_EXPORTER_OTLP_ENDPOINT, or no traces at all).
    # Logs: `text` (development) or `json` (one object per line, with request and trace id) at
    # `log_level`.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr = SecretStr("")
    otlp_endpoint: str = ""
    log_format: Literal["text", "json"] = "text"
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = "INFO"
    # Graceful shutdown (`dgkb run`): on SIGTERM the node stops accepting, ends open event streams with
    # a reconnect hint (clients reconnect to another node), lets requests in progress finish, and
    # cancels what still runs after this many seconds.
    shutdown_grace_seconds: int = Field(default=10, ge=1, le=600)
    # Set by `dgkb run --workers N` for its granian workers, not by operators: the supervisor sends a
    # worker SIGUSR1 at shutdown, and the worker drains (dgkb.app) before it stops.
    drain_signal: bool = False

    # Contact sessions expire after this many seconds without activity.
    session_idle_seconds: int = 15 * 60
    # How long a view waits for one source (the request budget; a source's own `deadline` in
    # sources.yaml may be shorter). A source allowed longer goes on in the console: its part shows as
    # loading and fills in (live, SSE) when the answer comes.
    source_deadline_seconds: float = 2.0
    max_body_bytes: int = 64 * 1024

    # Real-time (issue 5): NATS JetStream event bus shared by several nodes (empty = in-process);
    # the shared secret the Notificaties API / CloudEvents senders present; the Notificaties API
    # (routing component) DGKB subscribes at; how often open views are reconciled with their sources
    # (0 = never).
    nats_url: str = ""
    notificaties_token: SecretStr = SecretStr("")
    notificaties_api_url: str = ""
    # How DGKB authenticates at that Notificaties API (dgkb.events.routing_auth): a ZGW JWT made from
    # client id + secret, a new one every `…_jwt_refresh_seconds` (as a source's `auth.refreshSeconds`,
    # dgkb.sources.zgw_jwt: keep it below the component's JWT_EXPIRY); or else, as a fallback, the
    # fixed Authorization value `notificaties_api_auth` (a JWT in it expires: Open Notificaties refuses
    # it once its `iat` is older than JWT_EXPIRY, an hour by default).
    notificaties_api_client_id: str = ""
    notificaties_api_secret: SecretStr = SecretStr("")
    notificaties_api_jwt_refresh_seconds: float = Field(default=240.0, gt=0, le=3000)
    notificaties_api_auth: SecretStr = SecretStr("")
    reconcile_seconds: float = 60.0
    # An inbound JWT (signed with `notificaties_token`) must carry `iat` no older than this many
    # seconds; `iat`, `exp` and `nbf` are checked with this clock skew (see ChangeService.authentic).
    notificaties_jwt_max_age_seconds: int = Field(default=300, gt=0)
    notificaties_jwt_leeway_seconds: int = Field(default=60, ge=0, le=300)

    # Outbound messages (issue 9): the GOV.UK Notify API that NotifyNL serves (dgkb.notify). Empty
    # outside production = the local NotifyNL simulator with its demo key and templates; an empty base
    # URL in production = no outbound messages. Key: `{name}-{service id}-{secret}` (UUIDs); a template
    # id (UUID) per message kind; connect and read timeout of one call.
    notify_base_url: str = ""
    notify_api_key: SecretStr = SecretStr("")
    notify_template_bevestig_sms: str = ""
    notify_template_bevestig_email: str = ""
    notify_template_verificatie_sms: str = ""
    notify_template_verificatie_email: str = ""
    notify_template_bericht_sms: str = ""
    notify_template_bericht_email: str = ""
    notify_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Mijn berichten: a notice that could not go (NotifyNL or Klantinteracties down) is tried again
    # after this many seconds, doubling per attempt up to an hour, for at most a day (dgkb.messages).
    notify_retry_seconds: float = Field(default=30.0, gt=0, le=3600)

    # Simulators (started by `dgkb run` in development): first port; each simulator takes its offset in
    # SIMULATOR_PORTS from it, and the demo's sources.yaml follows (`{simulator.<name>}`).
    simulator_base_port: int = Field(default=8101, ge=1, le=65535 - max(SIMULATOR_PORTS.values()))
    simulator_latency_ms: int = 0
    # The Notificaties simulator delivers in rounds, as Open Notificaties' scheduler does (there:
    # NOTIFICATION_SEC_INTERVAL, default 20 s, at least 5 s); the demo takes the shortest real interval.
    simulator_notificaties_seconds: float = Field(default=5.0, ge=0)

    @cached_property
    def config_files(self) -> dict[str, Path]:
        return {
            "catalogue": self.config_dir / "catalogue.yaml",
            "register": self.config_dir / "register.yaml",
            "sources": self.config_dir / "sources.yaml",
            "acr": self.config_dir / "acr.yaml",
        }

    def simulator_url(self, name: str) -> str:
        """Base URL of the demo's local simulator `name` (a key of SIMULATOR_PORTS) at this base port."""
        return f"http://{SIMULATOR_HOST}:{self.simulator_base_port + SIMULATOR_PORTS[name]}"

    def pseudonym_keyring(self) -> list[tuple[str, bytes]]:
        """Parse `pseudonym_keys` into [(key id, secret)], current key first."""
        return _keyring(self.pseudonym_keys.get_secret_value(), "DGKB_PSEUDONYM_KEYS")

    def meten_keyring(self) -> list[tuple[str, bytes]]:
        """The key ring of the meten-en-leren pseudonyms: `meten_pseudonym_keys`, or else one key
        derived from each key of `pseudonym_keys` (key id suffixed `-meten`)."""
        own = self.meten_pseudonym_keys.get_secret_value().strip()
        if own:
            return _keyring(own, "DGKB_METEN_PSEUDONYM_KEYS")
        return [
            (f"{key_id}-meten", hmac.new(secret, METEN_KEY_LABEL, hashlib.sha256).hexdigest().encode())
            for key_id, secret in self.pseudonym_keyring()
        ]

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


# libyaml's safe loader when PyYAML was built with it: the same documents, parsed ~8x faster (every
# app start reads the configuration; the pure-Python parser took ~60 ms of it)
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The label a meten-en-leren key is derived with from a pseudonym key (Settings.meten_keyring).
METEN_KEY_LABEL = b"dgkb:meten-en-leren:klantpseudoniem:v1"


def _keyring(value: str, setting: str) -> list[tuple[str, bytes]]:
    ring: list[tuple[str, bytes]] = []
    for part in value.split(","):
        key_id, sep, secret = part.strip().partition(":")
        if not sep or not key_id or len(secret) < 16:
            raise InvalidConfiguration(
                f"{setting}: verwacht 'sleutelid:geheim' (geheim minstens 16 tekens)", field=setting
            )
        ring.append((key_id, secret.encode()))
    return ring


def load_yaml(path: Path) -> Any:
    """Read a YAML config file; a missing or unparsable file is an InvalidConfiguration naming it."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader, see above)
    except FileNotFoundError:
        raise InvalidConfiguration(f"{path}: bestand ontbreekt", field=str(path)) from None
    except yaml.YAMLError as exc:
        raise InvalidConfiguration(f"{path}: geen geldige YAML: {exc}", field=str(path)) from None


def load_catalogue(settings: Settings) -> Catalogue:
    path = settings.config_files["catalogue"]
    return parse_catalogue(load_yaml(path), source=str(path.name))


def load_register(settings: Settings, catalogue: Catalogue, source_ids: set[str] | None = None) -> Register:
    path = settings.config_files["register"]
    return parse_register(load_yaml(path), catalogue=catalogue, source=path.name, source_ids=source_ids)


def require_shared_infrastructure(settings: Settings, workers: int) -> None:
    """More than one worker needs NATS (the event bus: an event received by one worker must reach the
    live views held open by the others) and Redis (the source cache, invalidated by those events):
    the in-process bus and cache are per process, so without them SSE and cache invalidation would
    silently miss what another worker saw. InvalidConfiguration naming what is missing."""
    if workers <= 1:
        return
    missing = [
        name
        for name, value in (("DGKB_NATS_URL", settings.nats_url), ("DGKB_REDIS_URL", settings.redis_url))
        if not value
    ]
    if missing:
        raise InvalidConfiguration(
            f"{workers} workers vragen om NATS en Redis, maar {' en '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'zijn'} niet gezet. Elke worker is een eigen proces met "
            "een eigen eventbus en cache: zonder NATS zien live klantbeelden de wijzigingen niet die "
            "een andere worker ontvangt, en zonder Redis blijft een verouderd antwoord in de cache van "
            "de andere workers staan. Zet beide, of start met --workers 1.",
            field=missing[0],
        )


def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


__all__ = [
    "DEFAULT_RATE_LIMITS",
    "SIMULATOR_HOST",
    "SIMULATOR_PORTS",
    "Environment",
    "Field",
    "Settings",
    "get_settings",
    "load_catalogue",
    "load_register",
    "load_yaml",
    "require_shared_infrastructure",
]
