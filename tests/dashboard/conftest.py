"""The dashboard over the whole stack (as tests/api: simulators and DGKB on real sockets, a real
database), with helpers to log staff into the console and to fill the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from dgkb.dashboard.aggregate import RunReport
from dgkb.dashboard.demo import DEMO_TEAMS, DemoOrganisation, seed_history
from dgkb.domain.periods import today_local
from tests.api.conftest import Stack, running_stack
from tests.clients import http_client

GEMEENTE_OIN = "00000001001234567000"


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    async with running_stack(database_url, simulators) as running:
        yield running


async def staff_login(client: httpx.AsyncClient, user: str) -> None:
    """The console's OIDC login through the dev issuer, as the browser does it (no JavaScript)."""
    start = await client.get("/login")
    assert start.status_code == 303, start.text
    authorize = urlsplit(start.headers["location"])
    back = await client.post(authorize.path, data={**dict(parse_qsl(authorize.query)), "gebruiker": user})
    assert back.status_code == 303, back.text
    target = urlsplit(back.headers["location"])
    done = await client.get(target.path, params=dict(parse_qsl(target.query)))
    assert done.status_code == 303, done.text


def console(stack: Stack) -> httpx.AsyncClient:
    return http_client(base_url=stack.api, follow_redirects=False)


async def fill(stack: Stack, *, days: int = 70, per_day: int = 60, today: date | None = None) -> RunReport:
    """Some weeks of the gemeente's made-up history, aggregated as a run would."""
    services = stack.app.state.services
    options = services.moments.options
    org = DemoOrganisation(
        organisation=GEMEENTE_OIN,
        per_werkdag=per_day,
        klanten=3000,
        onderwerpen=[o.id for o in options.onderwerpen_for(GEMEENTE_OIN)],
        teams=DEMO_TEAMS[GEMEENTE_OIN],
        doorverwijzen=["UWV", "Belastingdienst", "RDW"],
    )
    today = today or today_local()
    await seed_history(services.database, [org], ["brp", "zaken", "klantinteracties"], today=today, days=days)
    report: RunReport = await services.dashboard.aggregate()
    return report


def last_week(today: date | None = None) -> date:
    today = today or today_local()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7)
