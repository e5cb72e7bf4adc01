"""Settings for DGKB in production mode with real (non-demo) secrets, for tests of production mode.

Production refuses every built-in key and demo secret (dgkb.demo_secrets), so a production test
gets its own copy of the configuration whose source secrets are replaced by random ones.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import yaml

from dgkb.settings import PROJECT_ROOT, Environment, Settings

SECRET_FIELDS = {"api-key": "value", "bearer": "token", "token": "token", "zgw-jwt": "secret"}
ISSUER = "https://idp.voorbeeldstad.nl"


def real_secret(prefix: str = "echt") -> str:
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def config_with_real_secrets(target: Path) -> Path:
    """A copy of config/ whose sources carry random secrets instead of the shipped demo ones."""
    shutil.copytree(PROJECT_ROOT / "config", target)
    path = target / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for src in data["sources"]:
        auth = src.get("auth") or {}
        field = SECRET_FIELDS.get(auth.get("type", ""))
        if field is not None:
            auth[field] = real_secret()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def production_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Production settings with real secrets everywhere; `overrides` replace any of them."""
    values: dict[str, Any] = {
        "env": Environment.PRODUCTION,
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/productie.db",
        "config_dir": config_with_real_secrets(tmp_path / "config-productie"),
        "pseudonym_keys": f"prod-2026:{real_secret()}",
        "oidc_issuer": ISSUER,
        "oidc_jwks_url": "http://127.0.0.1:9/jwks.json",
        "notificaties_token": real_secret(),
    }
    values.update(overrides)
    return Settings(**values)
