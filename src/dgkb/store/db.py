"""Database engine and sessions (SQLAlchemy 2 async). SQLite for the embedded demo, PostgreSQL in
production and CI; the same code and migrations serve both."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from dgkb.store import sqlite_driver

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Engine with sane pool settings; SQLite gets WAL + busy timeout so readers never block.
    SQL parameters are kept out of error messages (`hide_parameters`): they hold BSNs and names,
    and an error message may end up in a log."""
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        # A fixed pool: overflow connections would be closed on return, and each reconnect costs a
        # new aiosqlite thread and the PRAGMAs below (measured: ~12% CPU per klantbeeld).
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 30)
        if make_url(url).get_driver_name() == "aiosqlite":
            # one hand-over to the connection's thread per statement, not four (sqlite_driver.py)
            kwargs.setdefault("module", sqlite_driver.module())
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


# A pooled connection unused this long is pinged before it is handed out (it may have died with a
# database restart or an idle timeout in between). SQLAlchemy's `pool_pre_ping` pings on *every*
# checkout: a round trip to PostgreSQL before each unit of work, measured at ~9 % of DGKB's CPU per
# klantbeeld. A connection in steady use is not pinged; if it died anyway, the failing statement
# is a disconnect error, SQLAlchemy invalidates the whole pool, and the request answers 503.
PING_AFTER_IDLE_SECONDS = 2.0
_LAST_USED = "dgkb_last_used"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < idle_seconds:
            return  # new (just connected) or in steady use
        try:
            dbapi_conn.ping()  # runs in SQLAlchemy's greenlet, as pool_pre_ping's own ping does
        except Exception as exc:
            # the pool discards this connection and checks out (or opens) another
            raise DisconnectionError(type(exc).__name__) from None


class Database:
    """Owns the engine and the session factory; one per process, built in the app lifespan."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL reads autocommitted: no BEGIN and COMMIT round trips around a SELECT
        self._read_engine = (
            self.engine if is_sqlite(url) else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reads = (
            None
            if is_sqlite(url)
            else async_sessionmaker(self._read_engine, expire_on_commit=False, autoflush=False)
        )

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Reads only, on PostgreSQL autocommitted: no BEGIN and COMMIT round trips around a
        single SELECT (two of the three round trips of a contact lookup on the klantbeeld path).
        Nothing is flushed: a change made to an object read here is lost, so write in
        `transaction()`. SQLite keeps a plain transaction (its round trips are in-process)."""
        if self._reads is None:
            async with self.transaction() as session:
                yield session
            return
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """Core reads on the hot paths (every page of Mijn omgeving, every klantbeeld): a connection
        without an ORM session, so no identity map, no objects to build, no flush, no session
        transaction (measured on SQLite: a Core SELECT here costs about half the CPU of the same
        read through an ORM session). On PostgreSQL autocommitted as `read()`; on SQLite a plain
        connection (pysqlite opens no transaction for a SELECT). Reads only: nothing is committed."""
        async with self._read_engine.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
