"""Authentication: bearer JWTs against an issuer's JWKS over HTTP; no dev issuer in production;
contact sessions expire after inactivity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dgkb.api.dev_issuer import DEMO_ACCOUNTS, DevIssuer, DevIssuerRefused
from dgkb.app import create_app
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.simulators.serve import serve_in_background
from dgkb.store.db import Database
from dgkb.store.tables import ContactSessionRow
from tests.api.conftest import GEMEENTE, open_contact
from tests.api.production import production_settings

CLAIMS = {"role": "dgkb_rol", "organisation": "dgkb_organisatie", "unit": "dgkb_afdeling"}
ANNA = DEMO_ACCOUNTS[0]


def test_dev_issuer_refuses_to_start_in_production() -> None:
    with pytest.raises(DevIssuerRefused):
        DevIssuer(issuer="https://x", audience="dgkb", key_file=None, production=True)


def test_production_without_oidc_settings_refuses_to_start(tmp_path: Path) -> None:
    from dgkb.domain.errors import InvalidConfiguration

    # real secrets, so the refusal is about the issuer (the dev issuer is never the fallback)
    settings = production_settings(tmp_path, oidc_issuer="", oidc_jwks_url="")
    with pytest.raises(InvalidConfiguration) as caught:
        create_app(settings)
    assert caught.value.field == "DGKB_OIDC_ISSUER"


@pytest.fixture
async def production_api(
    database_url: str, tmp_path: Path, simulators: dict[str, str]
) -> AsyncIterator[tuple[str, DevIssuer]]:
    """DGKB in production mode, trusting an external issuer whose JWKS is served over HTTP."""
    issuer = DevIssuer(
        issuer="https://idp.voorbeeldstad.nl", audience="dgkb", key_file=None, production=False
    )

    async def jwks(_: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks())

    idp = Starlette(routes=[Route("/jwks.json", jwks)])
    async with serve_in_background(idp) as (_, idp_url):
        settings = production_settings(  # production refuses demo secrets: real ones here
            tmp_path,
            database_url=database_url,
            oidc_issuer="https://idp.voorbeeldstad.nl",
            oidc_jwks_url=f"{idp_url}/jwks.json",
        )
        app = create_app(settings, source_overrides=rebase_sources(settings, simulators))
        async with app.router.lifespan_context(app), serve_in_background(app) as (_, api):
            yield api, issuer


async def test_tokens_are_validated_against_the_issuers_jwks(production_api: tuple[str, DevIssuer]) -> None:
    api, issuer = production_api
    good = issuer.token_for(ANNA, claims=CLAIMS)
    async with httpx.AsyncClient(base_url=api) as client:
        ok = await client.get("/api/v1/verwerkingsactiviteiten", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200, ok.text
        assert (await client.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).status_code == 404
        expired = issuer.token_for(ANNA, claims=CLAIMS, lifetime=-3600)
        resp = await client.get(
            "/api/v1/verwerkingsactiviteiten", headers={"Authorization": f"Bearer {expired}"}
        )
        assert resp.status_code == 401
        assert resp.json()["code"] == "auth.expired"
        other = DevIssuer(
            issuer="https://idp.voorbeeldstad.nl", audience="dgkb", key_file=None, production=False
        )
        forged = other.token_for(ANNA, claims=CLAIMS)  # right claims, someone else's key
        resp = await client.get(
            "/api/v1/verwerkingsactiviteiten", headers={"Authorization": f"Bearer {forged}"}
        )
        assert resp.status_code == 401
        payload = jwt.decode(good, options={"verify_signature": False})
        payload["aud"] = "iets-anders"
        wrong_aud = jwt.encode(payload, issuer._key, algorithm="RS256", headers={"kid": issuer.kid})
        resp = await client.get(
            "/api/v1/verwerkingsactiviteiten", headers={"Authorization": f"Bearer {wrong_aud}"}
        )
        assert resp.status_code == 401
        payload["aud"] = "dgkb"
        payload[CLAIMS["role"]] = "superuser"
        bad_role = jwt.encode(payload, issuer._key, algorithm="RS256", headers={"kid": issuer.kid})
        resp = await client.get(
            "/api/v1/verwerkingsactiviteiten", headers={"Authorization": f"Bearer {bad_role}"}
        )
        assert resp.status_code == 401
        assert resp.json()["code"] == "auth.no_role"


async def test_contact_expires_after_inactivity(database_url: str, simulators: dict[str, str]) -> None:
    settings = Settings(env=Environment.TEST, database_url=database_url, session_idle_seconds=60)
    app = create_app(settings, source_overrides=rebase_sources(settings, simulators))
    async with app.router.lifespan_context(app), serve_in_background(app) as (_, api):
        async with httpx.AsyncClient(base_url=api) as client:
            token = (await client.post("/dev-issuer/token", json={"gebruiker": "kcm-anna"})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            contact = await open_contact(client, GEMEENTE + "kcc-algemene-vraag")
            assert (await client.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
            # a minute and a bit without activity, without waiting for it
            database = Database(database_url)
            async with database.transaction() as session:
                await session.execute(
                    update(ContactSessionRow)
                    .where(ContactSessionRow.id == contact)
                    .values(last_activity_at=datetime.now(UTC) - timedelta(seconds=61))
                )
            await database.dispose()
            resp = await client.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert resp.status_code == 403
            assert resp.json()["reden"] == "CONTACT_EXPIRED"
        # the sweep drops the plain identifier of expired contacts
        closed = await app.state.services.contacts.sweep_expired()
        assert closed >= 1
