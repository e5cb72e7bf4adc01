"""Drill (docs/beheer.md, "Pseudonymisation keys"): rotating the pseudonym key keeps every subject
findable in the log, and the hash chains still verify.

DGKB_PSEUDONYM_KEYS is a key ring: the first key makes new pseudonyms, every key in the ring is used
to search. A record keeps the pseudonym (and key id) it was written with — rewriting it would break
its hash chain — so the old key stays in the ring as long as records under it are kept.

The rotation as an operator runs it, on one database: views under key 1 alone; then key 2 added
behind key 1 (every node learns it before any node uses it); then key 2 first. The privacy officer's
search (API and CLI) and the citizen's own log find the views of all three phases; dropping key 1
from the ring is what would lose the oldest ones. No key material ends up in logs, answers or the
database."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dgkb.audit.access_log import AccessLog
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.settings import Settings
from dgkb.store.db import Database
from tests.api.conftest import GEMEENTE, WATERSCHAP, open_contact, running_stack
from tests.api.test_bevestiging import customer_login, readback_code, start

DGKB = [sys.executable, "-m", "dgkb.cli"]
BSN = "999993653"
ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
CONFIRM_PURPOSE = WATERSCHAP + "waterschapsbelasting"  # a purpose that asks for DigiD midden

pytestmark = pytest.mark.slow  # three app starts and two `dgkb` processes per backend


async def views_under(database_url: str, simulators: dict[str, str], keys: str, n: int = 2) -> list[str]:
    """`n` klantbeeld views of BSN by an agent on a DGKB node with key ring `keys`; their trace ids."""
    traces = []
    async with (
        running_stack(database_url, simulators, pseudonym_keys=keys) as stack,
        await stack.as_user("kcm-anna") as anna,
    ):
        contact = await open_contact(anna, ALGEMEEN, bsn=BSN)
        for _ in range(n):
            resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
            assert resp.status_code == 200, resp.text
            traces.append(resp.json()["traceId"])
    return traces


async def officer_search(database_url: str, simulators: dict[str, str], keys: str) -> list[dict[str, object]]:
    """The privacy officer's search by BSN over the API, on a node with key ring `keys` (all pages)."""
    rows: list[dict[str, object]] = []
    async with (
        running_stack(database_url, simulators, pseudonym_keys=keys) as stack,
        await stack.as_user("privacy-petra") as petra,
    ):
        query: dict[str, object] = {"bsn": BSN, "limiet": 500}
        while True:
            resp = await petra.post("/api/v1/toegangslog/zoekopdrachten", json=query)
            assert resp.status_code == 200, resp.text
            page = resp.json()
            rows.extend(page["resultaten"])
            if not page.get("volgende"):
                return rows
            query["cursor"] = page["volgende"]


