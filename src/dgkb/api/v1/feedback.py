"""/api/v1/beoordelingen, /klachten, /meldingen: recording belevings- and feedbackdata during a contact."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import Field

from dgkb.api.deps import ActorDep, ServicesDep, TraceDep
from dgkb.api.v1.contacten import RESPONSES
from dgkb.api.v1.schemas import Camel
from dgkb.feedback.service import FeedbackSoort, FeedbackStatus, Recorded

router = APIRouter(tags=["beleving en feedback"])


class BeoordelingNieuw(Camel):
    contact_id: str = Field(max_length=36)
    score: int = Field(ge=0, le=10, description="0–10, zoals NPS")
    toelichting: str | None = Field(default=None, max_length=1000)
    onderwerp: str | None = Field(default=None, max_length=200)


class FeedbackNieuw(Camel):
    contact_id: str = Field(max_length=36)
    onderwerp: str = Field(min_length=1, max_length=200)
    omschrijving: str = Field(min_length=1, max_length=10_000)
    locatie: str | None = Field(default=None, max_length=300)


class StatusWijziging(Camel):
    status: FeedbackStatus
    toelichting: str | None = Field(default=None, max_length=1000)


class Vastgelegd(Camel):
    id: str
    nummer: str | None = None
    status: str | None = None
    vastgelegd_op: datetime


def _out(r: Recorded) -> Vastgelegd:
    return Vastgelegd(id=r.id, nummer=r.nummer, status=r.status, vastgelegd_op=r.vastgelegd_op)


@router.post(
    "/beoordelingen",
    status_code=status.HTTP_201_CREATED,
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Leg een beoordeling (0–10) van de klant van dit contact vast",
)
async def record_rating(
    body: BeoordelingNieuw, actor: ActorDep, services: ServicesDep, trace: TraceDep
) -> Vastgelegd:
    context = await services.contacts.context_for(actor, body.contact_id, trace=trace)
    return _out(
        await services.feedback.record_rating(
            context, score=body.score, toelichting=body.toelichting, onderwerp=body.onderwerp
        )
    )


async def _submit(
    soort: FeedbackSoort, body: FeedbackNieuw, actor: ActorDep, services: ServicesDep, trace: TraceDep
) -> Vastgelegd:
    context = await services.contacts.context_for(actor, body.contact_id, trace=trace)
    return _out(
        await services.feedback.submit(
            context,
            soort=soort,
            onderwerp=body.onderwerp,
            omschrijving=body.omschrijving,
            locatie=body.locatie,
        )
    )


@router.post(
    "/klachten",
    status_code=status.HTTP_201_CREATED,
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Leg een klacht van de klant van dit contact vast",
)
async def submit_complaint(
    body: FeedbackNieuw, actor: ActorDep, services: ServicesDep, trace: TraceDep
) -> Vastgelegd:
    return await _submit(FeedbackSoort.KLACHT, body, actor, services, trace)


@router.post(
    "/meldingen",
    status_code=status.HTTP_201_CREATED,
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Leg een melding (bijv. openbare ruimte) van de klant van dit contact vast",
)
async def submit_report(
    body: FeedbackNieuw, actor: ActorDep, services: ServicesDep, trace: TraceDep
) -> Vastgelegd:
    return await _submit(FeedbackSoort.MELDING, body, actor, services, trace)


@router.post(
    "/klachten/{item_id}/statussen",
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Zet de status van een klacht (backoffice)",
)
async def set_complaint_status(
    item_id: str, body: StatusWijziging, actor: ActorDep, services: ServicesDep
) -> Vastgelegd:
    return _out(
        await services.feedback.set_status(actor, item_id, status=body.status, toelichting=body.toelichting)
    )


@router.post(
    "/meldingen/{item_id}/statussen",
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Zet de status van een melding (backoffice)",
)
async def set_report_status(
    item_id: str, body: StatusWijziging, actor: ActorDep, services: ServicesDep
) -> Vastgelegd:
    return _out(
        await services.feedback.set_status(actor, item_id, status=body.status, toelichting=body.toelichting)
    )
