"""NotifyNL simulator: the GOV.UK Notify v2 API as NotifyNL serves it, for the demo and the tests.

Served (as alphagov/notifications-api, which NotifyNL forks):

- `POST /v2/notifications/sms` `{phone_number, template_id, personalisation?, reference?}` and
  `POST /v2/notifications/email` `{email_address, template_id, personalisation?, reference?,
  email_reply_to_id?}` → 201 with `{id, reference, content, uri, template, scheduled_for}`;
- `GET /v2/notifications/{id}` → the notification (404 `NoResultFound` when unknown);
- `GET /v2/notifications?template_type=&status=&reference=&older_than=&include_jobs=` → newest
  first, 250 a page, `links.next` with `older_than` when the page is full (`status=failed` means
  every failure status, as in Notify).

Authentication exactly as Notify's: `Authorization: Bearer <JWT>`, HS256, signed with the secret of
the API key `{name}-{service id}-{secret}`, `iss` = service id, `iat` within 30 s of the simulator's
clock either way. No header or another scheme: 401; every token problem: 403 `AuthError` with
Notify's message ("Error: Your system clock must be accurate to within 30 seconds" for an old or
future `iat`, "Invalid token: API key not found" for a wrong secret — and, as in Notify, for a missing
`iat`). Errors have Notify's shape `{"status_code": 400, "errors": [{"error": "ValidationError"|
"BadRequestError"|…, "message": "…"}]}`: schema errors (required, additional or unknown fields, a
template id that is not a UUID, a phone number or e-mail address that is not valid) are
`ValidationError`s, all of them at once; an unknown template (`Template not found`), a template of the
other channel, a placeholder without a value (`Missing personalisation: code, link`), a too long text
message and an unknown `email_reply_to_id` are `BadRequestError`s.

Like the real service it does **not** deduplicate on `reference`: the same reference twice is two
messages (DGKB's port deduplicates, dgkb.notify.notifynl).

Where the real thing deviates:

- Phone numbers. Notify's own validation is UK-centric (UK mobiles, international only with a
  service permission); NotifyNL's notifications-utils fork parses numbers as Dutch and, for services
  without the international permission, answers "Not a dutch mobile number". The simulator accepts
  Dutch mobile numbers only — `06…`, `+316…`, `00316…`, `316…` with 8 digits after the 6 (spaces,
  hyphens, dots and parentheses allowed), first digit after the 6 in 1–5 or 8 (no 066 pagers) — with
  the v2 messages ("Not a dutch mobile number", "Not enough digits", "Too many digits", "Must not
  contain letters or symbols"); NotifyNL validates with libphonenumber and may accept more.
- Templates are configured in the simulator (`templates=`, default `DEMO_TEMPLATES`: the
  `bevestig-digid` text message and e-mail with placeholders `organisatie`, `link`, `code`; the
  `verificatie-mijn-profiel` ones with `organisatie`, `code`; the `nieuw-bericht` ones with
  `organisatie`, `link`); only
  plain `((placeholder))`s (matched as Notify does: case, spaces, `_` and `-` ignored), no
  conditional `((x??text))`, no list values, no markdown or HTML rendering, no SMS name prefix.
- A message is `delivered` at once (the real one goes `created` → `sending` → `delivered` by the
  provider's callback); `POST /_sim/notifications/{id}/status {"status": …}` sets another status.
- One live API key; no team/test keys, trial mode, rate limits, letters, scheduled sending,
  `sms_sender_id`, one-click unsubscribe, file attachments or content sanitising (those fields are a
  400 here); everything lives in memory.

Test hooks: `GET /_sim/outbox` (every accepted message with its rendered subject and body, oldest
first), `DELETE /_sim/outbox`, and the shared switches of `simulators.common` (`POST /_sim/behaviour`
…).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, sim_routes

__all__ = [
    "BEVESTIG_EMAIL_ID",
    "BEVESTIG_SMS_ID",
    "DEMO_REPLY_TO_ID",
    "DEMO_TEMPLATES",
    "SimTemplate",
    "create_app",
    "render",
]

CLOCK_SKEW_SECONDS = 30
PAGE_SIZE = 250
SMS_MAX_CHARACTERS = 918
CLOCK_MESSAGE = "Error: Your system clock must be accurate to within 30 seconds"
TOKEN_GUIDANCE = (
    "See our requirements for JSON Web Tokens at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
)
STATUSES = (
    "cancelled",
    "created",
    "sending",
    "sent",
    "delivered",
    "pending",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "pending-virus-check",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
    "accepted",
    "received",
)
FAILED = (
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
)
TEMPLATE_TYPES = ("sms", "email", "letter")

BEVESTIG_SMS_ID = "b0e5f1a2-0001-4d6a-9c1e-5a7b8c9d0e01"
BEVESTIG_EMAIL_ID = "b0e5f1a2-0002-4d6a-9c1e-5a7b8c9d0e02"
VERIFICATIE_SMS_ID = "b0e5f1a2-0003-4d6a-9c1e-5a7b8c9d0e03"
VERIFICATIE_EMAIL_ID = "b0e5f1a2-0004-4d6a-9c1e-5a7b8c9d0e04"
BERICHT_SMS_ID = "b0e5f1a2-0005-4d6a-9c1e-5a7b8c9d0e05"
BERICHT_EMAIL_ID = "b0e5f1a2-0006-4d6a-9c1e-5a7b8c9d0e06"
DEMO_REPLY_TO_ID = "b0e5f1a2-00f0-4d6a-9c1e-5a7b8c9d0ef0"
SMS_FROM = "DGKB"
EMAIL_FROM = "berichten@dgkb.example.org"


@dataclass(frozen=True, slots=True)
class SimTemplate:
    """A template of the simulated service; `subject` only for e-mail."""

    id: str
    name: str
    type: str  # "sms" | "email"
    body: str
    subject: str | None = None
    version: int = 1


DEMO_TEMPLATES: tuple[SimTemplate, ...] = (
    SimTemplate(
        id=BEVESTIG_SMS_ID,
        name="bevestig-digid",
        type="sms",
        body=(
            "((organisatie)): alleen als u nu met ons belt. Bevestig wie u bent met DigiD: ((link)) "
            "Code: ((code)). Belt u niet met ons? Negeer dit bericht."
        ),
    ),
    SimTemplate(
        id=BEVESTIG_EMAIL_ID,
        name="bevestig-digid",
        type="email",
        subject="Bevestig met DigiD – ((organisatie))",
        body=(
            "U belt op dit moment met ((organisatie)). Bevestig wie u bent met DigiD:\n\n"
            "((link))\n\nCode: ((code))\n\n"
            "Belt u nu niet met ((organisatie))? Dan is dit bericht niet voor u: negeer het en "
            "klik niet op de link."
        ),
    ),
    SimTemplate(
        id=VERIFICATIE_SMS_ID,
        name="verificatie-mijn-profiel",
        type="sms",
        body="((organisatie)): uw code voor Mijn omgeving is ((code)). Deze code is 15 minuten geldig.",
    ),
    SimTemplate(
        id=VERIFICATIE_EMAIL_ID,
        name="verificatie-mijn-profiel",
        type="email",
        subject="Uw code voor Mijn omgeving – ((organisatie))",
        body=(
            "U heeft dit e-mailadres opgegeven in Mijn omgeving van ((organisatie)).\n\n"
            "Uw code is: ((code))\n\nDeze code is 15 minuten geldig. Heeft u dit niet zelf gedaan? "
            "Negeer dan dit bericht."
        ),
    ),
    SimTemplate(
        id=BERICHT_SMS_ID,
        name="nieuw-bericht",
        type="sms",
        body="((organisatie)): U heeft een nieuw bericht in Mijn omgeving. Lees het op ((link))",
    ),
    SimTemplate(
        id=BERICHT_EMAIL_ID,
        name="nieuw-bericht",
        type="email",
        subject="U heeft een nieuw bericht in Mijn omgeving",
        body=(
            "U heeft een nieuw bericht in Mijn omgeving van ((organisatie)).\n\n"
            "Log in om het te lezen: ((link))"
        ),
    ),
)

_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
_NOT_IN_KEY = str.maketrans("", "", " _-")
_PHONE_CHARS = re.compile(r"^[0-9+()\-.\s]*$")
_DUTCH_MOBILE = re.compile(r"^6[1-58][0-9]{7}$")
_EMAIL = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]{2,63}$"
)
_SMS_FIELDS = (
    "reference",
    "phone_number",
    "template_id",
    "personalisation",
    "scheduled_for",
    "sms_sender_id",
)
_EMAIL_FIELDS = (
    "reference",
    "email_address",
    "template_id",
    "personalisation",
    "scheduled_for",
    "email_reply_to_id",
    "one_click_unsubscribe_url",
    "sanitise_content_for",
)
_UNSUPPORTED = ("scheduled_for", "sms_sender_id", "one_click_unsubscribe_url", "sanitise_content_for")


def _key(name: str) -> str:
    """Notify matches placeholder names case-insensitively, ignoring spaces, `_` and `-`."""
    return name.translate(_NOT_IN_KEY).lower()


def placeholders(*texts: str | None) -> list[str]:
    """The placeholder names in the texts, in order, without repeats (by their key)."""
    seen: dict[str, str] = {}
    for text in texts:
        for name in _PLACEHOLDER.findall(text or ""):
            seen.setdefault(_key(name.strip()), name.strip())
    return list(seen.values())


def render(text: str, personalisation: Mapping[str, Any]) -> str:
    """`text` with every `((placeholder))` replaced by its value (all must be present)."""
    values = {_key(k): v for k, v in personalisation.items()}
    return _PLACEHOLDER.sub(lambda m: str(values[_key(m.group(1).strip())]), text)


def phone_error(raw: str) -> str | None:
    """None for a Dutch mobile number, else Notify's v2 message (as NotifyNL words it)."""
    if not _PHONE_CHARS.match(raw):
        return "Must not contain letters or symbols"
    digits = re.sub(r"\D", "", raw)
    stripped = raw.strip()
    if stripped.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "31" + digits[1:]
    elif digits.startswith("31") and len(digits) == 11:
        international = digits
    else:
        return "Not a dutch mobile number" if len(digits) >= 9 else "Not enough digits"
    if not international.startswith("31"):
        return "Not a dutch mobile number"
    national = international[2:]
    if len(national) < 9:
        return "Not enough digits"
    if len(national) > 9:
        return "Too many digits"
    if not _DUTCH_MOBILE.match(national):
        return "Not a dutch mobile number"
    return None