async def dgkb(database_url: str, keys: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DGKB_DATABASE_URL": database_url, "DGKB_PSEUDONYM_KEYS": keys, "COLUMNS": "200"}
    proc = await asyncio.create_subprocess_exec(
        *DGKB, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def database_text(database_url: str) -> str:
    """Every row of the audit and contact tables as text, to look for what must never be stored."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as conn:
            parts = []
            for table in (
                "ldv_records",
                "decision_records",
                "access_records",
                "audit_chain_heads",
                "contact_sessions",
            ):
                parts.extend(str(tuple(row)) for row in await conn.execute(text(f"SELECT * FROM {table}")))
            return "\n".join(parts)
    finally:
        await database.dispose()


async def test_rotated_key_keeps_every_view_findable_and_the_chains_intact(
    database_url: str, simulators: dict[str, str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # every library's debug output too (SQL parameters included)
    secret_1, secret_2 = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    only_1 = f"sleutel-1:{secret_1}"
    learn_2 = f"sleutel-1:{secret_1},sleutel-2:{secret_2}"  # phase 1: every node knows key 2
    use_2 = f"sleutel-2:{secret_2},sleutel-1:{secret_1}"  # phase 2: new pseudonyms under key 2
    assert Settings(pseudonym_keys=use_2).pseudonym_keyring()[0][0] == "sleutel-2"

    before = await views_under(database_url, simulators, only_1)
    during = await views_under(database_url, simulators, learn_2)
    after = await views_under(database_url, simulators, use_2)
    every_view = set(before + during + after)

    # the privacy officer (API) finds all of them, under both keys
    rows = await officer_search(database_url, simulators, use_2)
    found = {str(r["trace_id"]) for r in rows}
    assert every_view <= found, every_view - found
    key_of = {str(r["trace_id"]): r["key_id"] for r in rows}
    assert {key_of[t] for t in before + during} == {"sleutel-1"}
    assert {key_of[t] for t in after} == {"sleutel-2"}

    # the citizen's own log (LDV) too
    database = Database(database_url)
    try:
        ring = Pseudonymizer(Settings(pseudonym_keys=use_2).pseudonym_keyring())
        ldv = await AccessLog(database, ring).processings_of(Subject.person(BSN), limit=500)
        assert every_view <= {entry.trace_id for entry in ldv.items}
        # the control: without key 1 in the ring, the views written under it are not found
        without_1 = Pseudonymizer(Settings(pseudonym_keys=f"sleutel-2:{secret_2}").pseudonym_keyring())
        lost = await AccessLog(database, without_1).processings_of(Subject.person(BSN), limit=500)
        assert {e.trace_id for e in lost.items} & every_view == set(after)
        # what an operator checks before removing a key: which keys the log was written under
        usage = {k.key_id: k for k in await AccessLog(database, ring).key_usage()}
        assert list(usage) == ["sleutel-2", "sleutel-1"]
        assert usage["sleutel-2"].current
        assert usage["sleutel-1"].in_ring
        assert not usage["sleutel-1"].current
        assert usage["sleutel-1"].records >= 3 * len(before + during)  # LDV, decision, access record
        assert usage["sleutel-2"].records >= 3 * len(after)
        assert usage["sleutel-1"].newest <= usage["sleutel-2"].oldest
    finally:
        await database.dispose()

    # the CLI's search (the same service) and the verification of every hash chain
    code, out = await dgkb(database_url, use_2, "audit", "search", "--bsn", BSN, "--json", "--limiet", "500")
    assert code == 0, out
    assert all(f'"trace_id": "{t}"' in out for t in every_view)
    code, verified = await dgkb(database_url, use_2, "audit", "verify")
    assert code == 0, verified
    assert "Toegangslog intact" in verified
    # with key 1 taken out of the ring, `dgkb audit sleutels` says its records would be lost
    code, keys = await dgkb(database_url, f"sleutel-2:{secret_2}", "audit", "sleutels")
    assert code == 1, keys
    assert "ONTBREEKT" in keys
    assert "sleutel-1" in keys.split("Records onder sleutels")[1]

    # no key material anywhere: not in the logs, the answers, the CLI's output or the database
    stored = await database_text(database_url)
    for secret in (secret_1, secret_2):
        assert secret not in caplog.text
        assert secret not in str(rows)
        assert secret not in out + verified + keys
        assert secret not in stored


async def test_a_contact_in_progress_survives_the_switch_to_the_new_key(
    database_url: str, simulators: dict[str, str]
) -> None:
    """The switch (key 2 first) rolls over the nodes while agents work: a contact whose control
    answers were shown on a node still making pseudonyms under key 1 is identified, read and
    identified again on a node already on key 2."""
    secret_1, secret_2 = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    learn_2 = f"sleutel-1:{secret_1},sleutel-2:{secret_2}"
    use_2 = f"sleutel-2:{secret_2},sleutel-1:{secret_1}"
    async with (
        running_stack(database_url, simulators, pseudonym_keys=learn_2) as old,
        running_stack(database_url, simulators, pseudonym_keys=use_2) as new,
        await old.as_user("kcm-anna") as on_old,
        await new.as_user("kcm-anna") as on_new,  # each test node has a dev issuer of its own
    ):
        resp = await on_old.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN}
        )
        assert resp.status_code == 201, resp.text
        contact = resp.json()["id"]
        shown = await on_old.post(f"/api/v1/contacten/{contact}/controlevragen", json={"bsn": BSN})
        assert shown.status_code == 200, shown.text
        identified = await on_new.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
        assert identified.status_code == 200, identified.text
        view = await on_new.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert view.status_code == 200, view.text
        # and back on a node not yet switched: the contact is still this customer's
        again = await on_old.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": BSN, "zekerheid": "controlevragen"}
        )
        assert again.status_code == 200, again.text
        other = await on_old.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"bsn": "999991425", "zekerheid": "controlevragen"},
        )
        assert other.status_code == 409, other.text


async def test_a_digid_confirmation_spans_nodes_on_either_key(
    database_url: str, simulators: dict[str, str]
) -> None:
    """ "Bevestig met DigiD" during the switch: the contact was identified on a node still on key 1,
    the confirmation is started and the customer logs in on a node on key 2, and the agent types the
    read-back code on the first node again."""
    secret_1, secret_2 = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    learn_2 = f"sleutel-1:{secret_1},sleutel-2:{secret_2}"
    use_2 = f"sleutel-2:{secret_2},sleutel-1:{secret_1}"
    async with (
        running_stack(database_url, simulators, pseudonym_keys=learn_2) as old,
        running_stack(database_url, simulators, pseudonym_keys=use_2) as new,
        await old.as_user("kcm-wim") as on_old,
        await new.as_user("kcm-wim") as on_new,
    ):
        contact = await open_contact(on_old, CONFIRM_PURPOSE, bsn=BSN)
        created = await start(on_new, contact, "code")
        page = await customer_login(new, code=created["code"])
        assert page.status_code == 200, page.text
        shown = readback_code(page)
        done = await on_old.post(
            f"/api/v1/contacten/{contact}/bevestigingen/{created['id']}/terugleescode", json={"code": shown}
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "bevestigd"
        assert done.json()["contact"]["zekerheid"] == "digid-midden"
