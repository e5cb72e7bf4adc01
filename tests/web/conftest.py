"""The console in a real browser: Debian's chromium driven by Playwright, against the whole stack
(simulators + DGKB on real sockets, as in tests/api). Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

import tests.api.conftest as api_conftest
from dgkb.app import create_app
from dgkb.runner import rebase_sources
from dgkb.settings import Environment, Settings
from dgkb.simulators.serve import serve_in_background
from tests.api.conftest import Stack
from tests.clients import http_client
from tests.conftest import DB_BACKENDS, fresh_database_url

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GEMEENTE = "https://register.voorbeeldstad.nl/verwerkingen/"


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """The whole stack on real sockets, as in tests/api, with the production deadline (2 s) for a
    source: here a browser, the app and the simulators share two cores with another test worker, so
    a source's quick 503 answered late under that load must not read as a timeout."""
    async with api_conftest.running_stack(database_url, simulators, source_deadline_seconds=2.0) as running:
        yield running


@pytest.fixture(params=DB_BACKENDS[-1:])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One backend for the browser tests: PostgreSQL when it is there (CI, production), else SQLite.
    What the console shows does not depend on the backend, and the API tests run both; a browser
    test takes seconds, so running each twice would double the slowest part of the suite."""
    return await fresh_database_url(request.param, tmp_path)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("chromium ontbreekt: apt-get install -y chromium")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class Console:
    """One browser context on the console, with the checks every page gets."""

    def __init__(self, context: BrowserContext, page: Page, stack: Stack) -> None:
        self.context = context
        self.page = page
        self.stack = stack
        self.csp_violations: list[str] = []
        self.urls: list[str] = []
        page.on("console", self._console)
        page.on("framenavigated", lambda frame: self.urls.append(frame.url))
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("dialog", self._accept)

    async def _accept(self, dialog: Any) -> None:
        await dialog.accept()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)

    async def login(self, user: str) -> None:
        await self.page.goto("/")
        await self.page.get_by_role("button", name=re.compile(re.escape(user))).click()
        await self.page.wait_for_url(re.compile(r"/(privacy|beheer|dashboard)?$"))

    async def axe(self, name: str) -> None:
        """Zero WCAG 2.1 A/AA violations (axe-core, evaluated through the devtools protocol, which
        the page's CSP does not apply to)."""
        if not await self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            await self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        result = await self.page.evaluate(
            "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }",
            WCAG_TAGS,
        )
        assert result == [], f"axe ({name}): {result}"

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.csp_violations == [], self.csp_violations
        # a BSN (999…) or KVK-nummer standing on its own, not digits inside an opaque uuid
        leaked = [u for u in self.urls if re.search(r"(?<![0-9a-f-])(999\d{6}|6875\d{4})(?![0-9a-f])", u)]
        assert leaked == [], f"personal data in URLs: {leaked}"


async def new_console(browser: Browser, stack: Stack, **context_args: Any) -> Console:
    options: dict[str, Any] = {
        "base_url": stack.api,
        "viewport": {"width": 1366, "height": 768},
        "locale": "nl-NL",
    }
    options.update(context_args)
    context = await browser.new_context(**options)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return Console(context, page, stack)


@pytest.fixture
async def console(browser: Browser, stack: Stack) -> AsyncIterator[Console]:
    c = await new_console(browser, stack)
    yield c
    await c.context.close()


@pytest.fixture
async def slow_stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    """Every simulator answers after 50 ms, as a realistic source would (the session's simulators,
    reset for this test, then slowed down)."""
    async with http_client() as c:
        for url in simulators.values():
            (await c.post(f"{url}/_sim/behaviour", json={"latencyMs": 50})).raise_for_status()
    settings = Settings(env=Environment.TEST, database_url=database_url, port=0)
    app = create_app(settings, source_overrides=rebase_sources(settings, simulators))
    async with (
        app.router.lifespan_context(app),
        serve_in_background(app) as (_, api),
        http_client(base_url=api) as client,
    ):
        yield Stack(api=api, simulators=simulators, settings=settings, client=client, app=app)


# --- the agent's steps, shared by the scenarios -----------------------------------------------------


async def start_contact(c: Console, kanaal: str = "Telefoon", reden: str = "") -> None:
    page = c.page
    await page.get_by_label(kanaal, exact=True).check()
    if reden:
        await page.get_by_label(re.compile("Reden van contact")).fill(reden)
    await page.get_by_role("button", name="Contact starten").click()
    await page.wait_for_url(re.compile(r"/contacten/[0-9a-f-]{36}$"))


async def find_and_pick(c: Console, zoekterm: str, naam: str | None = None) -> None:
    page = c.page
    await page.keyboard.press("/")
    await page.keyboard.type(zoekterm)
    await page.keyboard.press("Enter")
    hit = page.locator(".dgkb-hit__button")
    if naam:
        hit = hit.filter(has_text=naam)
    await hit.first.click()
    await page.get_by_role("heading", name="2. Identiteit controleren").wait_for()


async def identify_with_questions(c: Console) -> None:
    page = c.page
    await page.get_by_role("button", name=re.compile("antwoorden tonen")).click()
    await page.locator(".dgkb-answers").wait_for()
    await page.get_by_role("button", name=re.compile("klant geïdentificeerd")).click()
    await page.get_by_role("heading", name="3. Doel van het contact").wait_for()


async def choose_purpose(c: Console, slug: str) -> None:
    await c.page.locator(f'button[data-purpose="{slug}"]').click()
    await c.page.locator("[data-klantbeeld-geladen]").wait_for()


def section(c: Console, categorie: str) -> Any:
    return c.page.locator(f'article[data-categorie="{categorie}"]')


async def sim_requests(stack: Stack, source: str) -> list[dict[str, Any]]:
    async with http_client() as client:
        resp = await client.get(f"{stack.simulators[source]}/_sim/requests")
        resp.raise_for_status()
        data: list[dict[str, Any]] = resp.json()
        return data


async def nav_click(c: Console, name: str | re.Pattern[str]) -> None:
    """Follow a link of Mijn omgeving's menu; on a phone the menu is folded behind "Menu" first."""
    await c.page.wait_for_load_state("domcontentloaded")  # mijn.js (deferred) has folded the menu
    button = c.page.get_by_role("button", name=re.compile(r"^Menu"))
    if await button.is_visible() and await button.get_attribute("aria-expanded") != "true":
        await button.click()
    await c.page.get_by_role("navigation", name="Mijn omgeving").get_by_role("link", name=name).click()
