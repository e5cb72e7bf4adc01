"""Identity assurance: one order for DigiD and eHerkenning, so a minimum compares across both."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dgkb.domain.assurance import Assurance

DIGID = [
    Assurance.GEEN,
    Assurance.CONTROLEVRAGEN,
    Assurance.DIGID_BASIS,
    Assurance.DIGID_MIDDEN,
    Assurance.DIGID_SUBSTANTIEEL,
    Assurance.DIGID_HOOG,
]
EHERKENNING = [
    Assurance.EHERKENNING_EH1,
    Assurance.EHERKENNING_EH2,
    Assurance.EHERKENNING_EH2PLUS,
    Assurance.EHERKENNING_EH3,
    Assurance.EHERKENNING_EH4,
]
levels = st.sampled_from(list(Assurance))


def test_digid_levels_strictly_increase() -> None:
    ranks = [a.rank for a in DIGID]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


def test_eherkenning_levels_strictly_increase() -> None:
    ranks = [a.rank for a in EHERKENNING]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


@pytest.mark.parametrize(
    ("digid", "eherkenning"),
    [
        (Assurance.DIGID_BASIS, Assurance.EHERKENNING_EH2),
        (Assurance.DIGID_MIDDEN, Assurance.EHERKENNING_EH2PLUS),
        (Assurance.DIGID_SUBSTANTIEEL, Assurance.EHERKENNING_EH3),
        (Assurance.DIGID_HOOG, Assurance.EHERKENNING_EH4),
        (Assurance.CONTROLEVRAGEN, Assurance.EHERKENNING_EH1),
    ],
)
def test_eidas_equivalents_satisfy_each_other(digid: Assurance, eherkenning: Assurance) -> None:
    assert digid.satisfies(eherkenning)
    assert eherkenning.satisfies(digid)


def test_control_questions_do_not_reach_digid() -> None:
    assert Assurance.CONTROLEVRAGEN.satisfies(Assurance.CONTROLEVRAGEN)
    assert not Assurance.CONTROLEVRAGEN.satisfies(Assurance.DIGID_BASIS)
    assert not Assurance.GEEN.satisfies(Assurance.CONTROLEVRAGEN)


@given(levels)
def test_every_level_satisfies_itself_and_none(level: Assurance) -> None:
    assert level.satisfies(level)
    assert level.satisfies(Assurance.GEEN)


@given(levels, levels)
def test_satisfies_follows_rank(a: Assurance, b: Assurance) -> None:
    assert a.satisfies(b) == (a.rank >= b.rank)
    assert a.satisfies(b) or b.satisfies(a)  # total preorder


@given(levels, levels, levels)
def test_satisfies_is_transitive(a: Assurance, b: Assurance, c: Assurance) -> None:
    if a.satisfies(b) and b.satisfies(c):
        assert a.satisfies(c)


@given(levels)
def test_every_level_has_a_dutch_label(level: Assurance) -> None:
    assert level.label
    assert Assurance(level.value) is level
