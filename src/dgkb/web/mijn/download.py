"""Download mijn gegevens (art. 15 and 20 AVG): everything DGKB shows or holds about the customer, as
JSON and as an accessible PDF, from the one export service (dgkb.composition.export) that the privacy
officer's inzage uses too. The subject is the session's: the export reads through the customer's own
contacts, so the PDP decides every section and the export is logged like any other read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dgkb.audit.records import AuditUnavailable
from dgkb.composition.deps import ContactsDep
from dgkb.composition.export import Export, ExportDep
from dgkb.web.deps import TraceDep
from dgkb.web.mijn.deps import MijnDep, own_contexts, render_mijn

router = APIRouter(include_in_schema=False)

_FORMATS = {"json": "application/json", "pdf": "application/pdf"}


@router.get("/mijn/download", name="mijn_download")
async def download_page(request: Request, mijn: MijnDep) -> Response:
    return render_mijn(request, "mijn/download.html", {"active": "/mijn/download"})


@router.get("/mijn/download/mijn-gegevens.{formaat}", name="mijn_download_file")
async def download(
    request: Request,
    formaat: str,
    mijn: MijnDep,
    contacts: ContactsDep,
    export: ExportDep,
    trace: TraceDep,
) -> Response:
    if formaat not in _FORMATS:
        return render_mijn(
            request,
            "mijn/fout.html",
            {"titel": "Onbekend formaat", "tekst": "Kies JSON of PDF."},
            status=404,
        )
    try:
        collected: Export = await export.collect(await own_contexts(mijn, contacts, trace), formaat=formaat)
    except AuditUnavailable:
        return render_mijn(
            request,
            "mijn/fout.html",
            {
                "titel": "Uw gegevens kunnen nu niet worden gedownload",
                "tekst": "Wij leggen vast wie uw gegevens bekijkt. Dat lukt nu niet, daarom maken wij "
                "geen download. Probeer het over een paar minuten opnieuw.",
            },
            status=503,
        )
    body = export.to_json(collected) if formaat == "json" else await export.to_pdf(collected)
    return Response(
        body,
        media_type=_FORMATS[formaat],
        headers={
            "Content-Disposition": f'attachment; filename="{collected.filename_stem}.{formaat}"',
            "Cache-Control": "no-store",
        },
    )
