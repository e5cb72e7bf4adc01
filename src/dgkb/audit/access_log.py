# SPDX-License-Identifier: EUPL-1.2
"""The access log as a service: reading and verifying what the audit writer recorded.

Routes (API and console) and the CLI read the logs through this one service instead of querying
the tables themselves: the privacy officer's search of who accessed whose data, a citizen's own
processings (LDV), and the verification of the hash chains. It holds the database and the
pseudonymizer, so a caller passes a subject as it is and never handles a pseudonym key.
"""

from __future__ import annotations

from datetime import datetime

from dgkb.audit.chain import VerifyReport, verify
from dgkb.audit.query import AccessEntry, KeyUsage, LdvEntry, Page, key_usage, search_access, search_ldv
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database

__all__ = ["AccessLog"]


class AccessLog:
    def __init__(self, database: Database, pseudonymizer: Pseudonymizer) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer

    async def search(
        self,
        *,
        subject: Subject | None = None,
        actor_id: str | None = None,
        processing_activity_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AccessEntry]:
        """The privacy officer's search: access records (newest first) with their decision, by
        subject, actor, purpose and time (`since` inclusive, `until` exclusive); filters combine.
        A bad `cursor` raises InvalidCursor."""
        return await search_access(
            self._database,
            self._pseudonymizer,
            subject=subject,
            actor_id=actor_id,
            processing_activity_id=processing_activity_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    async def processings_of(
        self,
        subject: Subject,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[LdvEntry]:
        """A citizen's own log: the processings about this subject (newest first), without the
        identity of the employee."""
        return await search_ldv(
            self._database,
            self._pseudonymizer,
            subject=subject,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    async def key_usage(self) -> tuple[KeyUsage, ...]:
        """Which pseudonym keys the logs were written under, against the ring: a key may leave the
        ring only once no record under it is kept (docs/beheer.md)."""
        return await key_usage(self._database, self._pseudonymizer)

    async def verify(self, *, batch_size: int = 1000) -> VerifyReport:
        """Recompute every hash chain of the logs; the report names the first broken link."""
        return await verify(self._database, batch_size=batch_size)
