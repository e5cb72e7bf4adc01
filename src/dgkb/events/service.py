"""ChangeService: learn of a change → forget cached answers → tell every process → open views.

Ingress (`handle_notificatie`, `handle_cloudevent`, `publish_change`) resolves the subject(s),
invalidates the source cache for each and publishes a ChangeEvent on the bus. Every process
(this one included) receives it from the bus, drops its own cached answers when the cache is
in-process, and hands it to its ChangeHub. Only keyed pseudonyms leave this module.

For DGKB's own writes (a contact registered at the counter), call

    await services.changes.publish_change(subject, ["contact.historie"], source="klantinteracties")

after the write succeeded; two agents viewing the same customer then see each other's registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import jwt
from cloudevents.core.base import BaseCloudEvent

from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.events.bus import ChangeEvent, EventBus, NatsBus, build_bus
from dgkb.events.cloudevents import interpret
from dgkb.events.hub import ChangeHub
from dgkb.events.notificaties import (
    DEV_TOKEN,
    TEST_KANAAL,
    Deduper,
    Notificatie,
    categories_of,
)
from dgkb.events.reconcile import Reconciler, ViewReader
from dgkb.gateway import SourceGateway
from dgkb.settings import Settings

log = logging.getLogger("dgkb.events")

# The source of the event that a slow source's answer arrived after its view had been shown
# (dgkb.federation.fanout, SourceCall.late): the open views re-read; nothing changed at the source.
LATE = "nalevering"


# Told of every handled ZGW notification with the source id and the subjects it is about, after the
# change was published: Mijn berichten turns some into messages ("Uw zaak heeft een nieuwe status",
# "Uw vraag is afgehandeld"; wired in dgkb.composition.root). It runs before the message is marked
# handled: when it fails, the routing component offers the notification again.
NotificationListener = Callable[[Notificatie, str, Sequence[Subject]], Awaitable[None]]


class SubjectInvalidator(Protocol):
    """Federation: `invalidate(subject_key)` drops every cached source answer about the subject."""

    async def invalidate(self, subject_key: str) -> int: ...


class Outcome(StrEnum):
    PROCESSED = "verwerkt"
    DUPLICATE = "dubbel"
    TEST = "test"
    IGNORED = "genegeerd"  # a kanaal/type DGKB does not show, or a resource no source owns


@dataclass(frozen=True, slots=True)
class Handled:
    outcome: Outcome
    events: tuple[ChangeEvent, ...] = ()


class ChangeService:
    def __init__(
        self,
        *,
        bus: EventBus,
        hub: ChangeHub,
        invalidator: SubjectInvalidator,
        pseudonymizer: Pseudonymizer,
        gateway: SourceGateway,
        deduper: Deduper | None = None,
        shared_cache: bool = False,
        token: str = "",
        jwt_max_age: float = 300.0,
        jwt_leeway: float = 60.0,
        on_notification: NotificationListener | None = None,
    ) -> None:
        self.bus = bus
        self.hub = hub
        self._invalidator = invalidator
        self._pseudonymizer = pseudonymizer
        self._gateway = gateway
        self._dedupe = deduper or Deduper()
        # with a shared (Redis) cache the publishing node's invalidation served everyone
        self._shared_cache = shared_cache
        self._token = token
        self._jwt_max_age = jwt_max_age
        self._jwt_leeway = jwt_leeway
        self.on_notification = on_notification
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def start(self) -> None:
        await self.bus.start(self._on_event)

    async def aclose(self) -> None:
        self.hub.close()
        await self.bus.aclose()
        await self._dedupe.aclose()

    def authentic(self, authorization: str | None) -> bool:
        """Does the Authorization header carry the configured shared secret — as the value itself
        (`Bearer <token>`, `Token <token>`, or bare), or as a fresh ZGW-style JWT signed with it
        (HS256)? No token configured = nobody is authentic.

        What senders really send: Open Notificaties (Notificaties API 1.0) delivers with the
        abonnement's `auth` field verbatim as the Authorization header ("Bearer a4daa31…"), so the
        value DGKB registered (`Bearer <shared secret>`, see `abonneer`) comes back unchanged and is
        compared as is. ZGW components that sign a JWT per call, as Open Zaak clients do, send HS256
        with `iss`, `iat`, `client_id`, `user_id`, `user_representation` and usually no `exp`; like
        Open Zaak (which requires `iat` and checks it against JWT_EXPIRY with TIME_LEEWAY) DGKB
        requires `iat`, no later than now + leeway and no older than the maximum age, and checks
        `exp` / `nbf` when present. A JWT without `iat` never expires, so it is refused."""
        if not self._token or not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        presented = (value or scheme).strip()
        if hmac.compare_digest(presented.encode(), self._token.encode()):
            return True
        if presented.count(".") == 2:
            return self._fresh_jwt(presented)
        return False

    def _fresh_jwt(self, token: str) -> bool:
        try:
            claims = jwt.decode(
                token,
                self._token,
                algorithms=["HS256"],
                leeway=self._jwt_leeway,
                options={"require": ["iat"], "verify_aud": False, "verify_iat": True},
            )
        except jwt.PyJWTError as exc:
            log.warning("inkomend JWT geweigerd: %s", type(exc).__name__)
            return False
        issued = claims["iat"]
        now = time.time()
        if isinstance(issued, bool) or not isinstance(issued, int | float):
            log.warning("inkomend JWT geweigerd: iat is geen tijdstip")
            return False
        if issued > now + self._jwt_leeway:
            log.warning("inkomend JWT geweigerd: iat ligt in de toekomst")
            return False
        if now - issued > self._jwt_max_age + self._jwt_leeway:
            log.warning("inkomend JWT geweigerd: ouder dan %d s", int(self._jwt_max_age))
            return False
        return True

    # --- publishing ---------------------------------------------------------------------------
    async def publish_change(self, subject: Subject, categories: Iterable[str], source: str) -> ChangeEvent:
        """A change of `subject` in `categories` at `source` (a source id, or "dgkb")."""
        return await self.publish_for_key(self._pseudonymizer.pseudonym(subject).value, categories, source)

    async def publish_for_key(self, subject_key: str, categories: Iterable[str], source: str) -> ChangeEvent:
        event = ChangeEvent.of(subject_key, categories, source, origin=self.origin)
        await self._invalidator.invalidate(subject_key)
        await self.bus.publish(event)
        return event

    async def publish_late(self, subject_key: str, categories: Iterable[str], source: str) -> ChangeEvent:
        """A late answer of `source` about the subject is kept for its open view's next read (the
        federation's hook): tell the open views, and forget nothing — the answer is what they need."""
        event = ChangeEvent.of(subject_key, categories, LATE, origin=self.origin)
        await self.bus.publish(event)
        return event

    async def invalidate(self, subject_key: str) -> int:
        return await self._invalidator.invalidate(subject_key)

    async def _on_event(self, event: ChangeEvent) -> None:
        if event.origin != self.origin and not self._shared_cache and event.source != LATE:
            await self._invalidator.invalidate(event.subject_key)
        self.hub.deliver(event)

    # --- ingress ------------------------------------------------------------------------------
    async def handle_notificatie(self, message: Notificatie) -> Handled:
        """A ZGW notification. SourceError while resolving propagates (answer 5xx: the routing
        component retries); the message is then not marked as handled."""
        if message.kanaal == TEST_KANAAL:
            return Handled(Outcome.TEST)
        categories = categories_of(message.kanaal, message.resource)
        if not categories:
            return Handled(Outcome.IGNORED)
        key = message.dedupe_key()
        if not await self._dedupe.claim(key):
            return Handled(Outcome.DUPLICATE)
        try:
            resolved = await self._gateway.subjects_of(message.kanaal, message.hoofdObject)
            events = []
            if resolved is not None:
                source_id, subjects = resolved
                events = [await self.publish_change(s, categories, source_id) for s in subjects]
                if self.on_notification is not None and subjects:
                    await self._tell_listener(message, source_id, subjects)
        except BaseException:
            await self._dedupe.release(key)
            raise
        await self._dedupe.done(key)
        if resolved is None:
            return Handled(Outcome.IGNORED)
        return Handled(Outcome.PROCESSED, tuple(events))

    async def _tell_listener(self, message: Notificatie, source_id: str, subjects: Sequence[Subject]) -> None:
        """The listener (Mijn berichten) is a side channel: its failure is logged and never fails the
        notification, which would have the routing component deliver it again and the open views see
        every change twice."""
        assert self.on_notification is not None
        try:
            await self.on_notification(message, source_id, subjects)
        except Exception as exc:
            log.warning(
                "notification listener failed (%s); the change itself was handled", type(exc).__name__
            )

    async def handle_cloudevent(self, event: BaseCloudEvent) -> Handled:
        """A CloudEvent (NL GOV). CloudEventError for an event that is not understood as claimed."""
        parsed = interpret(event)
        if not parsed.categories:
            return Handled(Outcome.IGNORED)
        if not await self._dedupe.claim(parsed.dedupe_key):
            return Handled(Outcome.DUPLICATE)
        try:
            subjects = list(parsed.subjects)
            source = parsed.source
            url, kanaal = (
                (parsed.zaak_url, "zaken") if parsed.zaak_url else (parsed.klantcontact_url, "klantcontacten")
            )
            if not subjects and url:
                resolved = await self._gateway.subjects_of(kanaal, url)
                if resolved is not None:
                    source, subjects = resolved
            events = [await self.publish_change(s, parsed.categories, source) for s in subjects]
        except BaseException:
            await self._dedupe.release(parsed.dedupe_key)
            raise
        await self._dedupe.done(parsed.dedupe_key)
        return Handled(Outcome.PROCESSED if events else Outcome.IGNORED, tuple(events))


