"""Control questions: verifying by phone or at the desk that the caller is who they say they are.

The questions come from the base registry data that the organisation's identification purpose
permits (BRP: geboortedatum, postcode + huisnummer, straat; KVK: bezoekadres). Asking which
questions exist reads nothing; the answers are read only when the agent asks to check them, and
that read is logged as a processing under the identification purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dgkb.contacts.service import ContactService
from dgkb.domain.context import Actor, Trace
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.register import Register
from dgkb.gateway import SourceGateway

__all__ = ["ControlQuestion", "IdentificationService"]

BASIS = "klant.basis"
# per subject kind: (catalogue field, question) in the order they are asked
_QUESTIONS: dict[SubjectKind, tuple[tuple[str, str], ...]] = {
    SubjectKind.BSN: (
        ("geboorte", "Wat is uw geboortedatum?"),
        ("verblijfplaats", "Wat is uw postcode en huisnummer?"),
        ("verblijfplaats", "In welke straat en plaats woont u?"),
    ),
    SubjectKind.KVK: (
        ("adressen", "Wat is het bezoekadres van het bedrijf?"),
        ("naam", "Wat is de statutaire naam van het bedrijf?"),
    ),
    SubjectKind.VESTIGING: (
        ("adressen", "Wat is het adres van deze vestiging?"),
        ("naam", "Wat is de naam van het bedrijf?"),
    ),
}


@dataclass(frozen=True, slots=True)
class ControlQuestion:
    vraag: str
    antwoord: str | None = None  # None until the agent asked to check the answers


def _date(value: Any) -> str | None:
    text = (value or {}).get("datum") if isinstance(value, dict) else None
    if isinstance(text, str) and len(text) == 10:
        return f"{text[8:10]}-{text[5:7]}-{text[0:4]}"
    return None


def _answer(question: str, data: dict[str, Any]) -> str | None:
    if question.startswith("Wat is uw geboortedatum"):
        return _date((data.get("geboorte") or {}).get("datum"))
    adres = (data.get("verblijfplaats") or {}).get("verblijfadres") or {}
    if question.startswith("Wat is uw postcode"):
        postcode = str(adres.get("postcode") or "")
        if postcode and adres.get("huisnummer") is not None:
            pc = f"{postcode[:4]} {postcode[4:]}" if len(postcode) == 6 else postcode
            return f"{pc}, huisnummer {adres['huisnummer']}"
        return None
    if question.startswith("In welke straat"):
        straat = adres.get("officieleStraatnaam") or adres.get("korteStraatnaam")
        return f"{straat}, {adres.get('woonplaats')}" if straat else None
    if question.startswith("Wat is het bezoekadres") or question.startswith("Wat is het adres"):
        adressen = data.get("adressen") or []
        first = adressen[0] if adressen and isinstance(adressen[0], dict) else {}
        return str(first.get("volledigAdres")) if first.get("volledigAdres") else None
    if "naam van het bedrijf" in question:
        naam = data.get("naam")
        return naam if isinstance(naam, str) else None
    return None


class IdentificationService:
    def __init__(self, *, register: Register, gateway: SourceGateway, contacts: ContactService) -> None:
        self._register = register
        self._gateway = gateway
        self._contacts = contacts

    def _permitted(self, purpose_id: str) -> tuple[str, ...] | None:
        purpose = self._register.get(purpose_id)
        access = purpose.categorieen.get(BASIS) if purpose else None
        if access is None:
            return ()
        return access.velden  # None = every field of the category

    def _planned(self, purpose_id: str, kind: SubjectKind) -> list[tuple[str, str]]:
        permitted = self._permitted(purpose_id)
        return [(f, q) for f, q in _QUESTIONS[kind] if permitted is None or f in permitted]

    async def questions(self, actor: Actor, contact_id: str, kind: SubjectKind) -> list[ControlQuestion]:
        """The questions to ask, without answers: nothing about the customer is read."""
        scope = await self._contacts.identification_scope(actor, contact_id, kinds=(kind,))
        return [ControlQuestion(q) for _, q in self._planned(scope.purpose_id, kind)]

    async def answers(
        self, actor: Actor, contact_id: str, subject: Subject, *, trace: Trace
    ) -> list[ControlQuestion]:
        """The questions with the registry's answers, to compare with what the customer said.
        Logged before the answers are returned (fail closed); from then on the agent may attest
        'controlevragen' for this subject in this contact."""
        scope = await self._contacts.identification_scope(actor, contact_id, kinds=(subject.kind,))
        planned = self._planned(scope.purpose_id, subject.kind)
        if not planned:
            return [ControlQuestion(q) for _, q in planned]
        # logged by the gateway about the subject before the answers are returned (fail closed)
        values = await self._gateway.basisgegevens(
            scope.context(actor, subject, trace, contact_id),
            tuple(dict.fromkeys(f for f, _ in planned)),
            name="controlevragen opvragen",
        )
        if values is None:  # no base registry for this kind: nothing to compare with
            return [ControlQuestion(q) for _, q in planned]
        await self._contacts.control_answers_shown(actor, contact_id, subject)
        return [ControlQuestion(q, _answer(q, values) or "(niet bekend in de bron)") for _, q in planned]
