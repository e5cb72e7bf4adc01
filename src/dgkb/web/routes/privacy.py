"""Privacy officer: search the access log (POST only: a BSN never appears in a URL) and export CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.query import AccessEntry
from dgkb.composition.deps import AccessLogDep, ObjectionsDep, RegisterDep
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.web.deps import AMSTERDAM, CheckedDep, SessionDep, render, roles
from dgkb.web.klantbeeld_view import label

router = APIRouter(include_in_schema=False)
EXPORT_LIMIT = 500


class _Filters:
    def __init__(self, form: dict[str, str]) -> None:
        self.form = form
        self.subject: Subject | None = None
        ident = form.get("klant", "").replace(" ", "")
        if ident:
            self.subject = Subject.business(ident) if len(ident) == 8 else Subject.person(ident)
        self.medewerker = form.get("medewerker", "").strip() or None
        self.doel = form.get("doel", "").strip() or None
        self.vanaf = _day(form.get("vanaf"), "vanaf")
        tot = _day(form.get("tot"), "tot")
        self.tot = tot + timedelta(days=1) if tot else None  # inclusive end day

    def kwargs(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "actor_id": self.medewerker,
            "processing_activity_id": self.doel,
            "since": self.vanaf,
            "until": self.tot,
        }


def _day(text: str | None, field: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=AMSTERDAM).astimezone(UTC)
    except ValueError:
        raise DomainError(f"{field}: geen geldige datum", field=field) from None


def _doelen(register: Register) -> list[tuple[str, str]]:
    return [(va.id, f"{va.naam} ({va.organisatie.naam})") for va in register.verwerkingsactiviteiten]


@router.get("/privacy", name="privacy", dependencies=[roles(Role.PRIVACY)])
async def privacy_page(
    request: Request, register: RegisterDep, session: SessionDep, objections: ObjectionsDep
) -> Response:
    # objections (bezwaar) of customers that wait for the privacy officer of this organisation
    pending = await objections.pending(session.actor.organisation) if session.actor else []
    names = {va.id: va.naam for va in register.verwerkingsactiviteiten}
    return render(
        request,
        "privacy.html",
        {"doelen": _doelen(register), "form": {}, "bezwaren": pending, "doelnamen": names},
    )


@router.post("/privacy/zoeken", name="privacy_search", dependencies=[roles(Role.PRIVACY)])
async def privacy_search(
    request: Request, session: CheckedDep, access_log: AccessLogDep, register: RegisterDep
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        filters = _Filters(form)
        page = await access_log.search(limit=100, **filters.kwargs())
    except DomainError as exc:
        return render(
            request,
            "privacy.html",
            {"doelen": _doelen(register), "form": form, "fout": exc.message},
            status=400,
        )
    names = {va.id: va.naam for va in register.verwerkingsactiviteiten}
    return render(
        request,
        "privacy.html",
        {
            "doelen": _doelen(register),
            "form": form,
            "resultaten": page.items,
            "meer": page.next_cursor is not None,
            "doelnamen": names,
            "label": label,
            "gezocht": True,
        },
    )


def _row(e: AccessEntry, names: dict[str, str]) -> list[str]:
    return [
        e.occurred_at.astimezone(AMSTERDAM).isoformat(timespec="seconds"),
        e.actor_id,
        e.actor_role,
        e.organisation,
        e.organisation_unit or "",
        names.get(e.processing_activity_id, e.processing_activity_id),
        e.channel,
        e.assurance,
        e.outcome,
        " ".join(e.categories_delivered),
        " ".join(e.categories_denied),
        e.decision.register_version if e.decision else "",
        e.trace_id,
        e.data_subject_id,
    ]


@router.post("/privacy/export", name="privacy_export", dependencies=[roles(Role.PRIVACY)])
async def privacy_export(
    request: Request, session: CheckedDep, access_log: AccessLogDep, register: RegisterDep
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        filters = _Filters(form)
        page = await access_log.search(limit=EXPORT_LIMIT, **filters.kwargs())
    except DomainError as exc:
        return render(
            request,
            "privacy.html",
            {"doelen": _doelen(register), "form": form, "fout": exc.message},
            status=400,
        )
    names = {va.id: va.naam for va in register.verwerkingsactiviteiten}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "tijdstip",
            "medewerker",
            "rol",
            "organisatie",
            "afdeling",
            "doel",
            "kanaal",
            "zekerheid",
            "uitkomst",
            "geleverd",
            "geweigerd",
            "registerversie",
            "trace_id",
            "betrokkene_pseudoniem",
        ]
    )
    for entry in page.items:
        writer.writerow(_row(entry, names))
    stamp = datetime.now(AMSTERDAM).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="toegangslog-{stamp}.csv"'},
    )
