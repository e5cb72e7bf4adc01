"""A development OIDC issuer that signs tokens for the demo accounts. Never in production.

It exists so a newcomer can log in right after `make run` with no identity provider. The key pair
is kept under ./var so tokens survive a restart of the demo. Outside development every process has a
key of its own unless `DGKB_DEV_ISSUER_KEY_FILE` names one: a token minted by one node is then refused
by every other node. Nodes behind one load balancer share the key file and `DGKB_PUBLIC_URL` (the
issuer URL, and so the token's `iss`, is derived from it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from dgkb.api.problems import ApiProblem
from dgkb.composition.deps import DatabaseDep
from dgkb.identity.login_codes import LoginCodes

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
    # Complaint handlers (klachtencoördinatoren): the KCC registers a complaint, they handle it.
    DemoAccount(
        "klachten-karin", "Karin Visser (klachtencoördinator)", "klachtbehandelaar", GEMEENTE_OIN, "Klachten"
    ),
    DemoAccount(
        "klachten-wouter",
        "Wouter de Boer (klachtbehandelaar waterschap)",
        "klachtbehandelaar",
        WATERSCHAP_OIN,
        "Juridische Zaken",
    ),
    DemoAccount(
        "privacy-petra", "Petra Smit (privacy officer)", "privacy", GEMEENTE_OIN, "Privacy en Informatie"
    ),
    # Team lead of the gemeente's KCC: the measure-and-learn dashboard only (issue 15 §4).
    DemoAccount(
        "teamleider-tim", "Tim Kramer (teamleider KCC)", "teamleider", GEMEENTE_OIN, "Klantcontactcentrum"
    ),
    # … and of the waterschap's: its own organisation's figures, never the gemeente's
    DemoAccount(
        "teamleider-tara",
        "Tara Visser (teamleider waterschap)",
        "teamleider",
        WATERSCHAP_OIN,
        "Klantcontact Belastingen",
    ),
    DemoAccount(
        "beheer-bea", "Bea Mulder (functioneel beheer)", "beheerder", GEMEENTE_OIN, "Informatievoorziening"
    ),
    # A system, not a person: a portal that asks the AuthZEN PDP on behalf of its users (role `pep`).
    DemoAccount(
        "pep-portaal", "Portaal Voorbeeldstad (policy enforcement point)", "pep", GEMEENTE_OIN, "Portaal"
    ),
)


class DevIssuerRefused(RuntimeError):
    pass


CODE_LIFETIME = timedelta(seconds=60)  # how long an authorization code stays valid (single use)


class DevIssuer:
    def __init__(self, *, issuer: str, audience: str, key_file: Path | None, production: bool) -> None:
        if production:
            raise DevIssuerRefused("the dev issuer refuses to start with DGKB_ENV=production")
        self.issuer = issuer
        self.audience = audience
        self._key = _load_or_create_key(key_file)
        self.kid = "dev-" + uuid.uuid5(uuid.NAMESPACE_URL, issuer).hex[:12]

    def id_token_for(self, account: DemoAccount, *, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": account.username,
            "name": account.name,
            "iat": now,
            "exp": now + 300,
        }
        if nonce:
            payload["nonce"] = nonce
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

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
    """The key in `key_file`, made there first when missing; a fresh key per process without one.

    Several processes may start together on one key file (the nodes of a test topology, the workers
    of `dgkb run --workers N`): the key is written to a file of its own and linked into place, so the
    first process to get there wins and every other one reads its key instead of writing a second."""
    if key_file is not None and key_file.exists():
        return _read_key(key_file)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_file is not None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        draft = key_file.with_name(f".{key_file.name}.{uuid.uuid4().hex}")
        draft.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)
        except FileExistsError:  # another process was first: use its key
            return _read_key(key_file)
        finally:
            draft.unlink()
    return key


def _read_key(key_file: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DevIssuerRefused(f"{key_file}: not an RSA private key")
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
    async def discovery(request: Request) -> dict[str, Any]:
        # Endpoints as reachable by whoever asked (tests run the app on a free port); `issuer` is
        # what the tokens carry.
        here = str(request.base_url).rstrip("/") + "/dev-issuer"
        return {
            "issuer": issuer.issuer,
            "jwks_uri": f"{here}/jwks.json",
            "authorization_endpoint": f"{here}/authorize",
            "token_endpoint": f"{here}/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    @router.get("/authorize", summary="Inlogpagina van de dev-issuer (authorization-code + PKCE)")
    async def authorize_page(request: Request) -> HTMLResponse:
        params = _authorize_params(dict(request.query_params), request)
        return HTMLResponse(_login_page(params))

    @router.post("/authorize", summary="Kies een demo-account; stuurt terug met een code")
    async def authorize(request: Request, codes: _CodesDep) -> RedirectResponse:
        form = await _form(request)
        params = _authorize_params(form, request)
        account = next((a for a in DEMO_ACCOUNTS if a.username == form.get("gebruiker")), None)
        if account is None:
            raise ApiProblem(400, "Kies een demo-account.", code="auth.unknown_account")
        # in the database, not in memory: the redirect may land on another worker or node
        code = await codes.issue(
            {
                "account": account.username,
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "code_challenge": params["code_challenge"],
                "nonce": params.get("nonce") or None,
            },
            lifetime=CODE_LIFETIME,
        )
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

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
    async def token(request: Request, codes: _CodesDep) -> Any:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            return await _code_exchange(issuer, await _form(request), claims, codes)
        # {"gebruiker": …}: the shortcut for scripts and tests
        body = TokenRequest.model_validate_json(await request.body())
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


def _grant_error(detail: str, error: str = "invalid_grant") -> ApiProblem:
    # problem+json like every DGKB error, with the OAuth 2.0 `error` code a client library expects
    return ApiProblem(400, detail, code=f"auth.{error}", extra={"error": error})


async def _form(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # a malformed body is bad input, never a 500
        raise _grant_error("De body is geen geldig formulier.", "invalid_request") from None
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def _codes(database: DatabaseDep) -> LoginCodes:
    return LoginCodes(database, "dev-issuer")


_CodesDep = Annotated[LoginCodes, Depends(_codes)]


async def _code_exchange(
    issuer: DevIssuer, form: dict[str, str], claims: dict[str, str], codes: LoginCodes
) -> dict[str, Any]:
    """RFC 6749 §4.1.3 with PKCE (RFC 7636): the code, its redirect URI, client and verifier must match."""
    if form.get("grant_type") != "authorization_code":
        raise _grant_error("Alleen grant_type=authorization_code.", "unsupported_grant_type")
    stored = await codes.redeem(form.get("code", ""))
    account = next((a for a in DEMO_ACCOUNTS if stored and a.username == stored.get("account")), None)
    if stored is None or account is None:
        raise _grant_error("De code is onbekend, al gebruikt of verlopen.")
    pending = _Pending(
        account=account,
        client_id=str(stored.get("client_id", "")),
        redirect_uri=str(stored.get("redirect_uri", "")),
        code_challenge=str(stored.get("code_challenge", "")),
        nonce=stored.get("nonce") or None,
    )
    verifier = form.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
        _pkce_s256(verifier), pending.code_challenge
    ):
        raise _grant_error("De code_verifier past niet bij de code_challenge (PKCE).")
    if form.get("redirect_uri") != pending.redirect_uri or form.get("client_id") != pending.client_id:
        raise _grant_error("redirect_uri of client_id wijkt af van de autorisatievraag.")
    lifetime = 8 * 3600
    return {
        "access_token": issuer.token_for(pending.account, lifetime=lifetime, claims=claims),
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": issuer.id_token_for(pending.account, client_id=pending.client_id, nonce=pending.nonce),
    }


_AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "state", "code_challenge", "nonce")


def _authorize_params(given: dict[str, str], request: Request) -> dict[str, str]:
    """Check an authorization request: code flow, S256 PKCE, and a redirect back to this host only."""
    if given.get("response_type", "code") != "code":
        raise _grant_error("Alleen response_type=code.", "unsupported_response_type")
    if given.get("code_challenge_method") != "S256" or not given.get("code_challenge"):
        raise _grant_error("PKCE met code_challenge_method=S256 is verplicht.", "invalid_request")
    for name in ("client_id", "redirect_uri", "state"):
        if not given.get(name):
            raise _grant_error(f"{name} ontbreekt.", "invalid_request")
    target = urlsplit(given["redirect_uri"])
    if (target.scheme, target.netloc) != (request.url.scheme, request.url.netloc):
        raise _grant_error("redirect_uri moet naar deze installatie wijzen.", "invalid_request")
    return {k: given.get(k, "") for k in _AUTHORIZE_PARAMS}


def _login_page(params: dict[str, str]) -> str:
    """A plain Dutch login page: one button per demo account (no scripts, styled by the console CSS)."""
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items())
    hidden += '<input type="hidden" name="response_type" value="code">'
    hidden += '<input type="hidden" name="code_challenge_method" value="S256">'
    buttons = "".join(
        '<li class="dev-login__item"><button class="utrecht-button utrecht-button--secondary-action '
        f'dev-login__button" type="submit" name="gebruiker" value="{html.escape(a.username)}">'
        f'<span class="dev-login__name">{html.escape(a.name)}</span>'
        f'<span class="dev-login__meta">{html.escape(a.username)} · rol {html.escape(a.role)} · '
        f"{html.escape(a.unit)}</span></button></li>"
        for a in DEMO_ACCOUNTS
    )
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Inloggen (demo) — DGKB</title>"
        '<link rel="stylesheet" href="/static/vendor/utrecht/component-library.css">'
        '<link rel="stylesheet" href="/static/vendor/voorbeeld-theme/theme.css">'
        '<link rel="stylesheet" href="/static/dgkb.css"></head>'
        '<body class="utrecht-document voorbeeld-theme dgkb-body">'
        '<main class="dev-login" id="main"><div class="dgkb-card dev-login__card">'
        '<h1 class="utrecht-heading-1">Inloggen bij DGKB</h1>'
        '<p class="utrecht-paragraph">Demo-inlog van de ontwikkel-issuer: kies een account. '
        "In productie logt u hier in bij de identity provider van uw organisatie.</p>"
        f'<form method="post" action="/dev-issuer/authorize">{hidden}'
        f'<ul class="dev-login__list">{buttons}</ul></form></div></main></body></html>'
    )


@dataclass(frozen=True)
class _Pending:
    account: DemoAccount
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None


__all__ = ["DEMO_ACCOUNTS", "DevIssuer", "DevIssuerRefused", "dev_issuer_router"]
