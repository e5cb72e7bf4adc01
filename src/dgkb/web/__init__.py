"""The web console: server-rendered pages (Jinja2 + htmx, NL Design System CSS) over the same
application services as the API. `install(app, settings)` mounts it on the FastAPI app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from dgkb.settings import Settings
from dgkb.web import mijn
from dgkb.web.deps import STATIC_DIR, LoginRequired, NotAllowed, WebState, is_htmx, render
from dgkb.web.oidc import OidcClient, WebSettings
from dgkb.web.routes.auth import router as auth_router
from dgkb.web.routes.beheer import router as beheer_router
from dgkb.web.routes.bevestigen import router as bevestigen_router
from dgkb.web.routes.bevestigen_console import router as bevestigen_console_router
from dgkb.web.routes.console import router as console_router
from dgkb.web.routes.dashboard import router as dashboard_router
from dgkb.web.routes.privacy import router as privacy_router
from dgkb.web.routes.registratie import router as registratie_router
from dgkb.web.routes.zaak import router as zaak_router
from dgkb.web.security import WebSecurityHeaders
from dgkb.web.session import CsrfError, WebSessions

__all__ = ["install"]


def install(app: FastAPI, settings: Settings) -> None:
    """Routes, static files, error pages and security headers of the console."""
    app.state.web = WebState(
        sessions=WebSessions(idle=timedelta(seconds=settings.session_idle_seconds)),
        oidc=OidcClient(issuer=settings.oidc_issuer or None, settings=WebSettings()),
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        auth_router,
        console_router,
        registratie_router,
        zaak_router,
        privacy_router,
        dashboard_router,
        beheer_router,
        bevestigen_router,
        bevestigen_console_router,
    ):
        app.include_router(router)
    mijn.install(app, settings)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(CsrfError, _csrf_failed)
    app.add_middleware(WebSecurityHeaders)


async def _login_required(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "fout.html",
        {"titel": "Geen toegang", "tekst": "Deze pagina hoort niet bij uw rol."},
        status=403,
    )


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "fout.html",
        {
            "titel": "Verzoek geweigerd",
            "tekst": "Dit formulier is verlopen of kwam niet van deze pagina. Laad de pagina opnieuw.",
        },
        status=403,
    )
