"""/api/v1/toestemmingen: consent given or withdrawn during a contact, for the contact's subject."""

from __future__ import annotations

from fastapi import APIRouter, status

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.v1.contacten import RESPONSES
from dgkb.api.v1.schemas import Toestemming, ToestemmingGeven, ToestemmingIntrekken
from dgkb.composition.deps import ConsentDep, ContactsDep
from dgkb.consent.service import Consent

router = APIRouter(tags=["toestemmingen"])


def _out(c: Consent) -> Toestemming:
    return Toestemming(
        id=c.id,
        verwerkingsactiviteit=c.processing_activity_id,
        categorieen=list(c.categories),
        kanaal=c.channel,
        gegeven_op=c.given_at,
        verloopt_op=c.expires_at,
        ingetrokken_op=c.withdrawn_at,
    )


@router.post(
    "/toestemmingen",
    status_code=status.HTTP_201_CREATED,
    response_model=Toestemming,
    responses=RESPONSES,
    summary="Leg toestemming van de klant vast voor categorieën van het doel van het contact",
    description=(
        "Alleen in een contact met de klant zelf (niet bij de behandeling van een zaak), geïdentificeerd "
        "met minstens controlevragen (anders 403 met `reden`), voor categorieën die het doel aan "
        "toestemming bindt en die een bron levert (anders 400 op `categorieen`). Vastleggen, intrekken "
        "en verlopen komen in het toegangslog."
    ),
)
async def give_consent(
    body: ToestemmingGeven, actor: ActorDep, contacts: ContactsDep, consent: ConsentDep, trace: TraceDep
) -> Toestemming:
    context = await contacts.context_for(actor, body.contact_id, trace=trace)
    # who may record consent, in which contact, for what: one place, shared with the console
    given = await consent.give(context, categories=body.categorieen, expires_at=body.verloopt_op)
    return _out(given)


@router.get(
    "/contacten/{contact_id}/toestemmingen",
    response_model=list[Toestemming],
    responses=RESPONSES,
    summary="Toestemmingen van de klant van dit contact",
)
async def list_consents(
    contact_id: str, actor: ActorDep, contacts: ContactsDep, consent: ConsentDep, trace: TraceDep
) -> list[Toestemming]:
    context = await contacts.context_for(actor, contact_id, trace=trace)
    return [_out(c) for c in await consent.list_for(context)]


@router.post(
    "/toestemmingen/{toestemming_id}/intrekking",
    response_model=Toestemming,
    responses=RESPONSES,
    summary="Trek een toestemming in; dat werkt bij de volgende beslissing",
)
async def withdraw_consent(
    toestemming_id: str,
    body: ToestemmingIntrekken,
    actor: ActorDep,
    contacts: ContactsDep,
    consent: ConsentDep,
    trace: TraceDep,
) -> Toestemming:
    context = await contacts.context_for(actor, body.contact_id, trace=trace)
    return _out(await consent.withdraw(context, toestemming_id))
