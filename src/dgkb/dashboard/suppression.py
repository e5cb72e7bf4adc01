"""Which cells of the dashboard may be shown: small cells suppressed, also against differencing.

The cells of one family of events (contacts, referrals, ratings, complaints, reports) in one
(whole-week) month block form, per dimension, a table of keys × buckets with the total of every
bucket shared by all dimensions, and buckets nested day ⊂ week ⊂ month (dgkb.domain.periods). Nothing
published spans two blocks, so each block is decided on its own. Buckets are decided in the order
they close — each day, then its week, then the month — and a decision is never revisited: what was
shown yesterday stays shown today (a cell shown once and hidden later would be differenced by anyone
who looked twice). Replaying a block gives the same decisions for the same events.

Rules, per bucket as it closes:
1. primary: a cell with 1–9 distinct customers is hidden (0 is shown: it is nobody);
2. time: a week or month is shown only if the days (and weeks) below it that are hidden form no
   group of one, or of fewer than 10 customers together — a week minus its shown days would reveal it;
3. total minus shown cells: in each dimension the hidden cells of a bucket (that are not already
   known from the finer buckets below them) must be at least 2 and hold at least 10 customers
   together; otherwise the next smallest cell is hidden too, and if none is left, the total;
4. exact audit: no hidden cell of 1–9 customers may be derivable from everything shown in the block
   (a linear combination of shown cells equal to it: channel vs onderwerp table, day vs week vs
   month, total minus cells). Each shown cell is a sum of day cells; the shown cells' sums, restricted
   to the hidden day cells, span what anyone can compute; a hidden cell is exposed when its own sum
   lies in that span (checked with exact arithmetic modulo a large prime). When one is, the smallest
   cell shown in this bucket is hidden and the check repeats — hiding everything of this bucket
   returns to the state before it, which was safe, so this ends.

Dimensions are different partitions of the same events and no cross table (channel × onderwerp) is
ever shown: from two partitions with at least two hidden cells each, no single hidden cell can be
isolated (see tests/dashboard/test_suppression.py, which runs the attacks over the joint cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from dgkb.domain.periods import Bucket, Grain

__all__ = ["THRESHOLD", "CellId", "Stat", "decide_block"]

THRESHOLD = 10  # distinct customers a shown cell holds at least
TOTAL = "totaal"  # the dimension of the bucket totals, shared by every other dimension
_P = (1 << 61) - 1  # a Mersenne prime: exact rank tests over GF(p), no floats


@dataclass(frozen=True, slots=True)
class Stat:
    aantal: int  # events
    klanten: int  # distinct customers


# (dimension, key, grain, bucket key); the total of a bucket is (TOTAL, "", grain, bucket key)
CellId = tuple[str, str, Grain, date]


def _sensitive(stat: Stat) -> bool:
    return 0 < stat.klanten < THRESHOLD


class _Basis:
    """Row echelon form over GF(p) of sparse rows {variable: coefficient}, pivot = smallest variable."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[int, int]] = {}

    def copy(self) -> _Basis:
        other = _Basis()
        other.rows = dict(self.rows)  # rows are never mutated once stored
        return other

    def _reduce(self, row: dict[int, int]) -> dict[int, int]:
        row = {v: c % _P for v, c in row.items() if c % _P}
        while row:
            pivot = min(row)
            base = self.rows.get(pivot)
            if base is None:
                # the smallest variable is covered by no row: `row` is not in the span (and, kept
                # as is, a new row with this pivot)
                return row
            factor = row[pivot]
            for v, c in base.items():
                value = (row.get(v, 0) - factor * c) % _P
                if value:
                    row[v] = value
                else:
                    row.pop(v, None)
        return row

    def add(self, row: dict[int, int]) -> None:
        rest = self._reduce(row)
        if not rest:
            return
        pivot = min(rest)
        inverse = pow(rest[pivot], _P - 2, _P)
        self.rows[pivot] = {v: c * inverse % _P for v, c in rest.items()}

    def spans(self, row: dict[int, int]) -> bool:
        return not self._reduce(row)


