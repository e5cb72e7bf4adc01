"""Simulators of a municipal tax system, a municipal fines system and a water board tax system.

Fictitious data only, generated deterministically per (seed, organisation, kind, identifier): the
same citizen always has the same aanslagen, and the municipality and the water board differ.
BSN 999993653 has an overdue municipal aanslag under a betalingsregeling, a water board aanslag and
an open municipal boete. Unknown identifiers get an empty page (these systems do not answer 404).

Endpoints (lowerCamelCase JSON, pages as `{"count", "next", "previous", "results"}`):

    kind="belastingen"  GET /api/v1/aanslagen?bsn=…|kvkNummer=…[&page=n]
                        GET /api/v1/aanslagen/{aanslagnummer}
    kind="boetes"       GET /api/v1/boetes?bsn=…|kvkNummer=…[&page=n]      (gemeente only)
                        GET /api/v1/boetes/{kenmerk}
    test switches       POST /_sim/behaviour {"latencyMs": 0, "fail": "none"|"503"|"500"|"hang"}
                        GET  /_sim/last-request, GET|DELETE /_sim/requests  (what arrived)

Example for DGKB's `generic-rest` adapter (see `dgkb.sources.generic`)::

    options:
      subjectKinds: [bsn, kvk]
      requests:
        - path: "/api/v1/aanslagen?bsn={subject}"
          subjectKinds: [bsn]
          itemsPath: "$.results"
          nextPath: "$.next"
          categories:
            dossier.financieel: {soort: "'aanslag'", bedrag: "$.bedrag", status: "$.status"}

Serve one on a real socket with `dgkb.simulators.serve.serve_in_background`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, problem, sim_routes
from dgkb.simulators.world import REFERENCE_DATE

__all__ = [
    "FEATURED_BSN",
    "REFERENCE_DATE",
    "Aanslag",
    "Boete",
    "Regeling",
    "create_app",
    "generate_aanslagen",
    "generate_boetes",
]

Organisation = Literal["gemeente", "waterschap"]
Kind = Literal["belastingen", "boetes"]
Status = Literal["betaald", "open", "achterstallig", "betalingsregeling"]

FEATURED_BSN = "999993653"
PAGE_SIZE = 20
API_VERSION = "1.0.0"

_ORGANISATION_NAMES = {"gemeente": "Gemeente Voorbeeldstad", "waterschap": "Waterschap De Voorbeeldwaarden"}
_PREFIX = {"gemeente": "VBS", "waterschap": "VWD"}

# omschrijving -> (min, max) bedrag in euro, per organisation and subject kind
_HEFFINGEN: dict[tuple[Organisation, str], dict[str, tuple[int, int]]] = {
    ("gemeente", "bsn"): {
        "WOZ / onroerendezaakbelasting": (180, 650),
        "Afvalstoffenheffing": (260, 420),
        "Rioolheffing": (150, 260),
    },
    ("gemeente", "kvk"): {
        "WOZ / onroerendezaakbelasting": (900, 6500),
        "Rioolheffing": (220, 900),
    },
    ("waterschap", "bsn"): {
        "Watersysteemheffing ingezetenen": (90, 140),
        "Zuiveringsheffing": (120, 310),
        "Watersysteemheffing gebouwd": (40, 160),
    },
    ("waterschap", "kvk"): {
        "Watersysteemheffing gebouwd": (250, 2400),
        "Zuiveringsheffing": (400, 5200),
    },
}
_BOETES: dict[str, tuple[int, int]] = {
    "Parkeerbelasting naheffingsaanslag": (72, 82),
    "Bestuurlijke strafbeschikking afval": (100, 210),
    "Bestuurlijke strafbeschikking openbare ruimte": (90, 150),
}


BsnQuery = Annotated[str | None, Query(description="burgerservicenummer")]
KvkQuery = Annotated[str | None, Query(alias="kvkNummer", description="KVK-nummer")]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]


class _Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Regeling(_Schema):
    termijnen: int
    bedrag_per_termijn: float
    startdatum: date


class Aanslag(_Schema):
    aanslagnummer: str
    belastingjaar: int
    omschrijving: str
    bedrag: float
    openstaand_bedrag: float
    vervaldatum: date
    status: Status
    regeling: Regeling | None = None


class Boete(_Schema):
    kenmerk: str
    omschrijving: str
    pleegdatum: date
    bedrag: float
    openstaand_bedrag: float
    vervaldatum: date
    status: Status


class AanslagenPage(_Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[Aanslag]


class BoetesPage(_Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[Boete]


# --- data -------------------------------------------------------------------------------------


def _rng(seed: int, organisation: str, kind: str, identifier: str) -> random.Random:
    return random.Random(f"{seed}|{organisation}|{kind}|{identifier}")


def _euro(rng: random.Random, low: int, high: int) -> float:
    return round(rng.uniform(low, high), 2)


def _regeling(bedrag: float, start: date, termijnen: int) -> tuple[Regeling, float]:
    """A payment arrangement and what is still open under it at REFERENCE_DATE."""
    per_termijn = round(bedrag / termijnen, 2)
    months_passed = max(0, (REFERENCE_DATE.year - start.year) * 12 + REFERENCE_DATE.month - start.month)
    paid = min(termijnen - 1, months_passed)
    openstaand = round(bedrag - paid * per_termijn, 2)
    return Regeling(termijnen=termijnen, bedrag_per_termijn=per_termijn, startdatum=start), openstaand


def generate_aanslagen(
    seed: int, organisation: Organisation, identifier: str, subject_kind: str
) -> list[Aanslag]:
    """The aanslagen of one subject: every year at least one, per heffing a chance."""
    rng = _rng(seed, organisation, "belastingen", identifier)
    heffingen = _HEFFINGEN[(organisation, subject_kind)]
    prefix = _PREFIX[organisation]
    aanslagen: list[Aanslag] = []
    for year in (REFERENCE_DATE.year - 2, REFERENCE_DATE.year - 1, REFERENCE_DATE.year):
        for i, (omschrijving, (low, high)) in enumerate(heffingen.items()):
            if i > 0 and rng.random() < 0.35:
                continue
            bedrag = _euro(rng, low, high)
            vervaldatum = date(year, 4, 30) + timedelta(days=rng.randrange(0, 30))
            regeling = None
            if vervaldatum >= REFERENCE_DATE:
                status: Status = "betaald" if rng.random() < 0.25 else "open"
                openstaand = 0.0 if status == "betaald" else bedrag
            else:
                roll = rng.random()
                if roll < 0.8:
                    status, openstaand = "betaald", 0.0
                elif roll < 0.9:
                    status, openstaand = "achterstallig", bedrag
                else:
                    status = "betalingsregeling"
                    regeling, openstaand = _regeling(
                        bedrag, vervaldatum + timedelta(days=31), rng.choice([4, 6, 10, 12])
                    )
            aanslagen.append(
                Aanslag(
                    aanslagnummer=f"{prefix}-{year}-{rng.randrange(10**6, 10**7)}",
                    belastingjaar=year,
                    omschrijving=omschrijving,
                    bedrag=bedrag,
                    openstaand_bedrag=openstaand,
                    vervaldatum=vervaldatum,
                    status=status,
                    regeling=regeling,
                )
            )
    if organisation == "gemeente" and identifier == FEATURED_BSN:
        aanslagen = [a for a in aanslagen if a.belastingjaar != REFERENCE_DATE.year - 1]
        year = REFERENCE_DATE.year - 1
        start = REFERENCE_DATE - timedelta(days=150)
        regeling, openstaand = _regeling(348.60, start.replace(day=1), 10)
        aanslagen.append(
            Aanslag(
                aanslagnummer=f"{prefix}-{year}-4711001",
                belastingjaar=year,
                omschrijving="Afvalstoffenheffing",
                bedrag=348.60,
                openstaand_bedrag=openstaand,
                vervaldatum=date(year, 4, 30),
                status="betalingsregeling",
                regeling=regeling,
            )
        )
    return sorted(aanslagen, key=lambda a: (-a.belastingjaar, a.aanslagnummer))


def generate_boetes(seed: int, identifier: str) -> list[Boete]:
    """The boetes of one subject: most have none."""
    rng = _rng(seed, "gemeente", "boetes", identifier)
    count = rng.choices([0, 1, 2], weights=[6, 3, 1])[0]
    boetes: list[Boete] = []
    first_day = date(REFERENCE_DATE.year - 1, 1, 1)
    span = (REFERENCE_DATE - first_day).days - 10
    for _ in range(count):
        omschrijving = rng.choice(sorted(_BOETES))
        bedrag = _euro(rng, *_BOETES[omschrijving])
        pleegdatum = first_day + timedelta(days=rng.randrange(span))
        vervaldatum = pleegdatum + timedelta(weeks=6)
        if vervaldatum >= REFERENCE_DATE:
            status: Status = "betaald" if rng.random() < 0.3 else "open"
        else:
            status = "betaald" if rng.random() < 0.75 else "achterstallig"
        boetes.append(
            Boete(
                kenmerk=f"NH-{pleegdatum.year}-{rng.randrange(10**6, 10**7)}",
                omschrijving=omschrijving,
                pleegdatum=pleegdatum,
                bedrag=bedrag,
                openstaand_bedrag=0.0 if status == "betaald" else bedrag,
                vervaldatum=vervaldatum,
                status=status,
            )
        )
    if identifier == FEATURED_BSN:
        pleegdatum = REFERENCE_DATE - timedelta(days=19)
        boetes.append(
            Boete(
                kenmerk=f"NH-{pleegdatum.year}-4711002",
                omschrijving="Parkeerbelasting naheffingsaanslag",
                pleegdatum=pleegdatum,
                bedrag=77.40,
                openstaand_bedrag=77.40,
                vervaldatum=pleegdatum + timedelta(weeks=6),
                status="open",
            )
        )
    return sorted(boetes, key=lambda b: (b.pleegdatum, b.kenmerk), reverse=True)


# --- app --------------------------------------------------------------------------------------


class _ApiVersionMiddleware:
    """Adds the `API-Version` header of the NL API Design Rules to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"api-version", API_VERSION.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version if scope["type"] == "http" else send)


