"""How DGKB authenticates at the Notificaties API (routing component) where it takes its abonnement.

A ZGW component such as Open Notificaties expects a ZGW JWT made from a client id and secret, and
refuses one whose `iat` is older than its JWT_EXPIRY: so DGKB makes a new token every
DGKB_NOTIFICATIES_API_JWT_REFRESH_SECONDS (dgkb.sources.zgw_jwt), as it does for the sources. The
fixed DGKB_NOTIFICATIES_API_AUTH value of old still works as a fallback (a routing component with a
static token, or one that does not check `iat`); a JWT written into it expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dgkb.domain.errors import InvalidConfiguration
from dgkb.settings import Settings
from dgkb.sources.zgw_jwt import ZgwJwtIssuer

__all__ = ["ApiAuth", "notificaties_api_auth"]

# the Authorization value, or a function giving the current one (a ZGW JWT that is renewed)
ApiAuth = str | Callable[[], str]


def notificaties_api_auth(
    settings: Settings,
    *,
    default_client: tuple[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> ApiAuth:
    """The Authorization DGKB presents at the Notificaties API: a ZGW JWT of
    DGKB_NOTIFICATIES_API_CLIENT_ID + DGKB_NOTIFICATIES_API_SECRET when set; else the fixed
    DGKB_NOTIFICATIES_API_AUTH; else a ZGW JWT of `default_client` (client id, secret: the demo's
    client at the local simulator, see dgkb.runner); else nothing. One of client id and secret
    without the other is an InvalidConfiguration naming the missing setting."""
    client_id = settings.notificaties_api_client_id.strip()
    secret = settings.notificaties_api_secret.get_secret_value()
    if bool(client_id) != bool(secret):
        missing = "DGKB_NOTIFICATIES_API_SECRET" if client_id else "DGKB_NOTIFICATIES_API_CLIENT_ID"
        raise InvalidConfiguration(
            f"{missing} ontbreekt: een ZGW JWT voor de Notificaties API vraagt client id én geheim",
            field=missing,
        )
    refresh = settings.notificaties_api_jwt_refresh_seconds
    if client_id:
        return ZgwJwtIssuer(client_id, secret, refresh_seconds=refresh, clock=clock).authorization
    fixed = settings.notificaties_api_auth.get_secret_value()
    if fixed:
        return fixed
    if default_client is not None:
        return ZgwJwtIssuer(*default_client, refresh_seconds=refresh, clock=clock).authorization
    return ""
