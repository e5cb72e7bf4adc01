"""BSN, RSIN, KVK-nummer and vestigingsnummer: properties over generated numbers."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import (
    Bsn,
    KvkNummer,
    Rsin,
    Subject,
    SubjectKind,
    Vestigingsnummer,
    passes_elfproef,
)

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


@st.composite
def elfproef_numbers(draw: st.DrawFn) -> str:
    """Nine digits passing the 11-proef: eight free digits and the check digit that fits."""
    head = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum(d * w for d, w in zip(head, WEIGHTS, strict=True)) % 11
    assume(check <= 9)  # a remainder of 10 has no check digit; such a prefix is never issued
    digits = "".join(map(str, head)) + str(check)
    assume(digits != "000000000")
    return digits


ascii_digits = st.text(alphabet="0123456789", min_size=1, max_size=14)
# Characters that are neither an ASCII digit nor whitespace the parser strips.
non_digit = st.characters(
    blacklist_categories=("Nd", "No", "Zs", "Cc", "Cs"), blacklist_characters="0123456789"
)


@given(elfproef_numbers())
def test_every_valid_bsn_parses(digits: str) -> None:
    assert Bsn.parse(digits) == digits
    assert Rsin.parse(digits) == digits


@given(elfproef_numbers())
def test_bsn_with_spaces_or_as_int_is_normalised(digits: str) -> None:
    spaced = f" {digits[:4]} {digits[4:]} "
    assert Bsn.parse(spaced) == digits
    if digits[0] != "0":
        assert Bsn.parse(int(digits)) == digits


@given(elfproef_numbers(), st.integers(0, 8), st.integers(1, 9))
def test_every_single_digit_change_fails_the_elfproef(digits: str, position: int, delta: int) -> None:
    changed_digit = (int(digits[position]) + delta) % 10
    changed = digits[:position] + str(changed_digit) + digits[position + 1 :]
    assert not passes_elfproef(changed)
    with pytest.raises(InvalidIdentifier) as err:
        Bsn.parse(changed)
    assert err.value.field == "bsn"
    assert "11-proef" in err.value.message


@given(elfproef_numbers(), st.integers(0, 8), st.integers(0, 9))
def test_dropping_or_adding_a_digit_fails_on_length(digits: str, position: int, extra: int) -> None:
    for changed in (
        digits[:position] + digits[position + 1 :],
        digits[:position] + str(extra) + digits[position:],
    ):
        with pytest.raises(InvalidIdentifier) as err:
            Bsn.parse(changed)
        assert "9 cijfers" in err.value.message


@given(elfproef_numbers(), st.integers(0, 8), non_digit)
def test_non_digits_are_rejected_naming_the_field(digits: str, position: int, char: str) -> None:
    bad = digits[:position] + char + digits[position + 1 :]
    assume(bad.strip().replace(" ", "") == bad)
    with pytest.raises(InvalidIdentifier) as err:
        Bsn.parse(bad, field="klant.bsn")
    assert err.value.field == "klant.bsn"
    assert "cijfers" in err.value.message


@pytest.mark.parametrize("value", [None, 3.14, True, ["999993653"], b"999993653"])
def test_non_text_is_rejected_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        Bsn.parse(value, field="burgerservicenummer")
    assert err.value.field == "burgerservicenummer"


@pytest.mark.parametrize("value", ["٩٩٩٩٩٣٦٥٣", "99999365３", "12345678²"])
def test_non_ascii_digits_are_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        Bsn.parse(value)


@pytest.mark.parametrize("bsn", ["999993653", "999990639", "999991425"])
def test_official_test_bsns_pass(bsn: str) -> None:
    assert Subject.person(bsn).kind is SubjectKind.BSN


def test_subject_repr_hides_the_number() -> None:
    assert "999993653" not in repr(Subject.person("999993653"))


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_eight_digit_kvk_nummer_parses(digits: str) -> None:
    assert KvkNummer.parse(digits) == digits
    assert Subject.business(digits).kind is SubjectKind.KVK


@given(ascii_digits.filter(lambda s: len(s) != 8))
def test_kvk_nummer_of_other_length_is_rejected(digits: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        KvkNummer.parse(digits)
    assert err.value.field == "kvkNummer"
    assert "8 cijfers" in err.value.message


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_twelve_digit_vestigingsnummer_parses(digits: str) -> None:
    assert Vestigingsnummer.parse(digits) == digits
    assert Subject.establishment(digits).kind is SubjectKind.VESTIGING


@given(ascii_digits.filter(lambda s: len(s) != 12))
def test_vestigingsnummer_of_other_length_is_rejected(digits: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        Vestigingsnummer.parse(digits, field="vestiging")
    assert err.value.field == "vestiging"


@given(elfproef_numbers(), st.integers(0, 8), st.integers(1, 9))
def test_rsin_with_a_changed_digit_fails(digits: str, position: int, delta: int) -> None:
    changed = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1 :]
    with pytest.raises(InvalidIdentifier) as err:
        Rsin.parse(changed)
    assert err.value.field == "rsin"


def test_all_zeros_is_not_a_bsn() -> None:
    assert not passes_elfproef("000000000")
    with pytest.raises(InvalidIdentifier):
        Bsn.parse("000000000")
