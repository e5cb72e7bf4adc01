"""The grown world: 200 persons, 30 companies, the special cases and a stable core."""

from __future__ import annotations

from datetime import timedelta

from dgkb.simulators import belastingen
from dgkb.simulators.world import (
    CORE_PERSONS,
    KVK_TEST_NUMBERS,
    README_BSNS,
    REFERENCE_DATE,
    SPECIAL_CASES,
    World,
    build_world,
)


def test_default_world_has_200_persons_and_30_companies(world: World) -> None:
    assert len(world.persons) >= 200
    assert len(world.companies) >= 30
    assert world.kvk_nummers[:3] == KVK_TEST_NUMBERS
    assert len(set(world.kvk_nummers)) == len(world.companies)
    assert all(len(k) == 8 and k.isdigit() for k in world.kvk_nummers)
    numbers = [v.vestigingsnummer for c in world.companies for v in c.vestigingen]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 12 and n.isdigit() for n in numbers)


def test_generation_is_deterministic() -> None:
    # No time limit here (CI machines are loaded and noisy): generation takes ~40 ms on a quiet one.
    assert build_world() == build_world()


def test_core_is_independent_of_the_world_size() -> None:
    small, large = build_world(persons=CORE_PERSONS + 20), build_world(persons=300)
    core = slice(0, CORE_PERSONS)
    assert [p.bsn for p in small.persons[core]] == [p.bsn for p in large.persons[core]]
    assert [z.identificatie for p in small.persons[core] for z in p.zaken] == [
        z.identificatie for p in large.persons[core] for z in p.zaken
    ]
    assert small.shielded_bsn == large.shielded_bsn


def test_facts_the_api_tests_rely_on(world: World) -> None:
    main = world.person(README_BSNS[0])
    assert main is not None
    assert main.partner_bsn == "999990639"
    zaak = next(z for z in world.zaken() if z.identificatie == "ZAAK-2026-0000006")
    assert zaak.initiator_bsn == "999991425"
    assert world.zaaktype(zaak.zaaktype_uuid).identificatie == "WMO-VOORZIENING"


def test_every_special_case_is_named(world: World) -> None:
    assert set(world.special) == set(SPECIAL_CASES)
    assert all(world.special.values())


def test_passport_expires_in_about_three_months(world: World) -> None:
    person = world.person(world.special["passport_expires_soon"])
    assert person is not None
    valid = [d for d in person.reisdocumenten if d.soort_code == "PN" and not d.is_ingetrokken]
    assert len(valid) == 1
    left = valid[0].datum_einde_geldigheid - REFERENCE_DATE
    assert timedelta(days=75) <= left <= timedelta(days=100)


def test_lost_and_surrendered_documents_exist(world: World) -> None:
    person = world.person(world.special["lost_document"])
    assert person is not None
    assert any(d.inhouding_of_vermissing == "V" for d in person.reisdocumenten)
    docs = world.reisdocumenten()
    assert {d.inhouding_of_vermissing for d in docs} >= {None, "I", "V"}
    assert len({d.reisdocumentnummer for d in docs}) == len(docs)
    assert all(d.houder_bsn in world.bsns for d in docs)


def test_recent_move_within_30_days(world: World) -> None:
    person = world.person(world.special["recent_move"])
    assert person is not None
    assert REFERENCE_DATE - person.datum_inschrijving_in_gemeente <= timedelta(days=30)


def test_one_deceased_person(world: World) -> None:
    deceased = [p.bsn for p in world.persons if p.overlijdensdatum is not None]
    assert deceased == [world.special["deceased"]]
    person = world.person(deceased[0])
    assert person is not None
    assert person.overlijdensdatum is not None
    assert person.overlijdensdatum < REFERENCE_DATE


def test_three_contacts_about_the_same_onderwerp_within_two_weeks(world: World) -> None:
    person = world.person(world.special["repeat_contacts"])
    assert person is not None
    assert person.partij_uuid is not None
    recent = [
        c for c in person.klantcontacten if REFERENCE_DATE - c.plaatsgevonden_op.date() <= timedelta(days=14)
    ]
    onderwerpen = [c.onderwerp for c in recent]
    assert max(onderwerpen.count(o) for o in onderwerpen) >= 3
    contact_ids = [c.uuid for p in world.persons for c in p.klantcontacten]
    assert len(set(contact_ids)) == len(contact_ids)


def test_open_fine_and_overdue_tax_with_arrangement_in_the_belastingen_simulator(world: World) -> None:
    fine_bsn = world.special["open_fine"]
    assert any(b.status == "open" for b in belastingen.generate_boetes(world.seed, fine_bsn))
    tax_bsn = world.special["overdue_tax_with_arrangement"]
    aanslagen = belastingen.generate_aanslagen(world.seed, "gemeente", tax_bsn, "bsn")
    assert any(a.status == "betalingsregeling" and a.vervaldatum < REFERENCE_DATE for a in aanslagen)


def test_shielded_and_no_partij_are_the_old_attributes(world: World) -> None:
    assert world.special["shielded"] == world.shielded_bsn
    assert world.special["no_partij"] == world.no_partij_bsn


def test_business_with_two_branches_and_eenmanszaak_of_a_world_person(world: World) -> None:
    two = world.company(world.special["two_branches"])
    assert two is not None
    assert [v.is_hoofdvestiging for v in two.vestigingen] == [True, False]
    assert world.company_by_vestiging(two.vestigingen[1].vestigingsnummer) is two
    emz = world.company(world.special["eenmanszaak"])
    assert emz is not None
    assert emz.rechtsvorm == "Eenmanszaak"
    assert emz.rsin is None
    assert emz.eigenaar_bsn == world.special["eenmanszaak_owner"]
    assert world.person(emz.eigenaar_bsn) is not None
    vereniging = world.company(world.special["vereniging_zonder_vestiging"])
    assert vereniging is not None
    assert not vereniging.vestigingen
    assert vereniging.rsin


def test_company_zaken_have_a_kvk_initiator_and_unique_numbers(world: World) -> None:
    company_zaken = world.company_zaken()
    assert company_zaken
    assert all(z.initiator_kvk and z.initiator_bsn == "" for z in company_zaken)
    idents = [z.identificatie for z in (*world.zaken(), *company_zaken)]
    assert len(set(idents)) == len(idents)
    assert all(z.initiator_kvk is None for z in world.zaken())


def test_products_of_persons_and_companies(world: World) -> None:
    products = world.producten()
    assert {p.status for p in products} >= {"actief", "verlopen", "gereed"}
    assert {p.producttype.soort for p in products} >= {"vergunning", "subsidie", "pas"}
    for p in products:
        assert (p.eigenaar_bsn is None) != (p.eigenaar_kvk is None)
        assert p.status in p.producttype.toegestane_statussen or p.status == "initieel"
        if p.start_datum and p.eind_datum:
            assert p.start_datum <= p.eind_datum
    main = world.person(README_BSNS[0])
    assert main is not None
    assert {p.producttype.code for p in main.producten if p.status == "actief"} >= {"PV-BEWONER"}
    assert any(c.producten for c in world.companies)
