"""Open Producten: the adapter's requests and the simulator's answers against the spec.

Driven: `fetch` of dossier.rechten-en-plichten (every catalogue field) for README persons, persons with
products and without, and businesses. Checked with openapi-core (request + response).
"""

from __future__ import annotations

from typing import Any

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import README_BSNS
from dgkb.sources.base import FetchRequest
from tests.conformance.conftest import (
    HEADERS,
    SimulatorStack,
    assert_conformant,
    catalogue_fields,
    openapi_errors,
)

CATEGORY = "dossier.rechten-en-plichten"


async def test_every_producten_exchange_conforms(stack: SimulatorStack, spec: Any) -> None:
    api, _ = spec("producten")
    world = stack.world
    adapter = stack.adapters["producten"]
    await stack.clear("producten")
    with_products = [p.bsn for p in world.persons if p.producten][:3]
    without = next(p.bsn for p in world.persons if not p.producten)
    companies = [*[c.kvk_nummer for c in world.companies if c.producten][:2], world.kvk_nummers[-1]]
    subjects = [
        *(Subject.person(b) for b in dict.fromkeys([*README_BSNS, *with_products, without])),
        *(Subject.business(k) for k in companies),
    ]
    found = 0
    for subject in subjects:
        result = await adapter.fetch(FetchRequest(subject, {CATEGORY: catalogue_fields(CATEGORY)}, HEADERS))
        found += len(result[CATEGORY] or [])
    assert found > 0
    exchanges = await stack.exchanges("producten")
    errors = [e for x in exchanges for e in openapi_errors(api, x)]
    assert_conformant(errors, len(exchanges))
