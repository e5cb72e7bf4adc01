"""NotifyNL simulator against the GOV.UK Notify v2 API: response shapes, Notify's error shape and
messages, JWT authentication, Dutch phone numbers, templates, filters, paging and the test hooks."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from notifications_python_client.notifications import NotificationsAPIClient

from dgkb.notify.config import DEMO_API_KEY, DEMO_TEMPLATES, SIMULATOR_PORT_OFFSET
from dgkb.runner import SIMULATOR_PORTS, simulator_apps
from dgkb.simulators import notifynl
from dgkb.simulators.serve import serve_in_background
from dgkb.simulators.world import World

SERVICE_ID = DEMO_API_KEY[-73:-37]
SECRET = DEMO_API_KEY[-36:]
SMS = notifynl.BEVESTIG_SMS_ID
EMAIL = notifynl.BEVESTIG_EMAIL_ID
VALUES = {
    "organisatie": "Gemeente Voorbeeldstad",
    "link": "https://dgkb.example.org/b/K7Q2",
    "code": "482913",
}


def token(*, secret: str = SECRET, iss: Any = SERVICE_ID, iat: Any = "now", alg: str = "HS256") -> str:
    claims: dict[str, Any] = {} if iss is None else {"iss": iss}
    if iat == "now":
        claims["iat"] = int(time.time())
    elif iat is not None:
        claims["iat"] = iat
    return jwt.encode(claims, secret, algorithm=alg, headers={"typ": "JWT"})


def auth(bearer: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer or token()}"}


@pytest.fixture
async def sim() -> AsyncIterator[str]:
    async with serve_in_background(notifynl.create_app(api_key=DEMO_API_KEY)) as (_, url):
        yield url


@pytest.fixture
async def http(sim: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim, timeout=10) as client:
        yield client


async def send_sms(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    data = {"phone_number": "06-12345678", "template_id": SMS, "personalisation": VALUES} | body
    return await http.post("/v2/notifications/sms", json=data, headers=auth())


def errors(resp: httpx.Response) -> list[tuple[str, str]]:
    body = resp.json()
    assert body["status_code"] == resp.status_code
    assert set(body) == {"status_code", "errors"}
    return [(e["error"], e["message"]) for e in body["errors"]]


def test_demo_wiring_matches_dgkb_defaults(world: World) -> None:
    """The runner starts the simulator with the key and templates dgkb.notify defaults to."""
    assert SIMULATOR_PORTS["notifynl"] == SIMULATOR_PORT_OFFSET
    assert len(set(SIMULATOR_PORTS.values())) == len(SIMULATOR_PORTS), "every simulator its own port"
    assert DEMO_TEMPLATES.bevestig_sms == SMS
    assert DEMO_TEMPLATES.bevestig_email == EMAIL
    assert "notifynl" in simulator_apps(world)


async def test_sms_response_and_notification_have_notifys_shape(http: httpx.AsyncClient, sim: str) -> None:
    resp = await send_sms(http, reference="ref-1")
    assert resp.status_code == 201, resp.text
    sent = resp.json()
    assert set(sent) == {"id", "reference", "content", "uri", "template", "scheduled_for"}
    uuid.UUID(sent["id"])
    assert sent["reference"] == "ref-1"
    assert set(sent["content"]) == {"body", "from_number"}
    assert sent["content"]["body"] == (
        "Gemeente Voorbeeldstad: alleen als u nu met ons belt. Bevestig wie u bent met DigiD: "
        "https://dgkb.example.org/b/K7Q2 Code: 482913. Belt u niet met ons? Negeer dit bericht."
    )
    assert sent["uri"] == f"{sim}/v2/notifications/{sent['id']}"
    assert sent["template"] == {
        "id": SMS,
        "version": 1,
        "uri": f"{sim}/services/{SERVICE_ID}/templates/{SMS}",
    }
    got = await http.get(f"/v2/notifications/{sent['id']}", headers=auth())
    assert got.status_code == 200
    n = got.json()
    required = {
        "id": str, "reference": str, "email_address": type(None), "phone_number": str,
        "line_1": type(None), "postcode": type(None), "type": str, "status": str, "template": dict,
        "body": str, "subject": type(None), "created_at": str, "sent_at": str, "completed_at": str,
    }  # fmt: skip
    for key, kind in required.items():
        assert isinstance(n[key], kind), (key, n[key])
    assert (n["type"], n["status"], n["phone_number"]) == ("sms", "delivered", "06-12345678")
    assert n["body"] == sent["content"]["body"]
    assert n["created_at"].endswith("Z")


async def test_email_renders_subject_and_body(http: httpx.AsyncClient) -> None:
    resp = await http.post(
        "/v2/notifications/email",
        json={
            "email_address": "burger@example.org",
            "template_id": EMAIL,
            # Notify matches placeholders ignoring case, spaces, '_' and '-'
            "personalisation": {
                "Organisatie": "Waterschap Voorbeeldwaarden",
                "LINK": "https://x.example.org",
                "co_de": 7,
            },
            "email_reply_to_id": notifynl.DEMO_REPLY_TO_ID,
        },
        headers=auth(),
    )
    assert resp.status_code == 201, resp.text
    content = resp.json()["content"]
    assert content["subject"] == "Bevestig met DigiD – Waterschap Voorbeeldwaarden"
    assert "https://x.example.org" in content["body"]
    assert "Code: 7" in content["body"]
    assert "((" not in content["body"]
    assert content["from_email"] == notifynl.EMAIL_FROM
    outbox = (await http.get("/_sim/outbox")).json()
    assert [(m["type"], m["to"], m["subject"]) for m in outbox] == [
        ("email", "burger@example.org", content["subject"])
    ]


@pytest.mark.parametrize(
    ("number", "normalised"),
    [
        ("0612345678", "31612345678"),
        ("06-12345678", "31612345678"),
        ("+31 6 12345678", "31612345678"),
        ("0031612345678", "31612345678"),
        ("31612345678", "31612345678"),
        ("(06) 1234 5678", "31612345678"),
        ("06-87654321", "31687654321"),
    ],
)
async def test_dutch_mobile_numbers_are_accepted(
    http: httpx.AsyncClient, number: str, normalised: str
) -> None:
    resp = await send_sms(http, phone_number=number)
    assert resp.status_code == 201, resp.text
    assert (await http.get("/_sim/outbox")).json()[-1]["normalisedTo"] == normalised


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("020-1234567", "Not a dutch mobile number"),  # landline
        (
            "+447700900123",
            "Not a dutch mobile number",
        ),  # UK mobile: NotifyNL needs the international permission
        ("066-1234567", "Not a dutch mobile number"),  # 066: pagers
        ("06-1234567", "Not enough digits"),
        ("06-123456789", "Too many digits"),
        ("06-1234567a", "Must not contain letters or symbols"),
    ],
)
async def test_other_numbers_are_a_validation_error(
    http: httpx.AsyncClient, number: str, message: str
) -> None:
    resp = await send_sms(http, phone_number=number)
    assert resp.status_code == 400
    assert errors(resp) == [("ValidationError", f"phone_number {message}")]
    assert (await http.get("/_sim/outbox")).json() == []


async def test_schema_errors_come_together(http: httpx.AsyncClient) -> None:
    resp = await http.post(
        "/v2/notifications/sms", json={"template_id": "nope", "kleur": "rood"}, headers=auth()
    )
    assert resp.status_code == 400
    assert errors(resp) == [
        ("ValidationError", "phone_number is a required property"),
        ("ValidationError", "Additional properties are not allowed (kleur was unexpected)"),
        ("ValidationError", "template_id is not a valid UUID"),
    ]
    bad_email = await http.post(
        "/v2/notifications/email", json={"email_address": "geen-adres", "template_id": EMAIL}, headers=auth()
    )
    assert errors(bad_email) == [("ValidationError", "email_address Not a valid email address")]
    not_json = await http.post(
        "/v2/notifications/sms", content=b"{", headers={**auth(), "Content-Type": "application/json"}
    )
    assert errors(not_json) == [("BadRequestError", "Invalid JSON supplied in POST data")]
    unsupported = await send_sms(http, scheduled_for="2026-12-01 09:00")
    assert unsupported.status_code == 400
    assert "scheduled_for" in errors(unsupported)[0][1]


async def test_template_errors(http: httpx.AsyncClient) -> None:
    unknown = await send_sms(http, template_id=str(uuid.uuid4()))
    assert (unknown.status_code, errors(unknown)) == (400, [("BadRequestError", "Template not found")])
    wrong_channel = await send_sms(http, template_id=EMAIL)
    assert errors(wrong_channel) == [
        ("BadRequestError", "email template is not suitable for sms notification")
    ]
    missing = await send_sms(http, personalisation={"organisatie": "Gemeente Voorbeeldstad"})
    assert errors(missing) == [("BadRequestError", "Missing personalisation: link, code")]
    too_long = await send_sms(http, personalisation=VALUES | {"link": "x" * 1000})
    assert errors(too_long)[0][1].startswith("Your message is too long.")
    reply_to = await http.post(
        "/v2/notifications/email",
        json={"email_address": "a@example.org", "template_id": EMAIL, "personalisation": VALUES,
              "email_reply_to_id": str(uuid.uuid4())},
        headers=auth(),
    )  # fmt: skip
    assert errors(reply_to)[0][1].endswith(f"does not exist in database for service id {SERVICE_ID}")
    assert (await http.get("/_sim/outbox")).json() == []


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Unauthorized: authentication token must be provided"),
        ({"Authorization": "Basic YTpi"}, 401, "Unauthorized: authentication bearer scheme must be used"),
        ({"Authorization": "Bearer geen.jwt"}, 403, "Invalid token: signature, api token is not valid"),
        ("no-iss", 403, "Invalid token: iss field not provided"),
        ("other-service", 403, "Invalid token: service not found"),
        ("hs512", 403, "Invalid token: algorithm used is not HS256"),
        ("wrong-secret", 403, "Invalid token: API key not found"),
        ("no-iat", 403, "Invalid token: API key not found"),
        ("iat-old", 403, "Error: Your system clock must be accurate to within 30 seconds"),
        ("iat-future", 403, "Error: Your system clock must be accurate to within 30 seconds"),
    ],
)
async def test_authentication_as_notify(
    http: httpx.AsyncClient, headers: Any, status: int, message: str
) -> None:
    now = int(time.time())
    crafted = {
        "no-iss": lambda: token(iss=None),
        "other-service": lambda: token(iss=str(uuid.uuid4())),
        "hs512": lambda: token(alg="HS512", secret=SECRET * 2),
        "wrong-secret": lambda: token(secret=str(uuid.uuid4())),
        "no-iat": lambda: token(iat=None),
        "iat-old": lambda: token(iat=now - 60),
        "iat-future": lambda: token(iat=now + 60),
    }
    if isinstance(headers, str):
        headers = auth(crafted[headers]())
    for resp in (
        await http.post("/v2/notifications/sms", json={"phone_number": "0612345678", "template_id": SMS,
                                                       "personalisation": VALUES}, headers=headers),
        await http.get("/v2/notifications", headers=headers),
    ):  # fmt: skip
        assert resp.status_code == status
        assert errors(resp) == [("AuthError", message)]
    assert (await http.get("/_sim/outbox")).json() == []


async def test_token_at_the_edge_of_the_window_is_accepted(http: httpx.AsyncClient) -> None:
    resp = await http.get("/v2/notifications", headers=auth(token(iat=int(time.time()) - 20)))
    assert resp.status_code == 200


async def test_list_filters_order_and_paging(http: httpx.AsyncClient, sim: str) -> None:
    ids = []
    for i in range(notifynl.PAGE_SIZE + 5):
        resp = await send_sms(http, reference=f"r-{i % 3}")
        ids.append(resp.json()["id"])
    email = await http.post(
        "/v2/notifications/email",
        json={
            "email_address": "a@example.org",
            "template_id": EMAIL,
            "personalisation": VALUES,
            "reference": "r-1",
        },
        headers=auth(),
    )
    ids.append(email.json()["id"])
    page = (await http.get("/v2/notifications", headers=auth())).json()
    assert set(page) == {"notifications", "links"}
    assert [n["id"] for n in page["notifications"]] == list(reversed(ids))[: notifynl.PAGE_SIZE]
    assert page["links"]["next"].startswith(f"{sim}/v2/notifications?older_than=")
    rest = (await http.get(page["links"]["next"], headers=auth())).json()
    assert [n["id"] for n in rest["notifications"]] == list(reversed(ids))[notifynl.PAGE_SIZE :]
    assert "next" not in rest["links"]
    emails = (await http.get("/v2/notifications", params={"template_type": "email"}, headers=auth())).json()
    assert [n["id"] for n in emails["notifications"]] == [ids[-1]]
    r1 = (await http.get("/v2/notifications", params={"reference": "r-1"}, headers=auth())).json()
    assert {n["reference"] for n in r1["notifications"]} == {"r-1"}
    assert len(r1["notifications"]) == 1 + sum(1 for i in range(notifynl.PAGE_SIZE + 5) if i % 3 == 1)
    # status, with Notify's "failed" = every failure status
    hook = await http.post(f"/_sim/notifications/{ids[0]}/status", json={"status": "permanent-failure"})
    assert hook.status_code == 200
    failed = (await http.get("/v2/notifications", params={"status": "failed"}, headers=auth())).json()
    assert [n["id"] for n in failed["notifications"]] == [ids[0]]
    bad = await http.get("/v2/notifications", params={"status": "zoek", "kleur": "rood"}, headers=auth())
    assert bad.status_code == 400
    assert [m for _, m in errors(bad)] == [
        "Additional properties are not allowed (kleur was unexpected)",
        f"status zoek is not one of [{', '.join(notifynl.STATUSES)}]",
    ]
    unknown = await http.get(f"/v2/notifications/{uuid.uuid4()}", headers=auth())
    assert (unknown.status_code, errors(unknown)) == (404, [("NoResultFound", "No result found")])
    not_uuid = await http.get("/v2/notifications/12", headers=auth())
    assert errors(not_uuid) == [("ValidationError", "notification_id is not a valid UUID")]


async def test_the_real_client_lists_and_reads(sim: str) -> None:
    """notifications-python-client's own calls (query encoding, JWT) work against the simulator."""
    client = NotificationsAPIClient(DEMO_API_KEY, base_url=sim)

    def run() -> tuple[Any, Any, Any]:
        sent = client.send_sms_notification("0612345678", SMS, personalisation=VALUES, reference="echt")
        listed = client.get_all_notifications(status="delivered", template_type="sms", reference="echt")
        return sent, listed, client.get_notification_by_id(sent["id"])

    sent, listed, one = await asyncio.to_thread(run)
    assert [n["id"] for n in listed["notifications"]] == [sent["id"]]
    assert one["reference"] == "echt"


async def test_no_deduplication_on_reference_as_in_notify(http: httpx.AsyncClient) -> None:
    first = await send_sms(http, reference="twee-keer")
    second = await send_sms(http, reference="twee-keer")
    assert first.json()["id"] != second.json()["id"]
    assert len((await http.get("/_sim/outbox")).json()) == 2


async def test_behaviour_switches_and_outbox_reset(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_sim/behaviour", json={"fail": "503"})).status_code == 200
    assert (await send_sms(http)).status_code == 503
    await http.post("/_sim/behaviour", json={"fail": "none"})
    assert (await send_sms(http)).status_code == 201
    recorded = (await http.get("/_sim/last-request")).json()
    assert recorded["path"] == "/v2/notifications/sms"
    assert recorded["response"]["status"] == 201
    assert (await http.delete("/_sim/outbox")).status_code == 204
    assert (await http.get("/_sim/outbox")).json() == []
