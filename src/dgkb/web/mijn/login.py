"""Logging in to Mijn omgeving with DigiD or eHerkenning, and out again (also at the broker).

The login is the broker's authorization-code flow (state, nonce, PKCE), the ID token verified by the
same AssertionVerifier as every other broker login (signature, issuer, audience, expiry, single-use
nonce). The verified subject is bound to one contact per organisation under that organisation's
own-view purpose: the PDP decides per organisation whether this login's level is enough, and the
binding is logged as an identification like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.composition.deps import ContactsDep, DatabaseDep, PseudonymizerDep, RegisterDep
from dgkb.contacts.service import ContactError, ContactService
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.identity.assertions import AssertionRejected, AssertionVerifier, VerifiedAssertion
from dgkb.identity.broker_client import BrokerError
from dgkb.web.deps import TraceDep, broker_client, public_base
from dgkb.web.mijn.deps import MijnCheckedDep, mijn_state, own_view_purposes, render_mijn
from dgkb.web.oidc import pkce_pair

router = APIRouter(include_in_schema=False)

CALLBACK = "/mijn/terugkeer"
# However active, a portal session ends after this long (DigiD's own sessions are shorter).
MAX_SESSION = timedelta(hours=2)
_MIDDELEN = {"digid": "DigiD", "eherkenning": "eHerkenning"}


@dataclass(frozen=True)
class _Bound:
    contact: dict[str, str] | None
    refused: str | None  # why this organisation's own view is not available at this level


def _error(request: Request, titel: str, tekst: str, *, status: int) -> Response:
    return render_mijn(request, "mijn/fout.html", {"titel": titel, "tekst": tekst}, status=status)


@router.get("/mijn/inloggen", name="mijn_login_page")
async def login_page(request: Request, register: RegisterDep) -> Response:
    names = [va.organisatie.naam for va in own_view_purposes(register)]
    return render_mijn(request, "mijn/inloggen.html", {"organisaties": names})


@router.get("/mijn/inloggen/{middel}", name="mijn_login")
async def login(request: Request, middel: str, database: DatabaseDep) -> Response:
    """Start the login at the broker: a link (not a form), so the page's CSP form-action stays 'self'."""
    if middel not in _MIDDELEN:
        return _error(request, "Onbekend inlogmiddel", "Kies DigiD of eHerkenning.", status=404)
    broker = broker_client(request)
    try:
        endpoints = await broker.endpoints(str(request.base_url))
    except BrokerError:
        return _error(
            request,
            "Inloggen lukt nu niet",
            f"{_MIDDELEN[middel]} is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
            status=503,
        )
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    response = RedirectResponse(
        broker.authorize_url(
            endpoints,
            redirect_uri=public_base(request) + CALLBACK,
            state=state,
            nonce=nonce,
            code_challenge=challenge,
        ),
        status_code=303,
    )
    await mijn_state(request).sessions.start_login(
        request, response, database, state=state, verifier=verifier, nonce=nonce, return_to=middel
    )
    return response


