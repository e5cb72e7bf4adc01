"""The team lead's dashboard (/dashboard): meten en leren over fixed periods, charts and CSV.

Only the role teamleider; only its own organisation. The query string names the period (`soort`:
dag, week or maand; `periode`: the ISO date of the bucket's key) and optionally a team — nothing
personal, so GET is fine. A period that is not one of the shown buckets, or a team that is not in the
list, gets a Dutch message naming the field (400), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.composition.deps import DashboardDep
from dgkb.dashboard.service import (
    BEANTWOORD,
    CHART_NAMES,
    CONTACTEN,
    HERHAALD,
    TABLE_IDS,
    TABLES,
    DashboardService,
    dutch,
)
from dgkb.domain.errors import DomainError
from dgkb.domain.periods import AMSTERDAM, Bucket, Grain, latest_closed, parse_bucket, today_local
from dgkb.domain.roles import Role
from dgkb.web.deps import SessionDep, actor_of, render, roles

router = APIRouter(include_in_schema=False)
ALLOWED = roles(Role.TEAMLEIDER)


class DashboardInputError(DomainError):
    code = "dashboard.invalid"
    status = 400


@dataclass(frozen=True)
class Selection:
    bucket: Bucket
    team: str | None

    def query(self, **changes: str) -> str:
        params = {"soort": self.bucket.grain.value, "periode": self.bucket.key.isoformat()}
        if self.team:
            params["team"] = self.team
        params.update(changes)
        return "&".join(f"{k}={v}" for k, v in params.items() if v)


async def _select(request: Request, dashboard: DashboardService, organisation: str) -> Selection:
    """The period and team the query string asks for; DashboardInputError naming the field."""
    params = request.query_params
    try:
        grain = Grain(params.get("soort") or Grain.WEEK.value)
    except ValueError:
        raise DashboardInputError("Soort periode: kies dag, week of maand.", field="soort") from None
    text = params.get("periode")
    if text:
        try:
            bucket = parse_bucket(grain, text)
        except ValueError:
            what = {Grain.DAG: "een datum", Grain.WEEK: "een maandag", Grain.MAAND: "de eerste van een maand"}
            raise DashboardInputError(
                f"Periode: geef {what[grain]} (jjjj-mm-dd) van een periode uit de lijst.", field="periode"
            ) from None
        if bucket.key > latest_closed(grain, today_local()).key:
            raise DashboardInputError(
                "Periode: alleen afgelopen perioden; cijfers van een lopende periode veranderen nog en "
                "zouden door vergelijken iets over één klant kunnen verraden.",
                field="periode",
            )
    else:
        bucket = latest_closed(grain, today_local())
    team = params.get("team") or None
    if team is not None and team not in await dashboard.teams(organisation):
        raise DashboardInputError("Team: kies een team uit de lijst.", field="team")
    return Selection(bucket, team)


@router.get("/dashboard", name="dashboard", dependencies=[ALLOWED])
async def dashboard_page(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    organisation = actor_of(session).organisation
    teams = await dashboard.teams(organisation)
    try:
        selection = await _select(request, dashboard, organisation)
    except DashboardInputError as exc:
        grain = Grain.WEEK
        return render(
            request,
            "dashboard.html",
            {
                "fout": exc.message,
                "fout_veld": exc.field,
                "teams": teams,
                "soorten": list(Grain),
                "selectie": Selection(latest_closed(grain, today_local()), None),
                "perioden": await dashboard.periods(organisation, grain),
            },
            status=400,
        )
    view = await dashboard.view(organisation, selection.bucket, selection.team)
    charts = {name: dashboard.chart(view, name) for name in CHART_NAMES}
    return render(
        request,
        "dashboard.html",
        {
            "view": view,
            "selectie": selection,
            "teams": teams,
            "soorten": list(Grain),
            "perioden": await dashboard.periods(organisation, selection.bucket.grain),
            "grafieken": charts,
            "tabellen": TABLES,
            "vorige": selection.bucket.previous(),
            "volgende": _next_shown(selection.bucket),
            "contacten": CONTACTEN,
            "beantwoord": BEANTWOORD,
            "herhaald": HERHAALD,
            "getal": dutch,
        },
    )


def _next_shown(bucket: Bucket) -> Bucket | None:
    """The next bucket, when it is shown already (over)."""
    following = bucket.previous(-1)
    return following if following.key <= latest_closed(bucket.grain, today_local()).key else None


@router.get("/dashboard/grafiek/{naam}.svg", name="dashboard_chart", dependencies=[ALLOWED])
async def dashboard_chart(
    request: Request, naam: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    organisation = actor_of(session).organisation
    if naam not in CHART_NAMES:
        return Response("Onbekende grafiek.", status_code=404, media_type="text/plain; charset=utf-8")
    try:
        selection = await _select(request, dashboard, organisation)
    except DashboardInputError as exc:
        return Response(exc.message, status_code=400, media_type="text/plain; charset=utf-8")
    view = await dashboard.view(organisation, selection.bucket, selection.team)
    svg = await dashboard.chart_svg(view, naam)
    return Response(
        svg or "",
        media_type="image/svg+xml",
        # the same URL draws the same picture until the next aggregation run changes the version
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.get("/dashboard/export/{tabel}.csv", name="dashboard_csv", dependencies=[ALLOWED])
async def dashboard_csv(
    request: Request, tabel: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    organisation = actor_of(session).organisation
    if tabel not in TABLE_IDS:
        return Response("Onbekende tabel.", status_code=404, media_type="text/plain; charset=utf-8")
    try:
        selection = await _select(request, dashboard, organisation)
    except DashboardInputError as exc:
        return Response(exc.message, status_code=400, media_type="text/plain; charset=utf-8")
    view = await dashboard.view(organisation, selection.bucket, selection.team)
    stamp = datetime.now(AMSTERDAM).strftime("%Y%m%d-%H%M")
    team = f"-{selection.team}" if selection.team and tabel == "verloop" else ""
    name = f"dashboard-{tabel}-{selection.bucket.short_label}{team}"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return Response(
        dashboard.csv(view, tabel),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}-{stamp}.csv"'},
    )
