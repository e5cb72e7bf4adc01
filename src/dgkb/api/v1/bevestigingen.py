"""/api/v1/contacten/{id}/bevestigingen: "bevestig met DigiD" during a call (issue 9 §3; see
dgkb.contacts.confirmation)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import Field

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.v1.contacten import RESPONSES, _contact
from dgkb.api.v1.schemas import Camel, Contact
from dgkb.composition.deps import ConfirmationsDep
from dgkb.contacts.confirmation import Confirmation, Via
from dgkb.identity.broker_client import PublicLogin

router = APIRouter(tags=["contacten"])

_RESPONSES = RESPONSES | {
    410: {"description": "De bevestiging is verlopen"},
}


class BevestigingStart(Camel):
    via: Literal["sms", "email", "code"] = Field(
        description="sms of email: een link naar het geverifieerde mobiele nummer of e-mailadres van de "
        "klant in Klantinteracties; code: de medewerker leest een code voor die de klant op de korte URL "
        "intypt"
    )


class Terugleescode(Camel):
    code: str = Field(min_length=1, max_length=20, description="De code van 6 cijfers die de klant voorleest")


class Bevestiging(Camel):
    id: str
    status: str = Field(description="open, ingelogd, bevestigd, mislukt, geannuleerd of verlopen")
    via: str
    verloopt_op: datetime
    pogingen_over: int = Field(description="Hoe vaak de terugleescode nog fout mag zijn")
    zekerheid: str | None = Field(default=None, description="Het niveau van de inlog van de klant")
    korte_url: str | None = Field(
        default=None, description="Alleen bij via=code: waar de klant de code intypt"
    )
    code: str | None = Field(default=None, description="Alleen bij via=code, alleen bij het aanmaken")
    contact: Contact | None = Field(default=None, description="Het contact na een geslaagde terugleescode")


def _bevestiging(c: Confirmation) -> Bevestiging:
    return Bevestiging(
        id=c.id,
        status=c.status,
        via=c.via,
        verloopt_op=c.verloopt_op,
        pogingen_over=c.pogingen_over,
        zekerheid=c.zekerheid,
        korte_url=c.korte_url,
        code=c.code,
        contact=_contact(c.contact) if c.contact is not None else None,
    )


def public_base(request: Request) -> str:
    login: PublicLogin | None = getattr(request.app.state, "public_login", None)
    request_base = str(request.base_url)
    return login.base(request_base) if login is not None else request_base.rstrip("/")


@router.post(
    "/contacten/{contact_id}/bevestigingen",
    status_code=status.HTTP_201_CREATED,
    response_model=Bevestiging,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="Bevestig met DigiD: laat de beller tijdens het gesprek met DigiD inloggen",
    description="Maakt een bevestiging van 10 minuten, eenmalig, voor de klant van dit (geïdentificeerde) "
    "contact. `sms`/`email`: een link naar het **geverifieerde** mobiele nummer of e-mailadres uit "
    "Klantinteracties (geen geverifieerd adres: 409 met `veld: via`, kies dan `code`). `code`: het "
    "antwoord geeft de korte URL en een code die de medewerker voorleest. Na de DigiD-inlog toont de "
    "pagina de klant een terugleescode; pas als de medewerker die invoert (`/terugleescode`) stijgt het "
    "niveau.",
)
async def create_confirmation(
    contact_id: str,
    body: BevestigingStart,
    request: Request,
    actor: ActorDep,
    confirmations: ConfirmationsDep,
    trace: TraceDep,
) -> Bevestiging:
    created = await confirmations.create(
        actor, contact_id, via=Via(body.via), public_base=public_base(request), trace=trace
    )
    return _bevestiging(created)


@router.get(
    "/contacten/{contact_id}/bevestigingen/{bevestiging_id}",
    response_model=Bevestiging,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="De status van een bevestiging",
)
async def get_confirmation(
    contact_id: str, bevestiging_id: str, actor: ActorDep, confirmations: ConfirmationsDep
) -> Bevestiging:
    return _bevestiging(await confirmations.get(actor, contact_id, bevestiging_id))


@router.post(
    "/contacten/{contact_id}/bevestigingen/{bevestiging_id}/annulering",
    response_model=Bevestiging,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="Annuleer een bevestiging",
)
async def cancel_confirmation(
    contact_id: str, bevestiging_id: str, actor: ActorDep, confirmations: ConfirmationsDep, trace: TraceDep
) -> Bevestiging:
    return _bevestiging(await confirmations.cancel(actor, contact_id, bevestiging_id, trace=trace))


@router.post(
    "/contacten/{contact_id}/bevestigingen/{bevestiging_id}/terugleescode",
    response_model=Bevestiging,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    summary="Voer de terugleescode in die de klant voorleest: dan stijgt het niveau",
    description="Alleen als de klant met DigiD heeft ingelogd als de klant van dit contact. Verkeerde code: "
    "400 met `code` als veld; na 3 verkeerde codes is de bevestiging mislukt. Verlopen: 410; "
    "niet ingelogd, al gebruikt, geannuleerd of mislukt: 409. Niets verandert dan.",
)
async def read_back(
    contact_id: str,
    bevestiging_id: str,
    body: Terugleescode,
    actor: ActorDep,
    confirmations: ConfirmationsDep,
    trace: TraceDep,
) -> Bevestiging:
    done = await confirmations.read_back(actor, contact_id, bevestiging_id, body.code, trace=trace)
    return _bevestiging(done)
