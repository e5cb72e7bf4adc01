"""AssertionVerifier against the test broker's real signed ID tokens and a real database (SQLite
and PostgreSQL): what is accepted, at which level, and everything that is refused."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime

import pytest

from dgkb.api.test_broker import TestBroker
from dgkb.domain.assurance import Assurance, IdentificationMethod
from dgkb.domain.identifiers import Subject
from dgkb.identity.acr import load_acr_table
from dgkb.identity.assertions import (
    AssertionRejected,
    AssertionSubjectMismatch,
    AssertionVerifier,
    BrokerConfig,
)
from dgkb.identity.jwks import KeySet
from dgkb.settings import PROJECT_ROOT
from dgkb.store.db import Database

ISSUER = "http://127.0.0.1:1/test-broker"
ACR = load_acr_table(PROJECT_ROOT / "config" / "acr.yaml")
BSN, OTHER_BSN = "999993653", "999990639"
KVK, VESTIGING = "68750110", "000037178598"


def broker(issuer: str = ISSUER) -> TestBroker:
    return TestBroker(issuer=issuer, audience="dgkb", acr=ACR, key_file=None, production=False)


def verifier(database: Database, tb: TestBroker, **kw: object) -> AssertionVerifier:
    keys = KeySet(static=tb.jwks())
    return AssertionVerifier(
        brokers=[
            BrokerConfig(
                method=IdentificationMethod.DIGID,
                issuer=tb.issuer,
                audiences=("dgkb",),
                keys=keys,
                subject_claims=("bsn",),
            ),
            BrokerConfig(
                method=IdentificationMethod.EHERKENNING,
                issuer=tb.issuer,
                audiences=("dgkb",),
                keys=keys,
                subject_claims=("kvk",),
                vestiging_claim="vestiging",
                acting_person_claim="acting_subject",
            ),
        ],
        acr=ACR,
        database=database,
        **kw,  # type: ignore[arg-type]
    )


def nonce() -> str:
    return secrets.token_urlsafe(12)


async def test_digid_login_yields_subject_level_and_evidence(database: Database) -> None:
    tb = broker()
    n = nonce()
    before = datetime.now(UTC).replace(microsecond=0)
    token = tb.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=n)
    got = await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=Subject.person(BSN))
    assert got.subject == Subject.person(BSN)
    assert got.assurance is Assurance.DIGID_MIDDEN
    assert got.method is IdentificationMethod.DIGID
    assert got.issuer == ISSUER
    assert got.acr == "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
    assert got.authenticated_at >= before
    assert got.acting_person is None


async def test_eherkenning_login_for_a_kvk_with_acting_person(database: Database) -> None:
    tb = broker()
    v = verifier(database, tb)
    token = tb.id_token(
        Subject.business(KVK), Assurance.EHERKENNING_EH2PLUS, nonce=nonce(), acting_person="J. Bakker"
    )
    got = await v.verify(token, expected_nonce=None, expected_subject=Subject.business(KVK))
    assert got.subject == Subject.business(KVK)
    assert got.assurance is Assurance.EHERKENNING_EH2PLUS
    assert got.method is IdentificationMethod.EHERKENNING
    assert got.acting_person == "J. Bakker"
    # a login restricted to one vestiging: that vestiging when the contact is about it
    token = tb.id_token(Subject.establishment(VESTIGING), Assurance.EHERKENNING_EH3, nonce=nonce(), kvk=KVK)
    got = await v.verify(token, expected_nonce=None, expected_subject=Subject.establishment(VESTIGING))
    assert got.subject == Subject.establishment(VESTIGING)
    assert got.assurance is Assurance.EHERKENNING_EH3
    # the same login, for a contact about the whole business: its KVK number
    token = tb.id_token(Subject.establishment(VESTIGING), Assurance.EHERKENNING_EH3, nonce=nonce(), kvk=KVK)
    got = await v.verify(token, expected_nonce=None, expected_subject=Subject.business(KVK))
    assert got.subject == Subject.business(KVK)
    # a vestiging login without a KVK number cannot identify the business
    token = tb.id_token(Subject.establishment(VESTIGING), Assurance.EHERKENNING_EH3, nonce=nonce())
    with pytest.raises(AssertionRejected) as exc:
        await v.verify(token, expected_nonce=None, expected_subject=Subject.business(KVK))
    assert exc.value.reason == "ASSERTION_NO_SUBJECT"


async def test_eherkenning_without_acting_person_is_refused(database: Database) -> None:
    tb = broker()
    token = tb.id_token(Subject.business(KVK), Assurance.EHERKENNING_EH3, nonce=nonce())
    # the test broker always names one; a token without it is crafted by re-signing without the claim
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["acting_subject"]
    stripped = jwt.encode(claims, tb._key, algorithm="RS256", headers={"kid": tb.kid})
    with pytest.raises(AssertionRejected) as exc:
        await verifier(database, tb).verify(stripped, expected_nonce=None, expected_subject=None)
    assert exc.value.reason == "ASSERTION_INVALID"


@pytest.mark.parametrize("acr", ["urn:example:unknown-class", "urn:etoegang:core:assurance-class:loa4"])
async def test_unknown_acr_counts_as_geen(database: Database, acr: str) -> None:
    tb = broker()
    token = tb.id_token(Subject.person(BSN), Assurance.DIGID_HOOG, nonce=nonce(), acr=acr)
    got = await verifier(database, tb).verify(token, expected_nonce=None, expected_subject=None)
    assert got.assurance is Assurance.GEEN
    assert got.acr == acr


async def test_other_subject_is_a_mismatch(database: Database) -> None:
    tb = broker()
    token = tb.id_token(Subject.person(OTHER_BSN), Assurance.DIGID_MIDDEN, nonce=nonce())
    with pytest.raises(AssertionSubjectMismatch) as exc:
        await verifier(database, tb).verify(token, expected_nonce=None, expected_subject=Subject.person(BSN))
    assert exc.value.reason == "ASSERTION_SUBJECT_MISMATCH"
    assert exc.value.field == "idToken"


def _expired(tb: TestBroker) -> str:
    return tb.id_token(
        Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce(), issued_at=int(time.time()) - 900
    )


def _foreign_audience(tb: TestBroker) -> str:
    return tb.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce(), audience="een-ander")


def _other_key(tb: TestBroker) -> str:
    # same issuer and kid, another private key: only the signature can tell
    return broker().id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce())


def _other_issuer(tb: TestBroker) -> str:
    return broker("https://nep-broker.example/test-broker").id_token(
        Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce()
    )


def _too_old(tb: TestBroker) -> str:
    # still unexpired (a long lifetime), but issued longer ago than the maximum age
    return tb.id_token(
        Subject.person(BSN),
        Assurance.DIGID_MIDDEN,
        nonce=nonce(),
        issued_at=int(time.time()) - 7200,
        lifetime=10_000,
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_expired, "ASSERTION_EXPIRED"),
        (_foreign_audience, "ASSERTION_AUDIENCE"),
        (_other_key, "ASSERTION_INVALID"),
        (_other_issuer, "ASSERTION_UNKNOWN_ISSUER"),
        (_too_old, "ASSERTION_EXPIRED"),
        (lambda tb: "geen.jwt", "ASSERTION_MALFORMED"),
    ],
)
async def test_untrusted_tokens_are_refused(database: Database, make: object, reason: str) -> None:
    tb = broker()
    token = make(tb)  # type: ignore[operator]
    with pytest.raises(AssertionRejected) as exc:
        await verifier(database, tb).verify(token, expected_nonce=None, expected_subject=Subject.person(BSN))
    assert exc.value.reason == reason


async def test_nonce_must_be_the_requested_one_and_is_single_use(database: Database) -> None:
    tb = broker()
    n = nonce()
    token = tb.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=n)
    with pytest.raises(AssertionRejected) as exc:
        await verifier(database, tb).verify(token, expected_nonce="een-andere", expected_subject=None)
    assert exc.value.reason == "ASSERTION_NONCE"
    await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=None)
    # replayed, through another verifier (another node) sharing the database: refused
    with pytest.raises(AssertionRejected) as exc:
        await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=None)
    assert exc.value.reason == "ASSERTION_REPLAYED"


async def test_two_concurrent_uses_of_one_token_at_most_one_succeeds(database: Database) -> None:
    tb = broker()
    token = tb.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce())
    results = await asyncio.gather(
        *(verifier(database, tb).verify(token, expected_nonce=None, expected_subject=None) for _ in range(4)),
        return_exceptions=True,
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AssertionRejected)]
    assert len(accepted) == 1
    assert len(refused) == 3
    assert {r.reason for r in refused} == {"ASSERTION_REPLAYED"}


async def test_used_nonces_are_forgotten_only_after_expiry(database: Database) -> None:
    tb = broker()
    v = verifier(database, tb)
    await v.verify(
        tb.id_token(Subject.person(BSN), Assurance.DIGID_MIDDEN, nonce=nonce()),
        expected_nonce=None,
        expected_subject=None,
    )
    assert await v.purge_used_nonces() == 0


# --- representation (NL GOV profile: End-User on top, the represented party in `represents`) ---


def _signed(tb: TestBroker, claims: dict[str, object]) -> str:
    import jwt

    return jwt.encode(claims, tb._key, algorithm="RS256", headers={"kid": tb.kid})


def _base_claims(tb: TestBroker, n: str) -> dict[str, object]:
    now = int(time.time())
    acr = tb.acr_for(Subject.person(BSN), Assurance.DIGID_MIDDEN)
    return {"iss": tb.issuer, "aud": "dgkb", "sub": "x", "iat": now, "exp": now + 300, "nonce": n, "acr": acr}


async def test_a_bewindvoerder_acts_for_the_represented_person(database: Database) -> None:
    tb = broker()
    n = nonce()
    token = tb.id_token(
        Subject.person(OTHER_BSN),
        Assurance.DIGID_MIDDEN,
        nonce=n,
        represents=Subject.person(BSN),
        representation="bewind",
    )
    got = await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=None)
    assert got.subject == Subject.person(BSN)  # the represented person is the subject
    assert got.representation is not None
    assert got.representation.kind.value == "bewind"
    assert got.representation.representative == Subject.person(OTHER_BSN)


async def test_representation_without_kind_is_digid_machtigen(database: Database) -> None:
    tb = broker()
    n = nonce()
    token = tb.id_token(
        Subject.person(OTHER_BSN), Assurance.DIGID_MIDDEN, nonce=n, represents=Subject.person(BSN)
    )
    got = await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=Subject.person(BSN))
    assert got.representation is not None
    assert got.representation.kind.value == "vrijwillig"


async def test_a_chain_names_the_deepest_party(database: Database) -> None:
    tb = broker()
    n = nonce()
    claims = _base_claims(tb, n) | {
        "kvk": KVK,
        "acting_subject": "Test Intermediair",
        "represents": {
            "sub": "492099595",
            "sub_id_type": "urn:nl-eid-gdi:1.0:id:RSIN",
            "iss": "urn:x",
            "represents": {"sub": "69599084", "sub_id_type": "urn:nl-eid-gdi:1.0:id:KvKnr", "iss": "urn:y"},
        },
    }
    got = await verifier(database, tb).verify(_signed(tb, claims), expected_nonce=n, expected_subject=None)
    assert got.subject == Subject.business("69599084")
    assert got.representation is not None
    assert got.representation.kind.value == "ketenmachtiging"
    assert got.representation.representative == Subject.business(KVK)


@pytest.mark.parametrize(
    "represents",
    [
        {"sub": BSN, "sub_id_type": "urn:nl-eid-gdi:1.0:id:BSN"},  # no iss
        {"sub": "RKyLpEVr1L", "sub_id_type": "urn:nl-eid-gdi:1.0:id:pseudonym", "iss": "urn:x"},
        {"sub": "123456789", "sub_id_type": "urn:nl-eid-gdi:1.0:id:BSN", "iss": "urn:x"},  # fails 11-proef
        "999993653",
    ],
)
async def test_a_represented_party_nobody_can_look_up_is_refused(
    database: Database, represents: object
) -> None:
    tb = broker()
    n = nonce()
    claims = _base_claims(tb, n) | {"bsn": OTHER_BSN, "represents": represents}
    with pytest.raises(AssertionRejected) as caught:
        await verifier(database, tb).verify(_signed(tb, claims), expected_nonce=n, expected_subject=None)
    assert caught.value.reason == "ASSERTION_REPRESENTATION"


async def test_an_unknown_kind_of_representation_is_refused(database: Database) -> None:
    tb = broker()
    n = nonce()
    token = tb.id_token(
        Subject.person(OTHER_BSN),
        Assurance.DIGID_MIDDEN,
        nonce=n,
        represents=Subject.person(BSN),
        representation="buurman",
    )
    with pytest.raises(AssertionRejected) as caught:
        await verifier(database, tb).verify(token, expected_nonce=n, expected_subject=None)
    assert caught.value.reason == "ASSERTION_REPRESENTATION"
