"""Web console sessions (server side): the cookie holds an opaque random value, the row its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, Table, Text, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dgkb.store.db import Base, UtcDateTime

__all__ = ["WebSessionRepository", "WebSessionRow"]


class WebSessionRow(Base):
    """One browser session: pending login (state, PKCE verifier, nonce) or a logged-in actor."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_id: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(Text)
    csrf_token: Mapped[str] = mapped_column(String(64))
    oidc_state: Mapped[str | None] = mapped_column(String(64))
    oidc_verifier: Mapped[str | None] = mapped_column(String(128))
    oidc_nonce: Mapped[str | None] = mapped_column(String(64))
    return_to: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


_TABLE: Table = WebSessionRow.__table__  # type: ignore[assignment]


class WebSessionRepository:
    async def add(self, session: AsyncSession, row: WebSessionRow) -> None:
        session.add(row)
        await session.flush()

    async def get(self, session: AsyncSession, session_id: str) -> WebSessionRow | None:
        return await session.get(WebSessionRow, session_id)

    async def read(self, conn: AsyncConnection, session_id: str) -> Row[Any] | None:
        """The session's row as a plain Core row (its columns as attributes): the read of every
        request, without building an ORM object."""
        result = await conn.execute(select(_TABLE).where(_TABLE.c.id == session_id))
        return result.first()

    async def touch(self, session: AsyncSession, session_id: str, at: datetime) -> None:
        await session.execute(update(_TABLE).where(_TABLE.c.id == session_id).values(last_seen_at=at))

    async def remove(self, session: AsyncSession, session_id: str) -> None:
        await session.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))

    async def remove_stale(self, session: AsyncSession, *, idle_before: datetime, now: datetime) -> int:
        """Drop sessions idle since `idle_before` or past their absolute expiry."""
        result = await session.execute(
            delete(WebSessionRow).where(
                or_(WebSessionRow.last_seen_at < idle_before, WebSessionRow.expires_at < now)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
