"""DGKB's own feedback store as a source behind the same port as every external source.

Why a source: the klantbeeld then treats it like any other system — decided per category, fetched
with only the permitted fields, with its own status — and an organisation that later buys a
complaints system only changes sources.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.feedback.service import outcome_of, term_of
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


def _step(h: FeedbackStatusRow) -> dict[str, Any]:
    step: dict[str, Any] = {"status": h.status, "datum": h.gezet_op.isoformat(), "toelichting": h.toelichting}
    if h.bericht_soort:  # what the customer is (to be) told, and how
        step["bericht"] = {"soort": h.bericht_soort, "kanaal": h.bericht_kanaal, "status": h.bericht_status}
    return step


def _item(row: FeedbackItemRow, history: list[FeedbackStatusRow], now: datetime) -> dict[str, Any]:
    due, late = term_of(row, now)
    item: dict[str, Any] = {
        "nummer": row.nummer,
        "onderwerp": row.onderwerp,
        "omschrijving": row.omschrijving,
        "status": row.status,
        "ingediendOp": row.ingediend_op.isoformat(),
        "afgehandeldOp": row.afgehandeld_op.isoformat() if row.afgehandeld_op else None,
        "locatie": row.locatie,
        "statushistorie": [_step(h) for h in history],
        "uitkomst": outcome_of(history),
    }
    if row.soort == "klacht":  # Awb 9:11; a melding has no statutory term
        item["uiterlijkeAfhandeldatum"] = due.isoformat() if due else None
        item["termijnOverschreden"] = late
        item["verdaagd"] = bool(row.verdaging_weken)
    return item


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
            async with self._db.read() as session:
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
                            if ("statushistorie" in fields or "uitkomst" in fields)
                            else {}
                        )
                        now = datetime.now(UTC)
                        result[category] = [
                            _project(_item(i, history.get(i.id, []), now), fields) for i in items
                        ]
        except SourceError:
            raise
        except Exception as exc:  # the database is this source's backend: its failure is a source failure
            raise SourceError(f"{self.id}: {type(exc).__name__}") from exc
        return result

    async def aclose(self) -> None:
        return None
