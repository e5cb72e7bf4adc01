"""Differencing attacks on the dashboard's suppression (issue 15 §4), by an attacker who sees every
cell the dashboard shows — every table, every day, week and month of the block — and solves the
linear system they form exactly.

The attacker's unknowns are the finest cells nobody ever sees: per (channel, onderwerp, day) the
number of events. Every shown cell is the sum of some of them. A hidden cell with 1–9 customers is
revealed when its sum lies in the span of the shown sums (it equals a combination of them, e.g. a
total minus the shown cells, a week minus its shown days, the channel table against the onderwerp
table). The solver here is written apart from the one in dgkb.dashboard.suppression (dense rows,
another prime), so the test does not trust the code it tests. Each attack is first run against a
naive suppression (primary only: hide 1–9) to show that it finds something there.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dgkb.dashboard import suppression
from dgkb.dashboard.aggregate import FAMILIES, block_units, cells_of
from dgkb.dashboard.demo import DEMO_TEAMS, DemoOrganisation, history
from dgkb.dashboard.suppression import THRESHOLD, TOTAL, CellId, Stat, decide_block
from dgkb.domain.periods import Bucket, Grain, month_of, month_weeks, parse_bucket, week_of

MONTH = date(2026, 3, 1)  # weeks 2 March … 5 April 2026
AFTER = date(2026, 6, 1)  # every bucket of the block is over
DIMS = ("kanaal", "onderwerp")
Event = tuple[str, str, date, int]  # kanaal, onderwerp, day, customer
_Q = (1 << 31) - 1


def _bucket_keys(day: date) -> dict[Grain, date]:
    return {Grain.DAG: day, Grain.WEEK: week_of(day), Grain.MAAND: month_of(day)}


def stats_of(events: Iterable[Event]) -> dict[CellId, Stat]:
    """The cells the aggregation computes: events and distinct customers per dimension and bucket."""
    counts: dict[CellId, int] = defaultdict(int)
    people: dict[CellId, set[int]] = defaultdict(set)
    for kanaal, onderwerp, day, klant in events:
        for grain, key in _bucket_keys(day).items():
            for cell in (
                (TOTAL, "", grain, key),
                ("kanaal", kanaal, grain, key),
                ("onderwerp", onderwerp, grain, key),
            ):
                counts[cell] += 1
                people[cell].add(klant)
    return {c: Stat(counts[c], len(people[c])) for c in counts}


def decide(events: list[Event]) -> tuple[dict[CellId, Stat], dict[CellId, bool]]:
    stats = stats_of(events)
    return stats, decide_block([TOTAL, *DIMS], stats, block_units(MONTH, AFTER))


def naive(stats: Mapping[CellId, Stat]) -> dict[CellId, bool]:
    return {c: not (0 < s.klanten < THRESHOLD) for c, s in stats.items()}


def _members(cell: CellId, atoms: list[tuple[str, str, date]]) -> list[int]:
    dim, key, grain, bucket = cell
    days = set(Bucket(grain, bucket).days)
    return [
        i
        for i, (kanaal, onderwerp, day) in enumerate(atoms)
        if day in days and (dim == TOTAL or (kanaal if dim == "kanaal" else onderwerp) == key)
    ]


class Attacker:
    """Row space (mod a prime) of everything shown, over the unseen (channel, onderwerp, day) cells."""

    def __init__(self, stats: Mapping[CellId, Stat], shown: Mapping[CellId, bool]) -> None:
        # every combination that could hold events: the attacker does not know which are empty
        kanalen = sorted({c[1] for c in stats if c[0] == "kanaal"})
        onderwerpen = sorted({c[1] for c in stats if c[0] == "onderwerp"})
        days = list(Bucket(Grain.MAAND, MONTH).days)
        self.atoms = [(k, o, d) for k in kanalen for o in onderwerpen for d in days]
        self.width = len(self.atoms)
        self.pivots: dict[int, list[int]] = {}
        for cell, visible in shown.items():
            if visible:
                self._add(self._vector(cell))
        # a key that a table does not list for a bucket had no events there: known to be 0
        weeks = [Bucket(Grain.WEEK, w) for w in month_weeks(MONTH)]
        buckets = [Bucket(Grain.DAG, d) for d in days] + weeks + [Bucket(Grain.MAAND, MONTH)]
        keys = [(TOTAL, "")] + [("kanaal", k) for k in kanalen] + [("onderwerp", o) for o in onderwerpen]
        for b in buckets:
            for dim, key in keys:
                if (dim, key, b.grain, b.key) not in stats:
                    self._add(self._vector((dim, key, b.grain, b.key)))

    def _vector(self, cell: CellId) -> list[int]:
        row = [0] * self.width
        for i in _members(cell, self.atoms):
            row[i] = 1
        return row

    def _reduce(self, row: list[int]) -> list[int]:
        row = list(row)
        for col in range(self.width):
            if row[col] and col in self.pivots:
                factor = row[col]
                base = self.pivots[col]
                row = [(a - factor * b) % _Q for a, b in zip(row, base, strict=True)]
        return row

    def _add(self, row: list[int]) -> None:
        rest = self._reduce(row)
        col = next((i for i, v in enumerate(rest) if v), None)
        if col is None:
            return
        inverse = pow(rest[col], _Q - 2, _Q)
        normed = [v * inverse % _Q for v in rest]
        # keep rows fully reduced against each other (Gauss-Jordan) so one pass reduces
        for other, base in self.pivots.items():
            if base[col]:
                factor = base[col]
                self.pivots[other] = [(a - factor * b) % _Q for a, b in zip(base, normed, strict=True)]
        self.pivots[col] = normed

    def learns(self, cell: CellId) -> bool:
        """Whether the value of `cell` follows from what is shown."""
        return not any(self._reduce(self._vector(cell)))


def revealed(stats: Mapping[CellId, Stat], shown: Mapping[CellId, bool]) -> list[CellId]:
    """Hidden cells of 1–9 customers the attacker computes exactly."""
    attacker = Attacker(stats, shown)
    return [
        c
        for c, s in stats.items()
        if not shown.get(c, False) and 0 < s.klanten < THRESHOLD and attacker.learns(c)
    ]


def _weekday_events(rng: random.Random, weeks: int = 2) -> list[Event]:
    """Two weeks of a small office: plenty by phone, a few letters and chats, little at the weekend."""
    events: list[Event] = []
    klant = 0
    for monday in month_weeks(MONTH)[:weeks]:
        for offset in range(7):
            day = monday + timedelta(days=offset)
            weekend = offset >= 5
            for kanaal, per_day in (("telefoon", 30), ("balie", 9), ("brief", 2), ("chat", 4)):
                n = rng.randint(0, per_day // 4 if weekend else per_day)
                for _ in range(n):
                    klant += 1
                    events.append((kanaal, rng.choice(("afval", "belastingen", "paspoort")), day, klant))
    return events


# --- total minus the shown cells -------------------------------------------------------------------------


def test_total_minus_shown_cells_never_isolates_a_suppressed_cell() -> None:
    # one day: a total of 40 customers, one channel with 3 — primary suppression alone gives it away
    day = month_weeks(MONTH)[0]
    events = [("telefoon", "afval", day, i) for i in range(37)] + [
        ("brief", "afval", day, 100 + i) for i in range(3)
    ]
    stats = stats_of(events)
    brief: CellId = ("kanaal", "brief", Grain.DAG, day)
    assert brief in revealed(stats, naive(stats)), "the attack must work on primary suppression alone"
    stats, shown = decide(events)
    assert not shown[brief]
    assert revealed(stats, shown) == []
    # the secondary cell hidden with it makes the hidden group at least 2 cells and 10 customers
    hidden = [c for c in stats if c[0] == "kanaal" and c[2] is Grain.DAG and c[3] == day and not shown[c]]
    assert len(hidden) >= 2
    assert sum(stats[c].klanten for c in hidden) >= THRESHOLD


def test_when_no_cell_can_join_the_small_one_the_total_is_suppressed() -> None:
    day = month_weeks(MONTH)[0]
    events = [("brief", "afval", day, i) for i in range(4)]  # the total itself is small
    stats, shown = decide(events)
    assert not shown[(TOTAL, "", Grain.DAG, day)]
    assert revealed(stats, shown) == []


# --- day against week against month ----------------------------------------------------------------------


def test_a_week_minus_its_shown_days_does_not_reveal_a_small_day() -> None:
    monday = month_weeks(MONTH)[0]
    events: list[Event] = []
    for offset in range(7):  # 20 calls a day, and on Sunday only 3
        for i in range(3 if offset == 6 else 20):
            events.append(("telefoon", "afval", monday + timedelta(days=offset), offset * 100 + i))
    stats = stats_of(events)
    sunday: CellId = ("kanaal", "telefoon", Grain.DAG, monday + timedelta(days=6))
    assert sunday in revealed(stats, naive(stats)), (
        "week − shown days must reveal Sunday under primary suppression"
    )
    stats, shown = decide(events)
    assert revealed(stats, shown) == []
    # the week stays visible: another day of that week is hidden with Sunday instead
    assert shown[("kanaal", "telefoon", Grain.WEEK, monday)]
    assert shown[(TOTAL, "", Grain.WEEK, monday)]
    hidden_days = [c for c in stats if c[0] == "kanaal" and c[2] is Grain.DAG and not shown[c]]
    assert len(hidden_days) >= 2
    assert sum(stats[c].klanten for c in hidden_days) >= THRESHOLD


def test_a_month_minus_its_shown_weeks_does_not_reveal_a_small_week() -> None:
    weeks = month_weeks(MONTH)
    events: list[Event] = []
    for n, monday in enumerate(weeks):  # letters: 12 a week, but 4 in the last week
        for i in range(4 if n == len(weeks) - 1 else 12):
            events.append(("brief", "afval", monday + timedelta(days=i % 5), n * 100 + i))
            events.append(("telefoon", "afval", monday + timedelta(days=i % 5), 10_000 + n * 100 + i))
    stats = stats_of(events)
    assert revealed(stats, naive(stats)), (
        "month − shown weeks must reveal the small week under primary suppression"
    )
    stats, shown = decide(events)
    assert revealed(stats, shown) == []


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_no_combination_of_days_weeks_month_and_both_tables_reveals_a_small_cell(seed: int) -> None:
    """Random small offices: everything shown, in every table and at every grain, together."""
    stats, shown = decide(_weekday_events(random.Random(seed)))
    assert revealed(stats, shown) == []


def test_the_random_offices_are_attackable_without_suppression_rules() -> None:
    """The property above is not empty: under primary suppression the same data leaks."""
    leaks = 0
    for seed in range(10):
        stats = stats_of(_weekday_events(random.Random(seed)))
        leaks += bool(revealed(stats, naive(stats)))
    assert leaks >= 5


# --- the channel table against the onderwerp table -------------------------------------------------------


def test_the_channel_table_against_the_onderwerp_table_isolates_nothing() -> None:
    day = month_weeks(MONTH)[0]
    events: list[Event] = []
    klant = 0
    # channels: telefoon 30, balie 6, brief 5; onderwerpen: afval 25, wmo 12, paspoort 4
    for kanaal, onderwerp, n in (
        ("telefoon", "afval", 20),
        ("telefoon", "wmo", 10),
        ("balie", "afval", 5),
        ("balie", "paspoort", 1),
        ("brief", "wmo", 2),
        ("brief", "paspoort", 3),
    ):
        for _ in range(n):
            klant += 1
            events.append((kanaal, onderwerp, day, klant))
    stats, shown = decide(events)
    for dim in DIMS:
        hidden = [c for c in stats if c[0] == dim and c[2] is Grain.DAG and not shown[c]]
        assert len(hidden) != 1, f"{dim}: a lone hidden cell is total minus the shown ones"
    assert revealed(stats, shown) == []


# --- calendar buckets ------------------------------------------------------------------------------------


def test_only_fixed_buckets_can_be_chosen() -> None:
    # a "week" that starts on a Wednesday or a "month" from the 15th would overlap the fixed ones
    with pytest.raises(ValueError):
        parse_bucket(Grain.WEEK, "2026-03-04")
    with pytest.raises(ValueError):
        parse_bucket(Grain.MAAND, "2026-03-15")
    with pytest.raises(ValueError):
        parse_bucket(Grain.DAG, "2026-02-30")
    assert parse_bucket(Grain.WEEK, "2026-03-02").days[0] == date(2026, 3, 2)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_day_week_and_month_nest(day: date) -> None:
    """Every day lies in exactly one week, and that whole week in exactly one month."""
    week = Bucket(Grain.WEEK, week_of(day))
    month = Bucket(Grain.MAAND, month_of(day))
    assert day in week.days
    assert set(week.days) <= set(month.days)
    assert week.key in month_weeks(month.key)
    assert all(month_of(d) == month.key for d in week.days)


# --- the same events, the same decisions -----------------------------------------------------------------


class _ShuffledSet(set[CellId]):
    """A set that iterates in another order each time: as another process's hash seed would."""

    rng = random.Random(0)

    def __iter__(self) -> Iterator[CellId]:
        items = list(set.__iter__(self))
        _ShuffledSet.rng.shuffle(items)
        return iter(items)


