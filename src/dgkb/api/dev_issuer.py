"""A development OIDC issuer that signs tokens for the demo accounts. Never in production.

It exists so a newcomer can log in right after `make run` with no identity provider. The key pair
is kept under ./var so tokens survive a restart of the demo.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from dgkb.api.problems import ApiProblem

GEMEENTE_OIN = "00000001001234567000"
WATERSCHAP_OIN = "00000001009876543000"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: str
    organisation: str
    unit: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("kcm-anna", "Anna de Vries (KCC gemeente)", "kcm", GEMEENTE_OIN, "Klantcontactcentrum"),
    DemoAccount("kcm-wim", "Wim Bakker (KCC waterschap)", "kcm", WATERSCHAP_OIN, "Klantcontact Belastingen"),
    DemoAccount(
        "behandelaar-bram", "Bram Jansen (Wmo-consulent)", "behandelaar", GEMEENTE_OIN, "Zorg en Welzijn"
    ),
    DemoAccount(
        "privacy-petra", "Petra Smit (privacy officer)", "privacy", GEMEENTE_OIN, "Privacy en Informatie"
    ),
    DemoAccount(
        "beheer-bea", "Bea Mulder (functioneel beheer)", "beheerder", GEMEENTE_OIN, "Informatievoorziening"
    ),
)


class DevIssuerRefused(RuntimeError):
    pass


class DevIssuer:
    def __init__(self, *, issuer: str, audience: str, key_file: Path | None, production: bool) -> None:
        if production:
            raise DevIssuerRefused("the dev issuer refuses to start with DGKB_ENV=production")
        self.issuer = issuer
        self.audience = audience
        self._key = _load_or_create_key(key_file)
        self.kid = "dev-" + uuid.uuid5(uuid.NAMESPACE_URL, issuer).hex[:12]

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def token_for(self, account: DemoAccount, *, lifetime: int = 8 * 3600, claims: dict[str, str]) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": account.username,
            "name": account.name,
            "iat": now,
            "exp": now + lifetime,
            claims["role"]: account.role,
            claims["organisation"]: account.organisation,
            claims["unit"]: account.unit,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})


def _load_or_create_key(key_file: Path | None) -> rsa.RSAPrivateKey:
    if key_file is not None and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_file is not None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_file.chmod(0o600)
    return key


class TokenRequest(BaseModel):
    gebruiker: str = Field(description="Gebruikersnaam van een demo-account, bijv. kcm-anna")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


def dev_issuer_router(issuer: DevIssuer, claims: dict[str, str]) -> APIRouter:
    # Not part of the API (never in production), so not in its OpenAPI document.
    router = APIRouter(prefix="/dev-issuer", tags=["dev-issuer"], include_in_schema=False)

    @router.get("/.well-known/openid-configuration", summary="OIDC discovery van de dev-issuer")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer.issuer,
            "jwks_uri": f"{issuer.issuer}/jwks.json",
            "token_endpoint": f"{issuer.issuer}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    @router.get("/jwks.json", summary="Publieke sleutels van de dev-issuer")
    async def jwks() -> dict[str, Any]:
        return issuer.jwks()

    @router.get("/accounts", summary="De demo-accounts")
    async def accounts() -> list[dict[str, str]]:
        return [
            {
                "gebruiker": a.username,
                "naam": a.name,
                "rol": a.role,
                "organisatie": a.organisation,
                "afdeling": a.unit,
            }
            for a in DEMO_ACCOUNTS
        ]

    @router.post("/token", summary="Token voor een demo-account (alleen buiten productie)")
    async def token(body: TokenRequest) -> TokenResponse:
        account = next((a for a in DEMO_ACCOUNTS if a.username == body.gebruiker), None)
        if account is None:
            raise ApiProblem(
                400,
                f"Onbekend demo-account; kies uit {', '.join(a.username for a in DEMO_ACCOUNTS)}.",
                code="auth.unknown_account",
                invalid_params=[{"name": "gebruiker", "code": "unknown", "reason": "onbekend demo-account"}],
            )
        return TokenResponse(access_token=issuer.token_for(account, claims=claims), expires_in=8 * 3600)

    return router


__all__ = ["DEMO_ACCOUNTS", "DevIssuer", "DevIssuerRefused", "dev_issuer_router"]
