"""Console sessions: an opaque random value in an HttpOnly cookie, everything else server side.

The cookie value is never stored: the row's id is its SHA-256, so a copy of the table hands out no
live sessions. A session first holds a pending login (OAuth state, PKCE verifier, nonce); a finished
login gets a fresh value (no session fixation). Sessions end after `idle` without activity, at the
access token's expiry, or at logout. Every state-changing request must carry the session's CSRF
token (form field `csrf_token` or header `X-CSRF-Token`, which htmx sends from the page's meta tag).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from dgkb.domain.context import Actor
from dgkb.domain.roles import Role
from dgkb.store.db import Database
from dgkb.store.web_sessions import WebSessionRepository, WebSessionRow

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "CsrfError", "WebSession", "WebSessions", "is_secure"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_CONSOLE = "console"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_TOUCH_EVERY = timedelta(seconds=20)
LOGIN_LIFETIME = timedelta(minutes=10)


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token, or from another origin."""


def is_secure(request: Request) -> bool:
    """Cookies are Secure everywhere except plain http on localhost (the demo)."""
    return not (request.url.scheme == "http" and (request.url.hostname or "") in _LOCAL_HOSTS)


def _cookie_names(app: str) -> tuple[str, str]:
    """(plain, secure) cookie names; __Host-: Secure, Path=/, no Domain — cannot be planted."""
    base = "dgkb-sessie" if app == _CONSOLE else f"dgkb-{app}"
    return base, f"__Host-{base}"


def _key(value: str, app: str = _CONSOLE) -> str:
    """The row id of a cookie value. Other apps (the citizen's Mijn omgeving) hash their own prefix
    in, so a cookie value of one app is no session of another, even copied into its cookie."""
    material = value if app == _CONSOLE else f"{app}\0{value}"
    return hashlib.sha256(material.encode()).hexdigest()


def _actor_json(actor: Actor) -> str:
    return json.dumps(
        {
            "id": actor.id,
            "role": actor.role.value,
            "organisation": actor.organisation,
            "unit": actor.organisation_unit,
            "name": actor.name,
            "issuer": actor.issuer,
            "employee": actor.employee_id,
        }
    )


def _actor(text: str) -> Actor:
    d = json.loads(text)
    return Actor(
        id=d["id"],
        role=Role(d["role"]),
        organisation=d["organisation"],
        organisation_unit=d.get("unit"),
        name=d.get("name"),
        issuer=d.get("issuer"),
        employee_id=d.get("employee"),
    )


@dataclass
class WebSession:
    key: str
    csrf: str
    actor: Actor | None
    data: dict[str, Any] = field(default_factory=dict)
    oidc_state: str | None = None
    oidc_verifier: str | None = None
    oidc_nonce: str | None = None
    return_to: str | None = None


class WebSessions:
    """Sessions of one web app: `console` (staff) or `mijn` (citizens and businesses). Both live in
    one table; the app is part of the cookie name and of the row id, so they never mix."""

    def __init__(self, *, idle: timedelta, app: str = _CONSOLE) -> None:
        self.idle = idle
        self.app = app
        self._touch_every = min(_TOUCH_EVERY, idle / 10)
        self._plain_cookie, self._secure_cookie = _cookie_names(app)
        self._repo = WebSessionRepository()

    def _cookie_name(self, request: Request) -> str:
        return self._secure_cookie if is_secure(request) else self._plain_cookie

    def _key(self, value: str) -> str:
        return _key(value, self.app)

    def _set_cookie(self, request: Request, response: Response, value: str, max_age: int) -> None:
        response.set_cookie(
            self._cookie_name(request),
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=is_secure(request),
            samesite="lax",
        )

    def clear_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            self._cookie_name(request), path="/", httponly=True, secure=is_secure(request), samesite="lax"
        )

    async def load(self, request: Request, db: Database) -> WebSession | None:
        """The session of this request, or None (no cookie, unknown, idle too long, expired)."""
        value = request.cookies.get(self._cookie_name(request))
        if not value or len(value) > 128:
            return None
        key = self._key(value)
        now = datetime.now(UTC)
        # Every request reads its session: one Core SELECT, and a write only when there is
        # something to write (an ended session to drop, or activity to note every `_touch_every`)
        async with db.reading() as conn:
            row = await self._repo.read(conn, key)
        if row is None:
            return None
        if row.expires_at < now or row.last_seen_at + self.idle < now:
            async with db.transaction() as tx:
                await self._repo.remove(tx, key)
            return None
        if now - row.last_seen_at > self._touch_every:
            async with db.transaction() as tx:
                await self._repo.touch(tx, key, now)
        return WebSession(
            key=key,
            csrf=row.csrf_token,
            actor=_actor(row.actor) if row.actor else None,
            data=json.loads(row.data) if row.data else {},
            oidc_state=row.oidc_state,
            oidc_verifier=row.oidc_verifier,
            oidc_nonce=row.oidc_nonce,
            return_to=row.return_to,
        )

    async def start_login(
        self,
        request: Request,
        response: Response,
        db: Database,
        *,
        state: str,
        verifier: str,
        nonce: str,
        return_to: str | None,
    ) -> None:
        """A pending login: remembers what the callback must check."""
        value = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            await self._repo.remove_stale(tx, idle_before=now - self.idle, now=now)
            await self._repo.add(
                tx,
                WebSessionRow(
                    id=self._key(value),
                    csrf_token=secrets.token_urlsafe(32),
                    oidc_state=state,
                    oidc_verifier=verifier,
                    oidc_nonce=nonce,
                    return_to=return_to,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + LOGIN_LIFETIME,
                ),
            )
        self._set_cookie(request, response, value, int(LOGIN_LIFETIME.total_seconds()))

    async def finish_login(
        self,
        request: Request,
        response: Response,
        db: Database,
        *,
        pending: WebSession,
        actor: Actor,
        expires_at: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Replace the pending session by a logged-in one with a fresh cookie value."""
        value = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            await self._repo.remove(tx, pending.key)
            await self._repo.add(
                tx,
                WebSessionRow(
                    id=self._key(value),
                    actor_id=actor.id,
                    actor=_actor_json(actor),
                    csrf_token=secrets.token_urlsafe(32),
                    data=json.dumps(data or {}),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires_at,
                ),
            )
        self._set_cookie(request, response, value, int((expires_at - now).total_seconds()))

    async def save_data(self, db: Database, session: WebSession) -> None:
        async with db.transaction() as tx:
            row = await self._repo.get(tx, session.key)
            if row is not None:
                row.data = json.dumps(session.data)

    async def end(self, request: Request, response: Response, db: Database, session: WebSession) -> None:
        async with db.transaction() as tx:
            await self._repo.remove(tx, session.key)
        self.clear_cookie(request, response)


async def check_csrf(request: Request, session: WebSession) -> None:
    """Same origin (when the browser says) and the session's token, in a header or the form."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfError("andere herkomst")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise CsrfError("CSRF-token ontbreekt of klopt niet")
