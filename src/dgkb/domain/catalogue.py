"""The data catalogue: six information types split into categories, each mapped to source fields.

A category is the unit of purpose binding. Its `velden` are field names in the vocabulary of the
source kinds that serve it (BRP `fields` paths for BRP, attribute names of returned items for the
others), so the permitted subset can be passed straight to the adapter.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from dgkb.domain.errors import InvalidConfiguration


class Informatietype(StrEnum):
    KLANTDATA = "klantdata"
    DIENSTDATA = "dienstdata"
    CONTACTDATA = "contactdata"
    DOSSIERDATA = "dossierdata"
    BELEVINGSDATA = "belevingsdata"
    FEEDBACKDATA = "feedbackdata"


class Gevoeligheid(StrEnum):
    NORMAAL = "normaal"
    BIJZONDER = "bijzonder persoonsgegeven"
    STRAFRECHTELIJK = "strafrechtelijk"


class Category(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z]+\.[a-z0-9-]+$")
    informatietype: Informatietype
    omschrijving: str
    gevoeligheid: Gevoeligheid = Gevoeligheid.NORMAAL
    velden: tuple[str, ...] = Field(min_length=1)
    # Which subject kinds the category can be about (a business has no family).
    onderwerpen: tuple[str, ...] = ("bsn", "kvk", "vestigingsnummer")


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    categorieen: tuple[Category, ...]
    _by_id: dict[str, Category] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        seen: set[str] = set()
        for cat in self.categorieen:
            if cat.id in seen:
                raise ValueError(f"categorie {cat.id} staat dubbel in de catalogus")
            seen.add(cat.id)
        return self

    def model_post_init(self, context: Any, /) -> None:
        # looked up for every category of every read: built once (the catalogue is frozen)
        self._by_id.update((c.id, c) for c in self.categorieen)

    def get(self, category_id: str) -> Category | None:
        return self._by_id.get(category_id)

    @property
    def by_id(self) -> dict[str, Category]:
        return dict(self._by_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categorieen)


def parse_catalogue(data: Any, *, source: str = "catalogue.yaml") -> Catalogue:
    """Validate catalogue data; errors name the file and the path inside it."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise InvalidConfiguration(_describe(exc, source), field=source) from None


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top)"
        lines.append(f"{source}: {path}: {err['msg']}")
    return "\n".join(lines)


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """Shared by catalogue, register and sources parsing: one line per error, `file: path: msg`."""
    return _describe(exc, source)
