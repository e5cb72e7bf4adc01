"""Process settings from the environment (prefix DGKB_) and the YAML configuration files.

Everything configurable lives here or in `config/*.yaml`; the domain never reads the environment.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dgkb.domain.catalogue import Catalogue, parse_catalogue
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.register import Register, parse_register

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DGKB_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'dgkb.sqlite3'}"
    config_dir: Path = PROJECT_ROOT / "config"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # e.g. https://klantbeeld.gemeente.nl; default http://host:port

    # Pseudonymisation (HMAC-SHA256) of subject ids in logs, cache keys and indexes.
    # `pseudonym_keys` is "keyid:secret,keyid:secret"; the first is current, the others still match.
    # The default is a development key: production refuses to start with it (see dgkb.demo_secrets).
    pseudonym_keys: SecretStr = SecretStr("dev-2026:dgkb-development-only-not-secret")

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

    # Source answer cache shared by several nodes; empty = in-process cache.
    redis_url: str = ""

    # Contact sessions expire after this many seconds without activity.
    session_idle_seconds: int = 15 * 60
    # Default deadline for one source call inside a klantbeeld request.
    source_deadline_seconds: float = 2.0
    max_body_bytes: int = 64 * 1024

    # Real-time (issue 5): NATS JetStream event bus shared by several nodes (empty = in-process);
    # the shared secret the Notificaties API / CloudEvents senders present; the Notificaties API
    # (routing component) DGKB subscribes at, with the Authorization value to use there; how often
    # open views are reconciled with their sources (0 = never).
    nats_url: str = ""
    notificaties_token: SecretStr = SecretStr("")
    notificaties_api_url: str = ""
    notificaties_api_auth: SecretStr = SecretStr("")
    reconcile_seconds: float = 60.0
    # An inbound JWT (signed with `notificaties_token`) must carry `iat` no older than this many
    # seconds; `iat`, `exp` and `nbf` are checked with this clock skew (see ChangeService.authentic).
    notificaties_jwt_max_age_seconds: int = Field(default=300, gt=0)
    notificaties_jwt_leeway_seconds: int = Field(default=60, ge=0, le=300)

    # Simulators (started by `dgkb run` in development): first port; each simulator takes the next.
    simulator_base_port: int = 8101
    simulator_latency_ms: int = 0

    @cached_property
    def config_files(self) -> dict[str, Path]:
        return {
            "catalogue": self.config_dir / "catalogue.yaml",
            "register": self.config_dir / "register.yaml",
            "sources": self.config_dir / "sources.yaml",
        }

    def pseudonym_keyring(self) -> list[tuple[str, bytes]]:
        """Parse `pseudonym_keys` into [(key id, secret)], current key first."""
        ring: list[tuple[str, bytes]] = []
        for part in self.pseudonym_keys.get_secret_value().split(","):
            key_id, sep, secret = part.strip().partition(":")
            if not sep or not key_id or len(secret) < 16:
                raise InvalidConfiguration(
                    "DGKB_PSEUDONYM_KEYS: verwacht 'sleutelid:geheim' (geheim minstens 16 tekens)",
                    field="DGKB_PSEUDONYM_KEYS",
                )
            ring.append((key_id, secret.encode()))
        return ring

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def load_yaml(path: Path) -> Any:
    """Read a YAML config file; a missing or unparsable file is an InvalidConfiguration naming it."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
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


def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


__all__ = ["Environment", "Field", "Settings", "get_settings", "load_catalogue", "load_register", "load_yaml"]
