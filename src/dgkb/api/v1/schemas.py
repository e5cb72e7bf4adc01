"""Request and response bodies of /api/v1 (lowerCamelCase JSON via an alias generator)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from dgkb.api.openapi_constraints import exactly_one
from dgkb.audit.query import decode_cursor
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import Bsn, KvkNummer, Subject, Vestigingsnummer

# How the identifiers are documented (the validators below enforce them, with Dutch messages naming
# the field): digits, spaces between them allowed; a BSN also passes the 11-proef, which no JSON
# Schema can express (tests/api/schemathesis_hooks.py makes generated BSNs pass it).
BsnText = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^ *(?:[0-9] *){9}$",
            "description": "Burgerservicenummer: 9 cijfers die aan de 11-proef voldoen",
            "example": "999993653",
        }
    ),
]
KvkText = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": "^ *(?:[0-9] *){8}$", "description": "KVK-nummer: 8 cijfers"}
    ),
]
VestigingText = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": "^ *(?:[0-9] *){12}$", "description": "Vestigingsnummer: 12 cijfers"}
    ),
]
# What an employee may attest themselves; DigiD and eHerkenning levels come only from an idToken.
AttestedAssurance = Annotated[
    Assurance,
    WithJsonSchema({"type": "string", "enum": [Assurance.GEEN.value, Assurance.CONTROLEVRAGEN.value]}),
]
SUBJECT_WAYS = {"bsn": ["bsn"], "kvkNummer": ["kvkNummer"], "vestigingsnummer": ["vestigingsnummer"]}


def _json_integer(v: Any) -> Any:
    # as JSON Schema's "integer": 7 and 7.0, not "7" or true (pydantic's lax mode would take those)
    if isinstance(v, str | bytes | bool):
        raise ValueError("geef een geheel getal")
    return v


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


def aware_moment(v: datetime | None, example: str) -> datetime | None:
    """A moment with a time zone that also exists in UTC (0001-01-01T00:00+14:00 does not; the
    database stores UTC, so such a value would fail there instead of here)."""
    if v is None:
        return None
    if v.tzinfo is None:
        raise ValueError(f"geef een tijdstip met tijdzone, bijvoorbeeld {example}")
    try:
        v.astimezone(UTC)
    except OverflowError:
        raise ValueError("het tijdstip ligt buiten het bereik van jaar 1 tot en met 9999 (UTC)") from None
    return v


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no legitimate input contains it: refuse it here, with
        # the field named, instead of failing in the database.
        texts = v if isinstance(v, list) else [*v.keys(), *v.values()] if isinstance(v, dict) else [v]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("tekst mag geen NUL-teken (\\u0000) bevatten")
        return v


class ContactStart(Camel):
    kanaal: Kanaal
    verwerkingsactiviteit: str | None = Field(default=None, max_length=500)
    reden: str | None = Field(default=None, max_length=500)


class SubjectRef(Camel):
    """Exactly one of bsn, kvkNummer, vestigingsnummer; validated (11-proef, lengths)."""

    model_config = ConfigDict(json_schema_extra=exactly_one(SUBJECT_WAYS))

    bsn: BsnText | None = None
    kvk_nummer: KvkText | None = None
    vestigingsnummer: VestigingText | None = None

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, v: str | None) -> str | None:
        return None if v is None else str(Bsn.parse(v, field="bsn"))

    @field_validator("kvk_nummer")
    @classmethod
    def _kvk(cls, v: str | None) -> str | None:
        return None if v is None else str(KvkNummer.parse(v, field="kvkNummer"))

    @field_validator("vestigingsnummer")
    @classmethod
    def _vestiging(cls, v: str | None) -> str | None:
        return None if v is None else str(Vestigingsnummer.parse(v, field="vestigingsnummer"))

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectRef:
        given = [v for v in (self.bsn, self.kvk_nummer, self.vestigingsnummer) if v is not None]
        if len(given) != 1:
            raise ValueError("geef precies één van bsn, kvkNummer of vestigingsnummer")
        return self

    def subject(self) -> Subject:
        if self.bsn is not None:
            return Subject.person(self.bsn)
        if self.kvk_nummer is not None:
            return Subject.business(self.kvk_nummer)
        return Subject.establishment(self.vestigingsnummer)


class Identificatie(SubjectRef):
    """Either `zekerheid` attested by the employee (only `geen` or `controlevragen`), or `idToken`:
    the ID token of the customer's own DigiD/eHerkenning login at the organisation's broker, passed
    on by the platform that logged them in; the level then comes from its `acr`."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: _all_of(
            schema,
            exactly_one(SUBJECT_WAYS),
            exactly_one({"zekerheid": ["zekerheid"], "idToken": ["idToken"]}),
        )
    )

    zekerheid: AttestedAssurance | None = Field(
        default=None,
        description="geen of controlevragen; een DigiD- of eHerkenningniveau wordt geweigerd "
        "(dat komt uit idToken)",
    )
    id_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=16_384,
        description="ID-token (JWT) van de broker (NL GOV OIDC-profiel) uit de inlog van de klant",
    )
    nonce: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="De nonce van de inlogvraag; als die is meegegeven moet het token dezelfde hebben",
    )


