"""Open Klant's token authentication: every API request needs `Authorization: Token <token>`, else a
401 problem with `WWW-Authenticate: Token` in Django REST framework's words (see the package
docstring). `/_sim/…` needs no token."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from dgkb.simulators.common import problem

NOT_AUTHENTICATED = "Authenticatiegegevens zijn niet opgegeven."


class TokenAuth:
    """Pure ASGI middleware: every API request needs `Authorization: Token <token>`, as Open Klant's
    token authentication wants it (see the package docstring); 401 otherwise."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        parts = header.split()
        refusal: tuple[str, str] | None = None
        if not parts or parts[0].lower() != "token":
            refusal = ("not_authenticated", NOT_AUTHENTICATED)  # no token at all, or Bearer/Basic/…
        elif len(parts) == 1:
            refusal = ("authentication_failed", "Ongeldige token header. Geen credentials meegegeven.")
        elif len(parts) > 2:
            refusal = (
                "authentication_failed",
                "Ongeldige token header. Token string mag geen spaties bevatten.",
            )
        elif parts[1] != self.token:
            refusal = ("authentication_failed", "Ongeldige token.")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        code, title = refusal
        response = problem(401, title, title, code=code, instance=scope["path"])
        response.headers["WWW-Authenticate"] = "Token"
        await response(scope, receive, send)
