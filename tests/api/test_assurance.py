"""Assurance from evidence (issue 9 §1–2): an agent attests only `geen` and `controlevragen`; every
DigiD/eHerkenning level comes from a verified ID token of the broker (here the test broker), whose
subject must be the contact's, and the evidence is kept, shown and logged."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dgkb.api.test_broker import TestBroker
from dgkb.app import create_app
from dgkb.audit.query import search_access, search_ldv
from dgkb.composition.root import load_configuration
from dgkb.domain.assurance import Assurance
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.identifiers import Subject
from dgkb.operator import OperatorError, read_klantbeeld
from dgkb.runner import rebase_sources
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import (
    GEMEENTE,
    Stack,
    identify,
    identify_with_login,
    login_token,
    open_contact,
    sections,
)
from tests.api.production import production_settings

BELASTINGEN = GEMEENTE + "gemeentelijke-belastingen"
BSN, OTHER_BSN = "999993653", "999990639"
KVK = "68750110"
MIDDEN_ACR = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"


async def new_contact(client: httpx.AsyncClient, kanaal: str = "telefoon") -> str:
    resp = await client.post(
        "/api/v1/contacten", json={"kanaal": kanaal, "verwerkingsactiviteit": BELASTINGEN}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def ldv_names(stack: Stack, bsn: str) -> list[tuple[str, str]]:
    services = stack.app.state.services
    page = await search_ldv(services.database, services.pseudonymizer, subject=Subject.person(bsn))
    return [(e.name, e.trace_id) for e in page.items]


@pytest.mark.parametrize(
    ("subject", "zekerheid", "kanaal"),
    [
        ({"bsn": BSN}, "digid-midden", "telefoon"),
        ({"bsn": BSN}, "digid-hoog", "chat"),
        ({"kvkNummer": KVK}, "eherkenning-eh3", "webformulier"),
    ],
)
async def test_a_typed_login_level_is_refused_naming_zekerheid(
    stack: Stack, subject: dict[str, str], zekerheid: str, kanaal: str
) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna, kanaal)
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={**subject, "zekerheid": zekerheid}
        )
        assert resp.status_code == 400
        assert resp.headers["content-type"].startswith("application/problem+json")
        problem = resp.json()
        assert problem["invalidParams"][0]["name"] == "zekerheid"
        assert "komt uit een inlog van de klant, niet uit invoer" in problem["detail"]
        after = (await anna.get(f"/api/v1/contacten/{contact}")).json()
    assert after["geidentificeerd"] is False
    assert after["zekerheid"] is None


async def test_zekerheid_and_id_token_exclude_each_other(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        token = await login_token(anna, {"bsn": BSN})
        both = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"bsn": BSN, "zekerheid": "controlevragen", **token},
        )
        neither = await anna.post(f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN})
        garbage = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "idToken": "geen-jwt"}
        )
    assert both.status_code == 400
    assert both.json()["invalidParams"][0]["name"] == "zekerheid"
    assert neither.status_code == 400
    assert neither.json()["invalidParams"][0]["name"] == "zekerheid"
    assert garbage.status_code == 400
    assert garbage.json()["invalidParams"][0]["name"] == "idToken"


async def test_a_login_raises_the_level_and_keeps_the_evidence(stack: Stack) -> None:
    broker = stack.app.state.test_broker
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        before = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code
        assert before == 403  # not identified yet
        ident = await identify_with_login(anna, contact, {"bsn": BSN}, "digid-midden")
        shown = (await anna.get(f"/api/v1/contacten/{contact}")).json()
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    for view in (ident, shown):
        assert view["zekerheid"] == "digid-midden"
        evidence = view["identificatie"]
        assert evidence["methode"] == "digid"
        assert evidence["uitgever"] == broker.issuer
        assert evidence["acr"] == MIDDEN_ACR
        assert abs(time.time() - _epoch(evidence["op"])) < 300
    # the level is what the policy sees: tax data needs DigiD midden
    assert sections(body)["dossier.financieel"][0]["status"] == "ok"
    # the identification's log record says how identity was established
    names = [n for n, _ in await ldv_names(stack, BSN)]
    assert any(
        n.startswith(f"klant identificeren (DigiD midden via {broker.issuer}, acr {MIDDEN_ACR}, ingelogd ")
        for n in names
    ), names


async def test_control_questions_keep_their_method(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        view = await identify(anna, contact, {"bsn": BSN}, "controlevragen")
    assert view["identificatie"]["methode"] == "controlevragen"
    assert view["identificatie"]["uitgever"] is None
    assert view["identificatie"]["acr"] is None
    assert "klant identificeren (controlevragen)" in [n for n, _ in await ldv_names(stack, BSN)]


async def test_a_login_of_someone_else_is_refused_logged_and_changes_nothing(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        await identify(anna, contact, {"bsn": BSN}, "controlevragen")
        token = await login_token(anna, {"bsn": OTHER_BSN}, "digid-hoog")
        resp = await anna.post(f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, **token})
        after = (await anna.get(f"/api/v1/contacten/{contact}")).json()
        # on a fresh contact too: the claimed subject is not bound by someone else's login
        fresh = await new_contact(anna)
        token = await login_token(anna, {"bsn": OTHER_BSN}, "digid-midden")
        refused = await anna.post(f"/api/v1/contacten/{fresh}/identificatie", json={"bsn": BSN, **token})
        fresh_after = (await anna.get(f"/api/v1/contacten/{fresh}")).json()
    assert resp.status_code == 403
    assert resp.json()["reden"] == "ASSERTION_SUBJECT_MISMATCH"
    assert after["zekerheid"] == "controlevragen"
    assert after["identificatie"]["methode"] == "controlevragen"
    assert refused.status_code == 403
    assert refused.json()["reden"] == "ASSERTION_SUBJECT_MISMATCH"
    assert fresh_after["geidentificeerd"] is False
    # logged as a failed identification attempt about the claimed subject, outcome denied
    failed = [(n, t) for n, t in await ldv_names(stack, BSN) if n.startswith("klant identificeren mislukt")]
    assert len(failed) == 2
    assert "DigiD hoog via" in failed[-1][0] or "DigiD hoog via" in failed[0][0]
    services = stack.app.state.services
    access = await search_access(services.database, services.pseudonymizer, subject=Subject.person(BSN))
    outcomes = {e.trace_id: e.outcome for e in access.items}
    assert {outcomes[t] for _, t in failed} == {"denied"}
    # the other person's identifier is not written in those records
    assert all(OTHER_BSN not in n for n, _ in failed)


async def test_unknown_acr_counts_as_geen(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        view = await identify_with_login(
            anna, contact, {"bsn": BSN}, "digid-hoog", acr="urn:example:onbekende-klasse"
        )
        body = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
    assert view["zekerheid"] == "geen"
    assert view["identificatie"]["acr"] == "urn:example:onbekende-klasse"
    assert sections(body)["dossier.financieel"][0]["status"] != "ok"


def _expired(stack: Stack, nonce: str) -> str:
    broker: TestBroker = stack.app.state.test_broker
    then = int(time.time()) - 900
    return broker.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce, issued_at=then)


def _foreign_audience(stack: Stack, nonce: str) -> str:
    broker: TestBroker = stack.app.state.test_broker
    return broker.id_token(
        Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce, audience="ander-platform"
    )


def _other_key(stack: Stack, nonce: str) -> str:
    broker: TestBroker = stack.app.state.test_broker
    impostor = TestBroker(
        issuer=broker.issuer,
        audience=broker.audience,
        acr=load_configuration(stack.settings).acr,
        key_file=None,
        production=False,
    )
    return impostor.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_expired, "ASSERTION_EXPIRED"),
        (_foreign_audience, "ASSERTION_AUDIENCE"),
        (_other_key, "ASSERTION_INVALID"),
    ],
)
async def test_untrusted_tokens_change_nothing(stack: Stack, make: object, reason: str) -> None:
    nonce = secrets.token_urlsafe(12)
    token = make(stack, nonce)  # type: ignore[operator]
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "idToken": token, "nonce": nonce}
        )
        after = (await anna.get(f"/api/v1/contacten/{contact}")).json()
    assert resp.status_code == 403, resp.text
    assert resp.json()["reden"] == reason
    assert after["geidentificeerd"] is False
    assert after["zekerheid"] is None


async def test_a_replayed_or_foreign_nonce_is_refused(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        token = await login_token(anna, {"bsn": BSN})
        first, second = await new_contact(anna), await new_contact(anna)
        wrong_nonce = await anna.post(
            f"/api/v1/contacten/{first}/identificatie", json={"bsn": BSN, **token, "nonce": "andere-nonce"}
        )
        ok = await anna.post(f"/api/v1/contacten/{first}/identificatie", json={"bsn": BSN, **token})
        replay = await anna.post(f"/api/v1/contacten/{second}/identificatie", json={"bsn": BSN, **token})
        after = (await anna.get(f"/api/v1/contacten/{second}")).json()
    assert wrong_nonce.status_code == 403
    assert wrong_nonce.json()["reden"] == "ASSERTION_NONCE"
    assert ok.status_code == 200
    assert ok.json()["zekerheid"] == "digid-midden"
    assert replay.status_code == 403
    assert replay.json()["reden"] == "ASSERTION_REPLAYED"
    assert after["geidentificeerd"] is False


async def test_two_concurrent_uses_of_one_login_at_most_one_succeeds(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        token = await login_token(anna, {"bsn": BSN})
        contacts = [await new_contact(anna) for _ in range(3)]
        answers = await asyncio.gather(
            *(anna.post(f"/api/v1/contacten/{c}/identificatie", json={"bsn": BSN, **token}) for c in contacts)
        )
        levels = [(await anna.get(f"/api/v1/contacten/{c}")).json()["zekerheid"] for c in contacts]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 403, 403], [a.text for a in answers]
    assert {a.json()["reden"] for a in answers if a.status_code == 403} == {"ASSERTION_REPLAYED"}
    assert sorted(levels, key=str) == sorted(["digid-midden", None, None], key=str)


async def test_eherkenning_login_for_a_business(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "chat"})).json()["id"]
        # a DigiD login cannot identify a business
        digid = await login_token(anna, {"bsn": BSN})
        refused = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"kvkNummer": KVK, **digid}
        )
        view = await identify_with_login(
            anna, contact, {"kvkNummer": KVK}, "eherkenning-eh2+", handelendPersoon="J. Bakker"
        )
    assert refused.status_code == 403
    assert view["onderwerpType"] == "kvk"
    assert view["zekerheid"] == "eherkenning-eh2+"
    assert view["identificatie"]["methode"] == "eherkenning"
    assert view["identificatie"]["acr"] == "urn:etoegang:core:assurance-class:loa2plus"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


async def test_test_broker_code_flow_issues_a_verifiable_login(stack: Stack) -> None:
    """The platform's side: discovery, the marked login page, code + PKCE + nonce, the token endpoint;
    the code lives in the database and is single use."""
    client = stack.client
    discovery = (await client.get("/test-broker/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == stack.app.state.test_broker.issuer
    assert MIDDEN_ACR in discovery["acr_values_supported"]
    jwks = (await client.get("/test-broker/jwks.json")).json()
    assert jwks["keys"][0]["kid"] == stack.app.state.test_broker.kid
    verifier, challenge = _pkce()
    nonce = secrets.token_urlsafe(12)
    params = {
        "client_id": "dgkb",
        "redirect_uri": "https://chat.voorbeeldstad.nl/callback",
        "state": "s1",
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
    }
    page = await client.get("/test-broker/authorize", params=params)
    assert page.status_code == 200
    assert "TESTOMGEVING — geen echte DigiD" in page.text
    no_nonce = await client.get("/test-broker/authorize", params={**params, "nonce": ""})
    assert no_nonce.status_code == 400
    login = await client.post(
        "/test-broker/authorize", data={**params, "soort": "bsn", "bsn": BSN, "niveau": "digid-substantieel"}
    )
    assert login.status_code == 303
    target = urlsplit(login.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == params["redirect_uri"]
    code = parse_qs(target.query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": params["redirect_uri"],
        "client_id": "dgkb",
    }
    bad = await client.post("/test-broker/token", data={**exchange, "code_verifier": _pkce()[0]})
    assert bad.status_code == 400  # wrong verifier: and the code is spent
    verifier2, challenge2 = _pkce()
    login = await client.post(
        "/test-broker/authorize",
        data={
            **params,
            "code_challenge": challenge2,
            "soort": "bsn",
            "bsn": BSN,
            "niveau": "digid-substantieel",
        },
    )
    code = parse_qs(urlsplit(login.headers["location"]).query)["code"][0]
    tokens = await client.post(
        "/test-broker/token", data={**exchange, "code": code, "code_verifier": verifier2}
    )
    assert tokens.status_code == 200, tokens.text
    again = await client.post(
        "/test-broker/token", data={**exchange, "code": code, "code_verifier": verifier2}
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    async with await stack.as_user("kcm-anna") as anna:
        contact = await new_contact(anna)
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"bsn": BSN, "idToken": tokens.json()["id_token"], "nonce": nonce},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["zekerheid"] == "digid-substantieel"


async def test_test_broker_shortcut_checks_its_input(stack: Stack) -> None:
    wrong_level = await stack.client.post(
        "/test-broker/id-token", json={"bsn": BSN, "niveau": "eherkenning-eh3"}
    )
    bad_bsn = await stack.client.post("/test-broker/id-token", json={"bsn": "123", "niveau": "digid-midden"})
    assert wrong_level.status_code == 400
    assert bad_bsn.status_code == 400
    assert bad_bsn.json()["invalidParams"][0]["name"] == "bsn"


def test_production_never_trusts_the_test_broker(tmp_path: Path) -> None:
    app = create_app(production_settings(tmp_path / "a"))
    paths = {getattr(r, "path", "") for r in app.routes}
    assert not any(p.startswith("/test-broker") for p in paths)
    assert app.state.test_broker is None
    with pytest.raises(InvalidConfiguration) as exc:
        load_configuration(
            production_settings(
                tmp_path / "b",
                digid_issuer="https://dgkb.voorbeeldstad.nl/test-broker",
                digid_jwks_url="https://dgkb.voorbeeldstad.nl/test-broker/jwks.json",
            )
        )
    assert "DGKB_DIGID_ISSUER: de ingebouwde testbroker" in exc.value.message
    assert "DGKB_DIGID_JWKS_URL" in exc.value.message


async def test_cli_cannot_type_a_login_level_in_production(tmp_path: Path) -> None:
    with pytest.raises(OperatorError) as exc:
        await read_klantbeeld(
            production_settings(tmp_path / "c"),
            purpose_id=BELASTINGEN,
            role="kcm",
            assurance="digid-midden",
            bsn=BSN,
            kvk=None,
            operator="cli:test",
        )
    assert exc.value.field == "--zekerheid"
    assert "komt uit een inlog van de klant" in exc.value.message


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(re.sub(r"Z$", "+00:00", text)).timestamp()


__all__ = ["open_contact"]


async def test_login_codes_work_across_nodes(stack: Stack) -> None:
    """Two DGKB nodes on one database: a code issued by one (test broker, dev issuer) is redeemed
    at the other, once."""
    other = create_app(stack.settings, source_overrides=rebase_sources(stack.settings, stack.simulators))
    async with (
        other.router.lifespan_context(other),
        serve_in_background(other) as (_, api_b),
        httpx.AsyncClient(base_url=api_b, timeout=10) as node_b,
    ):
        verifier, challenge = _pkce()
        params = {
            "client_id": "dgkb",
            "redirect_uri": f"{stack.api}/callback",
            "state": "s",
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "response_type": "code",
        }
        exchange = {
            "grant_type": "authorization_code",
            "code_verifier": verifier,
            "redirect_uri": params["redirect_uri"],
            "client_id": "dgkb",
        }
        for path, choice in (
            ("/test-broker", {"soort": "bsn", "bsn": BSN, "niveau": "digid-midden"}),
            ("/dev-issuer", {"gebruiker": "kcm-anna"}),
        ):
            login = await stack.client.post(f"{path}/authorize", data={**params, **choice})
            assert login.status_code == 303, login.text
            code = parse_qs(urlsplit(login.headers["location"]).query)["code"][0]
            tokens = await node_b.post(f"{path}/token", data={**exchange, "code": code})
            assert tokens.status_code == 200, tokens.text
            assert tokens.json()["id_token"]
            again = await stack.client.post(f"{path}/token", data={**exchange, "code": code})
            assert again.status_code == 400
