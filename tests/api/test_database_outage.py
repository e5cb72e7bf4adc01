"""Issue 13 §4: while PostgreSQL is unreachable every request that needs it fails closed with a clean
503 problem (`server.unavailable`, Retry-After), and the log says so once per error type per
interval — the type only, never an exception message (it may hold personal data), no traceback, and
no second report by the HTTP server. PostgreSQL is reached through a TCP proxy of the test's own,
which the test cuts: established connections drop and new ones are refused, as when the database
goes down; the shared PostgreSQL keeps running for everyone else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from dgkb.store.errors import database_unavailable
from tests.api.conftest import GEMEENTE, Stack, open_contact, running_stack
from tests.conftest import PG_URL, fresh_database_url

needs_postgres = pytest.mark.skipif(not PG_URL, reason="DGKB_TEST_DATABASE_URL is not set (CI sets it)")

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BSN = "999993653"
OTHER_BSN = "999990640"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until `cut`: then it closes every connection and
    stops listening, so the port refuses."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.close()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


CLIENT_LOGGERS = ("httpx", "httpcore")  # the test's own HTTP client, not the server


class Lines(logging.Handler):
    """Every log record of the server side, formatted as a file handler would write it (traceback
    included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_LOGGERS):
            self.lines.append(self.format(record))


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    target = make_url(PG_URL)
    p = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await p.start()
    yield p
    with contextlib.suppress(Exception):
        await p.cut()


@pytest.fixture
async def pg_stack(tmp_path: Path, simulators: dict[str, str], proxy: TcpProxy) -> AsyncIterator[Stack]:
    url = make_url(await fresh_database_url("postgresql", tmp_path)).set(host="127.0.0.1", port=proxy.port)
    async with running_stack(
        url.render_as_string(hide_password=False), simulators, source_deadline_seconds=2.0
    ) as stack:
        yield stack


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """Everything logged anywhere (the root logger and uvicorn's own, which does not propagate)."""
    handler = Lines()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def assert_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, (resp.request.url.path, resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) > 0
    body = resp.json()
    assert body["code"] == "server.unavailable"
    assert body["status"] == 503
    assert BSN not in resp.text


@needs_postgres
async def test_a_database_outage_answers_503_and_logs_one_line_per_error_type(
    pg_stack: Stack, proxy: TcpProxy, log_lines: Lines
) -> None:
    async with await pg_stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
        assert (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).status_code == 200
        log_lines.lines.clear()

        await proxy.cut()  # PostgreSQL is gone: connections drop, new ones are refused
        for _ in range(15):
            assert_unavailable(await anna.get(f"/api/v1/contacten/{contact}/klantbeeld"))
            assert_unavailable(
                await anna.post(
                    "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK}
                )
            )
            assert_unavailable(
                await anna.post(
                    f"/api/v1/contacten/{contact}/identificatie",
                    json={"bsn": OTHER_BSN, "zekerheid": "controlevragen"},
                )
            )
            assert_unavailable(
                await anna.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": OTHER_BSN})
            )
        status = await pg_stack.client.get("/api/v1/status")
        assert status.status_code == 200
        assert status.json()["database"] == "onbereikbaar"

    text = "\n".join(log_lines.lines)
    assert BSN not in text
    assert contact not in text, "the route's template is logged, not the request's path"
    assert OTHER_BSN not in text
    assert "Traceback" not in text, text
    assert "Exception in ASGI application" not in text, text
    # 60 failed requests, a handful of lines: one per error type (a connection that dropped, a
    # connection refused), whatever the number of requests
    assert 1 <= len(log_lines.lines) <= 6, text
    unavailable = [line for line in log_lines.lines if "database unavailable" in line]
    assert unavailable, text
    assert len(unavailable) == len(set(unavailable)), "one line per error type per interval"


async def test_database_errors_never_carry_the_sql_parameters(database_url: str) -> None:
    """An error's message may reach a log: the engine leaves the parameters (BSNs, names) out."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dgkb.store.db import Database

    db = Database(database_url)
    try:
        with pytest.raises(DBAPIError) as caught:
            async with db.transaction() as session:
                await session.execute(text("SELECT * FROM no_such_table WHERE bsn = :bsn"), {"bsn": BSN})
    finally:
        await db.dispose()
    assert BSN not in str(caught.value)
    assert not database_unavailable(caught.value), "a failing query is a 500, not an outage"


def test_what_counts_as_the_database_being_unavailable() -> None:
    from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    assert database_unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert database_unavailable(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert database_unavailable(PoolTimeout("QueuePool limit reached"))
    assert database_unavailable(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert database_unavailable(
        InterfaceError("SELECT 1", {}, Exception("closed"), connection_invalidated=True)
    )
    wrapped = RuntimeError("while reading")
    wrapped.__cause__ = ConnectionResetError()
    assert database_unavailable(wrapped)
    assert database_unavailable(ExceptionGroup("task group", [ValueError(), ConnectionResetError()]))
    assert not database_unavailable(OperationalError("SELECT 1", {}, Exception("no such table: x")))
    assert not database_unavailable(ProgrammingError("SELECT 1", {}, Exception("syntax error")))
    assert not database_unavailable(ValueError("bad"))
    assert not database_unavailable(FileNotFoundError(2, "No such file"))


async def test_an_unexpected_error_is_logged_once_by_type_and_not_again_by_the_server(
    stack: Stack, log_lines: Lines
) -> None:
    """A failing query (the contacts' table gone) is a 500: one line with the type and the route,
    no message, no traceback, no second report by uvicorn."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, LOPENDE_ZAAK, bsn=BSN)
        engine = create_async_engine(stack.settings.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE contact_sessions RENAME TO contact_sessions_away"))
        log_lines.lines.clear()
        try:
            for _ in range(5):
                resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
                assert resp.status_code == 500
                assert resp.json()["code"] == "server.error"
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE contact_sessions_away RENAME TO contact_sessions"))
            await engine.dispose()
    text_ = "\n".join(log_lines.lines)
    assert len(log_lines.lines) == 1, text_
    assert "unhandled" in text_
    assert "/contacten/{contact_id}/klantbeeld" in text_
    assert "Traceback" not in text_
    assert "Exception in ASGI application" not in text_
    assert BSN not in text_
    assert contact not in text_
    assert "contact_sessions" not in text_, "the message (here: the table) is not logged"
