"""Bad input never becomes a 500: problem+json naming the field, for every kind of mistake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.conftest import GEMEENTE, Stack, open_contact

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"


def assert_problem(resp: httpx.Response, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = resp.json()
    for key in ("type", "title", "status", "detail", "instance"):
        assert key in body
    assert body["status"] == status
    assert resp.headers["api-version"]
    return body


async def test_invalid_bsn_names_the_field_and_the_11_proef(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "telefoon"})).json()["id"]
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie",
            json={"bsn": "123456789", "zekerheid": "controlevragen"},
        )
    body = assert_problem(resp, 400)
    params = body["invalidParams"]
    assert isinstance(params, list)
    assert params[0]["name"] == "bsn"
    assert "11-proef" in params[0]["reason"]


async def test_unknown_purpose_is_forbidden(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post(
            "/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": "https://x.nl/onbekend"}
        )
    assert assert_problem(resp, 403)["reden"] == "PURPOSE_UNKNOWN"


async def test_malformed_json_is_400(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post(
            "/api/v1/contacten",
            content=b'{"kanaal": "telefoon",',
            headers={"content-type": "application/json"},
        )
    assert_problem(resp, 400)


async def test_oversized_body_is_413(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post("/api/v1/contacten", json={"kanaal": "telefoon", "reden": "x" * 200_000})
    assert_problem(resp, 413)


async def test_oversized_chunked_body_is_413_not_a_parse_error(stack: Stack) -> None:
    """A body without Content-Length (chunked) over the limit: 413 too, not the framework's 400."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kanaal": "telefoon", "reden": "'
        for _ in range(20):
            yield b"x" * 10_000
        yield b'"}'

    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post(
            "/api/v1/contacten", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in resp.request.headers  # sent chunked
        body = assert_problem(resp, 413)
        assert body["code"] == "request.too_large"
        # a chunked body within the limit still reaches the endpoint whole
        small = json.dumps({"kanaal": "telefoon", "reden": "terugbellen"}).encode()

        async def one_chunk() -> AsyncIterator[bytes]:
            yield small

        resp = await anna.post(
            "/api/v1/contacten", content=one_chunk(), headers={"content-type": "application/json"}
        )
        assert resp.status_code == 201, resp.text


async def test_unknown_channel_and_assurance_name_the_field(stack: Stack) -> None:
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post("/api/v1/contacten", json={"kanaal": "postduif"})
        assert assert_problem(resp, 400)["invalidParams"][0]["name"] == "kanaal"  # type: ignore[index]
        contact = (await anna.post("/api/v1/contacten", json={"kanaal": "balie"})).json()["id"]
        resp = await anna.post(
            f"/api/v1/contacten/{contact}/identificatie", json={"bsn": "999993653", "zekerheid": "heel-zeker"}
        )
        assert assert_problem(resp, 400)["invalidParams"][0]["name"] == "zekerheid"  # type: ignore[index]


async def test_missing_or_bad_token_is_401(stack: Stack) -> None:
    assert_problem(await stack.client.get("/api/v1/verwerkingsactiviteiten"), 401)
    resp = await stack.client.get(
        "/api/v1/verwerkingsactiviteiten", headers={"Authorization": "Bearer abc.def.ghi"}
    )
    assert_problem(resp, 401)


async def test_unknown_url_is_problem_json(stack: Stack) -> None:
    assert_problem(await stack.client.get("/api/v1/bestaat-niet"), 404)


async def test_audit_write_failure_fails_closed(stack: Stack) -> None:
    """Log before you show: if the access log cannot be written, the klantbeeld is not returned."""
    async with await stack.as_user("kcm-anna") as anna:
        contact = await open_contact(anna, ALGEMEEN)
        engine = create_async_engine(stack.settings.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE access_records RENAME TO access_records_away"))
        try:
            resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE access_records_away RENAME TO access_records"))
            await engine.dispose()
        body = assert_problem(resp, 500)
        assert "secties" not in body
        assert "999993653" not in resp.text
        # once the log is writable again, the view works (nothing half-written blocks it)
        resp = await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")
        assert resp.status_code == 200


async def test_nul_characters_are_refused_naming_the_field(stack: Stack) -> None:
    """PostgreSQL text cannot hold NUL; found by the fuzz test as a 500 on PostgreSQL only."""
    async with await stack.as_user("kcm-anna") as anna:
        resp = await anna.post("/api/v1/contacten", json={"kanaal": "telefoon", "reden": "vraag\x00"})
    body = assert_problem(resp, 400)
    assert body["invalidParams"][0]["name"] == "reden"  # type: ignore[index]
