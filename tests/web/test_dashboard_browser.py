"""The team lead's dashboard in a real browser at 1366×768 (issue 15 §4): logging in lands on it, the
charts load as images under the page's CSP, axe finds nothing, and a table downloads as CSV."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.dashboard.conftest import fill
from tests.web.conftest import Console


async def test_the_teamleider_reads_the_dashboard_and_downloads_a_table(console: Console) -> None:
    await fill(console.stack, days=70)
    page = console.page
    await console.login("teamleider-tim")
    assert page.url.endswith("/dashboard")
    await page.get_by_role("heading", name=re.compile(r"^Meten en leren: week \d+")).wait_for()
    # the first chart is a server-rendered SVG image that loaded (nothing blocked by the CSP)
    chart = page.locator("img.dgkb-dash__chart").first
    await chart.scroll_into_view_if_needed()
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle()
    )
    assert await page.locator("table[data-tabel=kanalen] tbody tr").count() >= 3
    await console.axe("dashboard week")
    await console.shot("dashboard-1366")

    # another kind of period, and a team: the same page, other figures, still clean
    await page.get_by_role("link", name="Maand (hele weken)").click()
    await page.get_by_role("heading", name=re.compile(r"^Meten en leren: \w+ 20\d\d")).wait_for()
    await page.get_by_label("Team", exact=True).select_option("Klantcontactcentrum")
    await page.get_by_role("button", name="Tonen").click()
    await page.get_by_role("heading", name="In het kort: Klantcontactcentrum").wait_for()
    await console.axe("dashboard maand team")

    async with page.expect_download() as info:
        await page.locator("a.dgkb-dash__csv[href^='/dashboard/export/kanalen.csv']").click()
    download = await info.value
    assert download.suggested_filename.startswith("dashboard-kanalen-")
    saved = await download.path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "periode;kanaal;contacten;beantwoord;herhaald"
    assert any(line.split(";")[1] == "Telefoon" for line in lines[1:])
    console.assert_clean()
