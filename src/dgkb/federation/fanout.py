"""Fan-out over sources: one call per source with the union of its permitted categories' fields,
every call in parallel under its own deadline, each failure turned into a status, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dgkb.domain.identifiers import Subject
from dgkb.sources.base import (
    CategoryData,
    FetchRequest,
    SourceAdapter,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
    SubjectNotFound,
)


class SectionStatus(StrEnum):
    """The status of one klantbeeld section (the JSON values are part of the API)."""

    OK = "ok"
    NIET_GEVONDEN = "niet-gevonden"
    TIMEOUT = "timeout"
    ONBEREIKBAAR = "onbereikbaar"
    FOUT = "fout"
    NIET_TOEGESTAAN = "niet-toegestaan"
    NIET_GECONFIGUREERD = "niet-geconfigureerd"


@dataclass(frozen=True, slots=True)
class SourceCall:
    """One planned call: which source, for which categories with which fields, with which headers."""

    adapter: SourceAdapter
    fields: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    deadline: float  # seconds


@dataclass(frozen=True, slots=True)
class CategoryOutcome:
    source_id: str
    category: str
    status: SectionStatus
    data: CategoryData | None
    retrieved_at: datetime
    duration_ms: float
    error: str | None = None  # stable error code, never personal data


def _status_of(exc: BaseException) -> SectionStatus:
    if isinstance(exc, SubjectNotFound):
        return SectionStatus.NIET_GEVONDEN
    if isinstance(exc, SourceTimeout | TimeoutError):
        return SectionStatus.TIMEOUT
    if isinstance(exc, SourceUnavailable):
        return SectionStatus.ONBEREIKBAAR
    return SectionStatus.FOUT


async def _run(call: SourceCall, subject: Subject) -> list[CategoryOutcome]:
    started = time.perf_counter()
    request = FetchRequest(subject=subject, fields=call.fields, headers=call.headers)
    try:
        async with asyncio.timeout(call.deadline):
            result = await call.adapter.fetch(request)
    except (SourceError, TimeoutError) as exc:
        status = _status_of(exc)
        code = exc.code if isinstance(exc, SourceError) else SourceTimeout.code
        return _outcomes(call, status, {}, started, code)
    except Exception:  # an adapter bug must not fail the whole view: report it as this source's fault
        return _outcomes(call, SectionStatus.FOUT, {}, started, "source.adapter_failure")
    return _outcomes(call, SectionStatus.OK, result, started, None)


def _outcomes(
    call: SourceCall,
    status: SectionStatus,
    result: Mapping[str, CategoryData | None],
    started: float,
    error: str | None,
) -> list[CategoryOutcome]:
    now = datetime.now(UTC)
    ms = (time.perf_counter() - started) * 1000
    outcomes = []
    for category in call.fields:
        data = result.get(category) if status is SectionStatus.OK else None
        cat_status = status
        if status is SectionStatus.OK and data is None:
            cat_status = SectionStatus.NIET_GEVONDEN
        outcomes.append(CategoryOutcome(call.adapter.id, category, cat_status, data, now, ms, error))
    return outcomes


async def fan_out(calls: Sequence[SourceCall], subject: Subject) -> list[CategoryOutcome]:
    """Run all calls concurrently; the result has one outcome per (source, category) asked."""
    if not calls:
        return []
    results = await asyncio.gather(*(_run(call, subject) for call in calls))
    return [outcome for group in results for outcome in group]
