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


def parse(headers: Mapping[str, str], body: bytes) -> BaseCloudEvent:
    try:
        return from_http_event(HTTPMessage(headers=dict(headers), body=body))
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CloudEventError(f"geen geldig CloudEvent: {type(exc).__name__}") from None


def _data(event: BaseCloudEvent) -> dict[str, Any]:
    data = event.get_data()
    if isinstance(data, bytes | str):
        import json

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


__all__ = ["BRP_VERHUISD", "ZAAK_GEKOPPELD", "CloudEventError", "ParsedEvent", "interpret", "parse"]
