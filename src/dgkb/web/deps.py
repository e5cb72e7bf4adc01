"""What every console route needs: the templates and the logged-in user. A route reaches the services
it uses through the aliases in `dgkb.composition.deps`, as the API's routes do."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from dgkb.composition.deps import DatabaseDep, RegisterDep
from dgkb.domain.context import Actor, Trace
from dgkb.domain.roles import Role
from dgkb.telemetry.requests import request_trace
from dgkb.web import formatting
from dgkb.web.session import CSRF_FIELD, WebSession, WebSessions, check_csrf

if TYPE_CHECKING:
    from dgkb.identity.broker_client import BrokerClient, PublicLogin
    from dgkb.web.oidc import OidcClient

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class WebState:
    """Built once by `dgkb.web.install`, kept on app.state.web."""

    sessions: WebSessions
    oidc: OidcClient


def web_state(request: Request) -> WebState:
    return cast(WebState, request.app.state.web)


def public_login(request: Request) -> PublicLogin:
    """The customer's DigiD/eHerkenning login at the broker (app.state.public_login)."""
    return cast("PublicLogin", request.app.state.public_login)


def broker_client(request: Request) -> BrokerClient:
    """One client of the organisation's broker per app (it caches the discovery document)."""
    from dgkb.identity.broker_client import BrokerClient

    client = getattr(request.app.state, "broker_client", None)
    if client is None:
        client = BrokerClient(public_login(request))
        request.app.state.broker_client = client
    return cast("BrokerClient", client)


def public_base(request: Request) -> str:
    """This installation's public base URL (what the broker redirects back to)."""
    return public_login(request).base(str(request.base_url))


class LoginRequired(Exception):
    """No (valid) session: send the browser to the login."""


class NotAllowed(Exception):
    """Logged in, but this page is not for this role."""


async def current_session(request: Request, database: DatabaseDep, register: RegisterDep) -> WebSession:
    session = await web_state(request).sessions.load(request, database)
    if session is None or session.actor is None:
        raise LoginRequired
    request.state.web_session = session
    # the page header names the user's organisation (see `render`, also used by the error pages)
    request.state.web_organisation = register.organisation_name(session.actor.organisation)
    return session


async def checked_session(request: Request, database: DatabaseDep, register: RegisterDep) -> WebSession:
    """For state-changing requests: a logged-in session and its CSRF token."""
    session = await current_session(request, database, register)
    await check_csrf(request, session)
    return session


def actor_of(session: WebSession) -> Actor:
    assert session.actor is not None  # current_session guarantees it
    return session.actor


def roles(*allowed: Role) -> Any:
    async def _check(session: Annotated[WebSession, Depends(current_session)]) -> WebSession:
        if actor_of(session).role not in allowed:
            raise NotAllowed
        return session

    return Depends(_check)


async def trace(request: Request) -> Trace:
    """The request's trace (dgkb.api.telemetry.RequestTelemetry: the server span's ids); `async`
    so that FastAPI does not run it in a worker thread (tests/test_dependencies.py)."""
    return request_trace(request)


SessionDep = Annotated[WebSession, Depends(current_session)]
CheckedDep = Annotated[WebSession, Depends(checked_session)]
TraceDep = Annotated[Trace, Depends(trace)]


# --- templates ------------------------------------------------------------------------------------


def _datum(value: Any, with_time: bool = False) -> str:
    """ISO date/datetime (text or object) → Dutch dd-mm-jjjj [uu:mm], times in Europe/Amsterdam."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return _datum_text(value, with_time)
    if isinstance(value, datetime | date):
        return _dutch(value, with_time)
    return _datum_text(str(value), with_time)


@functools.lru_cache(maxsize=4096)
def _datum_text(text: str, with_time: bool) -> str:
    # the dates of a page come as text from the sources, the same ones page after page
    try:
        moment: date | datetime = (
            datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else date.fromisoformat(text)
        )
    except ValueError:
        return text
    return _dutch(moment, with_time)


def _dutch(moment: date | datetime, with_time: bool) -> str:
    # formatted by hand: strftime took most of the filter's time on a page with many dates
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(AMSTERDAM)
        if with_time:
            return (
                f"{moment.day:02d}-{moment.month:02d}-{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}"
            )
    return f"{moment.day:02d}-{moment.month:02d}-{moment.year:04d}"


def _bedrag(value: Any) -> str:
    if not isinstance(value, int | float):
        return "—"
    whole = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"€ {whole}"


def _slug(value: Any) -> str:
    return "".join(c if c.isalnum() else "-" for c in str(value)).strip("-").lower()


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["datum"] = _datum
templates.env.filters["bedrag"] = _bedrag
templates.env.filters["slug"] = _slug
templates.env.filters["telefoon"] = formatting.telefoon
templates.env.filters["getal"] = formatting.getal
templates.env.filters["duur"] = formatting.duur
templates.env.filters["zonder_ids"] = formatting.zonder_ids
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD
templates.env.globals["ROLE_LABELS"] = {
    Role.KCM: "Klantcontactmedewerker",
    Role.BEHANDELAAR: "Behandelaar",
    Role.KLACHTBEHANDELAAR: "Klachtbehandelaar",
    Role.PRIVACY: "Privacyfunctionaris",
    Role.BEHEERDER: "Functioneel beheerder",
    Role.TEAMLEIDER: "Teamleider",
    Role.BURGER: "Inwoner",
    Role.SYSTEEM: "Systeem",
    Role.PEP: "Policy enforcement point",
}


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a template with the session (user, CSRF token, organisation name) in reach."""
    session: WebSession | None = getattr(request.state, "web_session", None)
    ctx: dict[str, Any] = {"session": session, "user": session.actor if session else None}
    if session is not None and session.actor is not None:
        ctx["organisatie"] = getattr(request.state, "web_organisation", None)
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
