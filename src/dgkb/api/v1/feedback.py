"""/api/v1/beoordelingen, /klachten, /meldingen: recording belevings- and feedbackdata during a contact,
and handling complaints (Awb hoofdstuk 9) and reports in the back office."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import ConfigDict, Field, WithJsonSchema

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.v1.contacten import RESPONSES
from dgkb.api.v1.schemas import Camel, JsonInt
from dgkb.composition.deps import ContactsDep, FeedbackDep
from dgkb.domain.channels import Kanaal
from dgkb.feedback.handling import MAX_EXTENSION_WEEKS
from dgkb.feedback.service import FeedbackSoort, FeedbackStatus, ItemView, Recorded

router = APIRouter(tags=["beleving en feedback"])


class BeoordelingNieuw(Camel):
    contact_id: str = Field(max_length=36)
    score: JsonInt = Field(ge=0, le=10, description="0–10, zoals NPS")
    toelichting: str | None = Field(default=None, max_length=1000)
    onderwerp: str | None = Field(default=None, max_length=200)


class FeedbackNieuw(Camel):
    contact_id: str = Field(max_length=36)
    onderwerp: str = Field(min_length=1, max_length=200)
    omschrijving: str = Field(min_length=1, max_length=10_000)
    locatie: str | None = Field(default=None, max_length=300)
    voorkeurskanaal: Kanaal | None = Field(
        default=None, description="Hoe de klant het antwoord wil ontvangen (schriftelijk: e-mail of brief)"
    )


class StatusWijziging(Camel):
    # back to `ontvangen` is never a step (FeedbackInvalid, 400): not offered in the document either;
    # an `uitkomst` belongs to `afgehandeld` only (and a klacht's may not be left out: KlachtStatusWijziging)
    model_config = ConfigDict(json_schema_extra=lambda schema: _outcome_rule(schema, klacht=True))

    status: Annotated[
        FeedbackStatus,
        WithJsonSchema(
            {"type": "string", "enum": [s.value for s in FeedbackStatus if s is not FeedbackStatus.ONTVANGEN]}
        ),
    ]
    toelichting: str = Field(min_length=1, max_length=1000, description="Waarom de status verandert")
    uitkomst: str | None = Field(
        default=None,
        max_length=5000,
        description="Bij 'afgehandeld': het bericht aan de klant (bij een klacht verplicht, Awb 9:12)",
    )


class KlachtStatusWijziging(StatusWijziging):
    """A klacht is closed only with its outcome for the complainant (Awb 9:12)."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _outcome_rule(schema, klacht=True))


class MeldingStatusWijziging(StatusWijziging):
    """A melding has no hearing (Awb 9:10 is for complaints)."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _outcome_rule(schema, klacht=False))


def _outcome_rule(schema: dict[str, Any], *, klacht: bool) -> None:
    """What FeedbackService.set_status refuses with 400, as a oneOf: an `uitkomst` only with
    `afgehandeld` (a klacht's required there, and not blank); `hoorzitting` only for a klacht."""
    steps = [s for s in FeedbackStatus if s is not FeedbackStatus.ONTVANGEN]
    if not klacht:
        steps.remove(FeedbackStatus.HOORZITTING)
    schema["properties"]["status"] = {"type": "string", "enum": [s.value for s in steps]}
    others = [s.value for s in steps if s is not FeedbackStatus.AFGEHANDELD]
    outcome: dict[str, Any] = {"type": "string", "maxLength": 5000}
    if klacht:
        outcome["pattern"] = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # a blank one counts as none
    closing: dict[str, Any] = {
        "properties": {
            "status": {"const": FeedbackStatus.AFGEHANDELD.value},
            "uitkomst": outcome if klacht else {"anyOf": [outcome, {"type": "null"}]},
        }
    }
    if klacht:
        closing["required"] = ["uitkomst"]
    schema["oneOf"] = [
        {"title": "afgehandeld", **closing},
        {"title": "andere status", "properties": {"status": {"enum": others}, "uitkomst": {"type": "null"}}},
    ]


class Verdaging(Camel):
    weken: JsonInt = Field(default=MAX_EXTENSION_WEEKS, ge=1, le=MAX_EXTENSION_WEEKS)
    toelichting: str = Field(min_length=1, max_length=1000, description="Waarom de afhandeling langer duurt")


class Bericht(Camel):
    soort: str
    tekst: str | None
    kanaal: str | None
    status: str | None = Field(description="te-verzenden: er is nog geen uitgaand kanaal aangesloten")


class Stap(Camel):
    volgnummer: int | None
    status: str
    gebeurtenis: str | None
    tijdstip: datetime
    toelichting: str | None
    gezet_door: str | None
    rol: str | None
    verwerkingsactiviteit: str | None
    trace_id: str | None = Field(description="Koppelt de stap aan de regel in het toegangslog")
    bericht: Bericht | None = None


class Afhandeling(Camel):
    id: str
    nummer: str
    soort: str
    onderwerp: str
    omschrijving: str
    locatie: str | None
    status: str
    ingediend_op: datetime
    afgehandeld_op: datetime | None
    uiterlijke_afhandeldatum: date | None = Field(description="Awb 9:11; leeg bij een melding")
    termijn_overschreden: bool | None
    verdaagd: bool
    uitkomst: str | None
    statushistorie: list[Stap]


def _afhandeling(v: ItemView) -> Afhandeling:
    return Afhandeling(
        id=v.id,
        nummer=v.nummer,
        soort=v.soort,
        onderwerp=v.onderwerp,
        omschrijving=v.omschrijving,
        locatie=v.locatie,
        status=v.status,
        ingediend_op=v.ingediend_op,
        afgehandeld_op=v.afgehandeld_op,
        uiterlijke_afhandeldatum=v.uiterlijke_afhandeldatum,
        termijn_overschreden=v.termijn_overschreden,
        verdaagd=v.verdaagd,
        uitkomst=v.uitkomst,
        statushistorie=[
            Stap(
                volgnummer=h.volgnummer,
                status=h.status,
                gebeurtenis=h.gebeurtenis,
                tijdstip=h.datum,
                toelichting=h.toelichting,
                gezet_door=h.gezet_door,
                rol=h.rol,
                verwerkingsactiviteit=h.verwerkingsactiviteit,
                trace_id=h.trace_id,
                bericht=Bericht(
                    soort=h.bericht_soort,
                    tekst=h.bericht_tekst,
                    kanaal=h.bericht_kanaal,
                    status=h.bericht_status,
                )
                if h.bericht_soort
                else None,
            )
            for h in v.statushistorie
        ],
    )


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
    body: BeoordelingNieuw, actor: ActorDep, contacts: ContactsDep, feedback: FeedbackDep, trace: TraceDep
) -> Vastgelegd:
    context = await contacts.context_for(actor, body.contact_id, trace=trace)
    return _out(
        await feedback.record_rating(
            context, score=body.score, toelichting=body.toelichting, onderwerp=body.onderwerp
        )
    )


