"""DGKB as a client of the organisation's DigiD broker, for a customer's own login on a public page
(the "bevestig met DigiD" confirmation): discovery, the authorization URL (code flow with state,
nonce and S256 PKCE, as the NL GOV OIDC profile requires) and the server-side code exchange.

Configured by `DGKB_DIGID_ISSUER` (discovery at `{issuer}/.well-known/openid-configuration`) and the
first client id of `DGKB_DIGID_AUDIENCE`; outside production without an issuer, the built-in test
broker of this installation (at the request's own base URL + /test-broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

__all__ = ["BrokerClient", "BrokerEndpoints", "BrokerError", "PublicLogin"]


class BrokerError(Exception):
    """The broker could not be asked, or answered something unusable (no personal data inside)."""


@dataclass(frozen=True, slots=True)
class PublicLogin:
    """Settings of the customer-facing login: DGKB's public URL (links in messages), the broker's
    issuer (None = the test broker at this installation) and DGKB's client id there."""

    public_url: str
    issuer: str | None
    client_id: str
    test_broker_path: str | None  # outside production: where the test broker lives

    def base(self, request_base: str) -> str:
        """DGKB's public base URL: the configured one, else the one the request came in on."""
        return (self.public_url or request_base).rstrip("/")


@dataclass(frozen=True, slots=True)
class BrokerEndpoints:
    authorization_endpoint: str
    token_endpoint: str
    end_session_endpoint: str | None = None  # RP-initiated logout, when the broker offers it


class BrokerClient:
    def __init__(self, login: PublicLogin, *, timeout: float = 5.0) -> None:
        self._login = login
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._cached: dict[str, BrokerEndpoints] = {}

    def issuer_url(self, request_base: str) -> str:
        if self._login.issuer:
            return self._login.issuer.rstrip("/")
        if self._login.test_broker_path is None:
            raise BrokerError("Er is geen DigiD-broker ingesteld (DGKB_DIGID_ISSUER).")
        return request_base.rstrip("/") + self._login.test_broker_path

    async def endpoints(self, request_base: str) -> BrokerEndpoints:
        issuer = self.issuer_url(request_base)
        if issuer in self._cached:
            return self._cached[issuer]
        doc = await self._json("GET", f"{issuer}/.well-known/openid-configuration")
        auth, token = doc.get("authorization_endpoint"), doc.get("token_endpoint")
        if not isinstance(auth, str) or not isinstance(token, str):
            raise BrokerError("De broker noemt geen authorization_endpoint of token_endpoint.")
        end = doc.get("end_session_endpoint")
        found = BrokerEndpoints(
            authorization_endpoint=auth,
            token_endpoint=token,
            end_session_endpoint=end if isinstance(end, str) and end else None,
        )
        self._cached[issuer] = found
        return found

    def authorize_url(
        self, endpoints: BrokerEndpoints, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._login.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        sep = "&" if urlsplit(endpoints.authorization_endpoint).query else "?"
        return f"{endpoints.authorization_endpoint}{sep}{query}"

    def logout_url(self, endpoints: BrokerEndpoints, *, return_to: str) -> str | None:
        """Where to send the browser so that the broker's session ends too (None: it has no
        end_session_endpoint; then only DGKB's session ends)."""
        if endpoints.end_session_endpoint is None:
            return None
        query = urlencode({"client_id": self._login.client_id, "post_logout_redirect_uri": return_to})
        sep = "&" if urlsplit(endpoints.end_session_endpoint).query else "?"
        return f"{endpoints.end_session_endpoint}{sep}{query}"

    async def exchange(
        self, endpoints: BrokerEndpoints, *, code: str, redirect_uri: str, code_verifier: str
    ) -> str:
        """The ID token for this authorization code (server to server)."""
        answer = await self._json(
            "POST",
            endpoints.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self._login.client_id,
                "code_verifier": code_verifier,
            },
        )
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise BrokerError("De broker gaf geen ID-token.")
        return id_token

    async def _json(self, method: str, url: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as client,
                client.request(method, url, data=data) as resp,
            ):
                if resp.status != 200:
                    raise BrokerError(f"De broker antwoordde met status {resp.status}.")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise BrokerError(f"De broker is niet bereikbaar ({type(exc).__name__}).") from None
        if not isinstance(body, dict):
            raise BrokerError("De broker gaf een onverwacht antwoord.")
        return body
