"""A year of made-up history for the demo (and the benchmark), so the dashboard says something.

Contacts per working day with a weekly rhythm (digital channels also at the weekend, so the small
weekend cells show suppression at work), a channel mix, onderwerpen from onderwerpen.yaml, outcomes
with referrals, answered or not, handling times per channel, repeat contacts (follow-ups about the same
onderwerp), ratings, complaints and reports with their throughput times, and hourly health samples of
the sources with the odd outage. Customers are random pseudonyms (no identifier behind them at all).
Deterministic for a given seed.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select

from dgkb.audit.records import retention_until
from dgkb.domain.periods import AMSTERDAM, month_of, week_of
from dgkb.store.db import Database
from dgkb.store.meten import ContactEventRow, FeedbackEventRow, HealthSampleRow

DEMO_KEY_ID = "demo"

# kanaal: (share on working days, share at weekends, chance answered, mean handling minutes)
CHANNELS: dict[str, tuple[float, float, float, float]] = {
    "telefoon": (0.55, 0.0, 0.78, 6.0),
    "e-mail": (0.14, 0.35, 0.64, 9.0),
    "balie": (0.12, 0.0, 0.83, 11.0),
    "chat": (0.09, 0.40, 0.72, 12.0),
    "webformulier": (0.06, 0.20, 0.58, 7.0),
    "brief": (0.03, 0.0, 0.61, 14.0),
    "social-media": (0.01, 0.05, 0.50, 5.0),
}
# uitkomst: share
OUTCOMES = {"afgehandeld": 0.70, "doorverbonden": 0.10, "terugbelverzoek": 0.12, "doorverwezen": 0.08}
# NPS tendency per channel (mean score 0–10)
SCORES = {"telefoon": 7.6, "e-mail": 6.4, "balie": 8.2, "chat": 7.9, "webformulier": 6.8, "brief": 6.2}


@dataclass(frozen=True)
class DemoOrganisation:
    organisation: str
    per_werkdag: int
    klanten: int
    onderwerpen: Sequence[str]
    teams: Sequence[tuple[str, float]]
    doorverwijzen: Sequence[str]
    bewaartermijn: str = "P2Y"


@dataclass
class DemoHistory:
    contacts: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(day: date, rng: random.Random, weekend: bool) -> datetime:
    hour = (
        rng.randint(9, 21)
        if weekend
        else rng.choices(range(8, 18), weights=[3, 6, 7, 7, 5, 6, 6, 5, 4, 2])[0]
    )
    local = datetime.combine(day, time(hour), tzinfo=AMSTERDAM)
    return local.astimezone(UTC)


def _dates(day: date, keep: str) -> dict[str, Any]:
    return {
        "dag": day,
        "week": week_of(day),
        "maand": month_of(day),
        "bewaren_tot": retention_until(day, keep),
    }


def history(
    org: DemoOrganisation, *, start: date, end: date, seed: int = 15, scale: float = 1.0
) -> DemoHistory:
    """Contact and feedback events of `org` from `start` up to (not including) `end`."""
    rng = random.Random(f"{seed}:{org.organisation}")
    secret = hashlib.sha256(f"demo:{seed}:{org.organisation}".encode()).digest()
    pseudonyms = [hashlib.sha256(secret + n.to_bytes(4, "big")).hexdigest() for n in range(org.klanten)]
    recent: deque[tuple[date, str, str, str]] = deque(maxlen=400)  # (day, klant, onderwerp, kanaal)
    earlier: dict[tuple[str, str], deque[date]] = {}
    out = DemoHistory()
    teams = dict(org.teams)
    day = start
    while day < end:
        weekend = day.weekday() >= 5
        season = 1.0 + 0.15 * math.sin((day.timetuple().tm_yday / 365.0) * 2 * math.pi)
        mean = org.per_werkdag * season * scale * (0.05 if weekend else 1.0)
        count = max(0, int(rng.gauss(mean, math.sqrt(max(mean, 1.0)))))
        shares = {k: v[1] if weekend else v[0] for k, v in CHANNELS.items()}
        shares = {k: v for k, v in shares.items() if v > 0}
        for _ in range(count):
            if recent and rng.random() < 0.12:  # a follow-up: the same customer about the same thing
                _, klant, onderwerp, kanaal = rng.choice(recent)
                if weekend and CHANNELS[kanaal][1] == 0:
                    kanaal = _weighted(rng, shares)
            else:
                klant = rng.choice(pseudonyms)
                onderwerp = rng.choice(org.onderwerpen)
                kanaal = _weighted(rng, shares)
            moment = _moment(day, rng, weekend)
            past = earlier.setdefault((klant, onderwerp), deque(maxlen=8))
            herhaald = sum(1 for d in past if (day - d).days <= 30) >= 2
            past.append(day)
            recent.append((day, klant, onderwerp, kanaal))
            uitkomst = _weighted(rng, OUTCOMES)
            answered_chance, minutes = CHANNELS[kanaal][2], CHANNELS[kanaal][3]
            beantwoord = rng.random() < (answered_chance - (0.25 if herhaald else 0.0))
            out.contacts.append(
                {
                    "organisation": org.organisation,
                    "occurred_at": moment,
                    **_dates(day, org.bewaartermijn),
                    "kanaal": kanaal,
                    "onderwerp": onderwerp,
                    "uitkomst": uitkomst,
                    "beantwoord": beantwoord,
                    "doorverwezen_naar": rng.choice(org.doorverwijzen)
                    if uitkomst == "doorverwezen"
                    else None,
                    "duur_seconden": int(rng.lognormvariate(math.log(minutes * 60), 0.5)),
                    "team": rng.choices(list(teams), weights=list(teams.values()))[0]
                    if kanaal != "balie"
                    else "Balie Stadhuis"
                    if "Balie Stadhuis" in teams
                    else next(iter(teams)),
                    "herhaald": herhaald,
                    "klant": klant,
                    "key_id": DEMO_KEY_ID,
                }
            )
            if kanaal in SCORES and rng.random() < 0.11:
                score = max(
                    0, min(10, round(rng.gauss(SCORES[kanaal] - (1.5 if not beantwoord else 0), 1.8)))
                )
                out.feedback.append(
                    _feedback(org, moment, day, "oordeel", "gegeven", kanaal, onderwerp, klant)
                    | {"score": score, "waardering": max(1, min(5, round(score / 2)))}
                )
            kind = "klacht" if rng.random() < 0.006 else "melding" if rng.random() < 0.012 else None
            if kind is not None:
                about = (
                    onderwerp if kind == "klacht" else rng.choice(["openbare-ruimte", "afval", "parkeren"])
                )
                if about not in org.onderwerpen:
                    about = "overig"
                out.feedback.append(_feedback(org, moment, day, kind, "ingediend", kanaal, about, klant))
                days = max(1.0, rng.gauss(27.0, 9.0) if kind == "klacht" else rng.gauss(6.0, 3.5))
                closed = moment + timedelta(days=days)
                if closed.astimezone(AMSTERDAM).date() < end:
                    row = _feedback(
                        org,
                        closed,
                        closed.astimezone(AMSTERDAM).date(),
                        kind,
                        "afgehandeld",
                        kanaal,
                        about,
                        klant,
                    )
                    out.feedback.append(row | {"doorlooptijd_dagen": round(days, 2)})
        day += timedelta(days=1)
    return out


def _feedback(
    org: DemoOrganisation,
    moment: datetime,
    day: date,
    soort: str,
    fase: str,
    kanaal: str,
    onderwerp: str,
    klant: str,
) -> dict[str, Any]:
    return {
        "organisation": org.organisation,
        "occurred_at": moment.replace(minute=0, second=0, microsecond=0),
        **_dates(day, org.bewaartermijn),
        "soort": soort,
        "fase": fase,
        "kanaal": kanaal,
        "onderwerp": onderwerp,
        "score": None,
        "waardering": None,
        "doorlooptijd_dagen": None,
        "klant": klant,
        "key_id": DEMO_KEY_ID,
    }


def health_samples(
    sources: Sequence[str], *, start: date, end: date, seed: int = 15
) -> Iterator[dict[str, Any]]:
    """Hourly samples per source: calls in office hours, latency per source, a few bad hours."""
    rng = random.Random(f"{seed}:health")
    base = {sid: rng.uniform(40, 260) for sid in sources}
    day = start
    while day < end:
        for hour in range(24):
            busy = 8 <= hour < 18 and day.weekday() < 5
            moment = datetime.combine(day, time(hour), tzinfo=AMSTERDAM).astimezone(UTC)
            for sid in sources:
                calls = rng.randint(300, 900) if busy else rng.randint(0, 40)
                if not calls:
                    continue
                outage = rng.random() < 0.002
                errors = calls if outage else sum(1 for _ in range(3) if rng.random() < 0.05)
                p95 = base[sid] * rng.uniform(1.5, 2.5) * (3 if outage else 1)
                yield {
                    "bron": sid,
                    "node": "demo",
                    "gemeten_op": moment,
                    "dag": day,
                    "uur": hour,
                    "aanroepen": calls,
                    "fouten": min(errors, calls),
                    "p50_ms": round(p95 / 2, 1),
                    "p95_ms": round(p95, 1),
                }
        day += timedelta(days=1)


# The demo installation's teams (the KCC agents' units of the dev issuer's accounts among them).
DEMO_TEAMS: dict[str, tuple[tuple[str, float], ...]] = {
    "00000001001234567000": (
        ("Klantcontactcentrum", 0.62),
        ("Team Belastingen", 0.13),
        ("Team Wmo", 0.1),
        ("Team Parkeren", 0.08),
        ("Balie Stadhuis", 0.07),
    ),
    "00000001009876543000": (("Klantcontact Belastingen", 0.8), ("Team Heffingen", 0.2)),
}
HEALTH_DAYS = 120
DEMO_VOLUME = {"00000001001234567000": (250, 25_000), "00000001009876543000": (60, 8_000)}


async def seed_history(
    database: Database,
    organisations: Sequence[DemoOrganisation],
    sources: Sequence[str],
    *,
    today: date,
    days: int = 365,
) -> bool:
    """Write a year of demo history up to today, once: nothing when any contact event exists."""
    async with database.read() as session:
        if await session.scalar(select(ContactEventRow.id).limit(1)) is not None:
            return False
    start = today - timedelta(days=days)
    for org in organisations:
        made = history(org, start=start, end=today)
        await _insert(database, ContactEventRow, made.contacts)
        await _insert(database, FeedbackEventRow, made.feedback)
    async with database.read() as session:
        sampled = await session.scalar(select(HealthSampleRow.id).limit(1)) is not None
    if not sampled:  # the sources' health over the last months (hourly samples, no personal data)
        since = today - timedelta(days=HEALTH_DAYS)
        await _insert(database, HealthSampleRow, list(health_samples(sources, start=since, end=today)))
    return True


async def _insert(database: Database, table: Any, rows: Sequence[dict[str, Any]], chunk: int = 2000) -> None:
    for begin in range(0, len(rows), chunk):
        async with database.transaction() as session:
            await session.execute(insert(table.__table__), rows[begin : begin + chunk])  # Core: no ORM
