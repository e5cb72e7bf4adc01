"""Dutch identifiers as validated value types (BSN, RSIN, KVK-nummer, vestigingsnummer).

Each type is a frozen `str` subclass created via `parse`, which raises `InvalidIdentifier` naming the
field and the reason, so a bad number never reaches a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from dgkb.domain.errors import InvalidIdentifier


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts "²" and Arabic-Indic digits; identifiers are ASCII 0-9 only.
    return text.isascii() and text.isdigit()


def passes_elfproef(digits: str) -> bool:
    """The 11-proef of BSN and RSIN: weights 9..2 and -1, sum divisible by 11, not all zeros."""
    if len(digits) != 9 or not _ascii_digits(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and digits != "000000000"


class _Identifier(str):
    field_name = "identifier"
    label = "identificatie"

    @classmethod
    def _check(cls, value: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def parse(cls, value: object, *, field: str | None = None) -> Self:
        """Validate and normalise (strip spaces); raise InvalidIdentifier naming the field."""
        name = field or cls.field_name
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InvalidIdentifier(f"{cls.label} moet een tekst met cijfers zijn", field=name)
        # spaces anywhere (as people write them: "9999 93653"); other whitespace is not a digit
        text = str(value).replace(" ", "")
        try:
            cls._check(text)
        except InvalidIdentifier as exc:
            raise InvalidIdentifier(exc.message, field=name) from None
        return cls(text)


def _need_digits(text: str, length: int, label: str) -> None:
    if not _ascii_digits(text):
        raise InvalidIdentifier(f"{label} mag alleen cijfers bevatten")
    if len(text) != length:
        raise InvalidIdentifier(f"{label} moet precies {length} cijfers hebben, niet {len(text)}")


class Bsn(_Identifier):
    """Burgerservicenummer: 9 digits passing the 11-proef."""

    field_name = "bsn"
    label = "BSN"

    @classmethod
    def _check(cls, text: str) -> None:
        _need_digits(text, 9, cls.label)
        if not passes_elfproef(text):
            raise InvalidIdentifier("BSN voldoet niet aan de 11-proef")


class Rsin(_Identifier):
    """Rechtspersonen en Samenwerkingsverbanden Informatienummer: 9 digits, 11-proef."""

    field_name = "rsin"
    label = "RSIN"

    @classmethod
    def _check(cls, text: str) -> None:
        _need_digits(text, 9, cls.label)
        if not passes_elfproef(text):
            raise InvalidIdentifier("RSIN voldoet niet aan de 11-proef")


class KvkNummer(_Identifier):
    """KVK-nummer: 8 digits (no check digit)."""

    field_name = "kvkNummer"
    label = "KVK-nummer"

    @classmethod
    def _check(cls, text: str) -> None:
        _need_digits(text, 8, cls.label)


class Vestigingsnummer(_Identifier):
    """KVK vestigingsnummer: 12 digits."""

    field_name = "vestigingsnummer"
    label = "Vestigingsnummer"

    @classmethod
    def _check(cls, text: str) -> None:
        _need_digits(text, 12, cls.label)


class SubjectKind(StrEnum):
    """Kind of data subject; the values are the LDV `data_subject_id_type`s we write."""

    BSN = "bsn"
    KVK = "kvk"
    VESTIGING = "vestigingsnummer"


@dataclass(frozen=True, slots=True)
class Subject:
    """The customer a processing is about: a person by BSN or a business by KVK/vestigingsnummer."""

    kind: SubjectKind
    value: str

    @classmethod
    def person(cls, bsn: object) -> Subject:
        return cls(SubjectKind.BSN, Bsn.parse(bsn))

    @classmethod
    def business(cls, kvk: object) -> Subject:
        return cls(SubjectKind.KVK, KvkNummer.parse(kvk))

    @classmethod
    def establishment(cls, vestigingsnummer: object) -> Subject:
        return cls(SubjectKind.VESTIGING, Vestigingsnummer.parse(vestigingsnummer))

    @property
    def is_person(self) -> bool:
        return self.kind is SubjectKind.BSN

    def __repr__(self) -> str:  # never print the identifier itself (logs!)
        return f"Subject({self.kind.value}, ***)"
