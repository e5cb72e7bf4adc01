from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dgkb.sources.normalise import normalise_email, normalise_phone, phone_search_core


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06-12345678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("+31 (0)6 1234 5678", "+31612345678"),
        ("+31 06 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("0031 6 12 34 56 78", "+31612345678"),
        ("010-1234567", "+31101234567"),
        ("(010) 123 45 67", "+31101234567"),
        ("+32 2 123 45 67", "+3221234567"),
        ("0032 2 123 45 67", "+3221234567"),
        (" 06.12.34.56.78 ", "+31612345678"),
    ],
)
def test_phone_spellings(text: str, expected: str) -> None:
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    "text", ["", "612345678", "06-1234567", "06-123456789", "06-1234567a", "jan@example.nl", "+", "00"]
)
def test_not_a_phone_number(text: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(text)


def test_search_core_is_contained_in_every_stored_spelling() -> None:
    core = phone_search_core(normalise_phone("06-12345678"))
    assert core == "612345678"
    assert all(core in stored for stored in ("0612345678", "+31612345678", "0031612345678"))
    assert phone_search_core("+3221234567") == "3221234567"


def test_email() -> None:
    assert normalise_email(" Jan.Jansen@Example.NL ") == "jan.jansen@example.nl"
    for bad in ("", "jan", "@example.nl", "jan@", "jan@@example.nl", "jan jansen@example.nl"):
        with pytest.raises(ValueError):
            normalise_email(bad)


_SEP = st.sampled_from(["", " ", "-", ".", "  "])


@st.composite
def dutch_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(some spelling, its canonical form) of a Dutch number."""
    first = draw(st.integers(1, 9))
    rest = draw(st.text("0123456789", min_size=8, max_size=8))
    nsn = f"{first}{rest}"
    prefix = draw(st.sampled_from(["0", "+31", "+31 ", "0031", "0031 ", "+31 (0)", "+310"]))
    cut = draw(st.integers(1, 8))
    spelled = prefix + nsn[:cut] + draw(_SEP) + nsn[cut:]
    return spelled, f"+31{nsn}"


@given(dutch_numbers())
def test_every_spelling_gives_the_canonical_form(case: tuple[str, str]) -> None:
    spelled, canonical = case
    assert normalise_phone(spelled) == canonical


@given(st.one_of(dutch_numbers().map(lambda c: c[0]), st.text(max_size=30)))
def test_phone_is_idempotent(text: str) -> None:
    try:
        once = normalise_phone(text)
    except ValueError:
        return
    assert normalise_phone(once) == once
    assert once.startswith("+")
    assert once[1:].isdigit()


@given(st.emails() | st.text(max_size=40), st.sampled_from(["", " ", "\t"]))
def test_email_is_idempotent(text: str, pad: str) -> None:
    try:
        once = normalise_email(pad + text + pad)
    except ValueError:
        return
    assert normalise_email(once) == once
    if once.isascii():
        assert normalise_email(once.upper()) == once
