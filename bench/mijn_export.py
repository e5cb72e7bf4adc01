"""Mijn omgeving export benchmark (issue 14): the time to download "mijn gegevens" as JSON and as PDF
for a customer with 50 zaken and 200 contacts, over real sockets. Prints its figures.

The customer is seeded for this benchmark only: the demo world's BSN 999993653 gets 50 zaken (copies
of the world's zaken under new numbers, half of them closed) and 200 klantcontacten, in a world given to
the simulators this process starts (`running_simulators(world=…)`); the demo and the tests keep the
plain world. DGKB runs in this process under uvicorn with a fresh SQLite database (or
`--database-url`); the customer logs in through the test broker like a browser would, then downloads
both files `--runs` times. The first PDF includes loading Pango and the fonts (reported apart).

    .venv/bin/python bench/mijn_export.py
    .venv/bin/python bench/mijn_export.py --runs 10 --latency-ms 50
    .venv/bin/python bench/mijn_export.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Targets (issue 14): JSON < 1 s, PDF < 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import statistics
import tempfile
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

BSN = "999993653"
ZAKEN = 50
CONTACTS = 200
TARGET_JSON_S = 1.0
TARGET_PDF_S = 5.0


def heavy_world() -> object:
    """The demo world with BSN's zaken and contacts replaced by ZAKEN zaken and CONTACTS contacts."""
    from dgkb.simulators.world import build_world
    from dgkb.simulators.world.draws import stable_uuid

    world = build_world()
    person = world.person(BSN)
    assert person is not None
    templates = world.zaken()
    zaken = []
    for i in range(ZAKEN):
        t = templates[i % len(templates)]
        uuid = stable_uuid("bench-zaak", i)
        zaak = dataclasses.replace(
            t,
            uuid=uuid,
            identificatie=f"ZAAK-2026-9{i:06d}",
            initiator_bsn=BSN,
            initiator_kvk=None,
            rol_uuid=stable_uuid("bench-rol", i),
            statussen=tuple(
                dataclasses.replace(s, uuid=stable_uuid("bench-status", i, j))
                for j, s in enumerate(t.statussen)
            ),
            resultaat_uuid=stable_uuid("bench-resultaat", i) if t.resultaat_uuid else None,
        )
        zaken.append(zaak)
    base = person.klantcontacten[0] if person.klantcontacten else None
    assert base is not None, "the seed person has no contact to copy"
    contacts = []
    for i in range(CONTACTS):
        uuid = stable_uuid("bench-klantcontact", i)
        contacts.append(
            dataclasses.replace(
                base,
                uuid=uuid,
                nummer=f"9{i:09d}",
                onderwerp=f"Vraag {i + 1}",
                plaatsgevonden_op=base.plaatsgevonden_op - timedelta(days=i),
                zaak_identificatie=None,
                betrokkene_uuid=stable_uuid("bench-betrokkene", uuid),
                onderwerpobject_uuid=None,
            )
        )
    heavy = dataclasses.replace(person, zaken=tuple(zaken), klantcontacten=tuple(contacts), interne_taken=())
    persons = tuple(heavy if p.bsn == BSN else p for p in world.persons)
    return dataclasses.replace(world, persons=persons, _by_bsn={}, _by_kvk={}, _by_vestiging={})


