"""Keyed pseudonyms and the key ring: new pseudonyms under the first key, every key still matches."""

from __future__ import annotations

from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer

OLD = ("sleutel-1", b"een-oud-geheim-van-32-tekens-lang")
NEW = ("sleutel-2", b"een-nieuw-geheim-van-32-tekens-la")
SUBJECT = Subject.person("999993653")
OTHER = Subject.person("999991425")


def test_new_pseudonyms_use_the_first_key_of_the_ring() -> None:
    ring = Pseudonymizer([NEW, OLD])
    assert ring.pseudonym(SUBJECT).key_id == "sleutel-2"
    assert ring.key_ids == ("sleutel-2", "sleutel-1")
    assert ring.current_key_id == "sleutel-2"


def test_a_pseudonym_made_under_an_older_key_still_matches_after_rotation() -> None:
    before = Pseudonymizer([OLD]).pseudonym(SUBJECT)
    after = Pseudonymizer([NEW, OLD])
    assert after.pseudonym(SUBJECT).value != before.value
    assert after.matches(SUBJECT, before.value)
    assert after.matches(SUBJECT, after.pseudonym(SUBJECT).value)
    assert not after.matches(OTHER, before.value)
    # once the old key has left the ring, the old pseudonym is another subject's as far as DGKB knows
    assert not Pseudonymizer([NEW]).matches(SUBJECT, before.value)


def test_the_same_subject_under_another_key_is_another_value() -> None:
    values = {p.value for p in Pseudonymizer([NEW, OLD]).all_pseudonyms(SUBJECT)}
    assert len(values) == 2
