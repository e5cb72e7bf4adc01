"""What every Mijn omgeving page needs: the customer's session and their own contacts.

The customer logs in with DigiD or eHerkenning at the organisation's broker (`login.py`). DGKB then
opens one contact per organisation of the installation whose register has an own-view purpose for
the role `burger`, bound to the subject of the verified assertion: every read of the portal goes
through that contact, the same PDP, gateway and access log as the console. The subject comes only
from the assertion; no page or form takes an identifier, so there is no way to ask for someone
else's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.responses import HTMLResponse

from dgkb.composition.deps import DatabaseDep
from dgkb.contacts.service import ContactError, ContactService
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.identity.broker_client import BrokerError
from dgkb.messages.service import MessageService
from dgkb.telemetry.requests import request_trace
from dgkb.web.deps import broker_client, render
from dgkb.web.security import CONTENT_SECURITY_POLICY
from dgkb.web.session import WebSession, WebSessions, check_csrf

__all__ = [
    "Mijn",
    "MijnCheckedDep",
    "MijnDep",
    "MijnLoginRequired",
    "MijnState",
    "own_subject",
    "own_view_purposes",
    "render_mijn",
]


@dataclass
class MijnState:
    """Built once by `dgkb.web.mijn.install`, kept on app.state.mijn."""

    sessions: WebSessions


class MijnLoginRequired(Exception):
    """No (valid) portal session, or its contacts ended: log in again."""


@dataclass(frozen=True)
class OwnContact:
    organisation: str  # OIN
    organisation_name: str
    contact_id: str
    purpose_id: str


@dataclass(frozen=True)
class Mijn:
    """The logged-in customer: who acts (DigiD for a person, eHerkenning for a business and the
    person acting for it) and their contact per organisation."""

    session: WebSession
    actor: Actor  # role burger; `organisation` is the first organisation's
    method: str  # digid | eherkenning
    assurance: str  # the level of the login (dgkb.domain.assurance)
    subject_kind: str  # bsn | kvk | vestigingsnummer
    acting_person: str | None  # eHerkenning: the person acting for the business
    contacts: tuple[OwnContact, ...]
    on_behalf_as: str | None = None  # someone acts for the customer, as e.g. "bewindvoerder"
    # The contexts of the own contacts read in this request (one Mijn per request): the menu's
    # unread count and the page both need the first, read once (own_context).
    contexts: dict[str, RequestContext] = field(default_factory=dict, compare=False, repr=False)

    def actor_for(self, organisation: str) -> Actor:
        """The same customer as the actor of their contact with `organisation`."""
        return replace(self.actor, organisation=organisation)

    @property
    def is_business(self) -> bool:
        return self.subject_kind != "bsn"


def own_view_purposes(register: Register) -> list[Verwerkingsactiviteit]:
    """One own-view purpose per organisation: the register's purposes for the role burger."""
    found: dict[str, Verwerkingsactiviteit] = {}
    for va in register.verwerkingsactiviteiten:
        if Role.BURGER in va.rollen and va.systeemtaak is None and not va.identificatie:
            found.setdefault(va.organisatie.oin, va)
    return list(found.values())


def mijn_state(request: Request) -> MijnState:
    return cast(MijnState, request.app.state.mijn)


def _contacts(data: dict[str, Any]) -> tuple[OwnContact, ...]:
    return tuple(
        OwnContact(
            organisation=c["organisatie"],
            organisation_name=c["naam"],
            contact_id=c["contact"],
            purpose_id=c["doel"],
        )
        for c in data.get("contacten", [])
    )


_NO_MENU = ("/mijn/sessie", "/mijn/download/")


async def current_mijn(request: Request, database: DatabaseDep) -> Mijn:
    session = await mijn_state(request).sessions.load(request, database)
    if session is None or session.actor is None or session.actor.role is not Role.BURGER:
        raise MijnLoginRequired
    contacts = _contacts(session.data)
    if not contacts:
        raise MijnLoginRequired
    request.state.mijn_session = session
    mijn = Mijn(
        session=session,
        actor=session.actor,
        method=str(session.data.get("middel", "digid")),
        assurance=str(session.data.get("niveau", "")),
        subject_kind=str(session.data.get("soort", "bsn")),
        acting_person=session.data.get("handelend"),
        contacts=contacts,
        on_behalf_as=session.data.get("namens"),
    )
    request.state.mijn = mijn
    # the menu's unread count is for pages; the keep-alive ping and the downloads show no menu
    if not request.url.path.startswith(_NO_MENU):
        request.state.mijn_unread = await _unread(request, mijn)
    return mijn


