"""Issue 8 §6: production refuses every built-in key, secret and demo token, naming each; with real
secrets it starts, and the dev issuer is not there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from dgkb.app import create_app
from dgkb.demo_secrets import demo_secrets, is_demo_secret
from dgkb.domain.errors import InvalidConfiguration
from dgkb.events.notificaties import DEV_TOKEN
from dgkb.runner import DEMO_ZGW_CLIENT
from dgkb.settings import PROJECT_ROOT, Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.api.production import production_settings, real_secret

SHIPPED_PSEUDONYM_KEYS = Settings.model_fields["pseudonym_keys"].default
# source id -> the secret field of its auth block in the shipped config/sources.yaml
SHIPPED_DEMO_SOURCES = {
    "brp": "value",
    "zaken": "secret",
    "klantinteracties": "token",
    "reisdocumenten": "value",
    "kvk": "value",
    "producten": "token",
}


def _refusal(settings: Settings) -> str:
    with pytest.raises(InvalidConfiguration) as caught:
        create_app(settings)
    return caught.value.message


def test_production_without_pseudonym_keys_refuses_naming_the_setting(tmp_path: Path) -> None:
    message = _refusal(production_settings(tmp_path, pseudonym_keys=SHIPPED_PSEUDONYM_KEYS))
    assert "DGKB_PSEUDONYM_KEYS" in message
    assert "sources.yaml" not in message, "the sources carry real secrets here"
    assert SHIPPED_PSEUDONYM_KEYS.get_secret_value().split(":")[1] not in message, "never print a secret"


def test_production_refuses_the_development_key_kept_as_an_older_key(tmp_path: Path) -> None:
    keys = f"prod-2026:{real_secret()},{SHIPPED_PSEUDONYM_KEYS.get_secret_value()}"
    message = _refusal(production_settings(tmp_path, pseudonym_keys=keys))
    assert "DGKB_PSEUDONYM_KEYS" in message
    assert "dev-2026" in message


def test_production_with_the_shipped_source_secrets_refuses_naming_each(tmp_path: Path) -> None:
    message = _refusal(production_settings(tmp_path, config_dir=PROJECT_ROOT / "config"))
    shipped = yaml.safe_load((PROJECT_ROOT / "config" / "sources.yaml").read_text(encoding="utf-8"))
    index = {src["id"]: i for i, src in enumerate(shipped["sources"])}
    for source, field in SHIPPED_DEMO_SOURCES.items():
        assert f"sources.yaml: sources.{index[source]}.auth.{field}" in message, (source, message)
        assert f"'{source}'" in message
    assert "DGKB_PSEUDONYM_KEYS" not in message
    assert "demo-brp-sleutel" not in message, "never print a secret"


def test_production_refuses_a_demo_secret_written_into_a_real_configuration(tmp_path: Path) -> None:
    settings = production_settings(tmp_path)
    path = settings.config_files["sources"]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    producten = next(i for i, s in enumerate(data["sources"]) if s["id"] == "producten")
    data["sources"][producten]["auth"]["token"] = "demo-iets-anders"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    message = _refusal(settings)
    assert f"sources.yaml: sources.{producten}.auth.token" in message
    assert message.count("sources.yaml:") == 1


def test_production_with_the_demo_notification_secret_refuses(tmp_path: Path) -> None:
    message = _refusal(production_settings(tmp_path, notificaties_token=DEV_TOKEN))
    assert "DGKB_NOTIFICATIES_TOKEN" in message
    message = _refusal(production_settings(tmp_path / "2", notificaties_api_auth="Token demo-notificaties"))
    assert "DGKB_NOTIFICATIES_API_AUTH" in message


def test_production_refuses_the_demo_zgw_client_s_secret_at_the_notificaties_api(tmp_path: Path) -> None:
    client_id, secret = DEMO_ZGW_CLIENT  # what `dgkb run` presents at its local Notificaties simulator
    message = _refusal(
        production_settings(tmp_path, notificaties_api_client_id=client_id, notificaties_api_secret=secret)
    )
    assert "DGKB_NOTIFICATIES_API_SECRET" in message
    assert secret not in message, "never print a secret"
    create_app(
        production_settings(
            tmp_path / "2", notificaties_api_client_id="dgkb", notificaties_api_secret=real_secret()
        )
    )


def test_demo_values_are_recognised_and_real_ones_are_not() -> None:
    for value in (DEV_TOKEN, "demo-kvk-sleutel", "Token demo-producten-token", "x-niet-voor-productie"):
        assert is_demo_secret(value), value
    for value in ("", real_secret(), "Token " + real_secret(), "ademo-achtig-geheim-van-ons"):
        assert not is_demo_secret(value), value


def test_outside_production_the_demo_secrets_are_listed_but_allowed(tmp_path: Path) -> None:
    settings = Settings(env=Environment.TEST, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    create_app(settings)  # the demo starts with its demo secrets
    from dgkb.composition.root import load_configuration

    found = demo_secrets(settings, load_configuration(settings))
    assert any(line.startswith("DGKB_PSEUDONYM_KEYS:") for line in found)
    assert sum(line.startswith("sources.yaml:") for line in found) == len(SHIPPED_DEMO_SOURCES)


async def test_production_with_real_secrets_starts_without_the_dev_issuer(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(production_settings(tmp_path, database_url=database_url))
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app) as (_, api),
        httpx.AsyncClient(base_url=api) as client,
    ):
        assert (await client.get("/api/v1/status")).status_code == 200
        resp = await client.get("/api/v1/verwerkingsactiviteiten")
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/problem+json")
        for path in ("/dev-issuer/.well-known/openid-configuration", "/dev-issuer/jwks.json"):
            assert (await client.get(path)).status_code == 404, path
        assert (await client.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).status_code == 404
