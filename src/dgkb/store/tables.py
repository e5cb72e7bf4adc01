"""Tables of what DGKB owns besides the audit log: contact sessions and consents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime


class ContactSessionRow(Base):
    """A contact (or a case worker's zaak session). The plain subject identifier is kept only while
    the session is open (sources need it); on end it is cleared and only the pseudonym remains."""

    __tablename__ = "contact_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(200), index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    organisation_unit: Mapped[str | None] = mapped_column(String(200))
    actor_issuer: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    purpose_id: Mapped[str | None] = mapped_column(String(500))
    subject_kind: Mapped[str | None] = mapped_column(String(32))
    subject_value: Mapped[str | None] = mapped_column(String(32))
    subject_key: Mapped[str | None] = mapped_column(String(64), index=True)
    key_id: Mapped[str | None] = mapped_column(String(64))
    assurance: Mapped[str | None] = mapped_column(String(32))
    shielded: Mapped[bool] = mapped_column(Boolean, default=False)
    zaak_identificatie: Mapped[str | None] = mapped_column(String(100))
    control_answers_key: Mapped[str | None] = mapped_column(String(64))
    # How identity was established (issue 9): the method (dgkb.domain.assurance.IdentificationMethod),
    # and for a login the broker that vouched for it, its `acr` and when the customer authenticated.
    identification_method: Mapped[str | None] = mapped_column(String(32))
    identification_issuer: Mapped[str | None] = mapped_column(String(500))
    identification_acr: Mapped[str | None] = mapped_column(String(500))
    identification_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsentRow(Base):
    """Consent of a data subject for categories of one processing activity. Never deleted:
    withdrawal sets `withdrawn_at`, so the history of consent stays auditable."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_subject_purpose", "subject_key", "processing_activity_id"),
        Index("ix_consents_expiry", "expires_at", "expiry_logged_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    categories: Mapped[str] = mapped_column(Text)  # JSON list
    channel: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # when the expiry was written to the audit log (once; the housekeeping sweep sets it)
    expiry_logged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RatingRow(Base):
    """A rating (beoordeling) of a contact or service, NPS-style 0–10; DGKB's own store when no
    external system holds satisfaction data."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_subject_time", "subject_key", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    toelichting: Mapped[str | None] = mapped_column(String(1000))
    kanaal: Mapped[str] = mapped_column(String(32))
    onderwerp: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Mijn omgeving asks a rating of 1–5 next to the NPS question (`score`), and links both to the
    # klantcontact (its nummer) or zaak (its identificatie) they are about
    waardering: Mapped[int | None] = mapped_column(Integer)
    gekoppeld_soort: Mapped[str | None] = mapped_column(String(16))  # klantcontact | zaak
    gekoppeld_aan: Mapped[str | None] = mapped_column(String(100))


class FeedbackItemRow(Base):
    """A complaint (klacht) or report (melding) with its current status; history in the next table."""

    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_subject_kind", "subject_key", "soort"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nummer: Mapped[str] = mapped_column(String(32), unique=True)
    soort: Mapped[str] = mapped_column(String(16))  # klacht | melding
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    onderwerp: Mapped[str] = mapped_column(String(200))
    omschrijving: Mapped[str] = mapped_column(Text)
    locatie: Mapped[str | None] = mapped_column(String(300))
    kanaal: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    ingediend_op: Mapped[datetime] = mapped_column(UtcDateTime)
    afgehandeld_op: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The complainant's identifier: handling is a processing about them (logged per status change) and
    # they must be told the outcome (Awb 9:12). NULL for items recorded before it was kept.
    subject_value: Mapped[str | None] = mapped_column(String(32))
    voorkeurskanaal: Mapped[str | None] = mapped_column(String(32))  # how they want to hear back
    versie: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every change (optimistic lock)
    termijn_weken: Mapped[int | None] = mapped_column(Integer)  # Awb 9:11 lid 1; NULL for a melding
    verdaging_weken: Mapped[int | None] = mapped_column(Integer)  # Awb 9:11 lid 2, at most once


class FeedbackStatusRow(Base):
    """One step in the handling of a klacht or melding: who, when, why (toelichting), under which
    purpose, linked to its audit record by trace id, and the message to the customer it calls for."""

    __tablename__ = "feedback_status_history"
    __table_args__ = (UniqueConstraint("item_id", "volgnummer", name="item_volgnummer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), ForeignKey("feedback_items.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    toelichting: Mapped[str | None] = mapped_column(String(1000))
    gezet_door: Mapped[str | None] = mapped_column(String(200))
    gezet_op: Mapped[datetime] = mapped_column(UtcDateTime)
    volgnummer: Mapped[int | None] = mapped_column(Integer)  # the item's versie after this step
    gebeurtenis: Mapped[str | None] = mapped_column(String(32))  # ontvangen | status | verdaagd
    rol: Mapped[str | None] = mapped_column(String(32))
    processing_activity_id: Mapped[str | None] = mapped_column(String(500))
    trace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The message to the customer this step calls for (Awb 9:6, 9:10, 9:11 lid 2, 9:12); sent by a
    # later notification port, until then `te-verzenden`.
    bericht_soort: Mapped[str | None] = mapped_column(String(32))
    bericht_tekst: Mapped[str | None] = mapped_column(String(5000))
    bericht_kanaal: Mapped[str | None] = mapped_column(String(32))
    bericht_status: Mapped[str | None] = mapped_column(String(16))


class AssertionNonceRow(Base):
    """A nonce of a DigiD/eHerkenning assertion that was used: the primary key makes each
    assertion usable once, across every node (a replayed ID token finds its nonce here)."""

    __tablename__ = "assertion_nonces"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(issuer, nonce)
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # when it may be forgotten


class LoginCodeRow(Base):
    """A pending authorization code of the built-in test broker or dev issuer (never in
    production): in the database so the code flow works with several workers and nodes."""

    __tablename__ = "login_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(32))  # "test-broker" | "dev-issuer"
    payload: Mapped[str] = mapped_column(Text)  # JSON: client, redirect, PKCE challenge, nonce, choice
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ConfirmationRow(Base):
    """A "bevestig met DigiD" confirmation during a call (issue 9 §3): single use, short-lived, bound
    to one contact and its subject (pseudonym only). Secrets are stored as hashes, except the login's
    nonce and PKCE verifier, which the callback must present and which die with the confirmation."""

    __tablename__ = "confirmations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    subject_key: Mapped[str] = mapped_column(String(64))  # pseudonym of the contact's subject
    key_id: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8))  # sms | email | code
    status: Mapped[str] = mapped_column(String(16))  # open | ingelogd | bevestigd | mislukt | geannuleerd
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the link's token
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the code typed at the short URL
    state_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # pending broker login
    nonce: Mapped[str | None] = mapped_column(String(100))
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    readback_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    assurance: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(32))
    issuer: Mapped[str | None] = mapped_column(String(500))
    acr: Mapped[str | None] = mapped_column(String(500))
    authenticated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notification_id: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(64))  # stable reason once mislukt
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The statuses of dgkb.consent.objections.OPEN (the store does not import the service above it).
_OPEN_OBJECTION = "status IN ('van-kracht', 'in-behandeling', 'toegewezen')"


class ObjectionRow(Base):
    """A customer's objection (bezwaar, art. 21 AVG) to one processing activity: subject × purpose.
    To a proactive purpose it is in force at once (`status` van-kracht); to any other it waits for the
    privacy officer (`in-behandeling`). Never deleted: the decision changes the status."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_subject_purpose", "subject_key", "processing_activity_id"),
        Index("ix_objections_status", "organisation", "status", "created_at"),
        # One open objection per subject × purpose (migration 0015): the same objection sent twice at
        # the same moment inserts one row; the other insert fails and is answered "already objected".
        Index(
            "uq_objections_open",
            "subject_key",
            "processing_activity_id",
            unique=True,
            sqlite_where=text(_OPEN_OBJECTION),
            postgresql_where=text(_OPEN_OBJECTION),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(20))
    processing_activity_id: Mapped[str] = mapped_column(String(500))
    proactive: Mapped[bool] = mapped_column(Boolean, default=False)  # as the register said then
    status: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str | None] = mapped_column(Text)  # the customer's own words (optional)
    channel: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProfileVerificationRow(Base):
    """Mijn profiel: a new e-mail address or mobile number waiting for the code sent to it. Only a
    salted hash of the code is kept; the address itself only until the code is confirmed, refused
    too often or expired (it is then written to Klantinteracties or cleared). Keyed by the subject's
    pseudonym, never the plain identifier."""

    __tablename__ = "profile_verifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(20))  # OIN of the own-view purpose it writes under
    soort: Mapped[str] = mapped_column(String(16))  # email | telefoonnummer
    adres: Mapped[str | None] = mapped_column(String(80))  # cleared once no longer pending
    omschrijving: Mapped[str] = mapped_column(String(40), default="")
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # open | bevestigd | geblokkeerd | vervangen
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageRow(Base):
    """Mijn berichten: a notice from an organisation to a customer (a zaak's new status, an answer to
    a contactverzoek), not a formal decision. Keyed by the subject's pseudonym, never the plain
    identifier; the texts name no identifier either."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_subject_created", "subject_key", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(20))  # OIN
    organisation_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # zaak-status | contactverzoek | proactief | overig
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the notice by the customer's preferred channel: when it went, or why it did not
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notify_outcome: Mapped[str | None] = mapped_column(String(32))


class MessageNoticeRow(Base):
    """Mijn berichten: the notice of a new message still to be sent (the outbox). Written in the same
    transaction as the message, so the notice is durable before the notification that caused it is
    answered; a background task (dgkb.messages.service.MessageService.run_notices) sends it, retries
    while NotifyNL or Klantinteracties cannot be asked, and deletes the row once the notice went or
    was given up (the outcome stays on the message). The plain subject identifier is kept here, as in
    an open contact session, because the preferred address is read from Klantinteracties by it when
    the notice goes; it leaves with the row."""

    __tablename__ = "message_notices"

    message_id: Mapped[str] = mapped_column(String(36), ForeignKey("messages.id"), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_value: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # due from then; a claimed notice is pushed past its attempt (a lease: a process that died while
    # sending leaves it to another one after that)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_failure: Mapped[str | None] = mapped_column(String(64))  # a reason code, never a message text
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
