"""Bezwaar: the customer objects to a processing purpose of an organisation (art. 21 AVG), or to all
its proactive purposes at once. An objection to a proactive purpose takes effect at once (the PDP
denies reads under it for this customer); any other goes to the privacy officer ("in behandeling").
The customer sees their objections and their status. The subject is that of their own contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep, ObjectionsDep, RegisterDep
from dgkb.consent.objections import Objection, ObjectionService
from dgkb.domain.context import RequestContext
from dgkb.domain.errors import DomainError
from dgkb.domain.register import Register
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import Mijn, MijnCheckedDep, MijnDep, OwnContact, own_contexts, render_mijn

router = APIRouter(include_in_schema=False)

PATH = "/mijn/bezwaar"
ALL_PROACTIVE = "alle-proactieve"
STATUS_TEXT = {
    "van-kracht": "Werkt al: wij gebruiken uw gegevens hiervoor niet meer",
    "in-behandeling": "In behandeling bij de privacyfunctionaris",
    "toegewezen": "Toegekend: wij gebruiken uw gegevens hiervoor niet meer",
    "afgewezen": "Afgewezen",
}
FIELD_LABELS = {"doel": "Doel", "toelichting": "Toelichting", "organisatie": "Organisatie"}
MELDINGEN = {
    "direct": "Uw bezwaar is vastgelegd en werkt meteen.",
    "behandeling": "Uw bezwaar is vastgelegd. De privacyfunctionaris beoordeelt het; u ziet hier de stand.",
}


@dataclass(frozen=True)
class ObjectionLine:
    doel: str
    gemaakt_op: datetime
    status: str
    status_tekst: str


@dataclass(frozen=True)
class Choice:
    id: str
    naam: str
    omschrijving: str
    proactief: bool


@dataclass(frozen=True)
class Organisation:
    own: OwnContact
    bezwaren: list[ObjectionLine]
    doelen: list[Choice]
    proactief: bool  # does the organisation have proactive purposes (the shortcut)


def _line(o: Objection, register: Register) -> ObjectionLine:
    purpose = register.get(o.processing_activity_id)
    return ObjectionLine(
        doel=purpose.naam if purpose else o.processing_activity_id,
        gemaakt_op=o.created_at,
        status=o.status,
        status_tekst=STATUS_TEXT.get(o.status, o.status),
    )


async def _organisations(
    mijn: Mijn, contexts: list[RequestContext], objections: ObjectionService, register: Register
) -> list[Organisation]:
    found = []
    for own, context in zip(mijn.contacts, contexts, strict=True):
        lines = [_line(o, register) for o in await objections.list_for(context)]
        choices = [
            Choice(va.id, va.naam, va.omschrijving, va.proactief)
            for va in objections.objectable(own.organisation)
        ]
        found.append(
            Organisation(own=own, bezwaren=lines, doelen=choices, proactief=any(c.proactief for c in choices))
        )
    return found


async def _page(
    request: Request,
    mijn: Mijn,
    contexts: list[RequestContext],
    objections: ObjectionService,
    register: Register,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    return render_mijn(
        request,
        "mijn/bezwaar.html",
        {
            "active": PATH,
            "organisaties": await _organisations(mijn, contexts, objections, register),
            "melding": MELDINGEN.get(request.query_params.get("melding", "")),
            "ALL_PROACTIVE": ALL_PROACTIVE,
            **extra,
        },
        status=status,
    )


@router.get(PATH, name="mijn_bezwaar")
async def bezwaar(
    request: Request,
    mijn: MijnDep,
    contacts: ContactsDep,
    objections: ObjectionsDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    contexts = await own_contexts(mijn, contacts, trace)
    return await _page(request, mijn, contexts, objections, register)


@router.post(PATH, name="mijn_bezwaar_maken")
async def object_to(
    request: Request,
    mijn: MijnCheckedDep,
    contacts: ContactsDep,
    objections: ObjectionsDep,
    register: RegisterDep,
    trace: TraceDep,
) -> Response:
    form = await request.form()
    organisatie = str(form.get("organisatie", ""))
    doel = str(form.get("doel", ""))
    toelichting = str(form.get("toelichting", ""))
    contexts = await own_contexts(mijn, contacts, trace)
    try:
        chosen = [
            c for own, c in zip(mijn.contacts, contexts, strict=True) if own.organisation == organisatie
        ]
        if not chosen:
            raise DomainError("kies een organisatie uit de lijst.", field="organisatie")
        if doel == ALL_PROACTIVE:
            purposes = [va.id for va in objections.proactive(organisatie)]
            if not purposes:
                raise DomainError("deze organisatie heeft geen proactieve diensten.", field="doel")
        else:
            purposes = [doel] if doel else []
        made = await objections.object(chosen[0], purposes, explanation=toelichting)
    except AuditUnavailable:
        return render_mijn(
            request,
            "mijn/fout.html",
            {
                "titel": "Dat lukt nu niet",
                "tekst": "Wij leggen vast wat er met uw bezwaar gebeurt. Dat lukt nu niet, daarom is er "
                "niets vastgelegd. Probeer het over een paar minuten opnieuw.",
            },
            status=503,
        )
    except DomainError as exc:
        name = FIELD_LABELS.get(exc.field or "")
        message = f"{name}: {exc.message}" if name else exc.message
        return await _page(
            request,
            mijn,
            contexts,
            objections,
            register,
            status=int(getattr(exc, "status", 400)),
            fout=message,
            veld=exc.field,
            form={"organisatie": organisatie, "doel": doel, "toelichting": toelichting[:2000]},
        )
    at_once = all(o.status != "in-behandeling" for o in made)
    return RedirectResponse(f"{PATH}?melding={'direct' if at_once else 'behandeling'}", status_code=303)
