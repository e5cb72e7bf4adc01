"""Authorization codes of the built-in test broker and dev issuer (never in production), kept in
the database so the code flow works when the redirect lands on another worker or node."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from dgkb.store.db import Database
from dgkb.store.tables import LoginCodeRow

__all__ = ["LoginCodes"]


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


class LoginCodes:
    def __init__(self, database: Database, issuer: str) -> None:
        self._db = database
        self._issuer = issuer

    async def issue(self, payload: dict[str, Any], *, lifetime: timedelta) -> str:
        """A fresh code for this payload; only its hash is stored."""
        code = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            await session.execute(delete(LoginCodeRow).where(LoginCodeRow.expires_at < now))
            session.add(
                LoginCodeRow(
                    code_hash=_hash(code),
                    issuer=self._issuer,
                    payload=json.dumps(payload),
                    expires_at=now + lifetime,
                )
            )
        return code

    async def redeem(self, code: str) -> dict[str, Any] | None:
        """Single use: the code is gone after the first attempt, valid or not; of two concurrent
        redemptions only the one whose DELETE removed the row gets the payload."""
        if not code:
            return None
        key = _hash(code)
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(LoginCodeRow).where(LoginCodeRow.code_hash == key, LoginCodeRow.issuer == self._issuer)
            )
            if row is None:
                return None
            payload, expires = row.payload, row.expires_at
            result = await session.execute(
                delete(LoginCodeRow)
                .where(LoginCodeRow.code_hash == key)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1 or expires < datetime.now(UTC):
                return None
        loaded: dict[str, Any] = json.loads(payload)
        return loaded
