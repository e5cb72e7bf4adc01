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
from datetime import UTC, datetime
from typing import Any, TypeVar

from dgkb.audit.writer import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.errors import DomainError
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.domain.register import Register
from dgkb.federation.headers import render_headers
from dgkb.federation.sourceset import SourceSet
from dgkb.search.query import InvalidSearch, QueryKind, SearchQuery
from dgkb.sources.base import SourceError
from dgkb.sources.brp import (
    BrpPersonenAdapter,
    InvalidPersonQuery,
    NaamGeboortedatumQuery,
    PostcodeHuisnummerQuery,
)
from dgkb.sources.klantinteracties import KlantinteractiesAdapter
from dgkb.sources.kvk import KvkAdapter

_A = TypeVar("_A")

MAX_RESULTS = 20
_PERSON_FIELDS = ("burgerservicenummer", "naam", "geboorte", "adressering")


class SearchUnavailable(DomainError):
    """A source needed for this search is down: the API answers 503, the console says so."""

    code = "search.unavailable"
    status = 503


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
    kvk = r.get("kvkNummer")
    if not isinstance(kvk, str):
        return None
    vestiging = r.get("vestigingsnummer")
    subject = (
        Subject(SubjectKind.VESTIGING, vestiging)
        if isinstance(vestiging, str) and vestiging and r.get("type") == "nevenvestiging"
        else Subject(SubjectKind.KVK, kvk)
    )
    adres = r.get("adres")
    return Hit(
        soort="bedrijf",
        subject=subject,
        kvk_nummer=kvk,
        naam=str(r.get("naam") or kvk),
        adres=adres if isinstance(adres, str) else None,
        gevonden_via=via,
    )


class CustomerSearch:
    def __init__(self, *, sources: SourceSet, register: Register, audit: AuditWriter) -> None:
        self._sources = sources
        self._register = register
        self._audit = audit

    def _adapter(self, cls: type[_A]) -> tuple[str, _A] | None:
        for sid, adapter in self._sources.adapters.items():
            if isinstance(adapter, cls):
                return sid, adapter
        return None

    def _headers(self, sid: str, context: SearchScope) -> dict[str, str]:
        purpose = self._register.get(context.purpose_id)
        return render_headers(
            self._sources.configs[sid].headers, purpose=purpose, actor=context.actor, trace=context.trace
        )

    async def search(self, context: SearchScope, query: SearchQuery) -> SearchResult:
        started = datetime.now(UTC)
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
        await self._log(context, shown, started)
        return SearchResult(query=query, hits=shown, truncated=len(ranked) > MAX_RESULTS)

    async def _log(self, context: SearchScope, hits: Sequence[Hit], started: datetime) -> None:
        purpose = self._register.get(context.purpose_id)
        retention = purpose.bewaartermijn if purpose else "P1Y"
        ended = datetime.now(UTC)
        await asyncio.gather(
            *(
                self._audit.record_processing(
                    context=RequestContext(
                        actor=context.actor,
                        subject=hit.subject,
                        purpose_id=context.purpose_id,
                        assurance=Assurance.GEEN,
                        channel=context.channel,
                        trace=context.trace,
                        contact_id=context.contact_id,
                    ),
                    name="klant zoeken",
                    retention=retention,
                    categories=["klant.basis"],
                    started_at=started,
                    ended_at=ended,
                )
                for hit in hits
            )
        )

    async def _find(self, context: SearchScope, query: SearchQuery) -> list[Hit]:
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
                return await self._by_digital_address(context, query)
        raise InvalidSearch("onbekende zoekvraag", field="zoekterm")  # pragma: no cover

    async def _brp_search(self, context: SearchScope, q: Any, *, via: str) -> list[Hit]:
        found = self._adapter(BrpPersonenAdapter)
        if found is None or not context.may_find(SubjectKind.BSN):
            return []
        sid, brp = found
        try:
            persons = await brp.search(q, _PERSON_FIELDS, self._headers(sid, context))
        except SourceError as exc:
            raise SearchUnavailable(f"{self._sources.configs[sid].name} is nu niet bereikbaar") from exc
        return [h for p in persons if (h := _person_hit(p, via)) is not None]

    async def _persons_by_bsn(self, context: SearchScope, bsns: Sequence[str], *, via: str) -> list[Hit]:
        found = self._adapter(BrpPersonenAdapter)
        if found is None or not context.may_find(SubjectKind.BSN):
            return []
        sid, brp = found
        headers = self._headers(sid, context)

        async def one(bsn: str) -> Hit | None:
            try:
                persoon = await brp.lookup(bsn, _PERSON_FIELDS, headers)
            except SourceError as exc:
                raise SearchUnavailable(f"{self._sources.configs[sid].name} is nu niet bereikbaar") from exc
            return _person_hit(persoon, via) if persoon is not None else None

        return [h for h in await asyncio.gather(*(one(b) for b in bsns)) if h is not None]

    async def _kvk_search(self, context: SearchScope, *, via: str, **params: Any) -> list[Hit]:
        found = self._adapter(KvkAdapter)
        if found is None or not context.may_find(SubjectKind.KVK):
            return []
        sid, kvk = found
        try:
            results = await kvk.search(self._headers(sid, context), limit=MAX_RESULTS + 1, **params)
        except SourceError as exc:
            raise SearchUnavailable(f"{self._sources.configs[sid].name} is nu niet bereikbaar") from exc
        return [h for r in results if (h := _business_hit(r, via)) is not None]

    async def _by_digital_address(self, context: SearchScope, query: SearchQuery) -> list[Hit]:
        found = self._adapter(KlantinteractiesAdapter)
        if found is None:
            return []
        sid, ki = found
        try:
            matches = await ki.search_digitale_adressen(
                query.value, self._headers(sid, context), limit=MAX_RESULTS
            )
        except SourceError as exc:
            raise SearchUnavailable(f"{self._sources.configs[sid].name} is nu niet bereikbaar") from exc
        via = "telefoonnummer" if query.kind is QueryKind.TELEFOON else "e-mailadres"
        bsns = [s.value for m in matches for s in m.subjects if s.kind is SubjectKind.BSN]
        kvks = {s.value for m in matches for s in m.subjects if s.kind is SubjectKind.KVK}
        persons = await self._persons_by_bsn(context, list(dict.fromkeys(bsns)), via=via)
        businesses = [h for k in kvks for h in await self._kvk_search(context, kvk_nummer=k, via=via)]
        return persons + businesses
