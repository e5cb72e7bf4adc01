"""ProfileService and MessageService without HTTP: the real database (both backends), register and
policy decision shape; the gateway and the notifier are recording fakes. What the code stores (a hash,
never the code; the address only while pending), expiry, the attempt limit, the write only after the
code, and the register's `schrijven` deciding a write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.federation.fanout import CategoryOutcome, SectionStatus
from dgkb.gateway import Caller
from dgkb.gateway.gateway import Reading
from dgkb.messages.service import MessageService
from dgkb.notify.port import NotifyRejected, NotifyTemplates, NotifyUnavailable
from dgkb.policy.decision import CategoryDecision, Decision
from dgkb.profile.inputs import ProfileInputError, parse_email, parse_mobile
from dgkb.profile.service import ProfileForbidden, ProfileService, TooManyCodes, VerificationFailed
from dgkb.settings import Environment, Settings, load_catalogue, load_register
from dgkb.store.db import Database
from dgkb.store.tables import MessageNoticeRow, MessageRow, ProfileVerificationRow

OWN = "https://register.voorbeeldstad.nl/verwerkingen/mijn-omgeving"
KCC = "https://register.voorbeeldstad.nl/verwerkingen/kcc-algemene-vraag"
GEMEENTE = "00000001001234567000"
BSN, OTHER = "999993653", "999990639"
KEYRING = [("k1", b"a-test-key-of-at-least-32-bytes!!")]


class FakeNotifier:
    templates = NotifyTemplates(
        verificatie_sms="00000000-0000-4000-8000-000000000001",
        verificatie_email="00000000-0000-4000-8000-000000000002",
        bericht_sms="00000000-0000-4000-8000-000000000003",
        bericht_email="00000000-0000-4000-8000-000000000004",
    )

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse = False

    async def send_sms(self, phone: str, template_id: str, personalisation: Any, reference: str) -> str:
        return self._send("sms", phone, personalisation, reference)

    async def send_email(self, email: str, template_id: str, personalisation: Any, reference: str) -> str:
        return self._send("email", email, personalisation, reference)

    def _send(self, kind: str, to: str, personalisation: Any, reference: str) -> str:
        if self.refuse:
            raise NotifyRejected("geweigerd", reason="telefoonnummer")
        self.sent.append({"kind": kind, "to": to, "p": dict(personalisation), "reference": reference})
        return "id"


class FakeGateway:
    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, Any]]] = []

    async def add_digitaal_adres(self, context: RequestContext, **kw: Any) -> dict[str, Any]:
        self.writes.append(("add", {"subject": context.subject, **kw}))
        return {"uuid": "x"}

    def system_caller(self, organisation: str, task: str) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def register() -> Register:
    settings = Settings(env=Environment.TEST, database_url="sqlite://")
    return load_register(settings, load_catalogue(settings))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


def context(purpose: str = OWN, bsn: str = BSN) -> RequestContext:
    return RequestContext(
        actor=Actor(id="mijn:1", role=Role.BURGER, organisation=GEMEENTE),
        subject=Subject.person(bsn),
        purpose_id=purpose,
        assurance=Assurance.DIGID_MIDDEN,
        channel=Kanaal.MIJN_OMGEVING,
        trace=Trace(),
    )


async def permit_all(ctx: RequestContext) -> Decision:
    return Decision(
        purpose_id=ctx.purpose_id,
        register_version="t",
        categories=tuple(
            CategoryDecision(category=c, permitted=True)
            for c in ("klant.contactgegevens", "klant.voorkeurskanaal")
        ),
    )


def service(
    register: Register, database: Database, clock: Clock
) -> tuple[ProfileService, FakeNotifier, FakeGateway]:
    notifier, gateway = FakeNotifier(), FakeGateway()
    profile = ProfileService(
        register=register,
        decide=permit_all,
        gateway=gateway,  # type: ignore[arg-type]
        notifier=notifier,
        database=database,
        pseudonymizer=Pseudonymizer(KEYRING),
        clock=clock,
    )
    return profile, notifier, gateway


async def test_only_a_hash_is_stored_and_the_address_only_while_pending(
    register: Register, database: Database
) -> None:
    clock = Clock()
    profile, notifier, gateway = service(register, database, clock)
    pending = await profile.start(
        context(), soort="telefoonnummer", adres="06 8765 4321", organisation_name="Gemeente"
    )
    code = str(notifier.sent[0]["p"]["code"])
    assert len(code) == 6
    assert code.isdigit()
    async with database.read() as session:
        row = await session.scalar(select(ProfileVerificationRow))
    assert row is not None
    assert code not in (row.code_hash, row.salt)
    assert len(row.code_hash) == 64
    assert BSN not in row.subject_key
    assert row.adres == "+31687654321"
    assert gateway.writes == []  # nothing written before the code
    await profile.confirm(context(), pending.id, code)
    assert gateway.writes[0][1]["adres"] == "+31687654321"
    assert gateway.writes[0][1]["verified_on"] == clock.now.date()
    async with database.read() as session:
        row = await session.scalar(select(ProfileVerificationRow))
    assert row is not None
    assert row.adres is None
    assert row.status == "bevestigd"
    with pytest.raises(VerificationFailed):  # single use
        await profile.confirm(context(), pending.id, code)
    assert len(gateway.writes) == 1


async def test_a_code_expires_after_15_minutes(register: Register, database: Database) -> None:
    clock = Clock()
    profile, notifier, gateway = service(register, database, clock)
    pending = await profile.start(
        context(), soort="email", adres="A@Voorbeeld.nl", organisation_name="Gemeente"
    )
    clock.now += timedelta(minutes=15, seconds=1)
    assert await profile.pending(context(), pending.id) is None
    with pytest.raises(VerificationFailed) as failed:
        await profile.confirm(context(), pending.id, str(notifier.sent[0]["p"]["code"]))
    assert failed.value.reason == "verlopen"
    assert gateway.writes == []


async def test_housekeeping_forgets_an_abandoned_address(register: Register, database: Database) -> None:
    clock = Clock()
    profile, _notifier, _gateway = service(register, database, clock)
    await profile.start(context(), soort="email", adres="weg@voorbeeld.nl", organisation_name="Gemeente")
    assert await profile.sweep_expired() == 0
    clock.now += timedelta(minutes=16)
    assert await profile.sweep_expired() == 1
    async with database.read() as session:
        row = await session.scalar(select(ProfileVerificationRow))
    assert row is not None
    assert row.adres is None
    assert row.status == "verlopen"


async def test_five_wrong_codes_block_and_another_subject_never_finds_it(
    register: Register, database: Database
) -> None:
    profile, notifier, gateway = service(register, database, Clock())
    pending = await profile.start(
        context(), soort="email", adres="a@voorbeeld.nl", organisation_name="Gemeente"
    )
    right = str(notifier.sent[0]["p"]["code"])
    with pytest.raises(VerificationFailed) as other:
        await profile.confirm(context(bsn=OTHER), pending.id, right)
    assert other.value.reason == "onbekend"
    wrong = "000000" if right != "000000" else "111111"
    for expected in (4, 3, 2, 1):
        with pytest.raises(VerificationFailed) as failed:
            await profile.confirm(context(), pending.id, wrong)
        assert failed.value.remaining == expected
    with pytest.raises(VerificationFailed) as blocked:
        await profile.confirm(context(), pending.id, wrong)
    assert blocked.value.reason == "geblokkeerd"
    with pytest.raises(VerificationFailed):
        await profile.confirm(context(), pending.id, right)
    assert gateway.writes == []


async def test_a_purpose_without_schrijven_cannot_write(register: Register, database: Database) -> None:
    profile, notifier, _gateway = service(register, database, Clock())
    with pytest.raises(ProfileForbidden):
        await profile.start(context(KCC), soort="email", adres="a@voorbeeld.nl", organisation_name="Gemeente")
    assert notifier.sent == []


async def test_a_refused_number_names_the_field(register: Register, database: Database) -> None:
    profile, notifier, _gateway = service(register, database, Clock())
    notifier.refuse = True
    with pytest.raises(ProfileInputError) as refused:
        await profile.start(
            context(), soort="telefoonnummer", adres="0612345678", organisation_name="Gemeente"
        )
    assert refused.value.field == "telefoon"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("06-12345678", "+31612345678"), ("+31 6 1234 5678", "+31612345678"), ("0031612345678", "+31612345678")],
)
def test_dutch_mobile_numbers(text: str, expected: str) -> None:
    assert parse_mobile(text) == expected


@pytest.mark.parametrize("text", ["", "0201234567", "06123", "+44 7700 900123", "06-1234567a", "0661234567"])
def test_not_a_dutch_mobile_number(text: str) -> None:
    with pytest.raises(ProfileInputError) as bad:
        parse_mobile(text)
    assert bad.value.field == "telefoon"


@pytest.mark.parametrize(
    "text", ["", "naam", "naam@", "@voorbeeld.nl", "na am@voorbeeld.nl", "naam@voorbeeld", "a" * 76 + "@x.nl"]
)
def test_bad_email(text: str) -> None:
    with pytest.raises(ProfileInputError) as bad:
        parse_email(text)
    assert bad.value.field == "email"


async def test_messages_are_keyed_by_pseudonym_and_kept_per_customer(
    register: Register, database: Database
) -> None:
    messages = MessageService(
        database=database,
        pseudonymizer=Pseudonymizer(KEYRING),
        register=register,
        gateway=FakeGateway(),  # type: ignore[arg-type]
        notifier=FakeNotifier(),
        portal_url="https://dgkb.example.org",
    )
    mine = await messages.post(
        Subject.person(BSN), GEMEENTE, "Titel", "Tekst", "/mijn/zaken", kind="zaak-status"
    )
    assert mine.organisation_name == "Gemeente Voorbeeldstad"
    assert mine.notify_outcome == "wachtend"  # the notice goes in the background
    assert await messages.send_due_notices() == 1
    sent = await messages.get(Subject.person(BSN), mine.id)
    assert sent is not None
    assert sent.notify_outcome == "geen-doel"  # the fake gateway knows no `berichten` purpose
    async with database.read() as session:  # the outbox forgot it, and the BSN with it
        assert await session.scalar(select(MessageNoticeRow)) is None
    async with database.read() as session:
        row = await session.scalar(select(MessageRow))
    assert row is not None
    assert BSN not in row.subject_key
    assert [m.id for m in await messages.list(Subject.person(BSN))] == [mine.id]
    assert await messages.list(Subject.person(OTHER)) == []
    assert await messages.unread_count(Subject.person(BSN)) == 1
    assert not await messages.mark_read(Subject.person(OTHER), mine.id)
    assert await messages.mark_read(Subject.person(BSN), mine.id)
    assert await messages.unread_count(Subject.person(BSN)) == 0
    with pytest.raises(ValueError):
        await messages.post(Subject.person(BSN), GEMEENTE, "x", "y", "https://elders.example.org")


async def test_at_most_five_codes_an_hour(register: Register, database: Database) -> None:
    clock = Clock()
    profile, notifier, _gateway = service(register, database, clock)
    for i in range(5):
        await profile.start(
            context(), soort="email", adres=f"a{i}@voorbeeld.nl", organisation_name="Gemeente"
        )
    with pytest.raises(TooManyCodes):
        await profile.start(context(), soort="email", adres="a5@voorbeeld.nl", organisation_name="Gemeente")
    assert len(notifier.sent) == 5
    # another customer is not limited by this one
    await profile.start(
        context(bsn=OTHER), soort="email", adres="b@voorbeeld.nl", organisation_name="Gemeente"
    )
    clock.now += timedelta(hours=1, seconds=1)
    await profile.start(context(), soort="email", adres="a6@voorbeeld.nl", organisation_name="Gemeente")


class BerichtenGateway(FakeGateway):
    """A gateway that knows the organisation's `berichten` purpose and must not be asked to read."""

    def system_caller(self, organisation: str, task: str) -> Caller:  # type: ignore[override]
        assert task == "berichten"
        return Caller(
            actor=Actor(id="dgkb-berichten", role=Role.SYSTEEM, organisation=organisation, name="DGKB"),
            purpose_id="https://register.voorbeeldstad.nl/verwerkingen/dgkb-berichten-melden",
            trace=Trace(),
        )

    async def read(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an objection in force: the preferred channel is not read")


async def test_an_objection_to_the_notice_purpose_means_no_notice(
    register: Register, database: Database
) -> None:
    asked: list[tuple[Subject, str]] = []

    async def objected(subject: Subject, purpose_id: str) -> bool:
        asked.append((subject, purpose_id))
        return True

    notifier = FakeNotifier()
    messages = MessageService(
        database=database,
        pseudonymizer=Pseudonymizer(KEYRING),
        register=register,
        gateway=BerichtenGateway(),  # type: ignore[arg-type]
        notifier=notifier,
        portal_url="https://dgkb.example.org",
        objected=objected,
    )
    message = await messages.post(Subject.person(BSN), GEMEENTE, "Titel", "Tekst")
    await messages.send_due_notices()
    done = await messages.get(Subject.person(BSN), message.id)
    assert done is not None
    assert done.notify_outcome == "bezwaar"
    assert notifier.sent == []
    assert asked == [
        (Subject.person(BSN), "https://register.voorbeeldstad.nl/verwerkingen/dgkb-berichten-melden")
    ]
    assert [m.id for m in await messages.list(Subject.person(BSN))] == [message.id]  # the message stands


class AddressGateway(BerichtenGateway):
    """The `berichten` purpose, and Klantinteracties answering with a mobile number — or down."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def read(self, context: RequestContext, permitted: Any, processing: Any) -> Any:
        status = SectionStatus.ONBEREIKBAAR if self.down else SectionStatus.OK
        data = None if self.down else {"telefoonnummers": [{"adres": "0612345678"}]}
        now = datetime.now(UTC)
        return Reading(
            (CategoryOutcome("klantinteracties", "klant.contactgegevens", status, data, now, 1.0),), ()
        )


class FlakyNotifier(FakeNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.unavailable = True
        self.tries = 0

    def _send(self, kind: str, to: str, personalisation: Any, reference: str) -> str:
        self.tries += 1
        if self.unavailable:
            raise NotifyUnavailable("NotifyNL is niet bereikbaar", reason="onbereikbaar")
        return super()._send(kind, to, personalisation, reference)


async def _notice(database: Database) -> MessageNoticeRow | None:
    async with database.read() as session:
        return await session.scalar(select(MessageNoticeRow))


async def test_a_notice_is_tried_again_later_then_sent_once_and_forgotten(
    register: Register, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    gateway, notifier = AddressGateway(), FlakyNotifier()
    messages = MessageService(
        database=database,
        pseudonymizer=Pseudonymizer(KEYRING),
        register=register,
        gateway=gateway,  # type: ignore[arg-type]
        notifier=notifier,
        portal_url="https://dgkb.example.org",
        retry_seconds=10,
    )
    message = await messages.post(Subject.person(BSN), GEMEENTE, "Titel", "Tekst")
    start = datetime.now(UTC)
    assert await messages.send_due_notices() == 1  # NotifyNL down: again in 10 s
    first = await _notice(database)
    assert first is not None
    assert first.last_failure == "notifynl:onbereikbaar"
    assert timedelta(seconds=9) < first.next_attempt_at - start < timedelta(seconds=12)
    assert await messages.send_due_notices() == 0  # not due yet
    gateway.down = True  # Klantinteracties down: no address *yet*, again in 20 s
    assert await messages.send_due_notices(now=first.next_attempt_at) == 1
    second = await _notice(database)
    assert second is not None
    assert second.last_failure == "bron:onbereikbaar"
    assert second.next_attempt_at - first.next_attempt_at > timedelta(seconds=15)
    gateway.down = False
    notifier.unavailable = False
    assert await messages.send_due_notices(now=second.next_attempt_at) == 1
    assert [s["reference"] for s in notifier.sent] == [f"bericht-{message.id}"]
    done = await messages.get(Subject.person(BSN), message.id)
    assert done is not None
    assert done.notify_outcome == "verstuurd"
    assert await _notice(database) is None
    assert await messages.send_due_notices(now=datetime.now(UTC) + timedelta(days=1)) == 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert BSN not in logged
    assert "0612345678" not in logged


async def test_a_refused_notice_is_not_tried_again_and_one_never_sent_is_given_up(
    register: Register, database: Database
) -> None:
    gateway, notifier = AddressGateway(), FlakyNotifier()
    messages = MessageService(
        database=database,
        pseudonymizer=Pseudonymizer(KEYRING),
        register=register,
        gateway=gateway,  # type: ignore[arg-type]
        notifier=notifier,
        portal_url="https://dgkb.example.org",
    )
    notifier.unavailable, notifier.refuse = False, True
    refused = await messages.post(Subject.person(BSN), GEMEENTE, "Titel", "Tekst")
    assert await messages.send_due_notices() == 1
    assert (await messages.get(Subject.person(BSN), refused.id)).notify_outcome == "geweigerd"  # type: ignore[union-attr]
    assert await _notice(database) is None
    # NotifyNL down for longer than a day: given up, and the outbox forgets the BSN
    notifier.unavailable, notifier.refuse = True, False
    late = await messages.post(Subject.person(BSN), GEMEENTE, "Titel", "Tekst")
    async with database.transaction() as session:
        await session.execute(
            update(MessageNoticeRow).values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )
    assert await messages.send_due_notices() == 1
    assert (await messages.get(Subject.person(BSN), late.id)).notify_outcome == "mislukt"  # type: ignore[union-attr]
    assert await _notice(database) is None
