"""CustomerSearch: find the customer of a contact, for the identification purpose.

A search is itself a processing of personal data: each person or business it returns is logged
under the organisation's identification purpose before the results are shown. Results hold only
what is needed to pick the right one (name, birth year, street and place), ranked, at most 20;
when several match they are all shown — never resolved by guessing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, Trace
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.gateway import Caller, SourceGateway, business_subject
from dgkb.search.query import InvalidSearch, QueryKind, SearchQuery
from dgkb.sources.queries import (
    InvalidPersonQuery,
    NaamGeboortedatumQuery,
    PersonQuery,
    PostcodeHuisnummerQuery,
)

MAX_RESULTS = 20
_PERSON_FIELDS = ("burgerservicenummer", "naam", "geboorte", "adressering")


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Who searches, in which contact, under which (identification) purpose."""

    actor: Actor
    channel: Kanaal
    purpose_id: str
    trace: Trace
    contact_id: str | None
    # the kinds of subject the PDP lets this employee look up under the identification purpose
    subject_kinds: frozenset[SubjectKind] = frozenset()

    def may_find(self, kind: SubjectKind) -> bool:
        return kind in self.subject_kinds

    @property
    def caller(self) -> Caller:
        return Caller(
            actor=self.actor,
            purpose_id=self.purpose_id,
            trace=self.trace,
            channel=self.channel,
            contact_id=self.contact_id,
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One candidate: enough to pick the right customer, nothing more."""

    soort: str  # persoon | bedrijf
    subject: Subject
    naam: str
    geboortejaar: int | None = None
    adres: str | None = None
    afgeschermd: bool = False
    overleden: bool = False
    gevonden_via: str = ""
    kvk_nummer: str | None = None  # also for a branch, whose subject is its vestigingsnummer


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: SearchQuery
    hits: tuple[Hit, ...]
    truncated: bool


def _person_hit(p: dict[str, Any], via: str) -> Hit | None:
    bsn = p.get("burgerservicenummer")
    if not isinstance(bsn, str):
        return None
    naam = p.get("naam") or {}
    volledig = naam.get("volledigeNaam") or " ".join(
        x for x in (naam.get("voornamen"), naam.get("voorvoegsel"), naam.get("geslachtsnaam")) if x
    )
    geboorte = ((p.get("geboorte") or {}).get("datum") or {}).get("datum")
    adressering = p.get("adressering") or {}
    shielded = bool(p.get("geheimhoudingPersoonsgegevens"))
    adres = (
        ", ".join(x for x in (adressering.get("adresregel1"), adressering.get("adresregel2")) if x) or None
    )
    return Hit(
        soort="persoon",
        subject=Subject(SubjectKind.BSN, bsn),
        naam=volledig or "(naam onbekend)",
        geboortejaar=int(geboorte[:4]) if isinstance(geboorte, str) and geboorte[:4].isdigit() else None,
        adres=None if shielded else adres,  # a shielded person's address is not shown to pick from
        afgeschermd=shielded,
        overleden=bool(p.get("overlijden")),
        gevonden_via=via,
    )


def _business_hit(r: dict[str, Any], via: str) -> Hit | None:
    subject = business_subject(r)
    if subject is None:
        return None
    adres = r.get("adres")
    return Hit(
        soort="bedrijf",
        subject=subject,
        kvk_nummer=str(r.get("kvkNummer")),
        naam=str(r.get("naam") or r.get("kvkNummer")),
        adres=adres if isinstance(adres, str) else None,
        gevonden_via=via,
    )


class CustomerSearch:
    def __init__(self, *, gateway: SourceGateway) -> None:
        self._gateway = gateway

    async def search(self, context: SearchScope, query: SearchQuery) -> SearchResult:
        """The gateway logs every person or business a source returned, under the identification
        purpose, before they are ranked and shown (fail closed)."""
        try:
            hits = await self._find(context, query)
        except InvalidPersonQuery as exc:
            raise InvalidSearch(exc.reason, field="zoekterm") from None
        except ValueError as exc:
            raise InvalidSearch(str(exc), field="zoekterm") from None
        unique: dict[Subject, Hit] = {}
        # only what the identification decision permits, whichever source a hit came from
        for hit in (h for h in hits if context.may_find(h.subject.kind)):
            unique.setdefault(hit.subject, hit)
        ranked = sorted(unique.values(), key=lambda h: (h.overleden, h.soort != "persoon", h.naam))
        shown = tuple(ranked[:MAX_RESULTS])
        return SearchResult(query=query, hits=shown, truncated=len(ranked) > MAX_RESULTS)

    async def _find(self, context: SearchScope, query: SearchQuery) -> list[Hit]:
        caller = context.caller
        match query.kind:
            case QueryKind.BSN:
                return await self._persons_by_bsn(context, [query.value], via="bsn")
            case QueryKind.NAAM_GEBOORTEDATUM if query.geslachtsnaam and query.geboortedatum:
                by_name = NaamGeboortedatumQuery(
                    geslachtsnaam=query.geslachtsnaam, geboortedatum=query.geboortedatum
                )
                return await self._brp_search(context, by_name, via="naam en geboortedatum")
            case QueryKind.POSTCODE_HUISNUMMER if query.postcode and query.huisnummer is not None:
                via = "postcode en huisnummer"
                by_address = PostcodeHuisnummerQuery(postcode=query.postcode, huisnummer=query.huisnummer)
                persons, businesses = await asyncio.gather(
                    self._brp_search(context, by_address, via=via),
                    self._kvk_search(context, postcode=query.postcode, huisnummer=query.huisnummer, via=via),
                )
                return persons + businesses
            case QueryKind.KVK:
                return await self._kvk_search(context, kvk_nummer=query.value, via="KVK-nummer")
            case QueryKind.VESTIGING:
                return await self._kvk_search(context, vestigingsnummer=query.value, via="vestigingsnummer")
            case QueryKind.BEDRIJFSNAAM:
                return await self._kvk_search(context, naam=query.value, via="bedrijfsnaam")
            case QueryKind.TELEFOON | QueryKind.EMAIL:
                matches = await self._gateway.search_digital_addresses(caller, query.value, limit=MAX_RESULTS)
                via = "telefoonnummer" if query.kind is QueryKind.TELEFOON else "e-mailadres"
                bsns = [s.value for m in matches for s in m.subjects if s.kind is SubjectKind.BSN]
                kvks = {s.value for m in matches for s in m.subjects if s.kind is SubjectKind.KVK}
                persons = await self._persons_by_bsn(context, list(dict.fromkeys(bsns)), via=via)
                businesses = [h for k in kvks for h in await self._kvk_search(context, kvk_nummer=k, via=via)]
                return persons + businesses
        raise InvalidSearch("onbekende zoekvraag", field="zoekterm")  # pragma: no cover

    async def _brp_search(self, context: SearchScope, q: PersonQuery, *, via: str) -> list[Hit]:
        if not context.may_find(SubjectKind.BSN):
            return []
        persons = await self._gateway.search_persons(context.caller, q, _PERSON_FIELDS)
        return [h for p in persons if (h := _person_hit(p, via)) is not None]

    async def _persons_by_bsn(self, context: SearchScope, bsns: Sequence[str], *, via: str) -> list[Hit]:
        if not context.may_find(SubjectKind.BSN):
            return []
        found = await asyncio.gather(
            *(self._gateway.lookup_person(context.caller, bsn, _PERSON_FIELDS) for bsn in bsns)
        )
        return [h for p in found if p is not None and (h := _person_hit(p, via)) is not None]

    async def _kvk_search(self, context: SearchScope, *, via: str, **params: Any) -> list[Hit]:
        if not context.may_find(SubjectKind.KVK):
            return []
        results = await self._gateway.search_businesses(context.caller, limit=MAX_RESULTS + 1, **params)
        return [h for r in results if (h := _business_hit(r, via)) is not None]
