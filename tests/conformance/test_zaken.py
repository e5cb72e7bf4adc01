"""ZGW Zaken 1.5.1: the adapter's requests and the simulator's answers against the spec.

Driven: `fetch` of dienst.zaken-lopend and dienst.zaken-historie (every catalogue field: zaaktype,
status, statushistorie, resultaat — so zaken with expand=rollen, statussen, resultaten, rollen) for
README persons, the special cases and businesses (KVK-nummer, and a vestiging of the company with two
branches); `zaak_facts` for zaken of persons and of companies, and for an unknown identificatie. Every
exchange under /zaken/api/v1 is checked with openapi-core (request + response). The zaaktype,
statustype and resultaattype lookups go to the Catalogi API, whose spec is not in the reference set:
they are only counted (and must be the only other paths).
"""

from __future__ import annotations

from typing import Any

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import README_BSNS
from dgkb.sources.base import FetchRequest, SubjectNotFound
from dgkb.sources.zaken import ZakenAdapter
from tests.conformance.conftest import (
    HEADERS,
    SPECS,
    SimulatorStack,
    assert_conformant,
    catalogue_fields,
    openapi_errors,
)

CATEGORIES = ("dienst.zaken-lopend", "dienst.zaken-historie")


@pytest.mark.slow  # hundreds of exchanges validated against the spec
async def test_every_zaken_exchange_conforms(stack: SimulatorStack, spec: Any) -> None:
    api, _ = spec("zaken")
    world = stack.world
    adapter = stack.adapters["zaken"]
    assert isinstance(adapter, ZakenAdapter)
    await stack.clear("zaken")
    all_fields = {c: catalogue_fields(c) for c in CATEGORIES}
    company = world.company(world.special["two_branches"])
    assert company is not None
    subjects = [
        *(Subject.person(b) for b in README_BSNS),
        Subject.person(world.special["repeat_contacts"]),
        Subject.person(world.special["deceased"]),
        *(Subject.business(k) for k in world.kvk_nummers[:3]),
        Subject.business(company.kvk_nummer),
        *(Subject.establishment(v.vestigingsnummer) for v in company.vestigingen),
    ]
    zaken = 0
    # once with `expand` honoured (one call per subject), once as a source that ignores it, so
    # the per-resource calls (statussen, resultaten) are exercised and validated too
    for ignore_expand in (False, True):
        await stack.behaviour("zaken", ignoreExpand=ignore_expand)
        for subject in subjects:
            for fields in (all_fields, {CATEGORIES[0]: all_fields[CATEGORIES[0]]}):
                result = await adapter.fetch(FetchRequest(subject, fields, HEADERS))
                zaken += sum(len(v or []) for v in result.values())
    await stack.behaviour("zaken", ignoreExpand=False)
    assert zaken > 0
    for zaak in [*world.zaken()[:3], *world.company_zaken()[:2]]:
        facts = await adapter.zaak_facts(zaak.identificatie, HEADERS)
        assert facts.identificatie == zaak.identificatie
    with pytest.raises(SubjectNotFound):
        await adapter.zaak_facts("ZAAK-BESTAAT-NIET", HEADERS)

    exchanges = await stack.exchanges("zaken")
    prefix = SPECS["zaken"].prefix
    in_spec = [x for x in exchanges if x.path.startswith(f"{prefix}/")]
    others = {x.path.split("/")[1] for x in exchanges if x not in in_spec}
    assert others <= {"catalogi"}, others
    errors = [e for x in in_spec for e in openapi_errors(api, x)]
    resources = {x.path.removeprefix(prefix).split("/")[1] for x in in_spec}
    assert {"zaken", "statussen", "resultaten", "rollen"} <= resources, resources
    assert_conformant(errors, len(in_spec))
