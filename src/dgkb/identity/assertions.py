"""Verified DigiD/eHerkenning assertions: ID tokens of the organisation's broker (NL GOV OIDC).

An API client (a web form or chat platform) logs the customer in at the broker and passes the ID
token on; DGKB checks signature (JWKS), issuer, audience, expiry and issue time, nonce (single use,
in the database, so a replay is refused on every node), reads the subject from the configured
claims and its level from the `acr` table, and compares the subject with the contact's. Reusable
for any flow that receives a broker login (e.g. a confirmation during a call).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from dgkb.domain.assurance import Assurance, IdentificationMethod
from dgkb.domain.errors import DomainError, InvalidIdentifier
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.representation import Representation, Vertegenwoordiging
from dgkb.identity.acr import AcrTable
from dgkb.identity.jwks import KeySet
from dgkb.store.db import Database
from dgkb.store.tables import AssertionNonceRow

__all__ = [
    "AssertionRejected",
    "AssertionSubjectMismatch",
    "AssertionVerifier",
    "BrokerConfig",
    "VerifiedAssertion",
]

FIELD = "idToken"
_ALGORITHMS = ["RS256", "ES256", "PS256"]


class AssertionRejected(DomainError):
    """The ID token is not accepted; nothing about the contact's level changes. `status` and
    `reason` are what the API answers (403 with a stable reason; 400 for a malformed token)."""

    code = "assertion.rejected"
    status = 403

    def __init__(self, message: str, *, reason: str, status: int = 403) -> None:
        super().__init__(message, field=FIELD)
        self.reason = reason
        self.status = status


class AssertionSubjectMismatch(AssertionRejected):
    """A valid login of someone else than the contact's subject."""

    def __init__(self, assertion: VerifiedAssertion) -> None:
        super().__init__(
            "Deze inlog is van een andere klant dan de klant van dit contact; het niveau blijft gelijk.",
            reason="ASSERTION_SUBJECT_MISMATCH",
        )
        self.assertion = assertion


@dataclass(frozen=True)
class BrokerConfig:
    """One broker as configured (DGKB_DIGID_* / DGKB_EHERKENNING_*): who may vouch for which method,
    for which audience, with which claims carrying the subject."""

    method: IdentificationMethod
    issuer: str
    audiences: tuple[str, ...]
    keys: KeySet
    subject_claims: tuple[str, ...]  # DigiD: the BSN claim; eHerkenning: KVK number claim
    vestiging_claim: str | None = None  # eHerkenning only
    acting_person_claim: str | None = None  # eHerkenning only: who acts for the business
    test_broker: bool = False
    # the kind of representation when the token carries `represents` (dgkb.domain.representation);
    # without it: DigiD Machtigen (vrijwillig) for DigiD, ketenmachtiging for eHerkenning
    representation_claim: str = "vertegenwoordiging"


@dataclass(frozen=True)
class VerifiedAssertion:
    subject: Subject
    assurance: Assurance
    method: IdentificationMethod
    issuer: str
    acr: str | None
    authenticated_at: datetime
    acting_person: str | None = None
    # someone else logged in and acts for `subject` (the NL GOV profile's `represents` claim)
    representation: Representation | None = None
    nonce: str = field(default="", repr=False)


