"""/api/v1/verwerkingsactiviteiten and /api/v1/categorieen: the register and catalogue, readable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dgkb.api.deps import ActorDep
from dgkb.composition.deps import CatalogueDep, RegisterDep
from dgkb.domain.roles import Role

router = APIRouter(tags=["register"], responses={401: {"description": "Niet ingelogd"}})


@router.get("/verwerkingsactiviteiten", summary="Verwerkingsactiviteiten (doelen) uit het register")
async def list_purposes(actor: ActorDep, register: RegisterDep) -> dict[str, Any]:
    """Agents see the purposes their role and organisation may use; privacy and beheer see all."""
    everything = actor.role in (Role.PRIVACY, Role.BEHEERDER)
    items = [
        va.model_dump(mode="json")
        for va in register.verwerkingsactiviteiten
        if everything or (actor.role in va.rollen and va.organisatie.oin == actor.organisation)
    ]
    return {"registerversie": register.fingerprint, "resultaten": items}


@router.get("/categorieen", summary="De catalogus: informatietypen en categorieën")
async def list_categories(actor: ActorDep, catalogue: CatalogueDep) -> dict[str, Any]:
    return {"resultaten": [c.model_dump(mode="json") for c in catalogue.categorieen]}
