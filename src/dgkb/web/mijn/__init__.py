"""Mijn omgeving: the citizen's and the entrepreneur's own klantbeeld at /mijn, after a DigiD or
eHerkenning login. Its own session cookie and pages; the same services, PDP and access log as the
console. `install(app, settings)` mounts it (called by `dgkb.web.install`)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from dgkb.settings import Settings
from dgkb.web.deps import is_htmx
from dgkb.web.mijn.berichten import router as berichten_router
from dgkb.web.mijn.bezwaar import router as bezwaar_router
from dgkb.web.mijn.contactmomenten import router as contactmomenten_router
from dgkb.web.mijn.correctie import router as correctie_router
from dgkb.web.mijn.deps import MijnLoginRequired, MijnState
from dgkb.web.mijn.download import router as download_router
from dgkb.web.mijn.feedback import router as feedback_router
from dgkb.web.mijn.gegevens import router as gegevens_router
from dgkb.web.mijn.inzage import router as inzage_router
from dgkb.web.mijn.login import router as login_router
from dgkb.web.mijn.profiel import router as profiel_router
from dgkb.web.mijn.taken import router as taken_router
from dgkb.web.mijn.toestemmingen import router as toestemmingen_router
from dgkb.web.mijn.zaken import router as zaken_router
from dgkb.web.session import WebSessions

__all__ = ["install"]


def install(app: FastAPI, settings: Settings) -> None:
    app.state.mijn = MijnState(
        sessions=WebSessions(idle=timedelta(seconds=settings.session_idle_seconds), app="mijn")
    )
    for router in (
        login_router,
        gegevens_router,
        zaken_router,
        contactmomenten_router,
        taken_router,
        berichten_router,
        profiel_router,
        toestemmingen_router,
        inzage_router,
        bezwaar_router,
        correctie_router,
        feedback_router,
        download_router,
    ):
        app.include_router(router)
    app.add_exception_handler(MijnLoginRequired, _login_required)


async def _login_required(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": "/mijn/inloggen"})
    return RedirectResponse("/mijn/inloggen", status_code=303)