async def _submit(
    soort: FeedbackSoort,
    body: FeedbackNieuw,
    actor: ActorDep,
    contacts: ContactsDep,
    feedback: FeedbackDep,
    trace: TraceDep,
) -> Vastgelegd:
    context = await contacts.context_for(actor, body.contact_id, trace=trace)
    return _out(
        await feedback.submit(
            context,
            soort=soort,
            onderwerp=body.onderwerp,
            omschrijving=body.omschrijving,
            locatie=body.locatie,
            voorkeurskanaal=body.voorkeurskanaal,
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
    body: FeedbackNieuw, actor: ActorDep, contacts: ContactsDep, feedback: FeedbackDep, trace: TraceDep
) -> Vastgelegd:
    return await _submit(FeedbackSoort.KLACHT, body, actor, contacts, feedback, trace)


@router.post(
    "/meldingen",
    status_code=status.HTTP_201_CREATED,
    response_model=Vastgelegd,
    responses=RESPONSES,
    summary="Leg een melding (bijv. openbare ruimte) van de klant van dit contact vast",
)
async def submit_report(
    body: FeedbackNieuw, actor: ActorDep, contacts: ContactsDep, feedback: FeedbackDep, trace: TraceDep
) -> Vastgelegd:
    return await _submit(FeedbackSoort.MELDING, body, actor, contacts, feedback, trace)


async def _set_status(
    soort: FeedbackSoort,
    item_id: str,
    body: StatusWijziging,
    actor: ActorDep,
    feedback: FeedbackDep,
    trace: TraceDep,
) -> Afhandeling:
    return _afhandeling(
        await feedback.set_status(
            actor,
            item_id,
            soort=soort,
            status=body.status,
            toelichting=body.toelichting,
            uitkomst=body.uitkomst,
            trace=trace,
        )
    )


@router.post(
    "/klachten/{item_id}/statussen",
    response_model=Afhandeling,
    responses=RESPONSES,
    summary="Zet de status van een klacht (klachtbehandelaar volgens het register; gelogd)",
)
async def set_complaint_status(
    item_id: str, body: KlachtStatusWijziging, actor: ActorDep, feedback: FeedbackDep, trace: TraceDep
) -> Afhandeling:
    return await _set_status(FeedbackSoort.KLACHT, item_id, body, actor, feedback, trace)


@router.post(
    "/meldingen/{item_id}/statussen",
    response_model=Afhandeling,
    responses=RESPONSES,
    summary="Zet de status van een melding (behandelaar volgens het register; gelogd)",
)
async def set_report_status(
    item_id: str, body: MeldingStatusWijziging, actor: ActorDep, feedback: FeedbackDep, trace: TraceDep
) -> Afhandeling:
    return await _set_status(FeedbackSoort.MELDING, item_id, body, actor, feedback, trace)


@router.post(
    "/klachten/{item_id}/verdaging",
    response_model=Afhandeling,
    responses=RESPONSES,
    summary="Verdaag de afhandeling van een klacht eenmaal met ten hoogste 4 weken (Awb 9:11 lid 2)",
)
async def extend_complaint(
    item_id: str, body: Verdaging, actor: ActorDep, feedback: FeedbackDep, trace: TraceDep
) -> Afhandeling:
    return _afhandeling(
        await feedback.extend(actor, item_id, weken=body.weken, toelichting=body.toelichting, trace=trace)
    )


@router.get(
    "/klachten/{item_id}",
    response_model=Afhandeling,
    responses=RESPONSES,
    summary="Een klacht met termijn en statushistorie (klachtbehandelaar; gelogd)",
)
async def show_complaint(
    item_id: str, actor: ActorDep, feedback: FeedbackDep, trace: TraceDep
) -> Afhandeling:
    return _afhandeling(await feedback.show(actor, item_id, soort=FeedbackSoort.KLACHT, trace=trace))


@router.get(
    "/meldingen/{item_id}",
    response_model=Afhandeling,
    responses=RESPONSES,
    summary="Een melding met statushistorie (behandelaar; gelogd)",
)
async def show_report(item_id: str, actor: ActorDep, feedback: FeedbackDep, trace: TraceDep) -> Afhandeling:
    return _afhandeling(await feedback.show(actor, item_id, soort=FeedbackSoort.MELDING, trace=trace))
