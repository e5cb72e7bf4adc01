"""Identity documents at the counter (issue 9 §4): the employee checks the customer's passport or
identity card against BRP Reisdocumenten, and the register decides what that counts as.

A document can only be checked in person: only on a `balie` contact. The check is part of
identification, so it is decided like the rest of it (the organisation's identification purpose,
for this employee, on this channel) and that purpose must list the Reisdocumenten source for
`klant.basis`. DGKB then asks Reisdocumenten for exactly the shown document number
(`RaadpleegMetReisdocumentnummer`), logs the read ("identiteitsbewijs controleren") and accepts the
document only when the registry says it is

- of the subject the employee names (`houder.burgerservicenummer`),   else DOCUMENT_NOT_OF_SUBJECT
- not reported lost or stolen (`inhoudingOfVermissing` "V"),           else DOCUMENT_LOST_OR_STOLEN
- not surrendered or lapsed (`inhoudingOfVermissing` "I"/"R"),         else DOCUMENT_WITHDRAWN
- still valid today (`datumEindeGeldigheid`, Europe/Amsterdam),        else DOCUMENT_EXPIRED
- of the kind the employee holds (paspoort / identiteitskaart),        else DOCUMENT_KIND_MISMATCH

and refuses an unknown number (DOCUMENT_UNKNOWN). The holder is compared first, so nothing about
another person's document (lost, expired) is revealed. On success the subject is bound with method
`document` at the level `documentZekerheid` of the contact's purpose (the identification purpose
while none is chosen); when the purpose changes, the new purpose's level applies
(ContactService.set_purpose). Refusals bind nothing.

A driving licence is not in the BRP (the RDW keeps it) and DGKB has no connection to the RDW:
`soort: rijbewijs` is refused (400 DOCUMENT_NOT_CHECKABLE, naming `soort`); identify by control
questions instead. No document number is written to the log or stored with the contact.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from dgkb.contacts.service import (
    ContactError,
    ContactForbidden,
    ContactService,
    ContactView,
    IdentificationScope,
)
from dgkb.domain.assurance import Assurance, IdentificationEvidence, IdentificationMethod
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.register import Register
from dgkb.gateway import SourceGateway
from dgkb.sources.base import TravelDocument
from dgkb.sources.config import SourceConfig

__all__ = ["DocumentCheckService", "DocumentKind", "document_number"]

BASIS = "klant.basis"
_TZ = ZoneInfo("Europe/Amsterdam")
# Dutch passport and identity card numbers: 9 characters, capital letters and digits, never the
# letter O (it would be confused with the digit 0).
_NUMBER = re.compile(r"^[A-NP-Z0-9]{9}$")


def document_number(text: str) -> str:
    """The document number as typed, normalised (spaces removed, upper case) and validated; raises
    InvalidIdentifier naming `documentnummer`."""
    number = text.replace(" ", "").upper()
    if not _NUMBER.match(number):
        if len(number) == 9 and "O" in number:
            raise InvalidIdentifier(
                "Een documentnummer bevat nooit de letter O; bedoelt u het cijfer 0?", field="documentnummer"
            )
        raise InvalidIdentifier(
            "Een documentnummer is 9 tekens: hoofdletters (geen O) en cijfers.", field="documentnummer"
        )
    return number


class DocumentKind(StrEnum):
    PASPOORT = "paspoort"
    IDENTITEITSKAART = "identiteitskaart"
    RIJBEWIJS = "rijbewijs"


# BRP soort codes per kind the employee can choose (Tabel 48 Reisdocumenten): the national, business
# and diplomatic passports; the Dutch identity card.
_SOORT_CODES: dict[DocumentKind, frozenset[str]] = {
    DocumentKind.PASPOORT: frozenset({"PN", "ZN", "DN"}),
    DocumentKind.IDENTITEITSKAART: frozenset({"NI"}),
}


class DocumentRefused(ContactForbidden):
    """The registry does not back the shown document (403 with a stable reason)."""

    code = "contact.document_refused"


class DocumentNotCheckable(ContactError):
    code = "contact.document_not_checkable"
    status = 400
    reason = "DOCUMENT_NOT_CHECKABLE"


class DocumentCheckService:
    def __init__(self, *, register: Register, gateway: SourceGateway, contacts: ContactService) -> None:
        self._register = register
        self._gateway = gateway
        self._contacts = contacts

    def _source(self, scope: IdentificationScope) -> SourceConfig:
        """The Reisdocumenten source, when the identification purpose may use it for klant.basis."""
        source = self._gateway.document_source(scope.purpose_id)
        if source is not None:
            return source
        raise ContactForbidden(
            "Het identificatiedoel van uw organisatie staat het controleren van een identiteitsbewijs "
            "in BRP Reisdocumenten niet toe.",
            reason="DOCUMENT_CHECK_NOT_IN_REGISTER",
            field="documentnummer",
        )

    async def identify_with_document(
        self,
        actor: Actor,
        contact_id: str,
        *,
        subject: Subject,
        documentnummer: str,
        soort: DocumentKind,
        trace: Trace,
    ) -> ContactView:
        """Check the shown document in BRP Reisdocumenten and, when it holds, identify the subject
        with method `document` at the register's level for the contact's purpose."""
        # decided first (403 for a role that may not identify), then the channel of this open contact
        scope = await self._contacts.identification_scope(actor, contact_id, kinds=(subject.kind,))
        view = await self._contacts.get(actor, contact_id)
        if view.kanaal != Kanaal.BALIE.value:
            raise ContactForbidden(
                "Een identiteitsbewijs kan alleen aan de balie worden gecontroleerd, als de klant er zelf "
                "mee voor u staat.",
                reason="DOCUMENT_NOT_IN_PERSON",
                field="documentnummer",
            )
        if subject.kind is not SubjectKind.BSN:
            raise ContactError("Een identiteitsbewijs hoort bij een persoon: geef een bsn.", field="bsn")
        if soort is DocumentKind.RIJBEWIJS:
            raise DocumentNotCheckable(
                "Een rijbewijs staat niet in de BRP maar bij de RDW, en kan hier niet worden gecontroleerd. "
                "Controleer een paspoort of identiteitskaart, of stel de controlevragen.",
                field="soort",
            )
        documentnummer = document_number(documentnummer)
        purpose_id = view.verwerkingsactiviteit or scope.purpose_id
        purpose = self._register.get(purpose_id)
        level = purpose.documentZekerheid if purpose is not None else Assurance.CONTROLEVRAGEN
        source = self._source(scope)
        # logged about the subject who showed the document, whatever the answer (the gateway)
        document = await self._gateway.lookup_document(
            scope.context(actor, subject, trace, contact_id),
            documentnummer,
            name="identiteitsbewijs controleren",
        )
        _check(document, subject, soort, today=datetime.now(_TZ).date())
        return await self._contacts.identify_by_document(
            actor,
            contact_id,
            subject=subject,
            assurance=level,
            evidence=IdentificationEvidence(
                method=IdentificationMethod.DOCUMENT,
                issuer=source.name,
                acr=soort.value,
            ),
            trace=trace,
        )


def _check(document: TravelDocument | None, subject: Subject, soort: DocumentKind, *, today: date) -> None:
    """Refuse unless the registry backs the document for this subject (see the module docstring)."""
    if document is None:
        raise DocumentRefused(
            "Dit documentnummer is niet bekend in BRP Reisdocumenten.",
            reason="DOCUMENT_UNKNOWN",
            field="documentnummer",
        )
    if document.holder_bsn != subject.value:
        raise DocumentRefused(
            "Dit identiteitsbewijs staat in de BRP niet op naam van deze klant.",
            reason="DOCUMENT_NOT_OF_SUBJECT",
            field="documentnummer",
        )
    if document.withdrawn == "V":
        raise DocumentRefused(
            "Dit identiteitsbewijs is als vermist of gestolen gemeld; het telt niet als identificatie.",
            reason="DOCUMENT_LOST_OR_STOLEN",
            field="documentnummer",
        )
    if document.withdrawn is not None:
        raise DocumentRefused(
            "Dit identiteitsbewijs is ingehouden, ingeleverd of van rechtswege vervallen; het telt niet "
            "als identificatie.",
            reason="DOCUMENT_WITHDRAWN",
            field="documentnummer",
        )
    if document.valid_until is None or document.valid_until < today:
        raise DocumentRefused(
            "Dit identiteitsbewijs is verlopen (of de einddatum is niet bekend); het telt niet als "
            "identificatie.",
            reason="DOCUMENT_EXPIRED",
            field="documentnummer",
        )
    if document.kind not in _SOORT_CODES.get(soort, frozenset()):
        raise DocumentRefused(
            f"Volgens de BRP is dit geen {soort.value}; controleer welk document de klant toont.",
            reason="DOCUMENT_KIND_MISMATCH",
            field="soort",
        )
