"""/api/v1/contacten/{id}/contactmomenten: register what a contact was about, from any channel.

The console's registration over the API, for a chat platform, a web form or a phone system: one or
more questions, each saved as its own klantcontact in Klantinteracties, and optionally a contactverzoek
for the back office. The same service as the console (dgkb.contacts.moment), so the same rules — every
question validated before the first write — and the same logging: the gateway writes the LDV record
before each write leaves DGKB.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field

from dgkb.api.deps import ActorDep, TraceDep
from dgkb.api.problems import ApiProblem
from dgkb.api.v1.schemas import Camel
from dgkb.composition.deps import MomentsDep
from dgkb.contacts.moment import (
    MAX_VRAGEN,
    MAX_ZAKEN,
    Contactverzoek,
    OpgeslagenVraag,
    Registratie,
    Uitkomst,
    Vraag,
)

router = APIRouter(tags=["contactmomenten"])


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Ongeldige invoer; `invalidParams` noemt elk veld, bijv. `vragen.0.onderwerp`"},
    401: {"description": "Niet ingelogd"},
    403: {
        "description": "Geen toegang; `reden` zegt waarom: ROLE_NOT_ALLOWED, CONTACT_OF_OTHER_ACTOR, "
        "CONTACT_ENDED, CONTACT_EXPIRED, SUBJECT_NOT_IDENTIFIED, PURPOSE_NOT_CHOSEN"
    },
    404: {"description": "Contact niet gevonden"},
    409: {
        "description": "Er is niets opgeslagen, bijv. omdat de klant (nog) niet bekend is in "
        "Klantinteracties (`reden`: SUBJECT_NOT_IN_SOURCE)"
    },
    503: {
        "description": "Klantinteracties is niet bereikbaar en er is nog niets opgeslagen; `bron` "
        "noemt de bron"
    },
}


# --- request ---------------------------------------------------------------------------------------


class VraagInvoer(Camel):
    """Eén vraag van de klant in dit contact; wordt één klantcontact in Klantinteracties."""

    onderwerp: str = Field(description="Id van een onderwerp uit GET /contactmoment-keuzelijsten")
    vraag: str = Field(description="De vraag van de klant")
    antwoord: str = Field(
        default="", description="Het gegeven antwoord (vraag en antwoord samen ≤ 1000 tekens)"
    )
    uitkomst: Uitkomst
    doorverwezen_naar: str | None = Field(
        default=None, description="Bij uitkomst `doorverwezen` verplicht: naar welke organisatie"
    )
    zaken: list[str] = Field(
        default_factory=list,
        description=f"Identificaties van zaken waarover de vraag ging (hoogstens {MAX_ZAKEN})",
    )
    beantwoord: bool | None = Field(
        default=None,
        description="Is de vraag in dit contact beantwoord (mate van beantwoording)? Weglaten: niet "
        "gevraagd. Alleen voor de gepseudonimiseerde telling van meten en leren, niet in Klantinteracties",
    )

    def to_vraag(self) -> Vraag:
        return Vraag(
            onderwerp=self.onderwerp,
            vraag=self.vraag,
            antwoord=self.antwoord,
            uitkomst=self.uitkomst,
            doorverwezen_naar=self.doorverwezen_naar or None,
            zaken=tuple(self.zaken),
            beantwoord=self.beantwoord,
        )


class ContactverzoekInvoer(Camel):
    """Een verzoek aan de backoffice (interne taak), gekoppeld aan de laatst opgeslagen vraag."""

    afdeling: str = Field(description="Id van een afdeling uit GET /contactmoment-keuzelijsten")
    gevraagde_handeling: str = Field(description="Wat er moet gebeuren (≤ 200 tekens)")
    toelichting: str = Field(default="", description="Toelichting (≤ 1000 tekens, met afdeling en deadline)")
    medewerker: str | None = Field(default=None, description="Een bepaalde medewerker, als die er is")
    deadline: date | None = Field(
        default=None, description="Graag afgehandeld vóór deze datum (niet verleden)"
    )

    def to_verzoek(self) -> Contactverzoek:
        return Contactverzoek(
            afdeling=self.afdeling,
            gevraagde_handeling=self.gevraagde_handeling,
            toelichting=self.toelichting,
            medewerker=self.medewerker or None,
            deadline=self.deadline,
        )


class ContactmomentInvoer(Camel):
    vragen: list[VraagInvoer] = Field(description=f"1 tot en met {MAX_VRAGEN} vragen")
    contactverzoek: ContactverzoekInvoer | None = None


# --- response --------------------------------------------------------------------------------------


class Opslag(StrEnum):
    OPGESLAGEN = "opgeslagen"
    ONVOLLEDIG = "onvolledig"  # saved, but a link (klant, zaak) is missing
    NIET_OPGESLAGEN = "niet-opgeslagen"


class OpgeslagenVraagUitvoer(Camel):
    index: int = Field(description="Positie in `vragen` (0 = de eerste), zoals in de veldnamen van fouten")
    onderwerp: str = Field(description="Het onderwerp zoals het is opgeslagen")
    uitkomst: Uitkomst
    status: Opslag = Field(
        description="opgeslagen; onvolledig (opgeslagen, maar de koppeling aan klant of zaak ontbreekt); "
        "niet-opgeslagen"
    )
    nummer: str | None = Field(description="Nummer van het klantcontact in Klantinteracties")
    fout: str | None = Field(description="Wat er misging, als de vraag niet (volledig) is opgeslagen")
    reden: str | None = Field(
        description="Stabiele code bij `fout`: SUBJECT_NOT_IN_SOURCE, SOURCE_UNAVAILABLE, SOURCE_REFUSED, "
        "LINK_FAILED"
    )


class ContactverzoekUitvoer(Camel):
    nummer: str | None = Field(description="Nummer van de interne taak in Klantinteracties")
    fout: str | None = Field(description="Waarom het contactverzoek niet is aangemaakt")


class Contactmoment(Camel):
    contact_id: str
    vragen: list[OpgeslagenVraagUitvoer]
    contactverzoek: ContactverzoekUitvoer | None = Field(description="Alleen als er een is gevraagd")
    alles_opgeslagen: bool = Field(description="Elke vraag volledig opgeslagen, en het contactverzoek ook")
    bron: str = Field(description="De bron waarin is geregistreerd")


def _status(vraag: OpgeslagenVraag) -> Opslag:
    if vraag.nummer is None:
        return Opslag.NIET_OPGESLAGEN
    return Opslag.OPGESLAGEN if vraag.volledig else Opslag.ONVOLLEDIG


def _uitvoer(contact_id: str, result: Registratie, verzoek_gevraagd: bool) -> Contactmoment:
    return Contactmoment(
        contact_id=contact_id,
        vragen=[
            OpgeslagenVraagUitvoer(
                index=v.index,
                onderwerp=v.onderwerp,
                uitkomst=v.uitkomst,
                status=_status(v),
                nummer=v.nummer,
                fout=v.fout,
                reden=v.reden,
            )
            for v in result.vragen
        ],
        contactverzoek=ContactverzoekUitvoer(nummer=result.contactverzoek, fout=result.contactverzoek_fout)
        if verzoek_gevraagd
        else None,
        alles_opgeslagen=result.alles_opgeslagen,
        bron=result.bron,
    )


@router.post(
    "/contacten/{contact_id}/contactmomenten",
    status_code=status.HTTP_201_CREATED,
    response_model=Contactmoment,
    responses=RESPONSES,
    summary="Registreer het contactmoment: één of meer vragen van de klant, en eventueel een "
    "contactverzoek voor de backoffice",
    description="Elke vraag wordt een eigen klantcontact van de klant van dit contact in "
    "Klantinteracties (kanaal van het contact, onderwerp, vraag en antwoord, uitkomst, gekoppelde "
    "zaken); het contactverzoek wordt een interne taak bij de laatst opgeslagen vraag. Alle invoer "
    "wordt gecontroleerd vóór het eerste schrijven (400 noemt het veld); elke schrijfactie wordt "
    "vooraf gelogd. Het antwoord (201) zegt per vraag wat er is opgeslagen: het nummer, of de fout — "
    "een storing halverwege laat de eerdere vragen staan. Is er niets opgeslagen, dan 409 (of 503 "
    "als Klantinteracties niet bereikbaar is). Vereist een geïdentificeerde klant en een gekozen doel.",
)
async def register_contactmoment(
    contact_id: str, body: ContactmomentInvoer, actor: ActorDep, moments: MomentsDep, trace: TraceDep
) -> Contactmoment:
    result = await moments.register(
        actor,
        contact_id,
        vragen=[v.to_vraag() for v in body.vragen],
        contactverzoek=body.contactverzoek.to_verzoek() if body.contactverzoek else None,
        trace=trace,
    )
    if not any(v.nummer for v in result.vragen):
        first = result.vragen[0]  # validation guarantees at least one question
        raise ApiProblem(
            409,
            f"Er is niets opgeslagen. {first.fout or ''}".strip(),
            code="contactmoment.niet_opgeslagen",
            extra={"reden": first.reden or "NOTHING_SAVED"},
        )
    return _uitvoer(contact_id, result, body.contactverzoek is not None)


# --- choice lists ----------------------------------------------------------------------------------


class Keuze(Camel):
    id: str
    naam: str


class Keuzelijsten(Camel):
    onderwerpen: list[Keuze] = Field(description="De onderwerpen voor de organisatie van de medewerker")
    uitkomsten: list[Keuze]
    afdelingen: list[Keuze] = Field(description="Waar een contactverzoek heen kan")
    doorverwijzen: list[str] = Field(description="Organisaties waarnaar kan worden doorverwezen")


@router.get(
    "/contactmoment-keuzelijsten",
    response_model=Keuzelijsten,
    responses={401: RESPONSES[401]},
    summary="De keuzelijsten voor het registreren van een contactmoment: onderwerpen, uitkomsten, "
    "afdelingen en organisaties om naar door te verwijzen",
)
async def keuzelijsten(actor: ActorDep, moments: MomentsDep) -> Keuzelijsten:
    options = moments.options
    return Keuzelijsten(
        onderwerpen=[Keuze(id=o.id, naam=o.naam) for o in options.onderwerpen_for(actor.organisation)],
        uitkomsten=[Keuze(id=u.value, naam=u.label) for u in Uitkomst],
        afdelingen=[Keuze(id=a.id, naam=a.naam) for a in options.afdelingen],
        doorverwijzen=list(options.doorverwijzen),
    )
