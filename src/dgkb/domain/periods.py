"""Calendar buckets of the measure-and-learn dashboard: day, ISO week and month — strictly nested.

A calendar month does not consist of whole weeks, so with day, week and calendar-month figures side
by side a month minus its whole weeks minus the shown days of its two broken weeks can isolate a
day that was suppressed (differencing across overlapping buckets). Here a month is made of whole ISO
weeks: a week belongs to the month its Thursday falls in (the ISO 8601 rule that assigns weeks to
years), so day ⊂ week ⊂ month and every bucket is a union of the buckets below it. "Maart 2026" is
then Monday 2 March to Sunday 5 April. Only fixed buckets exist: no period can be chosen that
overlaps another one partly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_DAGEN = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


class Grain(StrEnum):
    DAG = "dag"
    WEEK = "week"
    MAAND = "maand"

    @property
    def label(self) -> str:
        return {Grain.DAG: "Dag", Grain.WEEK: "Week", Grain.MAAND: "Maand (hele weken)"}[self]


def local_day(moment: datetime) -> date:
    """The Amsterdam calendar day of an aware moment."""
    return moment.astimezone(AMSTERDAM).date()


def week_of(day: date) -> date:
    """Monday of the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> date:
    """The (whole-week) month holding `day`: the first of the month its week's Thursday is in."""
    thursday = week_of(day) + timedelta(days=3)
    return thursday.replace(day=1)


def bucket_of(grain: Grain, day: date) -> date:
    if grain is Grain.DAG:
        return day
    if grain is Grain.WEEK:
        return week_of(day)
    return month_of(day)


@lru_cache(maxsize=4096)
def _month_weeks(month: date) -> tuple[date, ...]:
    first = month.replace(day=1)
    # the first week whose Thursday is in this month
    monday = week_of(first)
    if (monday + timedelta(days=3)).month != first.month:
        monday += timedelta(days=7)
    weeks = []
    while (monday + timedelta(days=3)).month == first.month and (
        monday + timedelta(days=3)
    ).year == first.year:
        weeks.append(monday)
        monday += timedelta(days=7)
    return tuple(weeks)


def month_weeks(month: date) -> list[date]:
    """The Mondays of the weeks of a (whole-week) month, in order."""
    return list(_month_weeks(month.replace(day=1)))


@lru_cache(maxsize=65536)
def _days(grain: Grain, key: date) -> tuple[date, ...]:
    bucket = Bucket(grain, key)
    first, last = bucket.first_day, bucket.last_day
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


@dataclass(frozen=True, slots=True)
class Bucket:
    """One fixed period: its grain, its key (the day, the week's Monday, the month's first) and range."""

    grain: Grain
    key: date

    @property
    def first_day(self) -> date:
        if self.grain is Grain.MAAND:
            return _month_weeks(self.key)[0]
        return self.key

    @property
    def last_day(self) -> date:
        if self.grain is Grain.DAG:
            return self.key
        if self.grain is Grain.WEEK:
            return self.key + timedelta(days=6)
        return _month_weeks(self.key)[-1] + timedelta(days=6)

    @property
    def days(self) -> tuple[date, ...]:
        return _days(self.grain, self.key)

    @property
    def month(self) -> date:
        """The block (whole-week month) this bucket lies in."""
        return month_of(self.first_day)

    def closed(self, today: date) -> bool:
        """Over: its last day is before today. Only closed buckets are ever shown (an open one would
        change while looked at, and two looks differ by what happened in between)."""
        return self.last_day < today

    def children(self) -> list[Bucket]:
        """The buckets one grain finer that make up this one."""
        if self.grain is Grain.MAAND:
            return [Bucket(Grain.WEEK, w) for w in month_weeks(self.key)]
        if self.grain is Grain.WEEK:
            return [Bucket(Grain.DAG, d) for d in self.days]
        return []

    def previous(self, n: int = 1) -> Bucket:
        """The bucket `n` steps earlier on the same grain."""
        if self.grain is Grain.DAG:
            return Bucket(self.grain, self.key - timedelta(days=n))
        if self.grain is Grain.WEEK:
            return Bucket(self.grain, self.key - timedelta(days=7 * n))
        year, month = divmod(self.key.year * 12 + self.key.month - 1 - n, 12)
        return Bucket(self.grain, date(year, month + 1, 1))

    @property
    def label(self) -> str:
        """In Dutch words, e.g. "week 10 (2 t/m 8 maart 2026)"."""
        if self.grain is Grain.DAG:
            d = self.key
            return f"{_DAGEN[d.weekday()]} {d.day} {_MAANDEN[d.month - 1]} {d.year}"
        first, last = self.first_day, self.last_day
        span = f"{_short(first, last.year != first.year)} t/m {_short(last, True)}"
        if self.grain is Grain.WEEK:
            return f"week {first.isocalendar().week} ({span})"
        return f"{_MAANDEN[self.key.month - 1]} {self.key.year} ({span})"

    @property
    def short_label(self) -> str:
        """For chart axes and CSV: 2026-03-02, 2026-W10, 2026-03."""
        if self.grain is Grain.DAG:
            return self.key.isoformat()
        if self.grain is Grain.WEEK:
            iso = self.key.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{self.key.year}-{self.key.month:02d}"


def _short(day: date, with_year: bool) -> str:
    text = f"{day.day} {_MAANDEN[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def parse_bucket(grain: Grain, text: str) -> Bucket:
    """The bucket a form value names (ISO date of its key); ValueError when it is not a bucket key
    of that grain — a day in the middle of a week is not a week."""
    key = date.fromisoformat(text)
    if grain is Grain.WEEK and key.weekday() != 0:
        raise ValueError("not a Monday")
    if grain is Grain.MAAND and key.day != 1:
        raise ValueError("not the first of a month")
    return Bucket(grain, key)


def latest_closed(grain: Grain, today: date) -> Bucket:
    """The most recent bucket of `grain` that is shown: over, and for a day, its week over too (the
    days of a week are decided together with the week: dgkb.dashboard.suppression)."""
    if grain is Grain.DAG:
        return Bucket(grain, latest_closed(Grain.WEEK, today).last_day)
    bucket = Bucket(grain, bucket_of(grain, today - timedelta(days=1)))
    while not bucket.closed(today):
        bucket = bucket.previous()
    return bucket


def today_local(now: datetime | None = None) -> date:
    return local_day(now or datetime.now(UTC))
