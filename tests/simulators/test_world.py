from __future__ import annotations

from dgkb.domain.identifiers import passes_elfproef
from dgkb.simulators.world import README_BSNS, build_world


def test_same_seed_gives_same_world() -> None:
    assert build_world() == build_world()
    assert build_world(seed=7).bsns != build_world().bsns


def test_readme_bsns_present_and_not_shielded() -> None:
    world = build_world()
    for bsn in README_BSNS:
        person = world.person(bsn)
        assert person is not None
        assert person.geheimhouding == 0
    assert world.shielded_bsn not in README_BSNS


def test_every_bsn_is_a_test_bsn_passing_the_elfproef() -> None:
    world = build_world(persons=60)
    assert len(world.persons) == 60
    assert len(set(world.bsns)) == 60
    for bsn in world.bsns:
        assert bsn.startswith("999")
        assert passes_elfproef(bsn)


def test_family_links_are_symmetric() -> None:
    world = build_world()
    for person in world.persons:
        if person.partner_bsn:
            partner = world.person(person.partner_bsn)
            assert partner is not None
            assert partner.partner_bsn == person.bsn
        for kind in person.kinderen_bsns:
            child = world.person(kind)
            assert child is not None
            assert person.bsn in child.ouders_bsns
        for ouder in person.ouders_bsns:
            parent = world.person(ouder)
            assert parent is not None
            assert person.bsn in parent.kinderen_bsns


def test_exactly_one_shielded_person() -> None:
    world = build_world()
    shielded = [p.bsn for p in world.persons if p.geheimhouding > 0]
    assert shielded == [world.shielded_bsn]


def test_main_test_person_has_open_and_closed_zaken_contacts_and_open_request() -> None:
    world = build_world()
    person = world.person("999993653")
    assert person is not None
    assert any(z.is_open for z in person.zaken)
    assert any(not z.is_open and z.resultaattype_uuid for z in person.zaken)
    assert person.klantcontacten
    assert any(t.status == "te_verwerken" for t in person.interne_taken)
    assert person.emailadressen
    assert person.telefoonnummers


def test_one_person_without_partij() -> None:
    world = build_world()
    assert [p.bsn for p in world.persons if p.partij_uuid is None] == [world.no_partij_bsn]
    assert world.no_partij_bsn not in README_BSNS


def test_zaken_and_contacts_are_coherent() -> None:
    world = build_world()
    identificaties = {z.identificatie for z in world.zaken()}
    assert len(identificaties) == len(world.zaken())
    for person in world.persons:
        for zaak in person.zaken:
            assert zaak.initiator_bsn == person.bsn
            assert zaak.statussen, zaak.identificatie
            zaaktype = world.zaaktype(zaak.zaaktype_uuid)
            assert zaak.is_open != zaaktype.statustypen[len(zaak.statussen) - 1].is_eindstatus
        own = {z.identificatie for z in person.zaken}
        for contact in person.klantcontacten:
            assert contact.zaak_identificatie is None or contact.zaak_identificatie in own
        contact_ids = {c.uuid for c in person.klantcontacten}
        assert all(t.klantcontact_uuid in contact_ids for t in person.interne_taken)
    assert {zt.omschrijving for zt in world.zaaktypen} >= {
        "Aanvraag parkeervergunning",
        "Bezwaar WOZ-beschikking",
    }
