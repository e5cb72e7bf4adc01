"""Logging in to Mijn omgeving over plain HTTP: the broker's authorization-code flow through the test
broker's own login form, as a browser would walk it (no shortcuts into DGKB's session)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import event

from tests.api.conftest import Stack
from tests.clients import http_client

BSN = "999993653"
OTHER_BSN = "999990639"
KVK = "68750110"


class _Hidden(HTMLParser):
    """The hidden inputs of the test broker's login form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""


def portal_client(stack: Stack) -> httpx.AsyncClient:
    return http_client(base_url=stack.api, follow_redirects=False)


async def login(
    client: httpx.AsyncClient,
    *,
    bsn: str | None = BSN,
    kvk: str | None = None,
    niveau: str = "digid-midden",
    naam: str = "",
    namens_bsn: str = "",
    namens_kvk: str = "",
    vertegenwoordiging: str = "",
) -> httpx.Response:
    """Walk /mijn/inloggen/{middel} → test broker → /mijn/terugkeer; the callback's response."""
    middel = "digid" if kvk is None else "eherkenning"
    start = await client.get(f"/mijn/inloggen/{middel}")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    page = await client.get(authorize)
    assert page.status_code == 200, page.text
    hidden = _Hidden()
    hidden.feed(page.text)
    form = dict(hidden.fields)
    if kvk is None:
        form.update({"soort": "bsn", "bsn": bsn or "", "niveau": niveau})
    else:
        form.update({"soort": "kvk", "kvkNummer": kvk, "niveau": niveau, "naam": naam})
    if namens_bsn or namens_kvk:
        form.update(
            {"namensBsn": namens_bsn, "namensKvk": namens_kvk, "vertegenwoordiging": vertegenwoordiging}
        )
    action = urlsplit(authorize)._replace(query="").geturl()
    back = await client.post(action, data=form)
    assert back.status_code == 303, back.text
    target = urlsplit(back.headers["location"])
    assert target.path == "/mijn/terugkeer"
    return await client.get(target.path, params=dict(parse_qsl(target.query)))


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "geen CSRF-token op de pagina"
    return found.group(1)


@contextlib.contextmanager
def statements(stack: Stack) -> Iterator[list[str]]:
    """The SQL statements DGKB runs while the block runs (its own engine's, as the database gets them)."""
    seen: list[str] = []
    engine = stack.app.state.services.database.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_of(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if s.upper().startswith("SELECT") and f"FROM {table} " in s + " "]
