"""Bearer JWT validation (OIDC/OAuth2): issuer, audience, expiry, signature against a JWKS.

Role, organisation and unit come from configurable claims. The key set is either fetched from the
issuer's JWKS URL (cached, refreshed when an unknown `kid` appears) or, in development, handed over
in-process by the dev issuer.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import aiohttp
import jwt
from jwt import PyJWK

from dgkb.domain.context import Actor
from dgkb.domain.roles import Role

_CACHE_SIZE = 10_000


class AuthError(Exception):
    def __init__(self, detail: str, code: str = "auth.invalid_token") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class KeySet:
    """JWKS cache. `static` keys (dev issuer) never expire; fetched keys refresh at most every 60 s."""

    def __init__(self, *, url: str | None = None, static: dict[str, Any] | None = None) -> None:
        self._url = url
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        if static:
            self._load(static)

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            if "kid" in jwk:
                keys[jwk["kid"]] = PyJWK(jwk)
        self._keys = keys

    async def get(self, kid: str) -> PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        if self._url is None:
            return None
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > 60:
                self._fetched_at = time.monotonic()
                try:
                    async with (
                        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client,
                        client.get(self._url) as resp,
                    ):
                        self._load(await resp.json(content_type=None))
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    return None
        return self._keys.get(kid)


class TokenValidator:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySet,
        role_claim: str,
        organisation_claim: str,
        unit_claim: str,
        employee_claim: str = "medewerker_identificatie",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.role_claim = role_claim
        self.organisation_claim = organisation_claim
        self.unit_claim = unit_claim
        self.employee_claim = employee_claim
        self._cache: dict[bytes, tuple[Actor, float]] = {}

    async def actor(self, token: str) -> Actor:
        """Validate the token and turn its claims into the Actor of the request context.

        A validated token is remembered until its expiry: an RSA verify per request is a
        measurable share of a klantbeeld's CPU, and the answer cannot change before `exp`."""
        key = hashlib.sha256(token.encode()).digest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        actor, expires = await self._validate(token)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (actor, expires)
        return actor

    async def _validate(self, token: str) -> tuple[Actor, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("Het token is geen geldige JWT.") from None
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthError("Het token noemt geen sleutel (kid).")
        key = await self.keys.get(kid)
        if key is None:
            raise AuthError("Het token is getekend met een onbekende sleutel.")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256", "ES256", "PS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("Het token is verlopen; log opnieuw in.", "auth.expired") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"Het token is ongeldig ({type(exc).__name__}).") from None
        try:
            role = Role(str(claims.get(self.role_claim, "")))
        except ValueError:
            raise AuthError("Het token bevat geen geldige DGKB-rol.", "auth.no_role") from None
        organisation = claims.get(self.organisation_claim)
        if not isinstance(organisation, str) or not organisation:
            raise AuthError("Het token noemt geen organisatie (OIN).", "auth.no_organisation")
        unit = claims.get(self.unit_claim)
        actor = Actor(
            id=str(claims["sub"]),
            role=role,
            organisation=organisation,
            organisation_unit=str(unit) if unit else None,
            name=str(claims["name"]) if claims.get("name") else None,
            issuer=str(claims["iss"]),
            employee_id=str(claims[self.employee_claim]) if claims.get(self.employee_claim) else None,
        )
        return actor, float(claims["exp"])
