"""The test broker: a clearly marked stand-in for the organisation's DigiD/eHerkenning broker.
Never in production (TESTOMGEVING — geen echte DigiD).

It speaks the NL GOV OIDC profile like a real broker: discovery, JWKS, an authorization-code login
(+PKCE, nonce) where one picks a test BSN (or KVK number, vestiging and acting person) and a level,
and real signed ID tokens whose `acr` comes from the configured acr table. Its login codes live in
the database, so the flow works with several workers and nodes. `POST /test-broker/id-token` is the
shortcut for tests and scripts. DGKB trusts it only outside production (see composition.root.brokers).
"""

from __future__ import annotations

import hmac
import html
import secrets
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field, model_validator

from dgkb.api.dev_issuer import _form, _grant_error, _load_or_create_key, _pkce_s256
from dgkb.api.problems import ApiProblem
from dgkb.api.v1.schemas import SubjectRef
from dgkb.composition.deps import DatabaseDep
from dgkb.composition.root import TEST_BROKER_PATH
from dgkb.domain.assurance import Assurance, IdentificationMethod, login_method
from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.representation import Vertegenwoordiging
from dgkb.identity.acr import AcrTable
from dgkb.identity.login_codes import LoginCodes

__all__ = ["TEST_BROKER_PATH", "TestBroker", "TestBrokerRefused", "test_broker_router"]

BANNER = "TESTOMGEVING — geen echte DigiD"
CODE_LIFETIME = timedelta(seconds=120)
TOKEN_LIFETIME = 300


class TestBrokerRefused(RuntimeError):
    pass


