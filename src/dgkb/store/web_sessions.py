"""Web console sessions (server side): the cookie holds an opaque random value, the row its hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
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


class WebSessionRepository:
    async def add(self, session: AsyncSession, row: WebSessionRow) -> None:
        session.add(row)
        await session.flush()

    async def get(self, session: AsyncSession, session_id: str) -> WebSessionRow | None:
        return await session.get(WebSessionRow, session_id)

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
