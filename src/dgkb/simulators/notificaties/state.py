"""The Notificaties simulator's in-memory state: kanalen, abonnementen, the scheduled messages and
the deliveries made, and the scheduler round that delivers what is due (with retries and backoff)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

# NOTIFICATION_SEC_INTERVAL of Open Notificaties (default 20 s, at least 5 s there)
DEFAULT_INTERVAL_SECONDS = 20.0
# the kanalen as their components register them (filters = the kanaal's kenmerken, snake_case)
DEFAULT_KANALEN: dict[str, tuple[str, ...]] = {
    # Open Zaak: KANAAL_ZAKEN (open-zaak src/openzaak/components/zaken/api/kanalen.py)
    "zaken": ("bronorganisatie", "zaaktype", "vertrouwelijkheidaanduiding"),
    # Open Klant 2.x: src/openklant/components/klantinteracties/kanalen.py
    "klantcontacten": ("hoofd_onderwerp_type", "indicatie_contact_gelukt", "verdere_actie_ondernomen"),
    "partijen": ("nummer", "interne_notitie", "soort_partij"),
    "internetaken": ("nummer", "gevraagde_handeling", "toelichting", "status"),
}


def snake(name: str) -> str:
    """camelCase -> snake_case, as djangorestframework-camel-case's parser does to incoming keys."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def matches(abonnement: dict[str, Any], message: dict[str, Any]) -> bool:
    """Does the abonnement want the message: one of its kanalen is the message's, and each filter
    either names a kenmerk the message does not carry or has its value (or `*`)."""
    kenmerken = {snake(k): v for k, v in (message.get("kenmerken") or {}).items()}
    return any(
        g["naam"] == message["kanaal"]
        and all(snake(k) not in kenmerken or v in ("*", kenmerken[snake(k)]) for k, v in g["filters"].items())
        for g in abonnement["kanalen"]
    )


@dataclass(slots=True)
class Scheduled:
    """A published message waiting for a scheduler round (Open Notificaties' ScheduledNotification)."""

    message: dict[str, Any]
    execute_after: float
    attempt: int = 0
    subs: set[str] = field(default_factory=set)  # empty: decided when the round runs


@dataclass(frozen=True, slots=True)
class Retry:
    """Open Notificaties' `notification_delivery_retry_backoff`, `…_base_factor`,
    `…_retry_backoff_max` and `…_max_retries`."""

    backoff_seconds: float = 25.0
    base: float = 4.0
    backoff_max_seconds: float = 52000.0
    max_retries: int = 7

    def delay(self, attempt: int) -> float:
        return min(self.backoff_max_seconds, self.backoff_seconds * self.base**attempt)


class NotificatiesStore:
    """Kanalen and abonnementen by uuid, the scheduled messages and the last 1000 deliveries."""

    def __init__(self, kanalen: Mapping[str, Sequence[str]], retry: Retry) -> None:
        self.kanalen: dict[str, dict[str, Any]] = {}
        self.abonnementen: dict[str, dict[str, Any]] = {}
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=1000)
        self.scheduled: list[Scheduled] = []
        self.retry = retry
        self._round_lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None
        for naam, filters in kanalen.items():
            self.kanalen[str(uuid.uuid4())] = {"naam": naam, "documentatieLink": "", "filters": list(filters)}

    def http(self) -> httpx.AsyncClient:
        """The client for callbacks, made when first needed."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # --- kanalen and abonnementen -------------------------------------------------------------
    def kanaal_named(self, naam: Any) -> dict[str, Any] | None:
        return next((v for v in self.kanalen.values() if v["naam"] == naam), None)

    def add_kanaal(self, kanaal: dict[str, Any]) -> str:
        key = str(uuid.uuid4())
        self.kanalen[key] = kanaal
        return key

    def add_abonnement(self, abonnement: dict[str, Any]) -> str:
        key = str(uuid.uuid4())
        self.abonnementen[key] = abonnement
        return key

    async def probe(self, callback: str, auth: str, message: dict[str, Any]) -> bool:
        """Open Notificaties checks a callback with a `test` message before accepting it."""
        try:
            resp = await self.http().post(callback, json=message, headers={"Authorization": auth})
        except httpx.HTTPError:
            return False
        return resp.is_success

    # --- the scheduler ------------------------------------------------------------------------
    def schedule(self, message: dict[str, Any]) -> None:
        """A validated message, due at once (delivered in the next round)."""
        self.scheduled.append(Scheduled(message=message, execute_after=time.monotonic()))

    async def deliver(self, key: str, entry: Scheduled) -> bool:
        """One delivery attempt to one abonnement; True on 2xx."""
        abonnement = self.abonnementen.get(key)
        if abonnement is None:  # deleted meanwhile: nothing to retry
            return True
        record: dict[str, Any] = {
            "kanaal": entry.message["kanaal"],
            "resourceUrl": entry.message["resourceUrl"],
            "callbackUrl": abonnement["callbackUrl"],
            "status": None,
            "attempts": entry.attempt + 1,
        }
        started = time.perf_counter()
        try:
            resp = await self.http().post(
                abonnement["callbackUrl"], json=entry.message, headers={"Authorization": abonnement["auth"]}
            )
            record["status"] = resp.status_code
            delivered = resp.is_success
        except httpx.HTTPError as exc:
            record["status"] = type(exc).__name__
            delivered = False
        record["ms"] = round((time.perf_counter() - started) * 1000, 1)
        self.deliveries.append(record)
        return delivered

    async def run_round(self) -> list[dict[str, Any]]:
        """`execute_notifications`: deliver every due scheduled message to its abonnementen; keep the
        failed ones for a later round (backoff), drop a message after its last retry."""
        async with self._round_lock:
            first = len(self.deliveries)
            now = time.monotonic()
            for entry in [e for e in self.scheduled if e.execute_after <= now]:
                if entry.attempt > self.retry.max_retries + 1:
                    self.scheduled.remove(entry)
                    continue
                subs = entry.subs or {k for k, a in self.abonnementen.items() if matches(a, entry.message)}
                results = await asyncio.gather(*(self.deliver(k, entry) for k in sorted(subs)))
                failed = {k for k, done in zip(sorted(subs), results, strict=True) if not done}
                if failed:
                    entry.execute_after += self.retry.delay(entry.attempt)
                    entry.attempt += 1
                    entry.subs = failed
                else:
                    self.scheduled.remove(entry)
            return list(self.deliveries)[first:]