class TestBroker:
    """Signs ID tokens as the test broker would after a login (claims named as DGKB is configured
    to read them, so the verification path is the production one)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        acr: AcrTable,
        key_file: Path | None,
        production: bool,
        bsn_claim: str = "bsn",
        kvk_claim: str = "kvk",
        vestiging_claim: str = "vestiging",
        acting_person_claim: str = "acting_subject",
    ) -> None:
        if production:
            raise TestBrokerRefused("the test broker refuses to start with DGKB_ENV=production")
        self.issuer = issuer
        self.audience = audience.split(",")[0].strip()
        self._acr = acr
        self._key = _load_or_create_key(key_file)
        self.kid = "test-broker-" + uuid.uuid5(uuid.NAMESPACE_URL, issuer).hex[:12]
        self.bsn_claim = bsn_claim.split(",")[0].strip()
        self.kvk_claim = kvk_claim
        self.vestiging_claim = vestiging_claim
        self.acting_person_claim = acting_person_claim

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def acr_for(self, subject: Subject, level: Assurance) -> str | None:
        method = (
            IdentificationMethod.DIGID
            if subject.kind is SubjectKind.BSN
            else IdentificationMethod.EHERKENNING
        )
        return self._acr.acr_for(method, level)

    def id_token(
        self,
        subject: Subject,
        level: Assurance,
        *,
        nonce: str,
        audience: str | None = None,
        kvk: str | None = None,
        acting_person: str | None = None,
        acr: str | None = None,
        lifetime: int = TOKEN_LIFETIME,
        issued_at: int | None = None,
        represents: Subject | None = None,
        representation: str | None = None,
    ) -> str:
        """An ID token of a login of `subject` at `level` (acr from the table, or `acr` as given).
        For a vestiging, `kvk` is the KVK number it belongs to."""
        now = int(time.time()) if issued_at is None else issued_at
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": "test-" + uuid.uuid4().hex,  # pairwise-style subject; the identifier is a claim
            "iat": now,
            "auth_time": now,
            "exp": now + lifetime,
            "nonce": nonce,
            "acr": acr if acr is not None else self.acr_for(subject, level),
        }
        if subject.kind is SubjectKind.BSN:
            payload[self.bsn_claim] = subject.value
        else:
            if subject.kind is SubjectKind.VESTIGING:
                payload[self.vestiging_claim] = subject.value
                if kvk:
                    payload[self.kvk_claim] = kvk
            else:
                payload[self.kvk_claim] = subject.value
            payload[self.acting_person_claim] = acting_person or "Test Handelend Persoon"
        if represents is not None:
            # NL GOV profile: the End-User above, the represented party in `represents`
            payload["represents"] = {
                "sub": represents.value,
                "sub_id_type": _SUB_ID_TYPES[represents.kind],
                "iss": self.issuer,
            }
            if representation:
                payload["vertegenwoordiging"] = representation
        if payload["acr"] is None:
            del payload["acr"]
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})


_SUB_ID_TYPES = {
    SubjectKind.BSN: "urn:nl-eid-gdi:1.0:id:BSN",
    SubjectKind.KVK: "urn:nl-eid-gdi:1.0:id:KvKnr",
    SubjectKind.VESTIGING: "urn:nl-eid-gdi:1.0:id:vestigingsnummer",
}


class IdTokenRequest(SubjectRef):
    """Shortcut body: a test BSN, or a KVK number (with optional vestigingsnummer) and the acting
    person, and the level; optional nonce and audience."""

    niveau: Assurance = Field(description="digid-… voor een BSN, eherkenning-… voor een KVK-nummer")
    nonce: str | None = Field(default=None, min_length=1, max_length=500)
    aud: str | None = Field(default=None, min_length=1, max_length=500)
    handelend_persoon: str | None = Field(default=None, min_length=1, max_length=200)
    acr: str | None = Field(
        default=None, min_length=1, max_length=500, description="Vervangt het acr uit de tabel (om te testen)"
    )
    kvk_van_vestiging: str | None = Field(default=None, max_length=8)
    namens_bsn: str | None = Field(default=None, max_length=9, description="De vertegenwoordigde persoon")
    namens_kvk: str | None = Field(default=None, max_length=8, description="Het vertegenwoordigde bedrijf")
    vertegenwoordiging: Vertegenwoordiging | None = None

    @model_validator(mode="after")
    def _level_fits(self) -> IdTokenRequest:
        method = login_method(self.niveau)
        wanted = IdentificationMethod.DIGID if self.bsn is not None else IdentificationMethod.EHERKENNING
        if method is not wanted:
            raise ValueError(f"kies een {wanted.value}-niveau voor deze klant")
        return self


def _subject_of(choice: dict[str, str]) -> Subject:
    if choice.get("soort") == "kvk":
        if choice.get("vestigingsnummer"):
            return Subject.establishment(choice["vestigingsnummer"])
        return Subject.business(choice.get("kvkNummer", ""))
    return Subject.person(choice.get("bsn", ""))


def _represented(bsn: str | None, kvk: str | None) -> Subject | None:
    """The party a test login acts for (DigiD Machtigen, bewind, ketenmachtiging), if any."""
    if bsn:
        return Subject.person(bsn)
    if kvk:
        return Subject.business(kvk)
    return None


async def _codes(database: DatabaseDep) -> LoginCodes:
    return LoginCodes(database, "test-broker")


_CodesDep = Annotated[LoginCodes, Depends(_codes)]


def test_broker_router(broker: TestBroker) -> APIRouter:
    # Not part of the API (never in production), so not in its OpenAPI document.
    router = APIRouter(prefix=TEST_BROKER_PATH, tags=["test-broker"], include_in_schema=False)

    @router.get("/.well-known/openid-configuration")
    async def discovery(request: Request) -> dict[str, Any]:
        here = str(request.base_url).rstrip("/") + TEST_BROKER_PATH
        return {
            "issuer": broker.issuer,
            "jwks_uri": f"{here}/jwks.json",
            "authorization_endpoint": f"{here}/authorize",
            "token_endpoint": f"{here}/token",
            "end_session_endpoint": f"{here}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "acr_values_supported": sorted(
                {
                    a
                    for m in (IdentificationMethod.DIGID, IdentificationMethod.EHERKENNING)
                    for a in _acrs(broker, m)
                }
            ),
            "claims_supported": [
                "iss",
                "aud",
                "sub",
                "iat",
                "exp",
                "auth_time",
                "nonce",
                "acr",
                broker.bsn_claim,
                broker.kvk_claim,
                broker.vestiging_claim,
                broker.acting_person_claim,
                "represents",
                "vertegenwoordiging",
            ],
        }

    @router.get("/jwks.json")
    async def jwks() -> dict[str, Any]:
        return broker.jwks()

    @router.get("/authorize")
    async def authorize_page(request: Request) -> HTMLResponse:
        params = _authorize_params(dict(request.query_params))
        return HTMLResponse(_login_page(params))

    @router.post("/authorize")
    async def authorize(request: Request, codes: _CodesDep) -> RedirectResponse:
        form = await _form(request)
        params = _authorize_params(form)
        choice = {
            k: form.get(k, "").strip()
            for k in (
                "soort",
                "bsn",
                "kvkNummer",
                "vestigingsnummer",
                "naam",
                "namensBsn",
                "namensKvk",
                "vertegenwoordiging",
            )
        }
        try:
            subject = _subject_of(choice)
            level = Assurance(form.get("niveau", ""))
            represents = _represented(choice["namensBsn"], choice["namensKvk"])
            representation = Vertegenwoordiging(choice["vertegenwoordiging"]) if represents else None
        except (InvalidIdentifier, ValueError):
            raise ApiProblem(
                400, "Kies een geldig test-BSN of KVK-nummer en een niveau.", code="auth.invalid_choice"
            ) from None
        wanted = (
            IdentificationMethod.DIGID
            if subject.kind is SubjectKind.BSN
            else IdentificationMethod.EHERKENNING
        )
        if login_method(level) is not wanted:
            raise ApiProblem(400, f"Kies een {wanted.value}-niveau.", code="auth.invalid_choice")
        code = await codes.issue(
            {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "code_challenge": params["code_challenge"],
                "nonce": params["nonce"],
                "kind": subject.kind.value,
                "value": subject.value,
                "kvk": choice["kvkNummer"],
                "level": level.value,
                "acting_person": choice["naam"] or None,
                "represents": [represents.kind.value, represents.value] if represents else None,
                "representation": representation.value if representation else None,
            },
            lifetime=CODE_LIFETIME,
        )
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

    @router.post("/token")
    async def token(request: Request, codes: _CodesDep) -> dict[str, Any]:
        form = await _form(request)
        if form.get("grant_type") != "authorization_code":
            raise _grant_error("Alleen grant_type=authorization_code.", "unsupported_grant_type")
        pending = await codes.redeem(form.get("code", ""))
        if pending is None:
            raise _grant_error("De code is onbekend, al gebruikt of verlopen.")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
            _pkce_s256(verifier), pending["code_challenge"]
        ):
            raise _grant_error("De code_verifier past niet bij de code_challenge (PKCE).")
        if (
            form.get("redirect_uri") != pending["redirect_uri"]
            or form.get("client_id") != pending["client_id"]
        ):
            raise _grant_error("redirect_uri of client_id wijkt af van de autorisatievraag.")
        subject = Subject(SubjectKind(pending["kind"]), pending["value"])
        id_token = broker.id_token(
            subject,
            Assurance(pending["level"]),
            nonce=pending["nonce"],
            audience=pending["client_id"],
            kvk=pending.get("kvk"),
            acting_person=pending.get("acting_person"),
            represents=Subject(SubjectKind(pending["represents"][0]), pending["represents"][1])
            if pending.get("represents")
            else None,
            representation=pending.get("representation"),
        )
        return {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "id_token": id_token,
        }

    @router.get("/logout")
    async def logout(request: Request) -> RedirectResponse:
        """RP-initiated logout: the broker's session ends (the test broker keeps none) and the
        browser returns to `post_logout_redirect_uri` — only to this origin, never elsewhere."""
        target = request.query_params.get("post_logout_redirect_uri", "")
        own = urlsplit(str(request.base_url))
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or parts.netloc != own.netloc:
            raise _grant_error("post_logout_redirect_uri hoort niet bij deze omgeving.", "invalid_request")
        state = request.query_params.get("state")
        suffix = ("&" if parts.query else "?") + urlencode({"state": state}) if state else ""
        return RedirectResponse(target + suffix, status_code=303)

    @router.post("/id-token")
    async def id_token(body: IdTokenRequest) -> dict[str, Any]:
        """Shortcut for tests and scripts: an ID token as after a login with this choice."""
        nonce = body.nonce or secrets.token_urlsafe(16)
        token = broker.id_token(
            body.subject(),
            body.niveau,
            nonce=nonce,
            audience=body.aud,
            kvk=body.kvk_van_vestiging,
            acting_person=body.handelend_persoon,
            acr=body.acr,
            represents=_represented(body.namens_bsn, body.namens_kvk),
            representation=body.vertegenwoordiging.value if body.vertegenwoordiging else None,
        )
        return {"idToken": token, "nonce": nonce, "testomgeving": BANNER}

    return router


def _acrs(broker: TestBroker, method: IdentificationMethod) -> list[str]:
    return [a for a in broker._acr.levels.get(method, {})]


_AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "state", "code_challenge", "nonce")


def _authorize_params(given: dict[str, str]) -> dict[str, str]:
    """Code flow with S256 PKCE and a nonce (the NL GOV profile requires it), to an http(s) URI."""
    if given.get("response_type", "code") != "code":
        raise _grant_error("Alleen response_type=code.", "unsupported_response_type")
    if given.get("code_challenge_method") != "S256" or not given.get("code_challenge"):
        raise _grant_error("PKCE met code_challenge_method=S256 is verplicht.", "invalid_request")
    for name in ("client_id", "redirect_uri", "state", "nonce"):
        if not given.get(name):
            raise _grant_error(f"{name} ontbreekt.", "invalid_request")
    if urlsplit(given["redirect_uri"]).scheme not in ("http", "https"):
        raise _grant_error("redirect_uri moet een http(s)-adres zijn.", "invalid_request")
    return {k: given.get(k, "") for k in _AUTHORIZE_PARAMS}


_LEVELS = (
    Assurance.DIGID_BASIS,
    Assurance.DIGID_MIDDEN,
    Assurance.DIGID_SUBSTANTIEEL,
    Assurance.DIGID_HOOG,
    Assurance.EHERKENNING_EH2,
    Assurance.EHERKENNING_EH2PLUS,
    Assurance.EHERKENNING_EH3,
    Assurance.EHERKENNING_EH4,
)


def _login_page(params: dict[str, str]) -> str:
    """A plain Dutch login page, marked as a test environment everywhere (no scripts)."""
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items())
    hidden += '<input type="hidden" name="response_type" value="code">'
    hidden += '<input type="hidden" name="code_challenge_method" value="S256">'
    options = "".join(
        f'<option value="{lvl.value}"{" selected" if lvl is Assurance.DIGID_MIDDEN else ""}>'
        f"{html.escape(lvl.label)}</option>"
        for lvl in _LEVELS
    )

    kinds = "".join(f'<option value="{k.value}">{html.escape(k.label)}</option>' for k in Vertegenwoordiging)

    def field(name: str, label: str, hint: str = "") -> str:
        return (
            f'<div class="utrecht-form-field"><label class="utrecht-form-label" for="{name}">{label}</label>'
            f"{f'<p class=utrecht-form-field-description>{hint}</p>' if hint else ''}"
            f'<input class="utrecht-textbox" id="{name}" name="{name}" autocomplete="off"></div>'
        )

    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{BANNER} — testbroker</title>"
        '<link rel="stylesheet" href="/static/vendor/utrecht/component-library.css">'
        '<link rel="stylesheet" href="/static/vendor/voorbeeld-theme/theme.css">'
        '<link rel="stylesheet" href="/static/dgkb.css"></head>'
        '<body class="utrecht-document voorbeeld-theme dgkb-body">'
        '<main class="dev-login" id="main"><div class="dgkb-card dev-login__card">'
        '<p class="utrecht-alert utrecht-alert--warning dgkb-alert" role="alert">'
        f"<strong>{BANNER}</strong></p>"
        '<h1 class="utrecht-heading-1">Testbroker: inloggen als testklant</h1>'
        '<p class="utrecht-paragraph">Dit is geen DigiD en geen eHerkenning. Kies een test-BSN '
        "(999…) of een test-KVK-nummer met handelend persoon, en het niveau van de inlog. "
        "In productie logt de klant in bij de echte broker van de organisatie.</p>"
        f'<form method="post" action="{TEST_BROKER_PATH}/authorize">{hidden}'
        '<fieldset class="utrecht-form-fieldset">'
        '<legend class="utrecht-form-fieldset__legend">Soort klant</legend>'
        '<label><input type="radio" name="soort" value="bsn" checked> Persoon (DigiD)</label> '
        '<label><input type="radio" name="soort" value="kvk"> Bedrijf (eHerkenning)</label></fieldset>'
        + field("bsn", "Test-BSN", "bijv. 999993653")
        + field("kvkNummer", "KVK-nummer", "bijv. 68750110")
        + field("vestigingsnummer", "Vestigingsnummer (optioneel)")
        + field("naam", "Handelend persoon (eHerkenning)")
        + '<fieldset class="utrecht-form-fieldset">'
        '<legend class="utrecht-form-fieldset__legend">Namens een ander (optioneel)</legend>'
        + field("namensBsn", "BSN van wie u vertegenwoordigt")
        + field("namensKvk", "KVK-nummer van het bedrijf dat u vertegenwoordigt")
        + '<div class="utrecht-form-field"><label class="utrecht-form-label" for="vertegenwoordiging">'
        "Soort vertegenwoordiging</label>"
        f'<select class="utrecht-select" id="vertegenwoordiging" name="vertegenwoordiging">{kinds}</select>'
        "</div></fieldset>"
        + '<div class="utrecht-form-field"><label class="utrecht-form-label" for="niveau">Niveau</label>'
        f'<select class="utrecht-select" id="niveau" name="niveau">{options}</select></div>'
        '<button class="utrecht-button utrecht-button--primary-action" type="submit">Inloggen (test)</button>'
        "</form></div></main></body></html>"
    )
