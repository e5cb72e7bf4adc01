"""/api/v1/toegangslog: the privacy officer's search of who accessed whose data, when and why."""

from __future__ import annotations

from fastapi import APIRouter

from dgkb.api.deps import require_roles
from dgkb.api.v1.contacten import RESPONSES
from dgkb.api.v1.schemas import Pagina, ToegangslogZoekvraag
from dgkb.composition.deps import AccessLogDep
from dgkb.domain.identifiers import Subject
from dgkb.domain.roles import Role

router = APIRouter(tags=["toegangslog"])


@router.post(
    "/toegangslog/zoekopdrachten",
    response_model=Pagina,
    responses=RESPONSES,
    dependencies=[require_roles(Role.PRIVACY)],  # type: ignore[list-item]
    summary="Zoek in het toegangslog op betrokkene, medewerker, doel en periode (gepagineerd)",
)
async def search(body: ToegangslogZoekvraag, access_log: AccessLogDep) -> Pagina:
    # POST, not GET: a BSN must never end up in a URL (browser history, proxy logs).
    subject = None
    if body.bsn:
        subject = Subject.person(body.bsn)
    elif body.kvk_nummer:
        subject = Subject.business(body.kvk_nummer)
    page = await access_log.search(
        subject=subject,
        actor_id=body.medewerker,
        processing_activity_id=body.verwerkingsactiviteit,
        since=body.vanaf,
        until=body.tot,
        limit=body.limiet,
        cursor=body.cursor,
    )
    return Pagina(resultaten=[e.as_dict() for e in page.items], volgende=page.next_cursor)
