"""/api/v1/contacten/{id}/identiteitsbewijzen: identify the customer at the counter with a passport or
identity card, checked against BRP Reisdocumenten (issue 9 §4; see dgkb.contacts.documents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, WithJsonSchema, field_validator

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.v1.contacten import RESPONSES, _contact
from dgkb.api.v1.schemas import BsnText, Camel, Contact
from dgkb.composition.deps import DocumentsDep
from dgkb.contacts.documents import DocumentKind, document_number
from dgkb.domain.identifiers import Bsn, Subject

router = APIRouter(tags=["contacten"])


class IdentiteitsbewijsControle(Camel):
    bsn: BsnText = Field(description="BSN van de klant die het document toont (11-proef)")
    documentnummer: Annotated[
        str, WithJsonSchema({"type": "string", "maxLength": 20, "pattern": "^(?: *[A-NP-Za-np-z0-9]){9} *$"})
    ] = Field(
        max_length=20,
        description="Documentnummer van het paspoort of de identiteitskaart: 9 tekens, hoofdletters en "
        "cijfers, zonder de letter O (spaties en kleine letters worden genegeerd)",
        examples=["SPECI2014"],
    )
    # a rijbewijs is refused (400 DOCUMENT_NOT_CHECKABLE, with a Dutch explanation): not offered
    soort: Annotated[
        DocumentKind,
        WithJsonSchema(
            {"type": "string", "enum": [k.value for k in DocumentKind if k is not DocumentKind.RIJBEWIJS]}
        ),
    ] = Field(description="paspoort of identiteitskaart; een rijbewijs (RDW, niet in de BRP) wordt geweigerd")

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, v: str) -> str:
        return str(Bsn.parse(v, field="bsn"))

    @field_validator("documentnummer")
    @classmethod
    def _number(cls, v: str) -> str:
        return document_number(v)


@router.post(
    "/contacten/{contact_id}/identiteitsbewijzen",
    response_model=Contact,
    responses=RESPONSES,
    summary="Identificeer de klant aan de balie met een paspoort of identiteitskaart (BRP Reisdocumenten)",
    description="Alleen bij een contact via de balie (anders 403 `DOCUMENT_NOT_IN_PERSON`). Het document "
    "wordt in BRP Reisdocumenten opgezocht (gelogd): het moet van deze klant zijn "
    "(`DOCUMENT_NOT_OF_SUBJECT`), niet vermist of gestolen gemeld (`DOCUMENT_LOST_OR_STOLEN`), niet "
    "ingehouden of vervallen (`DOCUMENT_WITHDRAWN`), nog geldig (`DOCUMENT_EXPIRED`), van de opgegeven "
    "soort (`DOCUMENT_KIND_MISMATCH`) en bekend (`DOCUMENT_UNKNOWN`). Dan is de klant geïdentificeerd "
    "met methode `document`, op het niveau dat het register voor het doel van het contact geeft "
    "(`documentZekerheid`). Een rijbewijs staat niet in de BRP: 400 `DOCUMENT_NOT_CHECKABLE`.",
)
async def check_identity_document(
    contact_id: str,
    body: IdentiteitsbewijsControle,
    actor: ActorDep,
    documents: DocumentsDep,
    trace: TraceDep,
) -> Contact:
    view = await documents.identify_with_document(
        actor,
        contact_id,
        subject=Subject.person(body.bsn),
        documentnummer=body.documentnummer,
        soort=body.soort,
        trace=trace,
    )
    return _contact(view)