@router.get(CALLBACK, name="mijn_callback")
async def callback(
    request: Request,
    database: DatabaseDep,
    register: RegisterDep,
    contacts: ContactsDep,
    pseudonymizer: PseudonymizerDep,
    trace: TraceDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    sessions = mijn_state(request).sessions
    pending = await sessions.load(request, database)
    if (
        pending is None
        or pending.actor is not None
        or pending.oidc_state is None
        or pending.oidc_verifier is None
        or not state
        or not secrets.compare_digest(state[:200], pending.oidc_state)
    ):
        return _error(
            request,
            "Inloggen niet afgerond",
            "De inlogpoging is verlopen of onbekend. Begin opnieuw.",
            status=400,
        )
    if error or not code:
        return _error(
            request, "Inloggen is niet gelukt", "U bent niet ingelogd. Probeer het opnieuw.", status=400
        )
    broker = broker_client(request)
    try:
        endpoints = await broker.endpoints(str(request.base_url))
        id_token = await broker.exchange(
            endpoints,
            code=code[:500],
            redirect_uri=public_base(request) + CALLBACK,
            code_verifier=pending.oidc_verifier,
        )
    except BrokerError:
        return _error(
            request,
            "Inloggen lukt nu niet",
            "De inlogdienst is nu niet bereikbaar. Probeer het later opnieuw.",
            status=503,
        )
    verifier: AssertionVerifier = request.app.state.services.assertions
    try:
        assertion = await verifier.verify(id_token, expected_nonce=pending.oidc_nonce, expected_subject=None)
    except AssertionRejected:
        return _error(
            request, "Inloggen is niet gelukt", "Uw inlog kon niet worden gecontroleerd.", status=403
        )
    purposes = own_view_purposes(register)
    actor = Actor(
        id=_actor_id(assertion, pseudonymizer),
        role=Role.BURGER,
        organisation=purposes[0].organisatie.oin if purposes else "",
        name=assertion.acting_person,
        issuer=assertion.issuer,
    )
    bound = await asyncio.gather(*(_bind(contacts, actor, va, assertion, trace) for va in purposes))
    own = [b.contact for b in bound if b.contact is not None]
    if not own:
        reasons = [b.refused for b in bound if b.refused]
        return _error(
            request,
            "Met deze inlog kunt u Mijn omgeving niet gebruiken",
            reasons[0] if reasons else "Er is geen Mijn omgeving voor deze organisatie ingesteld.",
            status=403,
        )
    data: dict[str, Any] = {
        "middel": assertion.method.value,
        "niveau": assertion.assurance.value,
        "soort": assertion.subject.kind.value,
        "handelend": assertion.acting_person,
        "namens": assertion.representation.kind.label if assertion.representation else None,
        "contacten": own,
        "geweigerd": [b.refused for b in bound if b.refused],
    }
    response = RedirectResponse("/mijn", status_code=303)
    await sessions.finish_login(
        request,
        response,
        database,
        pending=pending,
        actor=actor,
        expires_at=datetime.now(UTC) + MAX_SESSION,
        data=data,
    )
    return response


def _actor_id(assertion: VerifiedAssertion, pseudonymizer: Pseudonymizer) -> str:
    """The actor id every read of this session is logged with: no identifier of the customer. When
    someone acts for the customer, it names the kind and the representative by pseudonym, so the
    log records both (the represented customer is the log's subject)."""
    session = secrets.token_hex(8)
    if assertion.representation is None:
        return f"mijn:{session}"
    who = pseudonymizer.pseudonym(assertion.representation.representative)
    return f"mijn:namens:{assertion.representation.kind.value}:{who.key_id}:{who.value[:40]}:{session}"


async def _bind(
    contacts: ContactService,
    actor: Actor,
    purpose: Verwerkingsactiviteit,
    assertion: VerifiedAssertion,
    trace: Trace,
) -> _Bound:
    """Open the customer's own contact with one organisation, bound to the verified subject."""
    own = Actor(
        id=actor.id,
        role=actor.role,
        organisation=purpose.organisatie.oin,
        name=actor.name,
        issuer=actor.issuer,
    )
    try:
        view = await contacts.start(own, kanaal=Kanaal.MIJN_OMGEVING, purpose_id=purpose.id)
        await contacts.identify_with_assertion(own, view.id, assertion, trace)
    except DomainError as exc:
        return _Bound(None, f"{purpose.organisatie.naam}: {exc.message}")
    return _Bound(
        {
            "organisatie": purpose.organisatie.oin,
            "naam": purpose.organisatie.naam,
            "contact": view.id,
            "doel": purpose.id,
        },
        None,
    )


@router.post("/mijn/uitloggen", name="mijn_logout")
async def logout(
    request: Request, mijn: MijnCheckedDep, database: DatabaseDep, contacts: ContactsDep
) -> Response:
    """End the contacts and the session here, then at the broker (when it offers that)."""
    for own in mijn.contacts:
        with contextlib.suppress(ContactError):  # already ended or expired
            await contacts.end(mijn.actor_for(own.organisation), own.contact_id)
    back = public_base(request) + "/mijn/uitgelogd"
    target = back
    try:
        broker = broker_client(request)
        target = broker.logout_url(await broker.endpoints(str(request.base_url)), return_to=back) or back
    except BrokerError:
        pass  # DGKB's session ends regardless; the broker's ends by itself
    response = RedirectResponse(target, status_code=303)
    await mijn_state(request).sessions.end(request, response, database, mijn.session)
    return response


@router.get("/mijn/uitgelogd", name="mijn_logged_out")
async def logged_out(request: Request) -> Response:
    return render_mijn(request, "mijn/uitgelogd.html", {})
