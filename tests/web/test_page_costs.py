"""What every page builds many times over stays cheap: a klantbeeld section copies nothing, the
catalogue is indexed once, and the date filter gives the same Dutch dates without strftime."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dgkb.klantbeeld.schemas import Sectie
from dgkb.settings import Settings, load_catalogue
from dgkb.web.deps import _datum


def test_a_section_copies_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[Any] = []
    real = copy.deepcopy

    def spy(value: Any, memo: Any = None) -> Any:
        copied.append(value)
        return real(value, memo)

    monkeypatch.setattr(copy, "deepcopy", spy)
    one = Sectie(categorie="klant.basis", informatietype="klantdata", omschrijving="Basis", status="ok")
    two = Sectie(categorie="klant.basis", informatietype="klantdata", omschrijving="Basis", status="ok")
    assert copied == []
    one.redenen.append("X")
    assert two.redenen == []  # each its own list all the same


def test_the_catalogue_is_looked_up_without_rebuilding_it() -> None:
    catalogue = load_catalogue(Settings(database_url="sqlite://"))
    basis = catalogue.get("klant.basis")
    assert basis is not None
    assert catalogue.get("klant.basis") is basis
    assert catalogue.get("bestaat.niet") is None
    assert catalogue.by_id == {c.id: c for c in catalogue.categorieen}
    catalogue.by_id.clear()  # a copy: the index itself cannot be changed from outside
    assert catalogue.get("klant.basis") is basis


@pytest.mark.parametrize(
    ("value", "plain", "with_time"),
    [
        ("2026-03-01", "01-03-2026", "01-03-2026"),
        ("2026-03-01T10:05:00Z", "01-03-2026", "01-03-2026 11:05"),  # winter: UTC+1
        ("2026-07-01T23:30:00+00:00", "02-07-2026", "02-07-2026 01:30"),  # summer: UTC+2, next day
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "02-01-2026", "02-01-2026 04:04"),
        (datetime(2026, 1, 2, 3, 4), "02-01-2026", "02-01-2026 03:04"),  # no zone: as it is
        (date(2026, 5, 6), "06-05-2026", "06-05-2026"),
        ("geen datum", "geen datum", "geen datum"),
        (None, "—", "—"),
        ("", "—", "—"),
    ],
)
def test_dutch_dates(value: Any, plain: str, with_time: str) -> None:
    assert _datum(value) == plain
    assert _datum(value, True) == with_time
    assert _datum(value) == plain  # the second time from the cache, the same
