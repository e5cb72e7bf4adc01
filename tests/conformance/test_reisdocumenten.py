"""BRP Reisdocumenten 2.0: the adapter's requests and the simulator's answers against the spec.

Driven: `fetch` of klant.basis with the catalogue field `reisdocumenten` and with single document paths,
for the holders of the special cases (passport expiring soon, lost document), the README persons, a
person without documents and a BSN the BRP does not know. Checked: openapi-core (request + response),
and request and answer against the variant named by `type` (ZoekMetBurgerservicenummer).
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
    openapi_errors,
    variant_errors,
)

FIELD_SETS = (
    ("reisdocumenten",),
    ("naam", "reisdocumenten.datumEindeGeldigheid", "reisdocumenten.soort"),
    ("reisdocumenten", "reisdocumenten.houder", "reisdocumenten.inhoudingOfVermissing"),
)


async def test_every_reisdocumenten_exchange_conforms(stack: SimulatorStack, spec: Any) -> None:
    api, raw = spec("reisdocumenten")
    world = stack.world
    adapter = stack.adapters["reisdocumenten"]
    await stack.clear("reisdocumenten")
    without = next(p.bsn for p in world.persons if not p.reisdocumenten)
    bsns = [
        world.special["passport_expires_soon"],
        world.special["lost_document"],
        *README_BSNS,
        without,
        "999999990",  # 11-proef valid, unknown
    ]
    documents = 0
    for bsn in dict.fromkeys(bsns):
        for fields in FIELD_SETS:
            result = await adapter.fetch(FetchRequest(Subject.person(bsn), {"klant.basis": fields}, HEADERS))
            documents += len(result["klant.basis"]["reisdocumenten"])
    assert documents > 0

    exchanges = await stack.exchanges("reisdocumenten")
    mapping = raw["components"]["schemas"]["ReisdocumentenQuery"]["discriminator"]["mapping"]
    errors: list[str] = []
    for x in exchanges:
        errors += openapi_errors(api, x)
        variant = mapping[x.body["type"]].rsplit("/", 1)[-1]
        errors += [f"{x.label}: request: {e}" for e in variant_errors(raw, variant, x.body)]
        if x.status == 200:
            errors += [f"{x.label}: {e}" for e in variant_errors(raw, f"{variant}Response", x.response)]
    assert_conformant(errors, len(exchanges))
