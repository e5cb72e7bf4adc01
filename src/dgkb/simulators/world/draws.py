"""Small deterministic helpers of every builder: uuids derived from names (uuid5), dates and times
drawn from a random stream, and text helpers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

NAMESPACE = uuid.UUID("6f1c2e1e-7d0a-4c55-9a57-2f5c0f7f2026")


def stable_uuid(*parts: object) -> str:
    """The same uuid for the same parts, in every world."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(0, max(1, (end - start).days)))


def at(d: date, rng: random.Random) -> datetime:
    return datetime.combine(d, time(rng.randrange(8, 17), rng.choice((0, 15, 30, 45))), tzinfo=UTC)


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def postcode(rng: random.Random) -> str:
    return f"30{rng.randrange(11, 89)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABEGHKLNPRSTVX')}"
