"""Login (OIDC authorization code + PKCE), the callback, logout."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.composition.deps import DatabaseDep
from dgkb.web.deps import CheckedDep, render, web_state
from dgkb.web.oidc import OidcError, id_token_nonce, pkce_pair

router = APIRouter(include_in_schema=False)


def _callback_url(request: Request) -> str:
    return str(request.url_for("login_callback"))


@router.get("/login", name="login")
async def login(request: Request, database: DatabaseDep) -> Response:
    state = web_state(request)
    try:
        meta = await state.oidc.metadata(request)
    except OidcError as exc:
        return render(request, "fout.html", {"titel": "Inloggen lukt niet", "tekst": exc.message}, status=503)
    verifier, challenge = pkce_pair()
    oauth_state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    response = RedirectResponse(
        state.oidc.authorization_url(
            meta, redirect_uri=_callback_url(request), state=oauth_state, challenge=challenge, nonce=nonce
        ),
        status_code=303,
    )
    await state.sessions.start_login(
        request,
        response,
        database,
        state=oauth_state,
        verifier=verifier,
        nonce=nonce,
        return_to="/",
    )
    return response


@router.get("/auth/callback", name="login_callback")
async def login_callback(request: Request, db: DatabaseDep) -> Response:
    state = web_state(request)
    pending = await state.sessions.load(request, db)
    code = request.query_params.get("code")
    given_state = request.query_params.get("state")
    if (
        pending is None
        or pending.oidc_state is None
        or pending.oidc_verifier is None
        or not code
        or not given_state
        or not secrets.compare_digest(given_state, pending.oidc_state)
    ):
        return render(
            request,
            "fout.html",
            {
                "titel": "Inloggen niet afgerond",
                "tekst": "De inlogpoging is verlopen of onbekend. Begin opnieuw.",
                "opnieuw": True,
            },
            status=400,
        )
    try:
        meta = await state.oidc.metadata(request)
        tokens = await state.oidc.exchange(
            meta, code=code, verifier=pending.oidc_verifier, redirect_uri=_callback_url(request)
        )
        if tokens.id_token is not None and id_token_nonce(tokens.id_token) != pending.oidc_nonce:
            raise OidcError("Inloggen is mislukt (nonce klopt niet); probeer het opnieuw.")
        actor = await request.app.state.validator.actor(tokens.access_token)
    except OidcError as exc:
        return render(request, "fout.html", {"titel": "Inloggen lukt niet", "tekst": exc.message}, status=400)
    except Exception as exc:  # AuthError of the validator: an unusable token
        detail = getattr(exc, "detail", None)
        if not isinstance(detail, str):
            raise
        return render(request, "fout.html", {"titel": "Inloggen lukt niet", "tekst": detail}, status=400)
    response = RedirectResponse(pending.return_to or "/", status_code=303)
    await state.sessions.finish_login(
        request,
        response,
        db,
        pending=pending,
        actor=actor,
        expires_at=datetime.now(UTC) + timedelta(seconds=tokens.expires_in),
    )
    return response


@router.post("/logout", name="logout")
async def logout(request: Request, session: CheckedDep, database: DatabaseDep) -> Response:
    response = RedirectResponse("/uitgelogd", status_code=303)
    await web_state(request).sessions.end(request, response, database, session)
    return response


@router.get("/uitgelogd", name="logged_out")
async def logged_out(request: Request) -> Response:
    return render(request, "uitgelogd.html")
