"""CloudEvents (NL GOV profile) over HTTP, structured and binary content mode, via the SDK.

Known types and what they change:

    nl.brp.verhuisd                        klant.basis          data.bsn (or subject) is the person
    nl.overheid.zaken.*  (zaak-gekoppeld…) zaken (+ contacten when linked to a klantcontact)
                                           data.bsn / data.kvkNummer, else the zaak (data.zaak or
                                           subject as URL) is read for its betrokkenen
    nl.overheid.klantinteracties.*         contact.historie, contact.open-verzoeken

Idempotency key: source + id (unique per the CloudEvents spec).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.core.exceptions import BaseCloudEventException

from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject
from dgkb.events.notificaties import CONTACTEN, ZAKEN

BRP_VERHUISD = "nl.brp.verhuisd"
ZAAK_GEKOPPELD = "nl.overheid.zaken.zaak-gekoppeld"


class CloudEventError(ValueError):
    """Not a valid CloudEvent (the API answers 400)."""


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    type: str
    dedupe_key: str
    categories: tuple[str, ...]
    subjects: tuple[Subject, ...]  # named in the event itself
    zaak_url: str | None  # to read for betrokkenen when the event names no subject
    klantcontact_url: str | None
    source: str  # for the ChangeEvent: a short, non-personal label


# What DGKB holds a structured-mode CloudEvent to (the CloudEvents 1.0 spec; the SDK alone is more
# lenient: it makes up a missing id and reads any text as base64). The API documents the same
# (api/v1/notificaties.CLOUDEVENT_SCHEMA).
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,20}$")
RFC3339_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
_RFC3339 = re.compile(RFC3339_PATTERN)
REQUIRED_ATTRIBUTES = ("id", "source", "type")
OPTIONAL_ATTRIBUTES = ("subject", "datacontenttype", "dataschema")


def check_structured(body: bytes) -> None:
    """CloudEventError unless `body` is a CloudEvent 1.0 in structured mode by the letter."""
    try:
        event = json.loads(body)
    except ValueError:
        raise CloudEventError("geen geldig CloudEvent: geen JSON") from None
    if not isinstance(event, dict):
        raise CloudEventError("geen geldig CloudEvent: geen JSON-object")
    if event.get("specversion") != "1.0":
        raise CloudEventError("specversion moet 1.0 zijn")
    for name in REQUIRED_ATTRIBUTES:
        if not isinstance(event.get(name), str) or not event[name]:
            raise CloudEventError(f"{name} ontbreekt of is leeg")
    for name in OPTIONAL_ATTRIBUTES:
        if name in event and (not isinstance(event[name], str) or not event[name]):
            raise CloudEventError(f"{name} moet een niet-lege tekst zijn")
    if "time" in event and not (isinstance(event["time"], str) and _RFC3339.match(event["time"])):
        raise CloudEventError("time moet een tijdstip zijn (RFC 3339)")
    if "data" in event and "data_base64" in event:
        raise CloudEventError("geef data of data_base64, niet allebei")
    if "data_base64" in event and not (
        isinstance(event["data_base64"], str) and _BASE64.match(event["data_base64"])
    ):
        raise CloudEventError("data_base64 is geen base64")
    if any(isinstance(v, str) and "\x00" in v for k, v in event.items() if k != "data"):
        raise CloudEventError("een attribuut mag geen NUL-teken (\\u0000) bevatten")
    for name, value in event.items():
        if name in ("specversion", "time", "data", "data_base64", *REQUIRED_ATTRIBUTES, *OPTIONAL_ATTRIBUTES):
            continue
        if not _EXTENSION.match(name):
            raise CloudEventError("de naam van een extensie-attribuut is kleine letters en cijfers (max. 20)")
        if isinstance(value, float) or not isinstance(value, str | int | bool):
            raise CloudEventError(f"extensie-attribuut {name}: een tekst, geheel getal of boolean")


def parse(headers: Mapping[str, str], body: bytes) -> BaseCloudEvent:
    if headers.get("content-type", "").startswith("application/cloudevents+json"):
        check_structured(body)
    try:
        return from_http_event(HTTPMessage(headers=dict(headers), body=body))
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CloudEventError(f"geen geldig CloudEvent: {type(exc).__name__}") from None


def _data(event: BaseCloudEvent) -> dict[str, Any]:
    data = event.get_data()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


def interpret(event: BaseCloudEvent) -> ParsedEvent:
    kind = event.get_type()
    data = _data(event)
    subjects: list[Subject] = []
    try:
        for key, make in (
            ("bsn", Subject.person),
            ("kvkNummer", Subject.business),
            ("vestigingsnummer", Subject.establishment),
        ):
            if isinstance(data.get(key), str):
                subjects.append(make(data[key]))
    except InvalidIdentifier:
        raise CloudEventError("data bevat een ongeldig identificatienummer") from None
    subject_attr = event.get_subject()
    zaak_url: str | None = None
    klantcontact_url: str | None = None
    if kind == BRP_VERHUISD:
        if not subjects and subject_attr:
            try:
                subjects.append(Subject.person(subject_attr))
            except InvalidIdentifier:
                raise CloudEventError("subject is geen geldig BSN") from None
        if not subjects:
            raise CloudEventError("nl.brp.verhuisd zonder BSN (data.bsn of subject)")
        categories: tuple[str, ...] = ("klant.basis",)
        source = "brp"
    elif kind.startswith("nl.overheid.zaken."):
        zaak = data.get("zaak") or (subject_attr if subject_attr and "://" in subject_attr else None)
        zaak_url = zaak if isinstance(zaak, str) else None
        linked = str(data.get("linkObjectType", "")).lower()
        categories = ZAKEN + (CONTACTEN if "klantcontact" in linked else ())
        source = "zaken"
        if not subjects and zaak_url is None:
            raise CloudEventError("zaakgebeurtenis zonder zaak-URL of betrokkene")
    elif kind.startswith("nl.overheid.klantinteracties."):
        kc = data.get("klantcontact") or (subject_attr if subject_attr and "://" in subject_attr else None)
        klantcontact_url = kc if isinstance(kc, str) else None
        categories = CONTACTEN
        source = "klantinteracties"
        if not subjects and klantcontact_url is None:
            raise CloudEventError("klantcontactgebeurtenis zonder klantcontact-URL of betrokkene")
    else:
        categories = ()
        source = "onbekend"
    key = hashlib.sha256(f"{event.get_source()}|{event.get_id()}".encode()).hexdigest()
    return ParsedEvent(kind, key, categories, tuple(subjects), zaak_url, klantcontact_url, source)


__all__ = [
    "BRP_VERHUISD",
    "RFC3339_PATTERN",
    "ZAAK_GEKOPPELD",
    "CloudEventError",
    "ParsedEvent",
    "interpret",
    "parse",
]
