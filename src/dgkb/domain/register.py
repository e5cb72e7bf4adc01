"""The register of processing activities (AVG art. 30 verwerkingsregister). It *is* the policy.

Parsed from `config/register.yaml` (top-level key `verwerkingsactiviteiten`). The policy engine
evaluates this data; nothing else decides who may see what.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue, describe_validation_error
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.roles import Role

_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


class Organisatie(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    naam: str
    oin: str = Field(pattern=r"^\d{20}$")


class Grondslag(BaseModel):
    """Legal basis: the AVG art. 6 ground (and art. 9 exception for special categories) + the law."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    avg: str  # e.g. "art. 6 lid 1 sub e AVG (publieke taak)"
    wet: str  # e.g. "art. 2.1 Wet maatschappelijke ondersteuning 2015"
    bijzondereCategorie: str | None = None  # e.g. "art. 9 lid 2 sub g AVG; art. 5.4.1 Wmo 2015"


class CategorieToegang(BaseModel):
    """Per category of a purpose: the fields it may use and, optionally, the sources it may use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    velden: tuple[str, ...] | None = None  # None = every field the catalogue lists for the category
    bronnen: tuple[str, ...] | None = None  # None = any configured source; else source ids only


class Verwerkingsactiviteit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^https?://\S+$")
    naam: str
    omschrijving: str = ""
    organisatie: Organisatie
    grondslag: Grondslag
    categorieen: dict[str, CategorieToegang]
    rollen: tuple[Role, ...] = Field(min_length=1)
    minimaleZekerheid: Assurance
    toestemmingVereist: tuple[str, ...] = ()
    bewaartermijn: str
    # When the subject has a BRP secrecy indication (geheimhoudingPersoonsgegevens), deny all
    # categories unless the purpose explicitly may process shielded persons.
    geheimhoudingToegestaan: bool = False
    # Zaaktypen (URLs or omschrijvingen) whose handling this purpose covers (case worker sessions).
    zaaktypen: tuple[str, ...] = ()
    # Categories the purpose may also use for a business subject only, etc. could go here later.

    @field_validator("bewaartermijn")
    @classmethod
    def _iso_duration(cls, v: str) -> str:
        if not _ISO_DURATION.match(v):
            raise ValueError("bewaartermijn moet een ISO 8601-duur zijn, bijvoorbeeld P1Y of P6M")
        return v

    @model_validator(mode="after")
    def _consent_within_categories(self) -> Verwerkingsactiviteit:
        for cat in self.toestemmingVereist:
            if cat not in self.categorieen:
                raise ValueError(f"toestemmingVereist noemt {cat}, maar die categorie hoort niet bij dit doel")
        return self


class Register(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    versie: str = "1"
    verwerkingsactiviteiten: tuple[Verwerkingsactiviteit, ...] = Field(min_length=1)

    def get(self, purpose_id: str) -> Verwerkingsactiviteit | None:
        for va in self.verwerkingsactiviteiten:
            if va.id == purpose_id:
                return va
        return None

    @property
    def fingerprint(self) -> str:
        """Content hash: the register version the decision log records (changes with any edit)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return f"{self.versie}+sha256:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def parse_register(
    data: Any, *, catalogue: Catalogue, source: str = "register.yaml", source_ids: set[str] | None = None
) -> Register:
    """Validate the register against its schema and against the catalogue (and known source ids).

    Errors name the file and the path: `register.yaml: verwerkingsactiviteiten.2.categorieen.x: ...`.
    """
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        raise InvalidConfiguration(describe_validation_error(exc, source), field=source) from None
    problems: list[str] = []
    ids: set[str] = set()
    for i, va in enumerate(register.verwerkingsactiviteiten):
        base = f"{source}: verwerkingsactiviteiten.{i}"
        if va.id in ids:
            problems.append(f"{base}.id: {va.id} staat dubbel in het register")
        ids.add(va.id)
        for cat_id, access in va.categorieen.items():
            cat = catalogue.get(cat_id)
            if cat is None:
                problems.append(f"{base}.categorieen.{cat_id}: onbekende categorie (niet in de catalogus)")
                continue
            for veld in access.velden or ():
                if veld not in cat.velden:
                    problems.append(
                        f"{base}.categorieen.{cat_id}.velden: '{veld}' is geen veld van {cat_id} "
                        f"(toegestaan: {', '.join(cat.velden)})"
                    )
            if source_ids is not None:
                for bron in access.bronnen or ():
                    if bron not in source_ids:
                        problems.append(f"{base}.categorieen.{cat_id}.bronnen: onbekende bron '{bron}'")
    if problems:
        raise InvalidConfiguration("\n".join(problems), field=source)
    return register