class AssertionVerifier:
    def __init__(
        self,
        *,
        brokers: Sequence[BrokerConfig],
        acr: AcrTable,
        database: Database,
        leeway_seconds: int = 30,
        max_age_seconds: int = 3600,
    ) -> None:
        self._brokers = tuple(brokers)
        self._acr = acr
        self._db = database
        self._leeway = leeway_seconds
        self._max_age = max_age_seconds

    @property
    def configured(self) -> bool:
        return bool(self._brokers)

    async def verify(
        self, id_token: str, *, expected_nonce: str | None, expected_subject: Subject | None
    ) -> VerifiedAssertion:
        """The verified assertion, its nonce now used. Raises AssertionRejected (bad token, unknown
        broker, replay) or AssertionSubjectMismatch (valid, but someone else than expected)."""
        try:
            header = jwt.get_unverified_header(id_token)
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AssertionRejected(
                "idToken is geen geldige JWT.", reason="ASSERTION_MALFORMED", status=400
            ) from None
        broker = self._broker(str(unverified.get("iss", "")), unverified, expected_subject)
        kid = header.get("kid")
        key = await broker.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise AssertionRejected(
                "Het ID-token is getekend met een sleutel die de broker niet publiceert.",
                reason="ASSERTION_INVALID",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=_ALGORITHMS,
                audience=list(broker.audiences),
                issuer=broker.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
                leeway=self._leeway,
            )
        except jwt.ExpiredSignatureError:
            raise AssertionRejected("Het ID-token is verlopen.", reason="ASSERTION_EXPIRED") from None
        except jwt.InvalidAudienceError:
            raise AssertionRejected(
                "Het ID-token is niet voor DGKB bestemd (audience).", reason="ASSERTION_AUDIENCE"
            ) from None
        except jwt.PyJWTError as exc:
            raise AssertionRejected(
                f"Het ID-token is ongeldig ({type(exc).__name__}).", reason="ASSERTION_INVALID"
            ) from None
        now = datetime.now(UTC)
        issued = _moment(claims.get("iat"))
        if issued is None or issued < now - timedelta(seconds=self._max_age):
            raise AssertionRejected("Het ID-token is te oud.", reason="ASSERTION_EXPIRED")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise AssertionRejected("Het ID-token heeft geen nonce.", reason="ASSERTION_INVALID")
        if expected_nonce is not None and nonce != expected_nonce:
            raise AssertionRejected(
                "De nonce van het ID-token hoort niet bij deze inlogvraag.", reason="ASSERTION_NONCE"
            )
        subject = self._subject(broker, claims, expected_subject)
        representation: Representation | None = None
        if claims.get("represents") is not None:
            represented = _represented(claims["represents"])
            if represented != subject:
                representation = Representation(_representation_kind(broker, claims), subject)
                subject = represented
        acr = claims.get("acr") if isinstance(claims.get("acr"), str) else None
        acting = claims.get(broker.acting_person_claim) if broker.acting_person_claim else None
        if broker.method is IdentificationMethod.EHERKENNING and not (isinstance(acting, str) and acting):
            raise AssertionRejected(
                "Het eHerkenning-token noemt geen handelend persoon.", reason="ASSERTION_INVALID"
            )
        assertion = VerifiedAssertion(
            subject=subject,
            assurance=self._acr.level(broker.method, acr),
            method=broker.method,
            issuer=broker.issuer,
            acr=acr,
            authenticated_at=_moment(claims.get("auth_time")) or issued,
            acting_person=acting if isinstance(acting, str) else None,
            representation=representation,
            nonce=nonce,
        )
        expires = _moment(claims.get("exp")) or now
        # Used before it is compared: a token shown once, matching or not, is never accepted again.
        await self._use_nonce(broker.issuer, nonce, expires + timedelta(seconds=self._leeway))
        if expected_subject is not None and expected_subject != subject:
            raise AssertionSubjectMismatch(assertion)
        return assertion

    def _broker(self, issuer: str, claims: dict[str, Any], expected: Subject | None) -> BrokerConfig:
        """The configured broker for this issuer; when one issuer serves DigiD and eHerkenning (the
        test broker does), the one whose subject claim the token carries (or the expected kind's)."""
        candidates = [b for b in self._brokers if b.issuer == issuer]
        if not candidates:
            raise AssertionRejected(
                "Het ID-token komt niet van een geconfigureerde DigiD- of eHerkenning-broker.",
                reason="ASSERTION_UNKNOWN_ISSUER",
            )
        if len(candidates) > 1 and expected is not None:
            wanted = (
                IdentificationMethod.DIGID
                if expected.kind is SubjectKind.BSN
                else IdentificationMethod.EHERKENNING
            )
            candidates = [b for b in candidates if b.method is wanted] or candidates
        for broker in candidates:
            if any(claims.get(c) for c in broker.subject_claims):
                return broker
        return candidates[0]

    @staticmethod
    def _subject(broker: BrokerConfig, claims: dict[str, Any], expected: Subject | None) -> Subject:
        """The BSN, or the KVK number; for an eHerkenning login restricted to one vestiging, that
        vestiging when the contact is about a vestiging (or when nothing is expected)."""
        value = next((claims[c] for c in broker.subject_claims if claims.get(c)), None)
        vestiging = claims.get(broker.vestiging_claim) if broker.vestiging_claim else None
        wants_vestiging = expected is None or expected.kind is SubjectKind.VESTIGING
        try:
            if broker.method is IdentificationMethod.EHERKENNING and wants_vestiging and vestiging:
                return Subject.establishment(vestiging)
            if isinstance(value, str) and broker.method is IdentificationMethod.DIGID:
                return Subject.person(value)
            if isinstance(value, str):
                return Subject.business(value)
        except InvalidIdentifier:
            raise AssertionRejected(
                "Het ID-token bevat geen geldig identificatienummer.", reason="ASSERTION_NO_SUBJECT"
            ) from None
        what = "BSN" if broker.method is IdentificationMethod.DIGID else "KVK-nummer"
        raise AssertionRejected(f"Het ID-token bevat geen {what}.", reason="ASSERTION_NO_SUBJECT")

    async def _use_nonce(self, issuer: str, nonce: str, expires: datetime) -> None:
        key = hashlib.sha256(f"{issuer}\x00{nonce}".encode()).hexdigest()
        try:
            async with self._db.transaction() as session:
                session.add(AssertionNonceRow(key=key, used_at=datetime.now(UTC), expires_at=expires))
        except IntegrityError:
            raise AssertionRejected(
                "Dit ID-token is al gebruikt; de klant moet opnieuw inloggen.", reason="ASSERTION_REPLAYED"
            ) from None

    async def purge_used_nonces(self) -> int:
        """Forget nonces of tokens that have expired anyway (housekeeping)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(AssertionNonceRow).where(AssertionNonceRow.expires_at < datetime.now(UTC))
            )
        return int(getattr(result, "rowcount", 0) or 0)


# sub_id_type values of the NL GOV profile's `represents` claim that name a party DGKB can look up
_ID_TYPES: dict[str, Callable[[object], Subject]] = {
    "urn:nl-eid-gdi:1.0:id:BSN": Subject.person,
    "urn:nl-eid-gdi:1.0:id:KvKnr": Subject.business,
    "urn:nl-eid-gdi:1.0:id:vestigingsnummer": Subject.establishment,
}
_MAX_CHAIN = 5


def _represented(claim: Any) -> Subject:
    """The represented party: the deepest nested `represents`, by its `sub` or `alt_sub` of a known
    identifier type (a pseudonym alone names nobody DGKB can look up: refused)."""
    node = claim
    for _ in range(_MAX_CHAIN):
        if not isinstance(node, dict):
            break
        inner = node.get("represents")
        if inner is None:
            if not isinstance(node.get("iss"), str) or not node.get("iss"):
                break  # the profile: every `represents` MUST carry `sub` and `iss`
            for candidate in (node, node.get("alt_sub")):
                if not isinstance(candidate, dict):
                    continue
                make = _ID_TYPES.get(str(candidate.get("sub_id_type", "")))
                value = candidate.get("sub")
                if make is not None and isinstance(value, str):
                    try:
                        return make(value)
                    except InvalidIdentifier:
                        break
            break
        node = inner
    raise AssertionRejected(
        "Het ID-token noemt niet geldig voor wie de gebruiker handelt (represents).",
        reason="ASSERTION_REPRESENTATION",
    )


def _representation_kind(broker: BrokerConfig, claims: dict[str, Any]) -> Vertegenwoordiging:
    given = claims.get(broker.representation_claim)
    if given is None:
        return (
            Vertegenwoordiging.KETENMACHTIGING
            if broker.method is IdentificationMethod.EHERKENNING
            else Vertegenwoordiging.VRIJWILLIG
        )
    try:
        return Vertegenwoordiging(str(given))
    except ValueError:
        raise AssertionRejected(
            "Het ID-token noemt een onbekende soort vertegenwoordiging.", reason="ASSERTION_REPRESENTATION"
        ) from None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
