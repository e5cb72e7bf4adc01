"""The console when a source refuses DGKB's credentials: the section says "niet geautoriseerd bij de
bron" (no retry button: retrying cannot help), and the sources page counts the refusals apart."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.async_api import Browser, expect

from dgkb.app import create_app
from dgkb.runner import rebase_sources
from dgkb.settings import PROJECT_ROOT, Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import Stack
from tests.web.conftest import (
    Console,
    choose_purpose,
    find_and_pick,
    identify_with_questions,
    new_console,
    section,
    start_contact,
)


@pytest.fixture
async def stack(database_url: str, tmp_path: Path, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """The whole stack, with a Klantinteracties token that Open Klant (the simulator) refuses."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    data = yaml.safe_load((config / "sources.yaml").read_text(encoding="utf-8"))
    ki = next(s for s in data["sources"] if s["id"] == "klantinteracties")
    ki["auth"] = {"type": "token", "token": "verlopen-sleutel"}
    (config / "sources.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = Settings(env=Environment.TEST, database_url=database_url, port=0, config_dir=config)
    app = create_app(settings, source_overrides=rebase_sources(settings, simulators))
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app) as (_, api),
        httpx.AsyncClient(base_url=api, timeout=10) as client,
    ):
        yield Stack(api=api, simulators=simulators, settings=settings, client=client, app=app)


async def test_a_refused_credential_shows_as_niet_geautoriseerd(
    console: Console, browser: Browser, stack: Stack
) -> None:
    c, page = console, console.page
    await c.login("kcm-anna")
    await start_contact(c)
    await find_and_pick(c, "999993653", "Berg")
    await identify_with_questions(c)
    await choose_purpose(c, "kcc-algemene-vraag")
    historie = section(c, "contact.historie")
    await expect(historie).to_have_attribute("data-status", "niet-geautoriseerd")
    await expect(historie).to_contain_text("Niet geautoriseerd bij de bron")
    await expect(historie).to_contain_text("meld het aan beheer")
    assert await historie.get_by_role("button", name="Opnieuw proberen").count() == 0
    await expect(page.locator("#klantbeeld")).to_contain_text("door een probleem bij een bron")
    await expect(section(c, "klant.basis").first).to_have_attribute("data-status", "ok")
    await c.axe("niet-geautoriseerd")
    c.assert_clean()

    bea = await new_console(browser, stack)
    try:
        await bea.login("beheer-bea")
        await bea.page.goto("/beheer/bronnen")
        row = bea.page.locator("[data-bronnen] tr").filter(has_text="Klantinteracties (Open Klant)")
        await expect(row.locator("[data-niet-geautoriseerd]")).to_have_text("Niet geautoriseerd bij de bron")
        await expect(row).to_contain_text(re.compile(r"\d+ × niet geautoriseerd"))
        await bea.axe("bronnen-niet-geautoriseerd")
    finally:
        await bea.context.close()