def inbound_token(settings: Settings) -> str:
    """The shared secret inbound notifications must carry (a fixed demo value outside production)."""
    return settings.notificaties_token.get_secret_value() or ("" if settings.is_production else DEV_TOKEN)


def build_changes(
    settings: Settings,
    *,
    invalidator: SubjectInvalidator,
    pseudonymizer: Pseudonymizer,
    gateway: SourceGateway,
    on_notification: NotificationListener | None = None,
) -> ChangeService:
    """The ChangeService of this process, from the settings (bus, dedupe store, token)."""
    token = inbound_token(settings)
    bus = build_bus(settings.nats_url)
    return ChangeService(
        bus=bus,
        # SSE clients that reconnect (to any node) get what they missed from the bus's stream
        hub=ChangeHub(archive=bus if isinstance(bus, NatsBus) else None),
        invalidator=invalidator,
        pseudonymizer=pseudonymizer,
        gateway=gateway,
        deduper=Deduper(
            redis_url=settings.redis_url,
            connect_timeout=settings.redis_connect_timeout_seconds,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_after_seconds,
        ),
        shared_cache=bool(settings.redis_url),
        token=token,
        jwt_max_age=settings.notificaties_jwt_max_age_seconds,
        jwt_leeway=settings.notificaties_jwt_leeway_seconds,
        on_notification=on_notification,
    )


async def start_realtime(
    changes: ChangeService, reader: ViewReader, reconcile_seconds: float
) -> Callable[[], Awaitable[None]]:
    """Connect the bus and start reconciliation; returns the coroutine function that stops both."""
    await changes.start()
    task: asyncio.Task[None] | None = None
    if reconcile_seconds > 0:
        reconciler = Reconciler(
            hub=changes.hub, reader=reader, invalidate=changes.invalidate, publish=changes.publish_for_key
        )
        task = asyncio.create_task(reconciler.run(reconcile_seconds))

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await changes.aclose()

    return stop


__all__ = [
    "LATE",
    "ChangeService",
    "Handled",
    "NotificationListener",
    "Outcome",
    "SubjectInvalidator",
    "build_changes",
    "inbound_token",
    "start_realtime",
]
