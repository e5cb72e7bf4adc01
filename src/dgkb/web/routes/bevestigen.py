"""The customer's side of "bevestig met DigiD" (issue 9 §3): public pages, no staff login.

`/bevestigen/{token}` (the link in the text message or e-mail) and `/bevestig` (the short URL where
the caller types the code the agent reads out) show a page that names the organisation and warns
that it is only for someone on the phone with it right now; "Inloggen met DigiD" goes to the broker
(state, nonce, PKCE); `/bevestigen/terugkeer` exchanges the code server-side, verifies the ID token
(dgkb.contacts.confirmation) and shows the read-back code. No personal data in URLs or on the page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from dgkb.composition.deps import ConfirmationsDep
from dgkb.contacts.confirmation import CustomerPage, LoginOutcome
from dgkb.identity.broker_client import BrokerError
from dgkb.web.deps import AMSTERDAM, broker_client, public_base, render
from dgkb.web.security import CONTENT_SECURITY_POLICY

router = APIRouter(include_in_schema=False)

CALLBACK = "/bevestigen/terugkeer"
_NOT_USABLE = (
    "Deze link of code werkt niet (meer). Hij is verlopen, al gebruikt of geannuleerd. Vraag de "
    "medewerker om een nieuwe."
)


async def _page(request: Request, page: CustomerPage | None, *, status: int = 200) -> Response:
    if page is None:
        return _result(request, "Dit werkt niet", _NOT_USABLE, status=410)
    tot = page.verloopt_op.astimezone(AMSTERDAM).strftime("%H:%M")
    response = render(request, "bevestigen.html", {"pagina": page, "tot": tot}, status=status)
    # The login button posts here and is redirected to the broker: allow that origin as form target.
    try:
        endpoints = await broker_client(request).endpoints(str(request.base_url))
        parts = urlsplit(endpoints.authorization_endpoint)
        broker_origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {broker_origin}"
        )
    except BrokerError:
        pass  # the login itself will say it does not work
    return response


def _result(
    request: Request, titel: str, tekst: str, *, code: str | None = None, status: int = 200
) -> Response:
    return render(
        request, "bevestigen_resultaat.html", {"titel": titel, "tekst": tekst, "code": code}, status=status
    )


@router.get("/bevestigen/terugkeer")
async def callback(
    request: Request, confirmations: ConfirmationsDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    """The broker sends the browser back here; the code is exchanged server-side."""
    pending = await confirmations.pending_login(state[:200])
    if pending is None:
        return _result(request, "Dit werkt niet", _NOT_USABLE, status=400)
    confirmation_id, verifier = pending
    if error or not code:
        return _result(
            request,
            "Inloggen is niet gelukt",
            "U bent niet ingelogd met DigiD. Open de link opnieuw om het nog eens te proberen.",
            status=400,
        )
    broker = broker_client(request)
    try:
        endpoints = await broker.endpoints(str(request.base_url))
        id_token = await broker.exchange(
            endpoints, code=code[:500], redirect_uri=public_base(request) + CALLBACK, code_verifier=verifier
        )
    except BrokerError:
        return _result(
            request,
            "Inloggen is niet gelukt",
            "DigiD is nu niet bereikbaar. Probeer het over een paar minuten opnieuw met dezelfde link.",
            status=503,
        )
    outcome, readback = await confirmations.complete_login(confirmation_id, id_token)
    if outcome is LoginOutcome.GELUKT and readback is not None:
        return _result(
            request,
            "U bent ingelogd",
            "Lees deze code voor aan de medewerker. Daarna kan de medewerker u verder helpen.",
            code=readback,
        )
    if outcome is LoginOutcome.VERLOPEN:
        return _result(request, "Dit werkt niet", _NOT_USABLE, status=410)
    return _result(
        request,
        "Bevestigen is niet gelukt",
        "Het is niet gelukt om te bevestigen wie u bent. De medewerker ziet dat dit niet gelukt is. "
        "Er is niets veranderd.",
        status=403,
    )


@router.get("/bevestig")
async def code_form(request: Request) -> Response:
    return render(request, "bevestig_code.html", {})


@router.post("/bevestig")
async def code_entered(
    request: Request, confirmations: ConfirmationsDep, code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    page = await confirmations.page_for_code(code)
    if page is None:
        return render(
            request,
            "bevestig_code.html",
            {
                "fout": "Deze code klopt niet, of is verlopen. Controleer de code of vraag de medewerker "
                "om een nieuwe."
            },
            status=400,
        )
    return await _page(request, page)


@router.post("/bevestigen/inloggen")
async def start_login(
    request: Request,
    confirmations: ConfirmationsDep,
    referentie: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start the DigiD login at the broker for this confirmation (state, nonce and PKCE stored)."""
    login = await confirmations.start_login(referentie)
    if login is None:
        return _result(request, "Dit werkt niet", _NOT_USABLE, status=410)
    broker = broker_client(request)
    try:
        endpoints = await broker.endpoints(str(request.base_url))
    except BrokerError:
        return _result(
            request,
            "Inloggen is niet gelukt",
            "DigiD is nu niet bereikbaar. Probeer het over een paar minuten opnieuw met dezelfde link.",
            status=503,
        )
    url = broker.authorize_url(
        endpoints,
        redirect_uri=public_base(request) + CALLBACK,
        state=login.state,
        nonce=login.nonce,
        code_challenge=login.code_challenge,
    )
    return RedirectResponse(url, status_code=303)


@router.get("/bevestigen/{token}")
async def link(request: Request, token: str, confirmations: ConfirmationsDep) -> Response:
    return await _page(request, await confirmations.page_for_token(token[:200]))
