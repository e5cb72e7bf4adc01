"""SQLite for the embedded default: SQLAlchemy's aiosqlite driver, with one thread hop per statement.

aiosqlite runs each sqlite3 connection in a thread of its own and hands it every call through a
queue; SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch the
rows, close the cursor), each a round trip between the event loop and that thread: waking it,
handing the GIL over and back, waking the loop. On the Mijn omgeving and klantbeeld paths (a few
reads and the audit log's inserts per page) those hand-overs, not SQLite, were most of what a
statement cost: measured on this machine, a one-row SELECT took 0.3–0.45 ms of CPU through the
stock adapter and 0.15–0.27 ms with the four calls done in one.

`module()` is the DBAPI that does that: its cursor runs open-execute-fetch-close as one function in
the connection's thread and keeps the rows, description, rowcount and lastrowid it returns.
Everything else (connections, transactions, server-side cursors for streamed results) is
SQLAlchemy's own adapter. It uses `aiosqlite.Connection._execute` and `_conn`, the hand-over that
every aiosqlite call goes through (SQLAlchemy's adapter reaches into aiosqlite the same way for the
isolation level); the whole test suite runs on SQLite, so a change there shows at once.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

__all__ = ["module"]

_Outcome = tuple[Any, list[Any], int, Any]  # description, rows, rowcount, lastrowid


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the connection's own thread: the whole statement, its cursor opened and closed here."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one call into the connection's thread; nothing of it
    stays open there, so closing it is free."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is opened up front
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None  # closed in the thread already

    def close(self) -> None:
        self._rows.clear()

    async def _go(self, operation: str, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection: Any = self._connection
            outcome: _Outcome = await connection._execute(_run, connection._conn, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._go(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._go(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneHopCursor


class _OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        adapted.__class__ = _OneHopConnection  # same layout (no slots of its own): only the cursor differs
        return adapted


def module() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI for `create_async_engine(..., module=module())` on sqlite+aiosqlite URLs."""
    return _OneHopDBAPI(aiosqlite, sqlite3)
