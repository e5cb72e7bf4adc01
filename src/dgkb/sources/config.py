"""`config/sources.yaml`: which source systems exist, where, and how to call them.

Validated at start-up and by `dgkb check`; errors name the file and the path.

A `baseUrl` may start with `{simulator.<name>}`: the demo's local simulator of that name, at the port
`dgkb run` gives it from DGKB_SIMULATOR_BASE_PORT (dgkb.settings.SIMULATOR_PORTS). So the demo's sources
follow the base port, and a second demo on one machine never talks to the first one's simulators. A
real installation writes the source's own URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from dgkb.domain.catalogue import Catalogue, describe_validation_error
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.identifiers import passes_elfproef
from dgkb.sources.zgw_jwt import DEFAULT_REFRESH_SECONDS, MAX_REFRESH_SECONDS


class NoAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["none"] = "none"


class ApiKeyAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["api-key"]
    header: str = "X-Api-Key"
    value: str


class BearerAuth(BaseModel):
    """`Authorization: Bearer <token>` (an OAuth2 access token or a gateway's static token)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["bearer"]
    token: str


class TokenAuth(BaseModel):
    """`Authorization: Token <token>`: the API token of Django REST framework's token
    authentication, as Open Klant, Open Producten and the Objects API want it."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["token"]
    token: str


class ZgwJwtAuth(BaseModel):
    """ZGW style: a HS256 JWT signed with the client secret, `client_id` as issuer; a new token every
    `refreshSeconds`, as the component refuses one whose `iat` is older than its JWT_EXPIRY (see
    dgkb.sources.zgw_jwt): keep it well below that expiry."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["zgw-jwt"]
    clientId: str
    secret: str
    refreshSeconds: float = Field(default=DEFAULT_REFRESH_SECONDS, gt=0, le=MAX_REFRESH_SECONDS)


class MutualTlsAuth(BaseModel):
    """Client certificate (PKIoverheid) for sources behind mutual TLS, e.g. a BRP gateway."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["mtls"]
    certFile: str
    keyFile: str
    caFile: str | None = None  # trust store for the server certificate; default: system CAs


Auth = Annotated[
    NoAuth | ApiKeyAuth | BearerAuth | TokenAuth | ZgwJwtAuth | MutualTlsAuth, Field(discriminator="type")
]


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class InterneTaakRoute(BaseModel):
    """Where a customer's correction request about this source's data goes ("Klopt er iets niet?" in
    Mijn omgeving), by default: an interne taak in the Klantinteracties source, assigned to `actor`
    (the uuid of the responsible team there; `dgkb check` looks it up), named `team` to the customer.
    DGKB never writes to the source being corrected itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    route: Literal["interne-taak"] = "interne-taak"
    team: str = Field(min_length=1, max_length=200)
    actor: str = Field(pattern=_UUID)


class ZaakRoute(BaseModel):
    """The other way: a zaak of `zaaktype` (its URL, or its identificatie in the Catalogi API of the
    Zaken source) in the Zaken source, with the customer as initiator — only where the installation
    grants DGKB the scope to create zaken of that zaaktype (`zaken.aanmaken`, and `zaken.bijwerken`
    for the initiator's rol) and the register lets the own-view purpose write `dienst.zaken-lopend`
    (`schrijven`). `bronorganisatie` and `verantwoordelijkeOrganisatie` are the RSINs the Zaken API
    asks for (the latter defaults to the former). `dgkb check` looks the zaaktype up."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    route: Literal["zaak"]
    team: str = Field(min_length=1, max_length=200)
    zaaktype: str = Field(min_length=1, max_length=1000)
    bronorganisatie: str = Field(pattern=r"^\d{9}$")
    verantwoordelijkeOrganisatie: str | None = Field(default=None, pattern=r"^\d{9}$")

    @field_validator("bronorganisatie", "verantwoordelijkeOrganisatie")
    @classmethod
    def _rsin(cls, value: str | None) -> str | None:
        if value is not None and not passes_elfproef(value):
            raise ValueError("geen geldig RSIN (11-proef)")
        return value

    @property
    def verantwoordelijke(self) -> str:
        return self.verantwoordelijkeOrganisatie or self.bronorganisatie


def _route_kind(value: Any) -> str:
    """The `route` of a correction route; left out, it is an interne taak (the default)."""
    if isinstance(value, dict):
        return str(value.get("route", "interne-taak"))
    return str(getattr(value, "route", "interne-taak"))


CorrectionRoute = Annotated[
    Annotated[InterneTaakRoute, Tag("interne-taak")] | Annotated[ZaakRoute, Tag("zaak")],
    Discriminator(_route_kind),
]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: str  # adapter kind, see sources/registry.py
    name: str  # shown to agents as the section's source
    organisation: str = Field(pattern=r"^\d{20}$")  # OIN of the organisation owning the data
    baseUrl: str = Field(pattern=r"^https?://")
    categories: tuple[str, ...] = Field(min_length=1)
    enabled: bool = True
    # seconds a call may take at most (the adapter's own timeout). A view waits at most the request
    # budget (DGKB_SOURCE_DEADLINE_SECONDS); what a source allowed longer brings later, the console
    # fills in when it comes (dgkb.federation.fanout, late answers).
    deadline: float = Field(default=2.0, gt=0, le=30)
    concurrency: int = Field(default=50, ge=1, le=1000)
    cacheTtl: float = Field(default=0, ge=0, le=3600)  # seconds; 0 = no caching
    auth: Auth = Field(default_factory=NoAuth)
    # Purpose headers: name -> template with {doel.id} {doel.naam} {organisatie.oin}
    # {organisatie.naam} {gebruiker.id} {gebruiker.rol} {grondslag}
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)  # adapter-specific
    correcties: CorrectionRoute | None = None  # where correction requests about its data go


class SourcesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: tuple[SourceConfig, ...]

    @property
    def ids(self) -> set[str]:
        return {s.id for s in self.sources}


_SIMULATOR = re.compile(r"\{simulator\.([^}]*)\}")


def expand_simulator(url: str, simulators: Mapping[str, str]) -> str:
    """`url` with `{simulator.<name>}` replaced by that simulator's base URL (`simulators`: name ->
    base URL); KeyError naming the first unknown simulator."""
    return _SIMULATOR.sub(lambda m: simulators[m[1]], url)


def _expand_simulators(data: Any, simulators: Mapping[str, str], source: str) -> Any:
    """The raw sources.yaml with every `{simulator.<name>}` in a baseUrl expanded; an unknown name is
    an InvalidConfiguration naming file and path."""
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        return data  # the model's validation says what is wrong
    expanded, problems = [], []
    for i, src in enumerate(data["sources"]):
        url = src.get("baseUrl") if isinstance(src, dict) else None
        if isinstance(url, str) and _SIMULATOR.search(url):
            try:
                src = {**src, "baseUrl": expand_simulator(url, simulators)}
            except KeyError as exc:
                problems.append(
                    f"{source}: sources.{i}.baseUrl: onbekende simulator '{exc.args[0]}' "
                    f"(bekend: {', '.join(sorted(simulators)) or 'geen'})"
                )
        expanded.append(src)
    if problems:
        raise InvalidConfiguration("\n".join(problems), field=source)
    return {**data, "sources": expanded}


def parse_sources(
    data: Any,
    *,
    catalogue: Catalogue,
    known_kinds: set[str],
    source: str = "sources.yaml",
    simulators: Mapping[str, str] | None = None,
) -> SourcesConfig:
    """Validate sources.yaml; `simulators` (name -> base URL) resolves `{simulator.<name>}`."""
    data = _expand_simulators(data, simulators or {}, source)
    try:
        config = SourcesConfig.model_validate(data)
    except ValidationError as exc:
        raise InvalidConfiguration(describe_validation_error(exc, source), field=source) from None
    problems = []
    seen: set[str] = set()
    for i, src in enumerate(config.sources):
        if src.id in seen:
            problems.append(f"{source}: sources.{i}.id: bron '{src.id}' staat dubbel")
        seen.add(src.id)
        if src.kind not in known_kinds:
            problems.append(
                f"{source}: sources.{i}.kind: onbekende soort '{src.kind}' "
                f"(bekend: {', '.join(sorted(known_kinds))})"
            )
        for cat in src.categories:
            if catalogue.get(cat) is None:
                problems.append(f"{source}: sources.{i}.categories: onbekende categorie '{cat}'")
    if problems:
        raise InvalidConfiguration("\n".join(problems), field=source)
    return config
