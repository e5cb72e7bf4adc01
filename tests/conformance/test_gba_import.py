"""`dgkb simulators import-gba`: the official GBA-V test set loaded into the BRP simulator."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dgkb.cli import app
from dgkb.runner import running_simulators
from dgkb.simulators import gba_import
from dgkb.simulators.world import build_world

TESTSET = "brp-personen/testset-gba-v-20220502.csv"
FIELDS = ["burgerservicenummer", "naam.voornamen", "naam.voorvoegsel", "naam.geslachtsnaam", "geboorte"]


@pytest.fixture(scope="module")
def testset(shared_reference: Path) -> Path:
    path = shared_reference / TESTSET
    if not path.is_file():
        pytest.skip(f"{TESTSET} not in {shared_reference}")
    return path


def _expected(testset: Path, count: int) -> list[dict[str, str]]:
    """The first persons of the CSV that the generated world does not have, read directly."""
    world = build_world()
    with testset.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    col = {name: i for i, name in reversed(list(enumerate(rows[0])))}
    found = []
    for row in rows[1:]:
        bsn = row[col["01.01.20"]]
        if row[0] and row[col["08.11.60"]] and world.person(bsn) is None and len(row[col["01.03.10"]]) == 8:
            found.append(
                {
                    "bsn": bsn,
                    "voornamen": row[col["01.02.10"]],
                    "voorvoegsel": row[col["01.02.30"]],
                    "geslachtsnaam": row[col["01.02.40"]],
                    "geboortedatum": row[col["01.03.10"]],
                }
            )
        if len(found) == count:
            break
    return found


def test_import_reports_counts(testset: Path, tmp_path: Path) -> None:
    output = tmp_path / "gba.json"
    result = CliRunner().invoke(
        app, ["simulators", "import-gba", "--csv", str(testset), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    report = gba_import.parse_testset(testset)[1]
    assert report.imported > 500
    assert report.skipped_total > 0  # persons without a Dutch address or a complete birth date
    assert report.imported + report.skipped_total == 687  # every person of the test set accounted for
    assert f"{report.imported} personen geïmporteerd" in result.output
    assert f"{report.skipped_total} overgeslagen" in result.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert len(document["personen"]) == report.imported
    assert sum(document["skipped"].values()) == report.skipped_total


def test_missing_csv_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulators", "import-gba", "--csv", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "niet gevonden" in result.output


async def test_brp_simulator_serves_imported_persons(
    testset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "gba.json"
    gba_import.import_gba(testset, output)
    monkeypatch.setenv(gba_import.ENV_FILE, str(output))
    expected = _expected(testset, 4)
    assert len(expected) == 4
    async with running_simulators(0) as urls, httpx.AsyncClient(timeout=10) as client:
        resp = await client.post(
            f"{urls['brp']}/haalcentraal/api/brp/personen",
            json={
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": [e["bsn"] for e in expected] + ["999993653"],
                "fields": FIELDS,
            },
        )
        assert resp.status_code == 200, resp.text
        personen = {p["burgerservicenummer"]: p for p in resp.json()["personen"]}
    for e in expected:
        persoon = personen[e["bsn"]]
        assert persoon["naam"]["geslachtsnaam"] == e["geslachtsnaam"]
        assert persoon["naam"].get("voornamen", "") == e["voornamen"]
        assert persoon["naam"].get("voorvoegsel", "") == e["voorvoegsel"]
        d = e["geboortedatum"]
        assert persoon["geboorte"]["datum"]["datum"] == f"{d[:4]}-{d[4:6]}-{d[6:]}"
    # a BSN in both: the generated world wins (999993653 is Suzanne Moulin in the test set)
    generated = build_world().person("999993653")
    assert generated is not None
    assert personen["999993653"]["naam"]["geslachtsnaam"] == generated.geslachtsnaam
