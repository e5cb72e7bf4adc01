"""OIDC authorization-code flow with PKCE (RFC 7636), as a public client of the configured issuer.

With no issuer configured (development) the built-in dev issuer of this process is used, found at
`/dev-issuer` on the host the browser used. The access token is then validated exactly as API
bearer tokens are (the same TokenValidator); the id token's nonce is checked against the one sent.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request

__all__ = ["OidcClient", "OidcError", "TokenSet", "WebSettings", "pkce_pair"]


class WebSettings(BaseSettings):
    """The console's OIDC client registration (environment, prefix DGKB_WEB_)."""

    model_config = SettingsConfigDict(env_prefix="DGKB_WEB_", extra="ignore")

    oidc_client_id: str = "dgkb-console"
    oidc_client_secret: SecretStr | None = None  # confidential client; empty = public client + PKCE
    oidc_scope: str = "openid profile"


class OidcError(Exception):
    """The login could not be completed; `message` is shown to the user (Dutch)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    id_token: str | None
    expires_in: int


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def id_token_nonce(id_token: str) -> str | None:
    """The nonce of an id token received directly from the token endpoint over the back channel
    (OIDC Core §3.1.3.7: TLS to the token endpoint authenticates it)."""
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    nonce = claims.get("nonce")
    return nonce if isinstance(nonce, str) else None


class OidcClient:
    def __init__(self, *, issuer: str | None, settings: WebSettings) -> None:
        self._issuer = issuer.rstrip("/") if issuer else None
        self._settings = settings
        self._metadata: dict[str, Any] | None = None

    @property
    def client_id(self) -> str:
        return self._settings.oidc_client_id

    def _discovery_url(self, request: Request) -> str:
        base = self._issuer or str(request.base_url).rstrip("/") + "/dev-issuer"
        return f"{base}/.well-known/openid-configuration"

    async def metadata(self, request: Request) -> dict[str, Any]:
        if self._metadata is not None:
            return self._metadata
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client,
                client.get(self._discovery_url(request)) as resp,
            ):
                resp.raise_for_status()
                meta: dict[str, Any] = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OidcError("De inlogdienst is nu niet bereikbaar; probeer het zo opnieuw.") from exc
        if self._issuer is not None:  # the dev issuer's endpoints depend on the host asked
            self._metadata = meta
        return meta

    def authorization_url(
        self, meta: dict[str, Any], *, redirect_uri: str, state: str, challenge: str, nonce: str
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self._settings.oidc_scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{meta['authorization_endpoint']}?{query}"

    async def exchange(
        self, meta: dict[str, Any], *, code: str, verifier: str, redirect_uri: str
    ) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        auth = None
        if self._settings.oidc_client_secret is not None:
            auth = aiohttp.BasicAuth(self.client_id, self._settings.oidc_client_secret.get_secret_value())
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client,
                client.post(meta["token_endpoint"], data=form, auth=auth) as resp,
            ):
                body: dict[str, Any] = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OidcError("De inlogdienst is nu niet bereikbaar; probeer het zo opnieuw.") from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if status != 200 or not isinstance(token, str):
            raise OidcError("Inloggen is mislukt (de code werd niet geaccepteerd); probeer het opnieuw.")
        id_token = body.get("id_token")
        expires = body.get("expires_in")
        return TokenSet(
            access_token=token,
            id_token=id_token if isinstance(id_token, str) else None,
            expires_in=int(expires) if isinstance(expires, int | float) else 3600,
        )