def _page_links(request: Request, page: int, count: int) -> tuple[str | None, str | None]:
    last = max(1, -(-count // PAGE_SIZE))
    nxt = str(request.url.include_query_params(page=page + 1)) if page < last else None
    prev = str(request.url.include_query_params(page=page - 1)) if page > 1 else None
    return nxt, prev


def _subject_key(bsn: str | None, kvk_nummer: str | None) -> tuple[str, str] | JSONResponse:
    if (bsn is None) == (kvk_nummer is None):
        return problem(400, "Bad Request", "geef precies één van de parameters bsn of kvkNummer")
    if kvk_nummer is not None:
        if not (kvk_nummer.isdigit() and len(kvk_nummer) == 8):
            return problem(400, "Bad Request", "kvkNummer: 8 cijfers verwacht")
        return ("kvk", kvk_nummer)
    if bsn is None or not (bsn.isdigit() and len(bsn) == 9):
        return problem(400, "Bad Request", "bsn: 9 cijfers verwacht")
    return ("bsn", bsn)


def create_app(
    bsns: Sequence[str],
    kvks: Sequence[str],
    *,
    organisation: Organisation,
    kind: Kind,
    seed: int = 2026,
    latency_ms: int = 0,
) -> FastAPI:
    """A tax (`belastingen`) or fines (`boetes`) system of a municipality or water board."""
    if kind == "boetes" and organisation != "gemeente":
        raise ValueError("een boetesysteem simuleren we alleen voor de gemeente")
    behaviour = Behaviour(latency_ms=latency_ms)
    by_subject: dict[tuple[str, str], list[Aanslag] | list[Boete]] = {}
    for subject_kind, identifiers in (("bsn", bsns), ("kvk", kvks)):
        for identifier in identifiers:
            by_subject[(subject_kind, identifier)] = (
                generate_aanslagen(seed, organisation, identifier, subject_kind)
                if kind == "belastingen"
                else generate_boetes(seed, identifier)
            )
    name = _ORGANISATION_NAMES[organisation]
    app = FastAPI(
        title=f"{'Belastingen' if kind == 'belastingen' else 'Boetes'} {name} (simulator)",
        version=API_VERSION,
        description="Fictieve gegevens voor DGKB-tests en -demo's.",
    )
    app.router.routes.extend(sim_routes(behaviour))
    app.add_middleware(SimulatorMiddleware, behaviour=behaviour)
    app.add_middleware(_ApiVersionMiddleware)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        return problem(400, "Bad Request", f"ongeldige invoer: {fields}")

    def select(request: Request, bsn: str | None, kvk: str | None, page: int, cls: type[Any]) -> Any:
        """One page of this subject's items of type `cls`, as page fields, or a 400 problem."""
        key = _subject_key(bsn, kvk)
        if isinstance(key, JSONResponse):
            return key
        items = [item for item in by_subject.get(key, []) if isinstance(item, cls)]
        nxt, prev = _page_links(request, page, len(items))
        chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return {"count": len(items), "next": nxt, "previous": prev, "results": chunk}

    def find(match: Callable[[Any], bool]) -> Any:
        return next((item for items in by_subject.values() for item in items if match(item)), None)

    if kind == "belastingen":

        @app.get("/api/v1/aanslagen", response_model=AanslagenPage)
        async def list_aanslagen(
            request: Request, bsn: BsnQuery = None, kvk_nummer: KvkQuery = None, page: PageQuery = 1
        ) -> AanslagenPage | JSONResponse:
            found = select(request, bsn, kvk_nummer, page, Aanslag)
            return found if isinstance(found, JSONResponse) else AanslagenPage(**found)

        @app.get("/api/v1/aanslagen/{aanslagnummer}", response_model=Aanslag)
        async def read_aanslag(aanslagnummer: str) -> Aanslag | JSONResponse:
            found = find(lambda item: isinstance(item, Aanslag) and item.aanslagnummer == aanslagnummer)
            return found if found is not None else problem(404, "Not Found", "aanslag niet gevonden")

    else:

        @app.get("/api/v1/boetes", response_model=BoetesPage)
        async def list_boetes(
            request: Request, bsn: BsnQuery = None, kvk_nummer: KvkQuery = None, page: PageQuery = 1
        ) -> BoetesPage | JSONResponse:
            found = select(request, bsn, kvk_nummer, page, Boete)
            return found if isinstance(found, JSONResponse) else BoetesPage(**found)

        @app.get("/api/v1/boetes/{kenmerk}", response_model=Boete)
        async def read_boete(kenmerk: str) -> Boete | JSONResponse:
            found = find(lambda item: isinstance(item, Boete) and item.kenmerk == kenmerk)
            return found if found is not None else problem(404, "Not Found", "boete niet gevonden")

    return app
