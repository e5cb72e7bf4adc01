"""The signals over real klantbeelden (simulators on real sockets, the register's purposes, the
policy engine): a signal comes only from what the contact's purpose shows. Each case has its
contrast — the same customer under a purpose that does show the data gives the signal — so the
check can fail. "Today" is fixed here (the world is built around its reference date), which the
console cannot do: tests/web/test_fold.py checks the screen itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dgkb.klantbeeld.schemas import Sectie
from dgkb.klantbeeld.signals import SignalKind, evaluate
from dgkb.simulators.world import build_world
from dgkb.simulators.world.constants import REFERENCE_DATE
from tests.api.conftest import GEMEENTE, Stack, open_contact

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"
BELASTINGEN = GEMEENTE + "gemeentelijke-belastingen"  # contact history, no zaken
PARKEREN = GEMEENTE + "parkeervergunning"  # zaken, no contact history


async def _kinds(stack: Stack, purpose: str, bsn: str, today: date) -> list[SignalKind]:
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, purpose, bsn=bsn)
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return [s.kind for s in evaluate([Sectie.model_validate(s) for s in body["secties"]], today)]


async def test_a_repeat_contact_only_under_a_purpose_that_shows_the_contact_history(stack: Stack) -> None:
    repeat = build_world().special["repeat_contacts"]  # three contacts about one onderwerp in two weeks
    assert SignalKind.HERHAALD_CONTACT in await _kinds(stack, ALGEMEEN, repeat, REFERENCE_DATE)
    hidden = await _kinds(stack, PARKEREN, repeat, REFERENCE_DATE)
    assert SignalKind.HERHAALD_CONTACT not in hidden
    assert SignalKind.RECENT_CONTACT not in hidden


async def test_a_zaak_past_its_due_date_only_under_a_purpose_that_shows_zaken(stack: Stack) -> None:
    bsn = "999993653"  # an open zaak due 3 November (the world's reference date is 1 November)
    later = REFERENCE_DATE + timedelta(days=30)
    assert SignalKind.ZAAK_OVER_TERMIJN in await _kinds(stack, LOPENDE_ZAAK, bsn, later)
    assert SignalKind.ZAAK_OVER_TERMIJN not in await _kinds(stack, BELASTINGEN, bsn, later)
    # on the reference date itself it is not due yet
    assert SignalKind.ZAAK_OVER_TERMIJN not in await _kinds(stack, LOPENDE_ZAAK, bsn, REFERENCE_DATE)
