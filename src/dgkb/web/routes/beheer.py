"""Functional administrator (read-only): the register of processing activities and the sources."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.composition.deps import CatalogueDep, FederationDep, RegisterDep, SourcesDep
from dgkb.domain.assurance import Assurance
from dgkb.domain.roles import Role
from dgkb.web.deps import render, roles
from dgkb.web.klantbeeld_view import label

router = APIRouter(include_in_schema=False)
ALLOWED = roles(Role.BEHEERDER, Role.PRIVACY)


@router.get("/beheer", name="beheer", dependencies=[ALLOWED])
async def register_page(request: Request, register: RegisterDep) -> Response:
    return render(
        request,
        "beheer_register.html",
        {"register": register, "items": list(enumerate(register.verwerkingsactiviteiten))},
    )


@router.get("/beheer/register/{index}", name="beheer_doel", dependencies=[ALLOWED])
async def purpose_page(
    request: Request, index: int, register: RegisterDep, catalogue: CatalogueDep
) -> Response:
    items = register.verwerkingsactiviteiten
    if not 0 <= index < len(items):
        return render(
            request, "fout.html", {"titel": "Niet gevonden", "tekst": "Dit doel bestaat niet."}, status=404
        )
    va = items[index]
    rows = []
    for cat_id, access in va.categorieen.items():
        category = catalogue.get(cat_id)
        rows.append(
            {
                "id": cat_id,
                "label": label(cat_id),
                "omschrijving": category.omschrijving if category else "",
                "velden": access.velden or (category.velden if category else ()),
                "bronnen": access.bronnen or (),
                "zekerheid": va.minimum_assurance(cat_id).label,
                "rollen": va.roles_for(cat_id),
                "toestemming": cat_id in va.toestemmingVereist,
            }
        )
    return render(
        request,
        "beheer_doel.html",
        {"va": va, "rows": rows, "zekerheid": Assurance(va.minimaleZekerheid).label},
    )


@router.get("/beheer/bronnen", name="beheer_bronnen", dependencies=[ALLOWED])
async def sources_page(
    request: Request, register: RegisterDep, sources: SourcesDep, federation: FederationDep
) -> Response:
    states = {s.source_id: s for s in federation.states()}
    rows = []
    for cfg in sources.all_configs:
        state = states.get(cfg.id)
        rows.append(
            {
                "cfg": cfg,
                "state": state,
                "health": state.health if state else None,
                "organisatie": register.organisation_name(cfg.organisation) or cfg.organisation,
            }
        )
    return render(request, "beheer_bronnen.html", {"rows": rows})
