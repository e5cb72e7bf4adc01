"""Which errors mean "the database cannot be reached now" (down, refusing, a dropped connection, no
free connection in the pool) rather than a bug or bad data. Those are answered with 503 and a
Retry-After (api/problems.py): the request may succeed in a moment, and nothing about it was wrong.

Only this module knows the drivers' exception types (SQLAlchemy, asyncpg, the socket layer).
"""

from __future__ import annotations

import errno
import socket

from sqlalchemy import exc as sa_exc

try:  # asyncpg is installed with DGKB; guarded so the store works without it (SQLite only)
    import asyncpg  # type: ignore[import-untyped]
    from asyncpg import exceptions as pg_exc

    _PG_UNAVAILABLE: tuple[type[BaseException], ...] = (
        pg_exc.PostgresConnectionError,  # refused, rejected, failed, does not exist (any more)
        pg_exc.ConnectionDoesNotExistError,
        pg_exc.CannotConnectNowError,  # starting up, shutting down, in recovery
        pg_exc.TooManyConnectionsError,
        pg_exc.AdminShutdownError,
        pg_exc.CrashShutdownError,
    )
    _PG_INTERFACE: tuple[type[BaseException], ...] = (asyncpg.InterfaceError,)
except ImportError:  # pragma: no cover
    _PG_UNAVAILABLE = ()
    _PG_INTERFACE = ()

_CONNECT_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)

_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk I/O error")


def _connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, _PG_UNAVAILABLE):
        return True
    if isinstance(exc, _PG_INTERFACE) and "connection is closed" in str(exc):
        return True
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        return True
    if isinstance(exc, OSError):
        if exc.errno in _CONNECT_ERRNOS:
            return True
        # asyncio's create_connection over several addresses (localhost: ::1 and 127.0.0.1)
        return exc.errno is None and str(exc).startswith("Multiple exceptions")
    return False


def database_unavailable(exc: BaseException) -> bool:
    """Is `exc` (or what it wraps) the database being unreachable, as opposed to a failing query?"""
    if isinstance(exc, BaseExceptionGroup):  # from a task group (a streaming response)
        return any(database_unavailable(e) for e in exc.exceptions)
    if isinstance(exc, sa_exc.TimeoutError):  # no connection free in the pool within pool_timeout
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError) and str(exc.orig).startswith(_SQLITE_UNAVAILABLE):
            return True  # SQLite's OperationalError is also "no such table" and syntax: only these
        if exc.orig is not None and _connection_failure(exc.orig):
            return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the exception and what caused it
        seen.add(id(current))
        if _connection_failure(current):
            return True
        current = current.__cause__ or current.__context__
    return False


__all__ = ["database_unavailable"]