class _Block:
    """The decisions for one block of one family (see the module docstring)."""

    def __init__(self, dims: Sequence[str], stats: Mapping[CellId, Stat]) -> None:
        self.dims = [d for d in dims if d != TOTAL]
        self.stats = stats
        self.keys: dict[str, list[str]] = {d: sorted({c[1] for c in stats if c[0] == d}) for d in self.dims}
        self.shown: set[CellId] = set()
        self.hidden: set[CellId] = set()
        self.variables: dict[tuple[str, str, date], int] = {}  # hidden day cells (dim, key, day)
        self.bases: dict[str, _Basis] = {d: _Basis() for d in self.dims}
        self._functionals: dict[tuple[str, CellId], dict[int, int]] = {}  # valid while no variable is added

    # --- cells ---------------------------------------------------------------------------------------
    def stat(self, cell: CellId) -> Stat:
        return self.stats.get(cell, Stat(0, 0))

    def cells_at(self, bucket: Bucket) -> list[CellId]:
        cells: list[CellId] = [(TOTAL, "", bucket.grain, bucket.key)]
        for dim in self.dims:
            cells.extend((dim, key, bucket.grain, bucket.key) for key in self.keys[dim])
        return [c for c in cells if self.stat(c).aantal > 0]

    def _is_shown(self, cell: CellId) -> bool:
        return cell in self.shown or self.stat(cell).aantal == 0

    def hidden_leaves(self, cell: CellId) -> list[CellId]:
        """The hidden day cells below `cell` that no shown cell in between covers (its remainder)."""
        dim, key, grain, key_date = cell
        if grain is Grain.DAG:
            return [] if self._is_shown(cell) else [cell]
        out: list[CellId] = []
        for child in Bucket(grain, key_date).children():
            sub: CellId = (dim, key, child.grain, child.key)
            if self.stat(sub).aantal == 0 or sub in self.shown:
                continue
            out.extend(self.hidden_leaves(sub) if child.grain is not Grain.DAG else [sub])
        return out

    def remainder_ok(self, cell: CellId) -> bool:
        if cell[2] is Grain.DAG:
            return True  # a day has nothing below it
        leaves = self.hidden_leaves(cell)
        return not leaves or (len(leaves) >= 2 and sum(self.stat(c).klanten for c in leaves) >= THRESHOLD)

    def derivable(self, cell: CellId) -> bool:
        """Every finer cell below it is shown: its value is known anyway."""
        return cell[2] is not Grain.DAG and not self.hidden_leaves(cell)

    # --- the linear view of one dimension ----------------------------------------------------------------
    def _variable(self, dim: str, key: str, day: date) -> int | None:
        return self.variables.get((dim, key, day))

    def _new_variable(self, leaf: tuple[str, str, date]) -> None:
        if leaf not in self.variables:
            self.variables[leaf] = len(self.variables)
            self._functionals.clear()

    def functional(self, dim: str, cell: CellId) -> dict[int, int]:
        """`cell` as a sum of the hidden day cells of dimension `dim` (known day cells left out)."""
        cached = self._functionals.get((dim, cell))
        if cached is None:
            cached = self._functionals[(dim, cell)] = self._functional(dim, cell)
        return cached

    def _functional(self, dim: str, cell: CellId) -> dict[int, int]:
        cdim, key, grain, key_date = cell
        days = Bucket(grain, key_date).days
        keys = self.keys[dim] if cdim == TOTAL else [key]
        row: dict[int, int] = {}
        for k in keys:
            for day in days:
                var = self._variable(dim, k, day)
                if var is not None:
                    row[var] = 1
        return row

    def _register_hidden_leaves(self, bucket: Bucket) -> None:
        if bucket.grain is not Grain.DAG:
            return
        for dim in self.dims:
            for key in self.keys[dim]:
                cell: CellId = (dim, key, Grain.DAG, bucket.key)
                if cell in self.hidden:
                    self._new_variable((dim, key, bucket.key))

    def _exposed(self, bases: Mapping[str, _Basis]) -> list[CellId]:
        """Hidden cells of 1–9 customers whose value the shown cells determine."""
        found = []
        for cell in sorted(self.hidden):  # a fixed order: the same events, the same decisions
            if not _sensitive(self.stat(cell)):
                continue
            dims = self.dims if cell[0] == TOTAL else [cell[0]]
            for dim in dims:
                row = self.functional(dim, cell)
                if not row or bases[dim].spans(row):
                    found.append(cell)
                    break
        return found

    # --- one unit: the days of a week with the week, or a month --------------------------------------------
    def decide(self, unit: Sequence[Bucket]) -> None:
        """Decide the buckets published together: a week's days only when the week is over (so a
        small day can still be grouped with another one of its week instead of hiding the week), a
        month when it is over. Finer buckets first."""
        cells = {bucket: self.cells_at(bucket) for bucket in unit}
        for bucket in unit:
            for cell in cells[bucket]:
                (self.hidden if _sensitive(self.stat(cell)) else self.shown).add(cell)
        self._settle(unit, cells)
        while True:
            for bucket in unit:
                self._register_hidden_leaves(bucket)
            bases = {d: self.bases[d].copy() for d in self.dims}
            for dim in self.dims:
                for bucket in unit:
                    for cell in cells[bucket]:
                        if cell in self.shown and cell[0] in (TOTAL, dim):
                            row = self.functional(dim, cell)
                            if row:
                                bases[dim].add(row)
            exposed = self._exposed(bases)
            if not exposed:
                self.bases = bases
                return
            candidates = [c for b in unit for c in cells[b] if c in self.shown and not self.derivable(c)]
            if not candidates:  # pragma: no cover - the state before this unit was safe
                raise AssertionError("suppression: an exposure this unit did not cause")
            # prefer a shown cell that sums over what was exposed: taking its row away breaks the
            # combination; hiding an unrelated small day only adds an unknown to other rows
            target = exposed[0]
            dims = self.dims if target[0] == TOTAL else [target[0]]
            unknowns = {v for d in dims for v in self.functional(d, target)}
            related = [
                c for c in candidates if any(unknowns & self.functional(d, c).keys() for d in self.dims)
            ]
            self._hide(min(related or candidates, key=lambda c: (self.stat(c).klanten, c[0], c[1])))
            self._settle(unit, cells)

    def _settle(self, unit: Sequence[Bucket], cells: Mapping[Bucket, Sequence[CellId]]) -> None:
        """Rules 2 and 3 until nothing changes: a week whose hidden days form too small a group hides
        more of its days (they are published with it), a month hides itself; then total minus cells."""
        changed = True
        while changed:
            changed = False
            for bucket in unit:
                for cell in cells[bucket]:
                    if cell not in self.shown or self.remainder_ok(cell):
                        continue
                    if bucket.grain is Grain.WEEK and bucket.key in {b.key for b in unit}:
                        days = [
                            (cell[0], cell[1], Grain.DAG, day)
                            for day in bucket.days
                            if (cell[0], cell[1], Grain.DAG, day) in self.shown
                            and self.stat((cell[0], cell[1], Grain.DAG, day)).aantal > 0
                        ]
                        if days:
                            self._hide(min(days, key=lambda c: self.stat(c).klanten))
                            changed = True
                            continue
                    self._hide(cell)
                    changed = True
                changed = self._cross_sections(bucket, cells[bucket]) or changed

    def _hide(self, cell: CellId) -> None:
        self.shown.discard(cell)
        self.hidden.add(cell)
        if cell[2] is Grain.DAG and cell[0] != TOTAL:
            self._new_variable((cell[0], cell[1], cell[3]))

    def _group_klanten(self, cell: CellId) -> int:
        if cell[2] is Grain.DAG:
            return self.stat(cell).klanten
        return sum(self.stat(c).klanten for c in self.hidden_leaves(cell))

    def _cross_sections(self, bucket: Bucket, cells: Sequence[CellId]) -> bool:
        """Rule 3: total minus the shown cells of each dimension reveals no small hidden group.
        Whether it hid anything."""
        total: CellId = (TOTAL, "", bucket.grain, bucket.key)
        hid = False
        changed = True
        while changed:
            changed = False
            if not self._is_shown(total) or self.derivable(total):
                return hid  # nothing new is learnt from a hidden total, or one known from finer cells
            for dim in self.dims:
                mine = [c for c in cells if c[0] == dim]
                group = [c for c in mine if c in self.hidden and (c[2] is Grain.DAG or self.hidden_leaves(c))]
                if not group:
                    continue
                if len(group) >= 2 and sum(self._group_klanten(c) for c in group) >= THRESHOLD:
                    continue
                candidates = [c for c in mine if c in self.shown and not self.derivable(c)]
                if candidates:
                    self._hide(min(candidates, key=lambda c: (self.stat(c).klanten, c[1])))
                else:
                    self._hide(total)
                changed = hid = True
                break
        return hid


def decide_block(
    dims: Iterable[str], stats: Mapping[CellId, Stat], units: Sequence[Sequence[Bucket]]
) -> dict[CellId, bool]:
    """Shown (True) or hidden (False) for every cell with events in `stats`, deciding the `units` of
    one block in the order given: each closed week with its days, then the month when it is over."""
    block = _Block(list(dims), stats)
    for unit in units:
        block.decide(unit)
    decided = {c: c in block.shown for c in stats if c in block.shown or c in block.hidden}
    return decided
