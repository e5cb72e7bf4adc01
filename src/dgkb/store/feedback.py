"""Repository of ratings, complaints and reports (DGKB's own belevings- and feedbackdata)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dgkb.store.tables import FeedbackItemRow, FeedbackStatusRow, RatingRow

_RATINGS: Table = RatingRow.__table__  # type: ignore[assignment]
_ITEMS: Table = FeedbackItemRow.__table__  # type: ignore[assignment]
_HISTORY: Table = FeedbackStatusRow.__table__  # type: ignore[assignment]


class FeedbackRepository:
    async def add(
        self, session: AsyncSession, *rows: RatingRow | FeedbackItemRow | FeedbackStatusRow
    ) -> None:
        session.add_all(rows)
        await session.flush()

    async def count_items(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(FeedbackItemRow)) or 0)

    async def item(self, session: AsyncSession, item_id: str) -> FeedbackItemRow | None:
        return await session.get(FeedbackItemRow, item_id)

    async def ratings(
        self, session: AsyncSession, *, subject_keys: Sequence[str], organisation: str, limit: int = 100
    ) -> list[RatingRow]:
        query = (
            select(RatingRow)
            .where(RatingRow.subject_key.in_(subject_keys), RatingRow.organisation == organisation)
            .order_by(RatingRow.recorded_at.desc())
            .limit(limit)
        )
        return list(await session.scalars(query))

    async def items(
        self,
        session: AsyncSession,
        *,
        subject_keys: Sequence[str],
        organisation: str,
        soort: str,
        limit: int = 100,
    ) -> list[FeedbackItemRow]:
        query = (
            select(FeedbackItemRow)
            .where(
                FeedbackItemRow.subject_key.in_(subject_keys),
                FeedbackItemRow.organisation == organisation,
                FeedbackItemRow.soort == soort,
            )
            .order_by(FeedbackItemRow.ingediend_op.desc())
            .limit(limit)
        )
        return list(await session.scalars(query))

    async def history(
        self, session: AsyncSession, item_ids: Sequence[str]
    ) -> dict[str, list[FeedbackStatusRow]]:
        if not item_ids:
            return {}
        query = (
            select(FeedbackStatusRow)
            .where(FeedbackStatusRow.item_id.in_(item_ids))
            # volgnummer is the order the steps were committed in; older rows have none
            .order_by(
                func.coalesce(FeedbackStatusRow.volgnummer, 0),
                FeedbackStatusRow.gezet_op,
                FeedbackStatusRow.id,
            )
        )
        grouped: dict[str, list[FeedbackStatusRow]] = {}
        for row in await session.scalars(query):
            grouped.setdefault(row.item_id, []).append(row)
        return grouped

    # --- Core reads: the feedback source on every klantbeeld (dgkb.feedback.source) ---------------
    async def read_ratings(
        self, conn: AsyncConnection, *, subject_keys: Sequence[str], organisation: str, limit: int = 100
    ) -> list[Row[Any]]:
        """As `ratings`, as plain Core rows (their columns as attributes), without ORM objects."""
        t = _RATINGS
        query = (
            select(t)
            .where(t.c.subject_key.in_(list(subject_keys)), t.c.organisation == organisation)
            .order_by(t.c.recorded_at.desc())
            .limit(limit)
        )
        return list(await conn.execute(query))

    async def read_items(
        self,
        conn: AsyncConnection,
        *,
        subject_keys: Sequence[str],
        organisation: str,
        soorten: Sequence[str],
        limit: int = 100,
    ) -> dict[str, list[Row[Any]]]:
        """As `items` for several soorten (klacht, melding) in one query (a UNION ALL of each
        soort's newest `limit`), by soort, newest first."""
        t = _ITEMS
        found: dict[str, list[Row[Any]]] = {soort: [] for soort in soorten}
        if not soorten:
            return found
        newest = [
            select(t)
            .where(
                t.c.subject_key.in_(list(subject_keys)),
                t.c.organisation == organisation,
                t.c.soort == soort,
            )
            .order_by(t.c.ingediend_op.desc())
            .limit(limit)
            .subquery()
            for soort in soorten
        ]
        for row in await conn.execute(union_all(*(select(part) for part in newest))):
            found[row.soort].append(row)
        for rows in found.values():
            rows.sort(key=lambda row: row.ingediend_op, reverse=True)
        return found

    async def read_history(self, conn: AsyncConnection, item_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
        """As `history`, as plain Core rows."""
        if not item_ids:
            return {}
        t = _HISTORY
        query = (
            select(t)
            .where(t.c.item_id.in_(list(item_ids)))
            .order_by(func.coalesce(t.c.volgnummer, 0), t.c.gezet_op, t.c.id)
        )
        grouped: dict[str, list[Row[Any]]] = {}
        for row in await conn.execute(query):
            grouped.setdefault(row.item_id, []).append(row)
        return grouped
