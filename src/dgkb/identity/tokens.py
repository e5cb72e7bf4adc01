"""Bearer JWT validation (OIDC/OAuth2): issuer, audience, expiry, signature against a JWKS.

Role, organisation and unit come from configurable claims. The key set is either fetched from the
issuer's JWKS URL (cached, refreshed when an unknown `kid` appears) or, in development, handed over
in-process by the dev issuer.
"""

from __future__ import annotations

import hashlib
import time

import jwt

from dgkb.domain.context import Actor
from dgkb.domain.roles import Role
from dgkb.identity.jwks import KeySet

__all__ = ["AuthError", "KeySet", "TokenValidator"]

_CACHE_SIZE = 10_000


class AuthError(Exception):
    def __init__(self, detail: str, code: str = "auth.invalid_token") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


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
