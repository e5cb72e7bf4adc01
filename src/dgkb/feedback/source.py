"""DGKB's own feedback store as a source behind the same port as every external source.

Why a source: the klantbeeld then treats it like any other system — decided per category, fetched
with only the permitted fields, with its own status — and an organisation that later buys a
complaints system only changes sources.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.sources.base import ALL_SUBJECT_KINDS, CategoryData, FetchRequest, SourceError
from dgkb.sources.config import SourceConfig
from dgkb.store.db import Database
from dgkb.store.feedback import FeedbackRepository
from dgkb.store.tables import FeedbackItemRow, FeedbackStatusRow, RatingRow

KIND = "dgkb-feedback"
_SOORT = {"feedback.klachten": "klacht", "feedback.meldingen": "melding"}


def _rating(row: RatingRow) -> dict[str, Any]:
    return {
        "score": row.score,
        "toelichting": row.toelichting,
        "datum": row.recorded_at.isoformat(),
        "kanaal": row.kanaal,
        "onderwerp": row.onderwerp,
    }


def _item(row: FeedbackItemRow, history: list[FeedbackStatusRow]) -> dict[str, Any]:
    return {
        "nummer": row.nummer,
        "onderwerp": row.onderwerp,
        "omschrijving": row.omschrijving,
        "status": row.status,
        "ingediendOp": row.ingediend_op.isoformat(),
        "afgehandeldOp": row.afgehandeld_op.isoformat() if row.afgehandeld_op else None,
        "locatie": row.locatie,
        "statushistorie": [
            {"status": h.status, "datum": h.gezet_op.isoformat(), "toelichting": h.toelichting}
            for h in history
        ],
    }


def _project(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: item[f] for f in fields if f in item}


class FeedbackSource:
    """Reads ratings, complaints and reports of the configured organisation for one subject."""

    def __init__(self, config: SourceConfig, *, database: Database, pseudonymizer: Pseudonymizer) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self.subject_kinds = ALL_SUBJECT_KINDS
        self.vocabulary: Mapping[str, frozenset[str]] = {}
        self._organisation = config.organisation
        self._db = database
        self._pseudonymizer = pseudonymizer
        self._repo = FeedbackRepository()

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(request.subject)]
        result: dict[str, CategoryData | None] = {}
        try:
            async with self._db.sessions() as session:
                for category, fields in request.fields.items():
                    if category == "beleving.oordeel":
                        ratings = await self._repo.ratings(
                            session, subject_keys=keys, organisation=self._organisation
                        )
                        result[category] = [_project(_rating(r), fields) for r in ratings]
                    elif category in _SOORT:
                        items = await self._repo.items(
                            session,
                            subject_keys=keys,
                            organisation=self._organisation,
                            soort=_SOORT[category],
                        )
                        history = (
                            await self._repo.history(session, [i.id for i in items])
                            if ("statushistorie" in fields)
                            else {}
                        )
                        result[category] = [_project(_item(i, history.get(i.id, [])), fields) for i in items]
        except SourceError:
            raise
        except Exception as exc:  # the database is this source's backend: its failure is a source failure
            raise SourceError(f"{self.id}: {type(exc).__name__}") from exc
        return result

    async def aclose(self) -> None:
        return None