def normalise_phone(raw: str) -> str:
    """A valid Dutch mobile number as Notify stores it: international digits, no plus (316…)."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "31" + digits[1:]
    return digits


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def notify_error(status: int, error: str, message: str) -> JSONResponse:
    """One error in Notify's shape."""
    return notify_errors(status, [(error, message)])


def notify_errors(status: int, errors: Iterable[tuple[str, str]]) -> JSONResponse:
    return JSONResponse(
        {"status_code": status, "errors": [{"error": e, "message": m} for e, m in errors]},
        status_code=status,
    )


def _split_key(api_key: str) -> tuple[str, str]:
    service_id, secret = api_key[-73:-37], api_key[-36:]
    if not (_is_uuid(service_id) and _is_uuid(secret)) or api_key[-37] != "-":
        raise ValueError("a Notify API key is {name}-{service id}-{secret}")
    return service_id, secret


class _Service:
    """The simulated service: templates, reply-to addresses and every notification sent."""

    def __init__(self, api_key: str, templates: Sequence[SimTemplate], reply_to_ids: Sequence[str]) -> None:
        self.service_id, self.secret = _split_key(api_key)
        self.templates = {t.id: t for t in templates}
        self.reply_to_ids = set(reply_to_ids)
        self.notifications: list[dict[str, Any]] = []  # oldest first
        self.by_id: dict[str, dict[str, Any]] = {}

    def authenticate(self, request: Request) -> Response | None:
        """None when the request carries a valid token of this service; else Notify's answer."""
        header = request.headers.get("authorization")
        if not header:
            return notify_error(401, "AuthError", "Unauthorized: authentication token must be provided")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return notify_error(401, "AuthError", "Unauthorized: authentication bearer scheme must be used")
        token = token.strip()

        def denied(message: str) -> Response:
            return notify_error(403, "AuthError", message)

        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            return denied("Invalid token: signature, api token is not valid")
        issuer = unverified.get("iss")
        if issuer is None:
            return denied("Invalid token: iss field not provided")
        if not _is_uuid(issuer):
            return denied("Invalid token: service id is not the right data type")
        if issuer != self.service_id:
            return denied("Invalid token: service not found")
        if algorithm != "HS256":
            return denied("Invalid token: algorithm used is not HS256")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_iat": False, "verify_nbf": False, "verify_exp": False},
            )
        except jwt.InvalidSignatureError:
            return denied("Invalid token: API key not found")
        except jwt.InvalidTokenError:
            return denied(f"Invalid token: {TOKEN_GUIDANCE}")
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
            # Notify: a missing iat is a decode error for this key, so no key matches
            return denied("Invalid token: API key not found")
        if abs(time.time() - issued_at) > CLOCK_SKEW_SECONDS:
            return denied(CLOCK_MESSAGE)
        return None

    def notification_json(self, base: str, n: dict[str, Any]) -> dict[str, Any]:
        """A notification as `GET /v2/notifications/{id}` returns it."""
        template: SimTemplate = n["template"]
        return {
            "id": n["id"],
            "reference": n["reference"],
            "email_address": n["to"] if n["type"] == "email" else None,
            "phone_number": n["to"] if n["type"] == "sms" else None,
            "line_1": None,
            "line_2": None,
            "line_3": None,
            "line_4": None,
            "line_5": None,
            "line_6": None,
            "postcode": None,
            "postage": None,
            "type": n["type"],
            "status": n["status"],
            "template": self._template_ref(base, template),
            "body": n["body"],
            "subject": n["subject"],
            "created_at": _stamp(n["created_at"]),
            "created_by_name": None,
            "sent_at": _stamp(n["created_at"]),
            "completed_at": _stamp(n["created_at"]) if n["status"] in ("delivered", *FAILED) else None,
            "scheduled_for": None,
        }

    def _template_ref(self, base: str, template: SimTemplate) -> dict[str, Any]:
        return {
            "id": template.id,
            "version": template.version,
            "uri": f"{base}/services/{self.service_id}/templates/{template.id}",
        }

    def outbox_json(self, n: dict[str, Any]) -> dict[str, Any]:
        template: SimTemplate = n["template"]
        return {
            "id": n["id"],
            "type": n["type"],
            "to": n["to"],
            "normalisedTo": n["normalised_to"],
            "templateId": template.id,
            "templateName": template.name,
            "templateVersion": template.version,
            "reference": n["reference"],
            "personalisation": n["personalisation"],
            "subject": n["subject"],
            "body": n["body"],
            "status": n["status"],
            "createdAt": _stamp(n["created_at"]),
        }

    def post(self, kind: str, data: Any, base: str) -> Response:
        """Validate and accept one notification of `kind` ("sms" | "email")."""
        if not isinstance(data, dict):
            return notify_error(400, "ValidationError", "POST data is not of type object")
        recipient_field = "phone_number" if kind == "sms" else "email_address"
        allowed = _SMS_FIELDS if kind == "sms" else _EMAIL_FIELDS
        errors: list[str] = []
        for name in (recipient_field, "template_id"):
            if name not in data:
                errors.append(f"{name} is a required property")
        extra = [k for k in data if k not in allowed]
        if extra:
            errors.append(f"Additional properties are not allowed ({', '.join(extra)} was unexpected)")
        recipient = data.get(recipient_field)
        if recipient_field in data:
            if not isinstance(recipient, str):
                errors.append(f"{recipient_field} {recipient} is not of type string")
            elif kind == "sms" and (problem := phone_error(recipient)) is not None:
                errors.append(f"phone_number {problem}")
            elif kind == "email" and not _EMAIL.match(recipient.strip()):
                errors.append("email_address Not a valid email address")
        if "template_id" in data and not _is_uuid(data["template_id"]):
            errors.append("template_id is not a valid UUID")
        personalisation = data.get("personalisation", {})
        if personalisation is None:
            personalisation = {}
        if not isinstance(personalisation, dict):
            errors.append("personalisation is not of type object")
        reference = data.get("reference")
        if reference is not None and not isinstance(reference, str):
            errors.append("reference is not of type string")
        elif isinstance(reference, str) and len(reference) > 1000:
            errors.append("reference is too long")
        if "email_reply_to_id" in data and not _is_uuid(data["email_reply_to_id"]):
            errors.append("email_reply_to_id is not a valid UUID")
        if errors:
            return notify_errors(400, (("ValidationError", e) for e in errors))
        unsupported = [k for k in _UNSUPPORTED if data.get(k) is not None]
        if unsupported:
            return notify_error(
                400,
                "BadRequestError",
                f"{', '.join(unsupported)}: not supported by the DGKB NotifyNL simulator",
            )
        template = self.templates.get(data["template_id"])
        if template is None:
            return notify_error(400, "BadRequestError", "Template not found")
        if template.type != kind:
            return notify_error(
                400, "BadRequestError", f"{template.type} template is not suitable for {kind} notification"
            )
        given = {_key(k) for k, v in personalisation.items() if v is not None}
        missing = [p for p in placeholders(template.subject, template.body) if _key(p) not in given]
        if missing:
            return notify_error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        body = render(template.body, personalisation)
        subject = render(template.subject, personalisation) if template.subject is not None else None
        if kind == "sms" and len(body) > SMS_MAX_CHARACTERS:
            return notify_error(
                400,
                "BadRequestError",
                f"Your message is too long. Text messages cannot be longer than {SMS_MAX_CHARACTERS} "
                f"characters. Your message is {len(body)} characters long.",
            )
        reply_to = data.get("email_reply_to_id")
        if reply_to is not None and reply_to not in self.reply_to_ids:
            return notify_error(
                400,
                "BadRequestError",
                f"email_reply_to_id {reply_to} does not exist in database for service id {self.service_id}",
            )
        assert isinstance(recipient, str)
        notification = {
            "id": str(uuid.uuid4()),
            "type": kind,
            "to": recipient,
            "normalised_to": normalise_phone(recipient) if kind == "sms" else recipient.strip().lower(),
            "template": template,
            "reference": reference,
            "personalisation": personalisation,
            "subject": subject,
            "body": body,
            "status": "delivered",
            "created_at": datetime.now(UTC),
        }
        self.notifications.append(notification)
        self.by_id[notification["id"]] = notification
        content: dict[str, Any] = (
            {"body": body, "from_number": SMS_FROM}
            if kind == "sms"
            else {
                "from_email": EMAIL_FROM,
                "body": body,
                "subject": subject,
                "one_click_unsubscribe_url": None,
            }
        )
        return JSONResponse(
            {
                "id": notification["id"],
                "reference": reference,
                "content": content,
                "uri": f"{base}/v2/notifications/{notification['id']}",
                "template": self._template_ref(base, template),
                "scheduled_for": None,
            },
            status_code=201,
        )


