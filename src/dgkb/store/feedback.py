"""Repository of ratings, complaints and reports (DGKB's own belevings- and feedbackdata)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dgkb.store.tables import FeedbackItemRow, FeedbackStatusRow, RatingRow


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
