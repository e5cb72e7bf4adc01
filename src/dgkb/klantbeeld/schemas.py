"""The klantbeeld as returned by the API and `dgkb klantbeeld --json` (lowerCamelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Sectie(CamelModel):
    categorie: str
    informatietype: str
    omschrijving: str
    # ok | niet-gevonden | timeout | onbereikbaar | niet-geautoriseerd | fout | niet-toegestaan |
    # niet-geconfigureerd
    status: str
    bron: str | None = None  # human name of the source
    bron_id: str | None = None
    reden: str | None = None  # machine-readable reason code
    # a factory, not `= []`: pydantic deep-copies a mutable default for every section it builds
    redenen: list[str] = Field(default_factory=list)
    toelichting: str | None = None  # Dutch explanation for the agent
    gegevens: Any = None
    opgehaald_op: datetime | None = None
    duur_ms: float | None = None
    # the source is still answering ("timeout" so far): a `bijgewerkt` event follows when it has, and
    # the next read shows its answer
    nog_bezig: bool = False


class VerwerkingsactiviteitRef(CamelModel):
    id: str
    naam: str | None = None
    organisatie: str | None = None


class Klantbeeld(CamelModel):
    contact_id: str | None
    onderwerp_type: str  # bsn | kvk | vestigingsnummer
    verwerkingsactiviteit: VerwerkingsactiviteitRef
    zekerheid: str
    trace_id: str
    registerversie: str
    opgehaald_op: datetime
    secties: list[Sectie]
