"""ZGW Notificaties API 1.0: the message DGKB consumes, what it means, who it is about.

A notification carries no BSN: `hoofdObject` is the URL of the zaak / klantcontact / interne taak /
partij it is about. DGKB resolves the affected subjects by reading that resource at the configured
source that owns the URL (a URL of any other origin is never followed), pseudonymises them at once and
forgets the identifiers. `abonneer` registers DGKB's abonnement at a Notificaties API (routing
component).

Kanalen DGKB follows (`DEFAULT_KANALEN`): `zaken` (Open Zaak) and the three of Open Klant 2.x —
`klantcontacten` (resource `klantcontact`), `internetaken` (`internetaak`), `partijen` (`partij`)
(maykinmedia/open-klant src/openklant/components/klantinteracties/kanalen.py). The kanalen belong to
the components that publish on them: DGKB subscribes, and creates a missing kanaal only when asked.

Liberal in what the spec allows and senders send: a kenmerk value may be empty (Open Notificaties and
Open Klant send empty strings, although the 1.0 OAS says `minLength: 1`) or a boolean, number or null
(Open Klant's klantcontacten kenmerken; Open Notificaties 1.16 refuses those upstream, but another
routing component may pass them on). DGKB does not interpret kenmerken.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dgkb.federation.redis_guard import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    RedisGuard,
    RedisUnavailable,
)

log = logging.getLogger("dgkb.events")

TEST_KANAAL = "test"
# the shared secret of the demo outside production when DGKB_NOTIFICATIES_TOKEN is not set
DEV_TOKEN = "dgkb-demo-notificaties-token-niet-voor-productie"
DEFAULT_KANALEN = ("zaken", "klantcontacten", "partijen", "internetaken")
ZAKEN = ("dienst.zaken-lopend", "dienst.zaken-historie")
CONTACTEN = ("contact.historie", "contact.open-verzoeken")
CONTACTGEGEVENS = ("klant.contactgegevens", "klant.voorkeurskanaal")


Kenmerk = str | bool | int | float | None


class Notificatie(BaseModel):
    """The standard message (Notificaties API 1.0 `Message`)."""

    model_config = ConfigDict(extra="ignore")

    kanaal: str = Field(min_length=1, max_length=50, description="Naam van het kanaal")
    hoofdObject: str = Field(min_length=1, description="URL van het hoofdobject")  # ZGW field names
    resource: str = Field(min_length=1, max_length=100)
    resourceUrl: str = Field(min_length=1, description="URL van de resource")
    actie: str = Field(min_length=1, max_length=100)
    aanmaakdatum: datetime
    kenmerken: dict[str, Kenmerk] = Field(
        default_factory=dict,
        description="Kenmerken van de bron; ook leeg, boolean, getal of null (zoals Open Klant ze stuurt)",
    )

    @field_validator("aanmaakdatum", mode="before")
    @classmethod
    def _iso_text(cls, v: Any) -> Any:
        # the standard says an ISO 8601 string; pydantic alone would also take a number of seconds
        if not isinstance(v, str):
            raise ValueError("geef een tijdstip als tekst (ISO 8601), bijvoorbeeld 2026-11-01T12:00:00Z")
        return v

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        # as the API's own bodies (api/v1/schemas.Camel): no legitimate message holds NUL, and
        # PostgreSQL text cannot store it
        texts = [*v.keys(), *v.values()] if isinstance(v, dict) else [v]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("tekst mag geen NUL-teken (\\u0000) bevatten")
        return v

    def dedupe_key(self) -> str:
        """kanaal + resourceUrl + actie + aanmaakdatum: a redelivery of the same message."""
        raw = f"{self.kanaal}|{self.resourceUrl}|{self.actie}|{self.aanmaakdatum.isoformat()}"
        return hashlib.sha256(raw.encode()).hexdigest()


def categories_of(kanaal: str, resource: str) -> tuple[str, ...]:
    """The klantbeeld categories a notification of this kanaal/resource may have changed."""
    if kanaal == "zaken":
        return ZAKEN
    if kanaal == "internetaken":  # Open Klant: a contactverzoek for the back office
        return ("contact.open-verzoeken",)
    if kanaal == "partijen":  # Open Klant: preferred address, language
        return CONTACTGEGEVENS
    if kanaal in ("klantcontacten", "klantinteracties"):
        if resource in ("internetaak", "internetaken"):
            return ("contact.open-verzoeken",)
        if resource in ("digitaladres", "digitaleadres", "digitaleadressen", "partij", "partijen"):
            return CONTACTGEGEVENS
        return CONTACTEN
    return ()


class Deduper:
    """Remembers handled message keys (bounded, with expiry) so a redelivery is handled once.
    With Redis configured the keys are shared by every node, so a retry that lands on another node
    is recognised too.

    Delivery is at least once, never at most once: a claim in Redis is first a short-lived
    "bezig" (processing) marker (SET NX with `processing_ttl`), made "klaar" (done, kept for `ttl`)
    only after the message was handled (`done`). A node that fails releases its claim; a node that
    dies, or cannot reach Redis to release or confirm it, leaves a marker that expires by itself,
    so the routing component's next delivery is handled. With Redis down or hung (bounded by short
    timeouts, see RedisGuard) each node falls back to its own memory: a redelivery to another node
    is then handled twice, which is safe because handling is idempotent (drop cached answers, tell
    open views to re-read)."""

    def __init__(
        self,
        *,
        redis_url: str = "",
        max_entries: int = 100_000,
        ttl: float = 24 * 3600,
        processing_ttl: float = 120.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max = max_entries
        self._ttl_ms = max(1, int(ttl * 1000))
        self._ttl = ttl
        self._processing_ms = max(1, int(processing_ttl * 1000))
        self.guard: RedisGuard | None = (
            RedisGuard(
                redis_url,
                name="dedupe",
                connect_timeout=connect_timeout,
                timeout=timeout,
                retry_after=retry_after,
            )
            if redis_url
            else None
        )

    async def claim(self, key: str) -> bool:
        """True the first time `key` is seen (the caller handles it, then calls `done` or
        `release`), False for a duplicate."""
        now = time.monotonic()
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        if self.guard is not None:
            name = _redis_key(key)
            try:
                claimed = await self.guard.call(
                    lambda r: r.set(name, PROCESSING, nx=True, px=self._processing_ms)
                )
            except RedisUnavailable:
                claimed = True  # this node's memory decides; at least once across nodes
            if not claimed:
                return False
        self._seen[key] = now + self._ttl
        self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    async def done(self, key: str) -> None:
        """Handling succeeded: every node treats a redelivery as a duplicate for `ttl`. Without
        Redis the processing marker expires and a later redelivery is handled again (idempotent)."""
        if self.guard is not None:
            name = _redis_key(key)
            with contextlib.suppress(RedisUnavailable):
                await self.guard.call(lambda r: r.set(name, DONE, px=self._ttl_ms))

    async def release(self, key: str) -> None:
        """Handling failed: let the next delivery try again (without Redis, once the processing
        marker expired)."""
        self._seen.pop(key, None)
        if self.guard is not None:
            name = _redis_key(key)
            with contextlib.suppress(RedisUnavailable):
                await self.guard.call(lambda r: r.delete(name))

    async def aclose(self) -> None:
        if self.guard is not None:
            await self.guard.aclose()


PROCESSING = b"bezig"
DONE = b"klaar"


def _redis_key(key: str) -> str:
    return f"dgkb:notificatie:{key}"


@dataclass(frozen=True, slots=True)
class Backoff:
    """How `abonneer` tries again while the routing component is down: after `first` seconds, then
    `factor` times longer each time, at most `maximum`; at most `retries` times (None: until it
    answers). `sleep` is injectable, so a test does not wait for real."""

    first: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    retries: int | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delays(self) -> Iterator[float]:
        delay, done = self.first, 0
        while self.retries is None or done < self.retries:
            yield min(delay, self.maximum)
            delay, done = delay * self.factor, done + 1


def _down(exc: Exception) -> bool:
    """Is the routing component down (worth another try), rather than refusing DGKB's request
    (a 4xx: wrong credentials, a callback it cannot reach — trying again changes nothing)?"""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status >= 500 or status in (408, 429)
    return isinstance(exc, httpx.TransportError)


class KanalenOntbreken(LookupError):
    """None of the kanalen to subscribe to exists at the Notificaties API."""


async def abonneer(
    api_url: str,
    *,
    callback_url: str,
    callback_auth: str,
    kanalen: Sequence[str] = DEFAULT_KANALEN,
    api_auth: str | Callable[[], str] = "",
    create_missing: bool = False,
    client: httpx.AsyncClient | None = None,
    backoff: Backoff | None = None,
) -> dict[str, Any]:
    """Register (or update) DGKB's abonnement at the Notificaties API `api_url` (…/api/v1) on those
    of `kanalen` that exist; an existing abonnement with the same callbackUrl is replaced
    (idempotent). A kanaal belongs to the component that publishes on it and registers it with its
    filters and documentation: a missing one is left out (logged), and created — bare — only with
    `create_missing`. KanalenOntbreken when none exists. Returns the abonnement as the API answered
    it. `api_auth` is the Authorization
    value, or a function giving the current one for each attempt (a renewed ZGW JWT, see
    dgkb.events.routing_auth). With `backoff`, a routing component that is down (no connection,
    a timeout, 5xx, 408, 429) is tried again after each of its delays; a refusal is raised at once."""
    delays = backoff.delays() if backoff is not None else iter(())
    attempt = 0
    while True:
        attempt += 1
        auth = api_auth() if callable(api_auth) else api_auth
        try:
            return await _abonneer_once(
                api_url, callback_url, callback_auth, kanalen, auth, client, create_missing=create_missing
            )
        except Exception as exc:
            delay = next(delays, None) if _down(exc) else None
            if delay is None or backoff is None:
                raise
            log.warning(
                "abonneren op notificaties: poging %d mislukt (%s); opnieuw over %.0f s",
                attempt,
                _reason(exc),
                delay,
            )
            await backoff.sleep(delay)


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


async def _abonneer_once(
    api_url: str,
    callback_url: str,
    callback_auth: str,
    kanalen: Sequence[str],
    api_auth: str,
    client: httpx.AsyncClient | None,
    *,
    create_missing: bool,
) -> dict[str, Any]:
    headers = {"Authorization": api_auth} if api_auth else {}
    base = api_url.rstrip("/")
    own = client is None
    http = client or httpx.AsyncClient(timeout=10)
    try:
        bestaand = (await http.get(f"{base}/kanaal", headers=headers)).raise_for_status().json()
        namen = (
            {k.get("naam") for k in bestaand if isinstance(k, dict)} if isinstance(bestaand, list) else set()
        )
        missing = [naam for naam in kanalen if naam not in namen]
        if create_missing:
            for naam in missing:
                (await http.post(f"{base}/kanaal", json={"naam": naam}, headers=headers)).raise_for_status()
            missing = []
        elif missing:
            log.warning(
                "abonneren: kanaal %s bestaat niet bij %s; niet geabonneerd (de bron registreert het)",
                ", ".join(missing),
                base,
            )
        wanted = [k for k in kanalen if k not in missing]
        if not wanted:
            raise KanalenOntbreken(f"geen van de kanalen {', '.join(kanalen)} bestaat bij {base}")
        body = {"callbackUrl": callback_url, "auth": callback_auth, "kanalen": [{"naam": k} for k in wanted]}
        abonnementen = (await http.get(f"{base}/abonnement", headers=headers)).raise_for_status().json()
        match = next(
            (a for a in abonnementen if isinstance(a, dict) and a.get("callbackUrl") == callback_url), None
        )
        if match is not None:
            resp = await http.put(str(match["url"]), json=body, headers=headers)
        else:
            resp = await http.post(f"{base}/abonnement", json=body, headers=headers)
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result
    finally:
        if own:
            await http.aclose()


__all__ = [
    "DEFAULT_KANALEN",
    "DEV_TOKEN",
    "TEST_KANAAL",
    "Backoff",
    "Deduper",
    "KanalenOntbreken",
    "Kenmerk",
    "Notificatie",
    "abonneer",
    "categories_of",
]
