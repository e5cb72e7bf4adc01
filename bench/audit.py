"""Audit write benchmark: record sets/s of `AuditWriter.record_processing` with many concurrent writers,
and the time `verify` takes over what was written. Prints its figures.

One record set = what one view logs: an LDV, a decision and an access record, linked onto a chain of
the writer's pool (and, since the chain heads move in the same transaction, one upsert of the heads of
the three tables). `--writers` tasks (50) each write record sets back to back for `--seconds`; the
figures are record sets committed per second over the whole run, the per-call latency, and the CPU
this process (the driver and, on SQLite, the database too) spent per record set: on a shared machine
the least noisy of the three.

    .venv/bin/python bench/audit.py                  # temporary SQLite file
    .venv/bin/python bench/audit.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

`--database-url` is migrated first and written to; do not point it at a database in use.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvloop

PURPOSE = "https://register.voorbeeldstad.nl/verwerkingen/vraag-lopende-zaak"
BSN = "999993653"


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(database_url: str, writers: int, seconds: float, chains: int) -> None:
    from dgkb.audit import AuditWriter, verify
    from dgkb.composition.root import load_configuration
    from dgkb.domain.assurance import Assurance
    from dgkb.domain.channels import Kanaal
    from dgkb.domain.context import Actor, RequestContext, Trace
    from dgkb.domain.identifiers import Subject
    from dgkb.domain.pseudonym import Pseudonymizer
    from dgkb.domain.roles import Role
    from dgkb.policy.decision import DecisionRequest
    from dgkb.policy.engine import CedarPolicyEngine
    from dgkb.settings import Settings
    from dgkb.store.db import Database

    settings = Settings()
    config = load_configuration(settings)
    purpose = config.register.get(PURPOSE)
    assert purpose is not None
    oin = purpose.organisatie.oin
    decision = CedarPolicyEngine(config.register, config.catalogue).decide(
        DecisionRequest(
            purpose_id=PURPOSE,
            role=Role.KCM,
            assurance=Assurance.CONTROLEVRAGEN,
            organisation=oin,
            channel=Kanaal.TELEFOON,
            categories=config.catalogue.ids,
        )
    )
    delivered = [c.category for c in decision.permitted]
    database = Database(database_url)
    writer = AuditWriter(database, Pseudonymizer(settings.pseudonym_keyring()), chains=chains)

    async def one() -> float:
        context = RequestContext(
            actor=Actor(id="bench", role=Role.KCM, organisation=oin),
            subject=Subject.person(BSN),
            purpose_id=PURPOSE,
            assurance=Assurance.CONTROLEVRAGEN,
            channel=Kanaal.TELEFOON,
            trace=Trace(),
            contact_id="bench-contact",
        )
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await writer.record_processing(
            context=context,
            name="klantbeeld raadplegen",
            decision=decision,
            retention=purpose.bewaartermijn,
            categories_requested=list(config.catalogue.ids),
            categories_delivered=delivered,
            started_at=now - timedelta(milliseconds=60),
            ended_at=now,
            consent_status={},
        )
        return (time.perf_counter() - t0) * 1000

    async def worker(until: float, latencies: list[float]) -> None:
        while time.perf_counter() < until:
            latencies.append(await one())

    try:
        for _ in range(20):  # warm the connection pool and the chains
            await one()
        sequential: list[float] = []
        await worker(time.perf_counter() + seconds / 2, sequential)
        concurrent: list[float] = []
        t0, cpu0 = time.perf_counter(), time.process_time()
        until = t0 + seconds
        await asyncio.gather(*(worker(until, concurrent) for _ in range(writers)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        t1 = time.perf_counter()
        report = await verify(database)
        verify_s = time.perf_counter() - t1
    finally:
        await database.dispose()

    backend = "SQLite" if database.is_sqlite else "PostgreSQL"
    print(f"audit writes on {backend}, pool of {chains} chains")
    print(
        f"  sequential         {len(sequential):6d} sets  {1000 / statistics.mean(sequential):7.0f} sets/s"
        f"  p50 {pct(sequential, 50):6.2f} ms  p95 {pct(sequential, 95):6.2f} ms"
    )
    print(
        f"  {writers:2d} concurrent      {len(concurrent):6d} sets  {len(concurrent) / wall:7.0f} sets/s"
        f"  p50 {pct(concurrent, 50):6.2f} ms  p95 {pct(concurrent, 95):6.2f} ms"
        f"  CPU of this process {cpu / len(concurrent) * 1000:.2f} ms/set"
    )
    print(
        f"  verify             {report.records:6d} rows  {report.records / verify_s:7.0f} rows/s"
        f"  ok={report.ok}  {report.summary}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--writers", type=int, default=50, help="concurrent writers (50)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the concurrent run (5)")
    parser.add_argument("--chains", type=int, default=4, help="chains in the writer's pool (4)")
    args = parser.parse_args(argv)

    from dgkb.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'audit.sqlite3'}"
        upgrade(url)
        uvloop.run(run(url, args.writers, args.seconds, args.chains))
    return 0


if __name__ == "__main__":
    sys.exit(main())