def create_app(
    *,
    api_key: str,
    templates: Sequence[SimTemplate] = DEMO_TEMPLATES,
    reply_to_ids: Sequence[str] = (DEMO_REPLY_TO_ID,),
    latency_ms: int = 0,
) -> Starlette:
    """The simulated NotifyNL service for the Notify API key `api_key` (`{name}-{service id}-{secret}`)."""
    behaviour = Behaviour(latency_ms=latency_ms)
    service = _Service(api_key, templates, reply_to_ids)

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def read_json(request: Request) -> tuple[Any, Response | None]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if content_type != "application/json":
                raise ValueError
            return await request.json(), None
        except ValueError:
            return None, notify_error(400, "BadRequestError", "Invalid JSON supplied in POST data")

    async def post_sms(request: Request) -> Response:
        return await post(request, "sms")

    async def post_email(request: Request) -> Response:
        return await post(request, "email")

    async def post(request: Request, kind: str) -> Response:
        if (denied := service.authenticate(request)) is not None:
            return denied
        data, bad = await read_json(request)
        if bad is not None:
            return bad
        return service.post(kind, data, base_url(request))

    async def get_one(request: Request) -> Response:
        if (denied := service.authenticate(request)) is not None:
            return denied
        notification_id = request.path_params["notification_id"]
        if not _is_uuid(notification_id):
            return notify_error(400, "ValidationError", "notification_id is not a valid UUID")
        found = service.by_id.get(str(uuid.UUID(notification_id)))
        if found is None:
            return notify_error(404, "NoResultFound", "No result found")
        return JSONResponse(service.notification_json(base_url(request), found))

    async def get_list(request: Request) -> Response:
        if (denied := service.authenticate(request)) is not None:
            return denied
        q = request.query_params
        errors = [
            f"Additional properties are not allowed ({name} was unexpected)"
            for name in dict.fromkeys(q.keys())
            if name not in ("reference", "status", "template_type", "older_than", "include_jobs")
        ]
        statuses = q.getlist("status")
        types = q.getlist("template_type")
        errors += [f"status {s} is not one of [{', '.join(STATUSES)}]" for s in statuses if s not in STATUSES]
        errors += [
            f"template_type {t} is not one of [{', '.join(TEMPLATE_TYPES)}]"
            for t in types
            if t not in TEMPLATE_TYPES
        ]
        older_than = q.get("older_than")
        if older_than is not None and not _is_uuid(older_than):
            errors.append("older_than is not a valid UUID")
        if "include_jobs" in q and q["include_jobs"] not in ("true", "True"):
            errors.append(f"include_jobs {q['include_jobs']} is not one of [true, True]")
        if errors:
            return notify_errors(400, (("ValidationError", e) for e in errors))
        wanted_status = set(statuses) | (set(FAILED) if "failed" in statuses else set())
        found = list(reversed(service.notifications))  # newest first
        if older_than is not None:
            ids = [n["id"] for n in found]
            found = found[ids.index(older_than) + 1 :] if older_than in ids else []
        found = [
            n
            for n in found
            if (not wanted_status or n["status"] in wanted_status)
            and (not types or n["type"] in types)
            and ("reference" not in q or n["reference"] == q["reference"])
        ][:PAGE_SIZE]
        base = base_url(request)
        links = {"current": str(request.url)}
        if len(found) == PAGE_SIZE:
            params = [(k, v) for k, v in q.multi_items() if k != "older_than"] + [
                ("older_than", found[-1]["id"])
            ]
            links["next"] = f"{base}/v2/notifications?{urlencode(params)}"
        return JSONResponse(
            {"notifications": [service.notification_json(base, n) for n in found], "links": links}
        )

    async def outbox(request: Request) -> Response:
        return JSONResponse([service.outbox_json(n) for n in service.notifications])

    async def clear_outbox(request: Request) -> Response:
        service.notifications.clear()
        service.by_id.clear()
        return Response(status_code=204)

    async def set_status(request: Request) -> Response:
        found = service.by_id.get(request.path_params["notification_id"])
        if found is None:
            return notify_error(404, "NoResultFound", "No result found")
        try:
            data = await request.json()
        except ValueError:
            data = None
        status = data.get("status") if isinstance(data, dict) else None
        if status not in STATUSES or status == "failed":
            return notify_error(400, "ValidationError", f"status moet een van {', '.join(STATUSES)} zijn")
        found["status"] = status
        return JSONResponse(service.outbox_json(found))

    return Starlette(
        routes=[
            Route("/v2/notifications/sms", post_sms, methods=["POST"]),
            Route("/v2/notifications/email", post_email, methods=["POST"]),
            Route("/v2/notifications", get_list, methods=["GET"]),
            Route("/v2/notifications/{notification_id}", get_one, methods=["GET"]),
            Route("/_sim/outbox", outbox, methods=["GET"]),
            Route("/_sim/outbox", clear_outbox, methods=["DELETE"]),
            Route("/_sim/notifications/{notification_id}/status", set_status, methods=["POST"]),
            *sim_routes(behaviour),
        ],
        middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)],
    )