def _all_of(schema: dict[str, Any], *rules: Any) -> None:
    """Several `exactly_one` rules on one model: each its own oneOf, all of them must hold."""
    parts = []
    for rule in rules:
        part: dict[str, Any] = {"properties": schema.get("properties", {})}
        rule(part)
        parts.append({"oneOf": part["oneOf"]})
    schema["allOf"] = parts


class Identificatiebewijs(Camel):
    """Hoe de identiteit is vastgesteld."""

    methode: str = Field(description="geen, controlevragen, document, digid of eherkenning")
    uitgever: str | None = Field(default=None, description="De broker (issuer) die de inlog bevestigde")
    acr: str | None = Field(default=None, description="Het acr van de inlog")
    op: datetime | None = Field(default=None, description="Wanneer de klant inlogde of werd geïdentificeerd")


class Controlevraag(Camel):
    vraag: str
    antwoord: str | None = Field(
        default=None, description="Het antwoord volgens de basisregistratie, om mee te vergelijken"
    )


class DoelWijziging(Camel):
    verwerkingsactiviteit: str = Field(max_length=500)


class KlantbeeldVraag(SubjectRef):
    contact_id: str = Field(max_length=36)
    verwerkingsactiviteit: str = Field(max_length=500)


class ZaakSessieStart(Camel):
    zaak: str = Field(min_length=1, max_length=100, description="Identificatie van de zaak")


class Contact(Camel):
    id: str
    kanaal: str
    reden: str | None
    verwerkingsactiviteit: str | None
    onderwerp_type: str | None
    geidentificeerd: bool
    zekerheid: str | None
    afgeschermd: bool
    zaak: str | None
    gestart_op: datetime
    laatste_activiteit_op: datetime
    beeindigd_op: datetime | None
    weergavenaam: str | None = None
    identificatie: Identificatiebewijs | None = None


class ToestemmingGeven(Camel):
    contact_id: str = Field(max_length=36)
    categorieen: list[str] = Field(min_length=1, max_length=20)
    verloopt_op: datetime | None = None

    @field_validator("verloopt_op")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return aware_moment(v, "2027-01-01T00:00:00Z")


class ToestemmingIntrekken(Camel):
    contact_id: str = Field(max_length=36)


class Toestemming(Camel):
    id: str
    verwerkingsactiviteit: str
    categorieen: list[str]
    kanaal: str
    gegeven_op: datetime
    verloopt_op: datetime | None
    ingetrokken_op: datetime | None


class ToegangslogZoekvraag(Camel):
    bsn: BsnText | None = None
    kvk_nummer: KvkText | None = None
    medewerker: str | None = Field(default=None, max_length=200)
    verwerkingsactiviteit: str | None = Field(default=None, max_length=500)
    vanaf: datetime | None = None
    tot: datetime | None = None
    limiet: JsonInt = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500)

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, v: str | None) -> str | None:
        return None if v is None else str(Bsn.parse(v, field="bsn"))

    @field_validator("kvk_nummer")
    @classmethod
    def _kvk(cls, v: str | None) -> str | None:
        return None if v is None else str(KvkNummer.parse(v, field="kvkNummer"))

    @field_validator("vanaf", "tot")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return aware_moment(v, "2026-11-01T00:00:00Z")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, v: str | None) -> str | None:
        if v is not None:
            decode_cursor(v)  # a malformed cursor is a 400 naming the field, before any query
        return v


class Pagina(Camel):
    resultaten: list[dict[str, Any]]
    volgende: str | None = None
