"""The notification port (dgkb.notify) with the real notifications-python-client against the NotifyNL
simulator on a real socket: messages in the outbox, Notify's refusals as NotifyRejected or
NotifyUnavailable, one message per reference, no phone number or e-mail address in the logs."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from dgkb.app import create_app
from dgkb.composition.root import load_configuration
from dgkb.domain.errors import InvalidConfiguration
from dgkb.notify import (
    DEMO_API_KEY,
    DEMO_TEMPLATES,
    DisabledNotifier,
    MessageKind,
    Notifier,
    NotifyNLNotifier,
    NotifyRejected,
    NotifyUnavailable,
    build_notifier,
    notify_config,
)
from dgkb.settings import Environment, Settings
from dgkb.simulators import notifynl
from dgkb.simulators.serve import serve_in_background
from tests.api.production import production_settings

PHONE = "06-12345678"
EMAIL = "j.jansen@example.org"
VALUES = {
    "organisatie": "Gemeente Voorbeeldstad",
    "link": "https://dgkb.example.org/b/K7Q2",
    "code": "482913",
}
SERVICE_ID, SECRET = DEMO_API_KEY[-73:-37], DEMO_API_KEY[-36:]
OTHER_KEY = f"dgkb-{SERVICE_ID}-{uuid.uuid4()}"  # right service, wrong secret


@pytest.fixture
async def sim() -> AsyncIterator[str]:
    async with serve_in_background(notifynl.create_app(api_key=DEMO_API_KEY)) as (_, url):
        yield url


def notifier_for(url: str, *, api_key: str = DEMO_API_KEY, timeout: float = 5.0) -> Notifier:
    settings = Settings(
        env=Environment.TEST, notify_base_url=url, notify_api_key=api_key, notify_timeout_seconds=timeout
    )
    notifier = build_notifier(settings)
    assert isinstance(notifier, NotifyNLNotifier)
    return notifier


@pytest.fixture
def notifier(sim: str) -> Notifier:
    return notifier_for(sim)


async def outbox(sim: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        resp = await client.get(f"{sim}/_sim/outbox")
        resp.raise_for_status()
        data: list[dict[str, Any]] = resp.json()
        return data


async def test_sms_and_email_arrive_rendered_in_the_outbox(sim: str, notifier: Notifier) -> None:
    templates = notifier.templates
    sms_id = await notifier.send_sms(PHONE, templates.get(MessageKind.BEVESTIG_SMS), VALUES, "bevestig-1-sms")
    email_id = await notifier.send_email(
        EMAIL, templates.get(MessageKind.BEVESTIG_EMAIL), VALUES, "bevestig-1-email"
    )
    sent = await outbox(sim)
    assert [(m["id"], m["type"], m["to"], m["reference"]) for m in sent] == [
        (sms_id, "sms", PHONE, "bevestig-1-sms"),
        (email_id, "email", EMAIL, "bevestig-1-email"),
    ]
    sms, email = sent
    assert sms["normalisedTo"] == "31612345678"
    assert sms["body"].startswith("Gemeente Voorbeeldstad: alleen als u nu met ons belt.")
    assert "https://dgkb.example.org/b/K7Q2" in sms["body"]
    assert "Code: 482913" in sms["body"]
    assert email["subject"] == "Bevestig met DigiD – Gemeente Voorbeeldstad"
    assert "https://dgkb.example.org/b/K7Q2" in email["body"]
    assert all("((" not in m["body"] for m in sent)


async def test_a_stale_jwt_is_refused_with_notifys_clock_message(sim: str) -> None:
    body = {"phone_number": PHONE, "template_id": DEMO_TEMPLATES.bevestig_sms, "personalisation": VALUES}
    async with httpx.AsyncClient(base_url=sim) as client:
        for iat, status in ((int(time.time()) - 60, 403), (int(time.time()), 201)):
            token = jwt.encode({"iss": SERVICE_ID, "iat": iat}, SECRET, algorithm="HS256")
            resp = await client.post(
                "/v2/notifications/sms", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert resp.status_code == status, resp.text
    assert resp.status_code == 201  # the same request with a fresh token passes
    stale = jwt.encode({"iss": SERVICE_ID, "iat": int(time.time()) - 60}, SECRET, algorithm="HS256")
    async with httpx.AsyncClient(base_url=sim) as client:
        refused = await client.post(
            "/v2/notifications/sms", json=body, headers={"Authorization": f"Bearer {stale}"}
        )
    assert refused.json() == {
        "status_code": 403,
        "errors": [
            {
                "error": "AuthError",
                "message": "Error: Your system clock must be accurate to within 30 seconds",
            }
        ],
    }
    assert len(await outbox(sim)) == 1


async def test_a_wrong_secret_is_refused_and_unavailable(sim: str) -> None:
    notifier = notifier_for(sim, api_key=OTHER_KEY)
    with pytest.raises(NotifyUnavailable) as caught:
        await notifier.send_sms(PHONE, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS), VALUES, "r-secret")
    assert caught.value.status_code == 403
    assert caught.value.reason == "toegang"
    assert "DGKB_NOTIFY_API_KEY" in caught.value.message
    assert await outbox(sim) == []


async def test_an_unknown_template_is_rejected(sim: str, notifier: Notifier) -> None:
    with pytest.raises(NotifyRejected) as caught:
        await notifier.send_sms(PHONE, str(uuid.uuid4()), VALUES, "r-template")
    assert (caught.value.status_code, caught.value.reason) == (400, "sjabloon")
    assert "sjabloon" in caught.value.message
    assert await outbox(sim) == []


async def test_missing_personalisation_is_rejected_naming_the_placeholders(
    sim: str, notifier: Notifier
) -> None:
    with pytest.raises(NotifyRejected) as caught:
        await notifier.send_email(
            EMAIL, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_EMAIL), {"organisatie": "Gemeente"}, "r-pers"
        )
    assert (caught.value.status_code, caught.value.reason) == (400, "personalisatie")
    assert caught.value.message == "Het NotifyNL-sjabloon mist gegevens: link, code."
    assert await outbox(sim) == []


@pytest.mark.parametrize("phone", ["020-1234567", "+447700900123", "06-1234567", "06-1234567a"])
async def test_an_invalid_phone_number_is_rejected(sim: str, notifier: Notifier, phone: str) -> None:
    with pytest.raises(NotifyRejected) as caught:
        await notifier.send_sms(phone, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS), VALUES, "r-phone")
    assert (caught.value.status_code, caught.value.reason) == (400, "telefoonnummer")
    assert phone not in caught.value.message
    assert await outbox(sim) == []


async def test_an_invalid_email_address_is_rejected(sim: str, notifier: Notifier) -> None:
    with pytest.raises(NotifyRejected) as caught:
        await notifier.send_email(
            "geen-adres", DEMO_TEMPLATES.get(MessageKind.BEVESTIG_EMAIL), VALUES, "r-mail"
        )
    assert caught.value.reason == "e-mailadres"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens here any more


async def test_simulator_down_is_unavailable() -> None:
    notifier = notifier_for(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(NotifyUnavailable) as caught:
        await notifier.send_sms(PHONE, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS), VALUES, "r-down")
    assert caught.value.reason == "onbereikbaar"
    assert caught.value.message == "NotifyNL is niet bereikbaar; probeer het later opnieuw."


@pytest.mark.parametrize(
    ("fail", "reason"), [("503", "storing"), ("500", "storing"), ("hang", "onbereikbaar")]
)
async def test_a_failing_or_hanging_service_is_unavailable(sim: str, fail: str, reason: str) -> None:
    notifier = notifier_for(sim, timeout=0.5)
    async with httpx.AsyncClient() as client:
        (await client.post(f"{sim}/_sim/behaviour", json={"fail": fail})).raise_for_status()
    with pytest.raises(NotifyUnavailable) as caught:
        await notifier.send_sms(PHONE, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS), VALUES, f"r-{fail}")
    assert caught.value.reason == reason
    async with httpx.AsyncClient() as client:
        (await client.post(f"{sim}/_sim/behaviour", json={"fail": "none"})).raise_for_status()
    assert await outbox(sim) == []


async def test_the_same_reference_twice_is_one_message(sim: str, notifier: Notifier) -> None:
    """Notify itself does not deduplicate (tests/simulators: two POSTs, two messages); the port does."""
    template = DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS)
    first = await notifier.send_sms(PHONE, template, VALUES, "bevestig-42")
    again = await notifier.send_sms("+31612345678", template, VALUES, "bevestig-42")  # same number
    assert again == first
    # concurrent retries in one process: still one message
    both = await asyncio.gather(
        *(notifier.send_sms(PHONE, template, VALUES, "bevestig-43") for _ in range(2))
    )
    assert both[0] == both[1]
    # a second DGKB process (another notifier) finds the message at NotifyNL too
    assert await notifier_for(sim).send_sms(PHONE, template, VALUES, "bevestig-42") == first
    assert [m["reference"] for m in await outbox(sim)] == ["bevestig-42", "bevestig-43"]


async def test_a_reference_used_for_another_message_is_rejected(sim: str, notifier: Notifier) -> None:
    template = DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS)
    await notifier.send_sms(PHONE, template, VALUES, "bevestig-7")
    for send in (
        notifier.send_sms("06-87654321", template, VALUES, "bevestig-7"),  # another number
        notifier.send_email(EMAIL, DEMO_TEMPLATES.get(MessageKind.BEVESTIG_EMAIL), VALUES, "bevestig-7"),
    ):
        with pytest.raises(NotifyRejected) as caught:
            await send
        assert caught.value.reason == "referentie"
    assert len(await outbox(sim)) == 1


async def test_no_phone_number_or_email_address_in_the_logs(
    sim: str, notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms, mail = DEMO_TEMPLATES.get(MessageKind.BEVESTIG_SMS), DEMO_TEMPLATES.get(MessageKind.BEVESTIG_EMAIL)
    await notifier.send_sms(PHONE, sms, VALUES, "log-1")
    await notifier.send_sms(PHONE, sms, VALUES, "log-1")  # deduplicated
    await notifier.send_email(EMAIL, mail, VALUES, "log-2")
    for attempt in (
        notifier.send_sms(PHONE, str(uuid.uuid4()), VALUES, "log-3"),
        notifier.send_email(EMAIL, mail, {}, "log-4"),
        notifier.send_sms("06-1234567a", sms, VALUES, "log-5"),
        notifier_for(sim, api_key=OTHER_KEY).send_email(EMAIL, mail, VALUES, "log-6"),
    ):
        with pytest.raises((NotifyRejected, NotifyUnavailable)):
            await attempt
    logged = caplog.text
    assert "log-1" in logged, "the log does say what happened, by reference"
    assert "dgkb.notify" in {r.name for r in caplog.records}
    for personal in (PHONE, "12345678", "0612345678", "31612345678", "1234567a", EMAIL, "j.jansen"):
        assert personal not in logged


async def test_production_without_notifynl_sends_nothing(tmp_path: Path) -> None:
    notifier = build_notifier(production_settings(tmp_path))
    assert isinstance(notifier, DisabledNotifier)
    with pytest.raises(NotifyUnavailable) as caught:
        await notifier.send_sms(PHONE, str(uuid.uuid4()), VALUES, "r-off")
    assert caught.value.reason == "niet-ingesteld"
    with pytest.raises(NotifyUnavailable):
        notifier.templates.get(MessageKind.BEVESTIG_SMS)


def test_defaults_outside_production_point_at_the_simulator() -> None:
    config = notify_config(Settings(env=Environment.DEVELOPMENT, simulator_base_port=9100))
    assert config.base_url == "http://127.0.0.1:9110"
    assert config.api_key == DEMO_API_KEY
    assert config.templates == DEMO_TEMPLATES
    assert config.simulator


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"notify_base_url": "http://api.notifynl.example.org"}, "DGKB_NOTIFY_BASE_URL"),  # no https
        ({"notify_base_url": "https://api.notifynl.example.org"}, "DGKB_NOTIFY_API_KEY"),  # no key
        (
            {"notify_base_url": "https://api.notifynl.example.org", "notify_api_key": "geheim-sleutel"},
            "DGKB_NOTIFY_API_KEY",
        ),
        (
            {
                "notify_base_url": "https://api.notifynl.example.org",
                "notify_api_key": f"dgkb-{uuid.uuid4()}-{uuid.uuid4()}",
                "notify_template_bevestig_sms": "sjabloon-1",
            },
            "DGKB_NOTIFY_TEMPLATE_BEVESTIG_SMS",
        ),
    ],
)
def test_production_configuration_errors_name_the_setting(
    tmp_path: Path, overrides: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidConfiguration) as caught:
        load_configuration(production_settings(tmp_path, **overrides))
    assert caught.value.field == field
    assert "geheim-sleutel" not in caught.value.message


def test_production_refuses_the_demo_key(tmp_path: Path) -> None:
    url = "https://api.notifynl.example.org"
    for i, key in enumerate((DEMO_API_KEY, f"organisatie-{uuid.uuid4()}-{SECRET}")):
        (tmp_path / str(i)).mkdir()
        with pytest.raises(InvalidConfiguration) as caught:
            load_configuration(
                production_settings(tmp_path / str(i), notify_base_url=url, notify_api_key=key)
            )
        assert "DGKB_NOTIFY_API_KEY" in caught.value.message
        assert SECRET not in caught.value.message
    real = f"organisatie-{uuid.uuid4()}-{uuid.uuid4()}"
    settings = production_settings(
        tmp_path, notify_base_url=url, notify_api_key=real, notify_template_bevestig_sms=str(uuid.uuid4())
    )
    load_configuration(settings)  # a real key passes
    notifier = build_notifier(settings)
    assert isinstance(notifier, NotifyNLNotifier)
    assert notifier.templates.bevestig_email is None


async def test_the_application_services_carry_a_notifier(
    database_url: str, simulators: dict[str, str]
) -> None:
    """`dgkb run`'s simulator set includes NotifyNL; the Services bag's notifier reaches it."""
    settings = Settings(
        env=Environment.TEST, database_url=database_url, notify_base_url=simulators["notifynl"]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        notifier = app.state.services.notifier
        assert isinstance(notifier, Notifier)
        sent = await notifier.send_sms(
            PHONE, notifier.templates.get(MessageKind.BEVESTIG_SMS), VALUES, "services-1"
        )
    assert [m["id"] for m in await outbox(simulators["notifynl"])] == [sent]
