"""The CSV of a dashboard table: Dutch numbers without thousands separators, "onderdrukt" for a
suppressed cell (never its numbers), and a label a spreadsheet cannot run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

from dgkb.dashboard.service import TABLES, Cell, DashboardService, DashboardView, Table
from dgkb.domain.periods import Bucket, Grain


def _view(rows: list[Cell]) -> DashboardView:
    spec = next(t for t in TABLES if t.id == "teams")
    total = Cell("", "Totaal", True, 1500, {"beantwoord_ja": 1200, "beantwoord_bekend": 1500, "herhaald": 30})
    return DashboardView(
        organisation="00000001001234567000",
        bucket=Bucket(Grain.WEEK, date(2026, 3, 2)),
        team=None,
        tables=[Table(spec, rows, total)],
        trend=[],
        figures=[],
        sources=[],
        source_series=[],
        version=1,
    )


def test_a_team_table_as_csv() -> None:
    rows = [
        Cell(
            "kcc",
            "Klantcontactcentrum",
            True,
            1234,
            {
                "beantwoord_ja": 1000,
                "beantwoord_bekend": 1234,
                "herhaald": 12,
                "duur_som": 370200,
                "duur_aantal": 1234,
            },
        ),
        Cell('=HYPERLINK("http://x")', '=HYPERLINK("http://x")', True, 20, {"beantwoord_bekend": 0}),
        Cell("klein", "Team Klein", False, 0, {}),
    ]
    service = DashboardService.__new__(DashboardService)  # csv() needs no database
    text = service.csv(_view(rows), "teams")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert lines[0] == ["periode", "team", "contacten", "beantwoord", "herhaald", "afhandeltijd"]
    assert lines[1] == ["2026-W10", "Klantcontactcentrum", "1234", "81,0", "1,0", "5,00"]
    assert lines[2][1] == '\'=HYPERLINK("http://x")'  # text, not a formula
    assert lines[2][3] == ""  # nobody was asked whether the question was answered
    assert lines[3] == ["2026-W10", "Team Klein", "onderdrukt", "onderdrukt", "onderdrukt", "onderdrukt"]
    assert lines[4][:3] == ["2026-W10", "Totaal", "1500"]
