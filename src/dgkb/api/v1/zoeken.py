"""/api/v1/klantzoekopdrachten: find the customer of a contact (bound to the identification purpose)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import ConfigDict, Field, model_validator

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.openapi_constraints import exactly_one
from dgkb.api.v1.contacten import RESPONSES
from dgkb.api.v1.schemas import Camel, JsonInt
from dgkb.composition.deps import ContactsDep, SearchDep
from dgkb.search.query import QueryKind, SearchQuery, parse_query
from dgkb.search.service import SearchScope

router = APIRouter(tags=["zoeken"])


class Zoekvraag(Camel):
    """Either one free `zoekterm` (as typed in the console's search box) or one structured way."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one(
            {
                "zoekterm": ["zoekterm"],
                "naam en geboortedatum": ["geslachtsnaam", "geboortedatum"],
                "adres": ["postcode", "huisnummer"],
                "telefoonnummer": ["telefoonnummer"],
                "emailadres": ["emailadres"],
                "bedrijfsnaam": ["bedrijfsnaam"],
            }
        )
    )
    contact_id: str = Field(max_length=36)
    zoekterm: str | None = Field(default=None, max_length=200)
    geslachtsnaam: str | None = Field(default=None, max_length=200)
    geboortedatum: date | None = None
    postcode: str | None = Field(default=None, pattern=r"^\d{4}\s?[A-Za-z]{2}$")
    huisnummer: JsonInt | None = Field(default=None, ge=1, le=99999)
    # as the search box reads them (dgkb.search.query): 8 to 15 digits with the usual separators; an
    # address with one @ and no spaces. Anything else would reach the source as a malformed query.
    telefoonnummer: str | None = Field(
        default=None, max_length=40, pattern=r"^\+?[ \-().]*(?:[0-9][ \-().]*){8,15}$"
    )
    emailadres: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    bedrijfsnaam: str | None = Field(default=None, min_length=3, max_length=200)

    @model_validator(mode="after")
    def _one_way(self) -> Zoekvraag:
        ways = [
            self.zoekterm is not None,
            self.geslachtsnaam is not None or self.geboortedatum is not None,
            self.postcode is not None or self.huisnummer is not None,
            self.telefoonnummer is not None,
            self.emailadres is not None,
            self.bedrijfsnaam is not None,
        ]
        if sum(ways) != 1:
            raise ValueError(
                "zoek op één manier: zoekterm, of geslachtsnaam + geboortedatum, of postcode + huisnummer, "
                "of telefoonnummer, of emailadres, of bedrijfsnaam"
            )
        if (self.geslachtsnaam is None) != (self.geboortedatum is None):
            raise ValueError("geslachtsnaam en geboortedatum horen bij elkaar")
        if (self.postcode is None) != (self.huisnummer is None):
            raise ValueError("postcode en huisnummer horen bij elkaar")
        return self

    def query(self) -> SearchQuery:
        if self.zoekterm is not None:
            return parse_query(self.zoekterm)
        if self.geslachtsnaam is not None:
            return SearchQuery(
                QueryKind.NAAM_GEBOORTEDATUM,
                geslachtsnaam=self.geslachtsnaam,
                geboortedatum=self.geboortedatum,
            )
        if self.postcode is not None:
            postcode = self.postcode.replace(" ", "").upper()
            return SearchQuery(QueryKind.POSTCODE_HUISNUMMER, postcode=postcode, huisnummer=self.huisnummer)
        if self.telefoonnummer is not None:
            return SearchQuery(QueryKind.TELEFOON, self.telefoonnummer)
        if self.emailadres is not None:
            return SearchQuery(QueryKind.EMAIL, self.emailadres)
        return SearchQuery(QueryKind.BEDRIJFSNAAM, self.bedrijfsnaam or "")


class Kandidaat(Camel):
    soort: str
    bsn: str | None = None
    kvk_nummer: str | None = None
    vestigingsnummer: str | None = None
    naam: str
    geboortejaar: int | None = None
    adres: str | None = None
    afgeschermd: bool = False
    overleden: bool = False
    gevonden_via: str


class Zoekresultaat(Camel):
    begrepen_als: str
    aantal: int
    meer_dan_getoond: bool
    meerdere_gevonden: bool
    kandidaten: list[Kandidaat]


@router.post(
    "/klantzoekopdrachten",
    response_model=Zoekresultaat,
    responses=RESPONSES,
    summary="Zoek de klant van een contact (BSN, naam + geboortedatum, adres, KVK, telefoon, e-mail)",
)
async def search_customer(
    body: Zoekvraag, actor: ActorDep, contacts: ContactsDep, search: SearchDep, trace: TraceDep
) -> Zoekresultaat:
    query = body.query()  # before touching the contact: bad input is a 400 naming the field
    decided = await contacts.identification_scope(actor, body.contact_id)
    scope = SearchScope(
        actor=actor,
        channel=decided.channel,
        purpose_id=decided.purpose_id,
        trace=trace,
        contact_id=body.contact_id,
        subject_kinds=decided.subject_kinds,
    )
    result = await search.search(scope, query)
    kandidaten = []
    for hit in result.hits:
        ident = {
            "bsn": hit.subject.value if hit.subject.kind.value == "bsn" else None,
            "kvk_nummer": hit.kvk_nummer,
            "vestigingsnummer": hit.subject.value if hit.subject.kind.value == "vestigingsnummer" else None,
        }
        kandidaten.append(
            Kandidaat(
                soort=hit.soort,
                naam=hit.naam,
                geboortejaar=hit.geboortejaar,
                adres=hit.adres,
                afgeschermd=hit.afgeschermd,
                overleden=hit.overleden,
                gevonden_via=hit.gevonden_via,
                **ident,
            )
        )
    return Zoekresultaat(
        begrepen_als=result.query.kind.value,
        aantal=len(kandidaten),
        meer_dan_getoond=result.truncated,
        meerdere_gevonden=len(kandidaten) > 1,
        kandidaten=kandidaten,
    )