class _Hidden(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[str(a["name"])] = a.get("value") or ""


async def login(client: httpx.AsyncClient) -> None:
    """DigiD Midden at the test broker, as a browser walks it."""
    start = await client.get("/mijn/inloggen/digid")
    authorize = start.headers["location"]
    page = await client.get(authorize)
    hidden = _Hidden()
    hidden.feed(page.text)
    form = {**hidden.fields, "soort": "bsn", "bsn": BSN, "niveau": "digid-midden"}
    back = await client.post(urlsplit(authorize)._replace(query="").geturl(), data=form)
    target = urlsplit(back.headers["location"])
    done = await client.get(target.path, params=dict(parse_qsl(target.query)))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/mijn", done.text


CPU: list[float] = []  # CPU seconds of this process (DGKB, simulators and client) per download


async def timed(client: httpx.AsyncClient, path: str) -> tuple[float, httpx.Response]:
    started, cpu = time.perf_counter(), time.process_time()
    resp = await client.get(path)
    elapsed = time.perf_counter() - started
    CPU.append(time.process_time() - cpu)
    assert resp.status_code == 200, resp.text[:500]
    return elapsed, resp


def counts(export: dict[str, object]) -> tuple[int, int]:
    """(zaken, contacts) in the export's klantbeeld of the gemeente."""
    zaken = contacts = 0
    for org in export["organisaties"]:  # type: ignore[attr-defined]
        for s in org["klantbeeld"]["secties"]:
            if s["status"] != "ok" or not isinstance(s["gegevens"], list):
                continue
            if s["categorie"].startswith("dienst.zaken"):
                zaken += len(s["gegevens"])
            if s["categorie"] == "contact.historie":
                contacts = max(contacts, len(s["gegevens"]))
    return zaken, contacts


def save(stem: str, json_body: bytes, pdf_body: bytes) -> None:
    Path(f"{stem}.json").write_bytes(json_body)
    Path(f"{stem}.pdf").write_bytes(pdf_body)


async def main(args: argparse.Namespace) -> int:
    from dgkb.app import create_app
    from dgkb.runner import rebase_sources, running_simulators
    from dgkb.settings import Environment, Settings
    from dgkb.simulators.serve import serve_in_background
    from dgkb.store.migrate import upgrade_async

    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        await upgrade_async(database_url)
        async with running_simulators(base_port=0, latency_ms=args.latency_ms, world=heavy_world()) as sims:  # type: ignore[arg-type]
            settings = Settings(
                env=Environment.TEST, database_url=database_url, port=0, source_deadline_seconds=10
            )
            app = create_app(settings, source_overrides=rebase_sources(settings, sims))
            async with (
                app.router.lifespan_context(app),
                serve_in_background(app, 0) as (_, api),
                httpx.AsyncClient(base_url=api, timeout=60, follow_redirects=False) as client,
            ):
                await login(client)
                json_times, pdf_times = [], []
                json_cpu, pdf_cpu = [], []
                first_pdf, pdf = await timed(client, "/mijn/download/mijn-gegevens.pdf")
                for _ in range(args.runs):
                    t, resp = await timed(client, "/mijn/download/mijn-gegevens.json")
                    json_times.append(t)
                    json_cpu.append(CPU[-1])
                    export = resp.json()
                for _ in range(args.runs):
                    t, pdf = await timed(client, "/mijn/download/mijn-gegevens.pdf")
                    pdf_times.append(t)
                    pdf_cpu.append(CPU[-1])
    if args.save:
        save(args.save, resp.content, pdf.content)
    zaken, contacts = counts(export)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.content))
    print(f"customer: {zaken} zaken, {contacts} contacts in the export; sources latency {args.latency_ms} ms")
    print(f"JSON export: {len(resp.content) / 1024:.0f} KiB, {args.runs} runs")
    print(f"  p50 {statistics.median(json_times) * 1000:.0f} ms, max {max(json_times) * 1000:.0f} ms", end="")
    print(f" (CPU p50 {statistics.median(json_cpu) * 1000:.0f} ms)")
    size = f"{len(pdf.content) / 1024:.0f} KiB" + (f", {pages} pages" if pages else "")
    print(f"PDF export: {size}, {args.runs} runs")
    print(f"  first (loads Pango and fonts) {first_pdf * 1000:.0f} ms")
    print(f"  p50 {statistics.median(pdf_times) * 1000:.0f} ms, max {max(pdf_times) * 1000:.0f} ms", end="")
    print(f" (CPU p50 {statistics.median(pdf_cpu) * 1000:.0f} ms)")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        cores = os.cpu_count()
        print(f"(!) load average {load:.1f} on {cores} cores: wall times are inflated, CPU figures are not")
    ok_json = statistics.median(json_times) < TARGET_JSON_S
    ok_pdf = statistics.median(pdf_times) < TARGET_PDF_S
    seeded = zaken >= ZAKEN and contacts >= CONTACTS
    print(
        f"[{'ok' if seeded else 'FAIL'}] seeded customer: ≥ {ZAKEN} zaken and ≥ {CONTACTS} contacts exported"
    )
    print(f"[{'ok' if ok_json else 'FAIL'}] JSON export < {TARGET_JSON_S:.0f} s (p50 of {args.runs})")
    print(f"[{'ok' if ok_pdf else 'FAIL'}] PDF export < {TARGET_PDF_S:.0f} s (p50 of {args.runs})")
    return 0 if ok_json and ok_pdf and seeded else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=0, help="latency of every simulated source")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--save", default="", help="write the last JSON and PDF export to this path stem")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
