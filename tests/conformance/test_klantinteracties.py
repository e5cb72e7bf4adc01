"""Klantinteracties 0.9 (Open Klant 2): the adapter's requests and the simulator's answers.

Driven: `fetch` of klant.contactgegevens, klant.voorkeurskanaal, contact.historie and
contact.open-verzoeken (every catalogue field: partijen, digitaleadressen, klantcontacten with expand,
actoren) for README persons, the special cases (repeat contacts, no partij) and businesses (KVK-nummer
and vestiging); the writes `register_klantcontact` (klantcontact, betrokkene, onderwerpobjecten) and
`create_interne_taak` (always with an assigned actor, as Open Klant requires); `probe` and
`find_actor` of `dgkb check`; `search_digitale_adressen` by e-mail and by phone in another
spelling. Checked with openapi-core (request + response) for every exchange.
"""

from __future__ import annotations

from typing import Any

import pytest

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import README_BSNS
from dgkb.sources.base import FetchRequest
from dgkb.sources.klantinteracties import KlantinteractiesAdapter
from tests.conformance.conftest import (
    HEADERS,
    SimulatorStack,
    assert_conformant,
    catalogue_fields,
    openapi_errors,
)

CATEGORIES = ("klant.contactgegevens", "klant.voorkeurskanaal", "contact.historie", "contact.open-verzoeken")


@pytest.mark.slow  # hundreds of exchanges validated against the spec
async def test_every_klantinteracties_exchange_conforms(stack: SimulatorStack, spec: Any) -> None:
    api, _ = spec("klantinteracties")
    world = stack.world
    adapter = stack.adapters["klantinteracties"]
    assert isinstance(adapter, KlantinteractiesAdapter)
    await stack.clear("klantinteracties")
    fields = {c: catalogue_fields(c) for c in CATEGORIES}
    company = world.company(world.special["two_branches"])
    assert company is not None
    subjects = [
        *(Subject.person(b) for b in README_BSNS),
        Subject.person(world.special["repeat_contacts"]),
        Subject.person(world.special["no_partij"]),
        Subject.business(company.kvk_nummer),
        Subject.establishment(company.vestigingen[-1].vestigingsnummer),
    ]
    for subject in subjects:
        await adapter.fetch(FetchRequest(subject, fields, HEADERS))

    person = world.person(README_BSNS[0])
    assert person is not None
    assert person.zaken
    written = await adapter.register_klantcontact(
        subject=Subject.person(person.bsn),
        kanaal="telefoon",
        onderwerp="Vraag over de bewonersvergunning",
        inhoud="Klant vraagt naar de stand van zaken.",
        indicatie_contact_gelukt=True,
        zaak_identificaties=[z.identificatie for z in person.zaken[:2]],
        headers=HEADERS,
    )
    await adapter.create_interne_taak(
        klantcontact=written["klantcontact"]["url"],
        gevraagde_handeling="Terugbellen",
        toelichting="Graag voor vrijdag terugbellen.",
        toegewezen_aan=world.actoren[0].uuid,
        headers=HEADERS,
    )
    await adapter.create_interne_taak(
        klantcontact=written["klantcontact"]["uuid"],
        gevraagde_handeling="Terugmailen",
        toegewezen_aan=world.actoren[1].uuid,
        headers=HEADERS,
    )
    # `dgkb check`: the probe (one organisational unit) and the actors of onderwerpen.yaml
    assert (await adapter.probe(HEADERS)).authenticated is True
    assert (await adapter.find_actor(world.actoren[0].uuid, HEADERS) or {}).get("naam") == world.actoren[
        0
    ].naam
    email = person.emailadressen[0].adres
    phone = next(p for p in world.persons if p.telefoonnummers).telefoonnummers[0].adres
    assert await adapter.search_digitale_adressen(email.upper(), HEADERS)
    assert await adapter.search_digitale_adressen(f"+31 {phone[1:3]} {phone[3:]}", HEADERS)

    exchanges = await stack.exchanges("klantinteracties")
    methods = {(x.method, x.path.split("/")[4]) for x in exchanges}
    assert {("POST", "klantcontacten"), ("POST", "betrokkenen"), ("POST", "internetaken")} <= methods
    errors = [e for x in exchanges for e in openapi_errors(api, x)]
    assert_conformant(errors, len(exchanges))
