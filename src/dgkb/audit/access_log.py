# SPDX-License-Identifier: EUPL-1.2
"""The access log as a service: reading and verifying what the audit writer recorded.

Routes (API and console) and the CLI read the logs through this one service instead of querying
the tables themselves: the privacy officer's search of who accessed whose data, a citizen's own
processings (LDV), and the verification of the hash chains. It holds the database and the
pseudonymizer, so a caller passes a subject as it is and never handles a pseudonym key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from dgkb.audit.chain import VerifyReport, verify
from dgkb.audit.query import (
    AccessEntry,
    KeyUsage,
    LdvEntry,
    OwnAccessEntry,
    Page,
    key_usage,
    search_access,
    search_ldv,
    search_own_access,
)
from dgkb.audit.writer import AuditWriter
from dgkb.domain.context import RequestContext
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.store.db import Database

__all__ = ["OWN_ACCESS_READ", "AccessLog"]

# The name of the log record of the customer reading their own access history (Mijn omgeving).
OWN_ACCESS_READ = "inzien wie uw gegevens bekeek"


class AccessLog:
    def __init__(
        self, database: Database, pseudonymizer: Pseudonymizer, *, auditor: AuditWriter | None = None
    ) -> None:
        self._database = database
        self._pseudonymizer = pseudonymizer
        self._auditor = auditor

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

    async def own_access(
        self,
        contexts: Sequence[RequestContext],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page[OwnAccessEntry]:
        """The customer's own "wie heeft mijn gegevens bekeken": the processings about the subject
        of their own contexts (one per organisation, all about the same subject), by those
        organisations, newest first, without the identity of any employee. Reading it is itself a
        processing: one record per organisation, under its own-view purpose and with no categories,
        written before the page is returned (AuditUnavailable propagates: then nothing is shown).
        A bad `cursor` raises InvalidCursor."""
        if not contexts:
            return Page((), None)
        subject = contexts[0].subject
        if any(c.subject != subject for c in contexts):
            raise ValueError("own access history of one subject only")
        started = datetime.now(UTC)
        page = await search_own_access(
            self._database,
            self._pseudonymizer,
            subject=subject,
            organisations=[c.actor.organisation for c in contexts],
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
        if self._auditor is not None:
            for context in contexts:
                await self._auditor.record_processing(
                    context=context,
                    name=OWN_ACCESS_READ,
                    categories=[],
                    started_at=started,
                    ended_at=datetime.now(UTC),
                )
        return page

    async def key_usage(self) -> tuple[KeyUsage, ...]:
        """Which pseudonym keys the logs were written under, against the ring: a key may leave the
        ring only once no record under it is kept (docs/beheer.md)."""
        return await key_usage(self._database, self._pseudonymizer)

    async def verify(self, *, batch_size: int = 1000) -> VerifyReport:
        """Recompute every hash chain of the logs; the report names the first broken link."""
        return await verify(self._database, batch_size=batch_size)
