"""/api/v1/contacten: a contact session binds the klantbeeld to one subject and one purpose."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response, status

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.v1.schemas import (
    Contact,
    ContactStart,
    Controlevraag,
    DoelWijziging,
    Identificatie,
    KlantbeeldVraag,
    SubjectRef,
    ZaakSessieStart,
)
from dgkb.composition.deps import ContactsDep, IdentificationDep, KlantbeeldDep
from dgkb.contacts.service import ContactError, ContactView
from dgkb.klantbeeld.schemas import Klantbeeld

router = APIRouter(tags=["contacten"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Ongeldige invoer (problem+json met invalidParams)"},
    401: {"description": "Niet ingelogd"},
    403: {"description": "Geen toegang; `reden` zegt waarom (problem+json)"},
    404: {"description": "Contact niet gevonden"},
    409: {"description": "Het contact is niet in de juiste toestand, bijv. al beëindigd"},
    503: {
        "description": "Een bron die hiervoor nodig is, is niet bereikbaar of weigert DGKB "
        "(`bron`; `code` source.unauthorized: niet geautoriseerd bij de bron)"
    },
}


def _klantbeeld_response(klantbeeld: Klantbeeld) -> Response:
    """Serialise once, straight from the model: the klantbeeld is the hot path, and letting
    FastAPI re-validate the response model would do the work twice. `response_model` on the
    route still documents the shape in the OpenAPI document."""
    return Response(klantbeeld.model_dump_json(by_alias=True), media_type="application/json")


def _contact(view: ContactView) -> Contact:
    return Contact(**asdict(view))


@router.post(
    "/contacten",
    status_code=status.HTTP_201_CREATED,
    response_model=Contact,
    responses=RESPONSES,
    summary="Start een contact (kanaal, eventueel doel en reden)",
)
async def start_contact(body: ContactStart, actor: ActorDep, contacts: ContactsDep) -> Contact:
    view = await contacts.start(
        actor, kanaal=body.kanaal, purpose_id=body.verwerkingsactiviteit, reden=body.reden
    )
    return _contact(view)


@router.get("/contacten/{contact_id}", response_model=Contact, responses=RESPONSES, summary="Een contact")
async def get_contact(contact_id: str, actor: ActorDep, contacts: ContactsDep) -> Contact:
    return _contact(await contacts.get(actor, contact_id))


@router.post(
    "/contacten/{contact_id}/identificatie",
    response_model=Contact,
    responses=RESPONSES,
    summary="Identificeer de klant van dit contact: met controlevragen, of met de inlog van de klant "
    "(idToken van de DigiD/eHerkenning-broker)",
    description="Een medewerker legt alleen `geen` of `controlevragen` vast. Een DigiD- of "
    "eHerkenningniveau komt uitsluitend uit een geverifieerd ID-token (`idToken`) van de broker van "
    "de organisatie: handtekening (JWKS), issuer, audience, geldigheid en nonce (eenmalig) worden "
    "gecontroleerd, het niveau volgt uit de acr-tabel en de klant in het token moet de klant van dit "
    "contact zijn (anders 403 met `reden: ASSERTION_SUBJECT_MISMATCH`, niveau ongewijzigd). Een "
    "getypt DigiD- of eHerkenningniveau in `zekerheid` geeft 400.",
)
async def identify(
    contact_id: str, body: Identificatie, actor: ActorDep, contacts: ContactsDep, trace: TraceDep
) -> Contact:
    if body.id_token is not None:
        if body.zekerheid is not None:
            raise ContactError(
                "Geef zekerheid of idToken, niet allebei: bij een inlog volgt het niveau uit het token.",
                field="zekerheid",
            )
        view = await contacts.identify_with_id_token(
            actor, contact_id, subject=body.subject(), id_token=body.id_token, nonce=body.nonce, trace=trace
        )
    elif body.zekerheid is None:
        raise ContactError("Geef zekerheid (geen of controlevragen) of idToken.", field="zekerheid")
    else:
        view = await contacts.identify(
            actor, contact_id, subject=body.subject(), assurance=body.zekerheid, trace=trace
        )
    return _contact(view)


@router.post(
    "/contacten/{contact_id}/controlevragen",
    response_model=list[Controlevraag],
    responses=RESPONSES,
    summary="De controlevragen voor deze klant mét de antwoorden uit de basisregistratie (gelogd); "
    "pas daarna kan 'controlevragen' als zekerheid worden vastgelegd",
)
async def control_answers(
    contact_id: str, body: SubjectRef, actor: ActorDep, identification: IdentificationDep, trace: TraceDep
) -> list[Controlevraag]:
    vragen = await identification.answers(actor, contact_id, body.subject(), trace=trace)
    return [Controlevraag(vraag=v.vraag, antwoord=v.antwoord) for v in vragen]


@router.put(
    "/contacten/{contact_id}/verwerkingsactiviteit",
    response_model=Contact,
    responses=RESPONSES,
    summary="Kies of wijzig het doel van het contact (elke wijziging wordt gelogd)",
)
async def set_purpose(
    contact_id: str, body: DoelWijziging, actor: ActorDep, contacts: ContactsDep, trace: TraceDep
) -> Contact:
    return _contact(await contacts.set_purpose(actor, contact_id, body.verwerkingsactiviteit, trace=trace))


@router.post(
    "/contacten/{contact_id}/beeindiging",
    response_model=Contact,
    responses=RESPONSES,
    summary="Beëindig het contact; de toegang tot de klant eindigt daarmee",
)
async def end_contact(contact_id: str, actor: ActorDep, contacts: ContactsDep) -> Contact:
    return _contact(await contacts.end(actor, contact_id))


@router.get(
    "/contacten/{contact_id}/klantbeeld",
    response_model=Klantbeeld,
    responses=RESPONSES,
    response_model_by_alias=True,
    summary="Het klantbeeld van de klant van dit contact, voor het doel van dit contact",
)
async def klantbeeld_of_contact(
    contact_id: str, actor: ActorDep, contacts: ContactsDep, klantbeeld: KlantbeeldDep, trace: TraceDep
) -> Response:
    context = await contacts.context_for(actor, contact_id, trace=trace)
    return _klantbeeld_response(await klantbeeld.read(context))


@router.post(
    "/klantbeelden",
    response_model=Klantbeeld,
    responses=RESPONSES,
    response_model_by_alias=True,
    summary="Klantbeeld opvragen; klant en doel moeten die van het contact zijn",
)
async def klantbeeld(
    body: KlantbeeldVraag, actor: ActorDep, contacts: ContactsDep, klantbeeld: KlantbeeldDep, trace: TraceDep
) -> Response:
    context = await contacts.context_for(
        actor, body.contact_id, trace=trace, subject=body.subject(), purpose_id=body.verwerkingsactiviteit
    )
    return _klantbeeld_response(await klantbeeld.read(context))


@router.post(
    "/zaaksessies",
    status_code=status.HTTP_201_CREATED,
    response_model=Contact,
    responses=RESPONSES,
    summary="Behandelaar: klantbeeld van de initiator van een zaak, voor het behandeldoel van het zaaktype",
)
async def start_zaak_session(
    body: ZaakSessieStart, actor: ActorDep, contacts: ContactsDep, trace: TraceDep
) -> Contact:
    return _contact(await contacts.start_for_zaak(actor, zaak_identificatie=body.zaak, trace=trace))
