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

KIND = "dgkb-feedback"
_SOORT = {"feedback.klachten": "klacht", "feedback.meldingen": "melding"}


def _rating(row: Any) -> dict[str, Any]:
    # a Core row of ratings (or the ORM row): the same attributes
    return {
        "score": row.score,
        "toelichting": row.toelichting,
        "datum": row.recorded_at.isoformat(),
        "kanaal": row.kanaal,
        "onderwerp": row.onderwerp,
    }


def _step(h: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"status": h.status, "datum": h.gezet_op.isoformat(), "toelichting": h.toelichting}
    if h.bericht_soort:  # what the customer is (to be) told, and how
        step["bericht"] = {"soort": h.bericht_soort, "kanaal": h.bericht_kanaal, "status": h.bericht_status}
    return step


def _item(row: Any, history: list[Any], now: datetime) -> dict[str, Any]:
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
        # Core reads on one connection (this source is read on every klantbeeld and every page of
        # Mijn omgeving): the ratings, and the complaints and reports in one query
        keys = [p.value for p in self._pseudonymizer.all_pseudonyms(request.subject)]
        result: dict[str, CategoryData | None] = {}
        soorten = {category: _SOORT[category] for category in request.fields if category in _SOORT}
        try:
            async with self._db.reading() as conn:
                if "beleving.oordeel" in request.fields:
                    fields = request.fields["beleving.oordeel"]
                    ratings = await self._repo.read_ratings(
                        conn, subject_keys=keys, organisation=self._organisation
                    )
                    result["beleving.oordeel"] = [_project(_rating(r), fields) for r in ratings]
                if soorten:
                    items = await self._repo.read_items(
                        conn,
                        subject_keys=keys,
                        organisation=self._organisation,
                        soorten=list(soorten.values()),
                    )
                    steps_wanted = [
                        i.id
                        for category, soort in soorten.items()
                        if {"statushistorie", "uitkomst"} & set(request.fields[category])
                        for i in items[soort]
                    ]
                    history = await self._repo.read_history(conn, steps_wanted)
                    now = datetime.now(UTC)
                    for category, soort in soorten.items():
                        fields = request.fields[category]
                        result[category] = [
                            _project(_item(i, history.get(i.id, []), now), fields) for i in items[soort]
                        ]
        except SourceError:
            raise
        except Exception as exc:  # the database is this source's backend: its failure is a source failure
            raise SourceError(f"{self.id}: {type(exc).__name__}") from exc
        return result

    async def aclose(self) -> None:
        return None