async def own_context(mijn: Mijn, own: OwnContact, contacts: ContactService, trace: Trace) -> RequestContext:
    """The request context of the customer's own contact with one organisation: the subject comes
    from there only. A contact that ended or expired means the portal session is over. Read once
    per request, all own contacts together (each checked open, and touched, at the first use)."""
    if own.contact_id not in mijn.contexts:
        # the first own context a request needs: read all its own contacts in one query (most
        # pages need every organisation's, and the menu the first)
        missing = [
            (mijn.actor_for(o.organisation), o.contact_id)
            for o in mijn.contacts
            if o.contact_id not in mijn.contexts
        ]
        mijn.contexts.update(await contacts.contexts_for(missing, trace=trace))
    known = mijn.contexts.get(own.contact_id)
    if known is not None:
        return known if known.trace == trace else replace(known, trace=trace)
    try:  # this one could not be read: ask for it alone, which says why
        context = await contacts.context_for(mijn.actor_for(own.organisation), own.contact_id, trace=trace)
    except ContactError:
        raise MijnLoginRequired from None
    mijn.contexts[own.contact_id] = context
    return context


async def own_contexts(
    mijn: Mijn, contacts: ContactService, trace: Trace, owns: Sequence[OwnContact] | None = None
) -> list[RequestContext]:
    """The request contexts of the customer's own contacts (all, or `owns`)."""
    chosen = mijn.contacts if owns is None else owns
    return [await own_context(mijn, own, contacts, trace) for own in chosen]


async def own_subject(request: Request, mijn: Mijn) -> Subject:
    """The customer's subject, from their first own contact (bound to the verified assertion at
    login); never from the request. MijnLoginRequired when that contact ended or expired."""
    contacts: ContactService = request.app.state.services.contacts
    return (await own_context(mijn, mijn.contacts[0], contacts, request_trace(request))).subject


async def _unread(request: Request, mijn: Mijn) -> int:
    """How many unread messages the menu shows next to "Mijn berichten" (0 when it cannot tell)."""
    messages: MessageService = request.app.state.services.messages
    try:
        return await messages.unread_count(await own_subject(request, mijn))
    except MijnLoginRequired:
        raise
    except Exception:  # the menu never fails a page
        return 0


async def checked_mijn(request: Request, database: DatabaseDep) -> Mijn:
    """For state-changing requests: a portal session and its CSRF token."""
    mijn = await current_mijn(request, database)
    await check_csrf(request, mijn.session)
    return mijn


MijnDep = Annotated[Mijn, Depends(current_mijn)]
MijnCheckedDep = Annotated[Mijn, Depends(checked_mijn)]

# The parts of Mijn omgeving, in menu order: (path, label). A part appears here once it exists.
NAV: tuple[tuple[str, str], ...] = (
    ("/mijn", "Mijn gegevens"),
    ("/mijn/zaken", "Mijn zaken"),
    ("/mijn/contactmomenten", "Mijn contactmomenten"),
    ("/mijn/taken", "Mijn taken"),
    ("/mijn/berichten", "Mijn berichten"),
    ("/mijn/profiel", "Mijn profiel"),
    ("/mijn/toestemmingen", "Toestemmingen"),
    ("/mijn/inzage", "Wie heeft mijn gegevens bekeken"),
    ("/mijn/bezwaar", "Bezwaar"),
    ("/mijn/correctie", "Klopt er iets niet?"),
    ("/mijn/feedback", "Feedback en klachten"),
    ("/mijn/download", "Download mijn gegevens"),
)


def render_mijn(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a Mijn omgeving page: the customer (never their BSN), the menu, the CSRF token."""
    mijn: Mijn | None = getattr(request.state, "mijn", None)
    ctx: dict[str, Any] = {
        "mijn": mijn,
        "session": mijn.session if mijn else None,
        "nav": NAV,
        "unread": getattr(request.state, "mijn_unread", 0),
        "idle_seconds": int(mijn_state(request).sessions.idle.total_seconds()),
    }
    ctx.update(context or {})
    response = render(request, name, ctx, status=status)
    if mijn is not None:
        # "Uitloggen" posts here and is redirected to the broker's end_session_endpoint: allow the
        # broker's origin (that of its issuer) as a form target, nothing else
        try:
            issuer = urlsplit(broker_client(request).issuer_url(str(request.base_url)))
        except BrokerError:
            return response
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
        )
    return response
