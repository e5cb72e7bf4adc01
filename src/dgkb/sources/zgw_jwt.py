"""The ZGW JWT DGKB presents to ZGW components (Open Zaak, Open Notificaties) as a client.

HS256, signed with the client secret; `iss` and `client_id` are the client id, `iat` the moment the
token was made. Such a component refuses a token whose `iat` is older than its `JWT_EXPIRY` (plus its
leeway, `JWT_LEEWAY` / `TIME_LEEWAY`): an hour by default, less where an installation sets less. So
DGKB does not keep one token for the hour its `exp` allows: it makes a new one every `refresh_seconds`
(by default every four minutes), for the sources (`auth.refreshSeconds` in config/sources.yaml) and
for the Notificaties API (DGKB_NOTIFICATIES_API_JWT_REFRESH_SECONDS) alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt

__all__ = ["DEFAULT_REFRESH_SECONDS", "LIFETIME_SECONDS", "MAX_REFRESH_SECONDS", "ZgwJwtIssuer"]

DEFAULT_REFRESH_SECONDS = 240.0
# `exp` of a token; a component decides by `iat` and its own JWT_EXPIRY, this only caps the token
LIFETIME_SECONDS = 3600
# a token is replaced well before its `exp`
MAX_REFRESH_SECONDS = 3000.0


class ZgwJwtIssuer:
    """Makes the token of one client and hands out the same one until it is `refresh_seconds` old
    (signing a token per request would cost CPU on the hot path for nothing). `clock` (seconds since
    the epoch) is injectable, so a test can let minutes pass without waiting for them."""

    __slots__ = ("_clock", "_issued", "_refresh", "_secret", "_token", "client_id")

    def __init__(
        self,
        client_id: str,
        secret: str,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < refresh_seconds <= MAX_REFRESH_SECONDS:
            raise ValueError(f"refresh_seconds must be in (0, {MAX_REFRESH_SECONDS:g}]")
        self.client_id = client_id
        self._secret = secret
        self._refresh = refresh_seconds
        self._clock = clock
        self._token: str | None = None
        self._issued = 0.0

    def token(self) -> str:
        """The current token: a new one when the last is `refresh_seconds` old, or when the clock went
        back (its `iat` would lie in the future, which a component refuses as well)."""
        now = self._clock()
        if self._token is None or not self._issued <= now < self._issued + self._refresh:
            iat = int(now)
            claims = {"iss": self.client_id, "client_id": self.client_id, "iat": iat}
            claims["exp"] = iat + LIFETIME_SECONDS
            self._token = jwt.encode(claims, self._secret, algorithm="HS256")
            self._issued = float(iat)
        return self._token

    def authorization(self) -> str:
        """The `Authorization` header value: `Bearer <current token>`."""
        return f"Bearer {self.token()}"