def test_a_replayed_block_decides_the_same_whatever_the_set_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run recomputes a whole block: what was shown before must be decided the same again in any
    process — else a cell shown yesterday and hidden today is differenced by whoever looked twice. The
    decisions may not depend on the order a set happens to iterate in (the hash seed)."""
    original = suppression._Block.__init__

    def shuffled(self: Any, dims: Any, stats: Any) -> None:
        original(self, dims, stats)
        self.hidden, self.shown = _ShuffledSet(), _ShuffledSet()

    monkeypatch.setattr(suppression._Block, "__init__", shuffled)
    org = DemoOrganisation(
        "00000001001234567000",
        250,
        25_000,
        [
            "algemeen",
            "afval",
            "belastingen",
            "parkeren",
            "paspoort",
            "verhuizing",
            "wmo",
            "openbare-ruimte",
            "klacht",
            "stand-van-zaken",
            "kwijtschelding",
        ],
        DEMO_TEAMS["00000001001234567000"],
        ["UWV", "RDW"],
    )
    # these months of this made-up history once came out differently in two processes
    made = history(org, start=date(2025, 12, 1), end=date(2026, 8, 3))
    rows = {
        "meten_contact_events": [SimpleNamespace(id=i, **r) for i, r in enumerate(made.contacts)],
        "meten_feedback_events": [SimpleNamespace(id=i, **r) for i, r in enumerate(made.feedback)],
    }
    outcomes = set()
    for order in range(3):
        _ShuffledSet.rng = random.Random(order)
        decided = []
        for month in (date(2026, 5, 1), date(2026, 7, 1)):
            for family in FAMILIES:
                events = [r for r in rows[family.table.__tablename__] if r.maand == month]
                stats, _ = cells_of(family, events)
                shown = decide_block([TOTAL, *family.dims], stats, block_units(month, date(2026, 9, 1)))
                decided.append(sorted(shown.items()))
        outcomes.add(repr(decided))
    assert len(outcomes) == 1
