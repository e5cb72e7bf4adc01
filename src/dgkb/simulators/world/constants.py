"""The fixed facts of every world: the README's test BSNs, "today", the size of the core, the KVK test
numbers, the names of the special cases and the gemeente."""

from __future__ import annotations

from datetime import date

# The test BSNs named in the reference README; always present, never shielded.
README_BSNS: tuple[str, ...] = ("999993653", "999990639", "999991425")
# "Today" of the world: the world is pure data and never reads the clock.
REFERENCE_DATE = date(2026, 11, 1)
# The first persons of every world, generated exactly as the original 40-person demo world.
CORE_PERSONS = 40
# Public fictitious KVK test numbers; always the first three companies.
KVK_TEST_NUMBERS: tuple[str, ...] = ("69599084", "68750110", "69599068")
SPECIAL_CASES: tuple[str, ...] = (
    "passport_expires_soon",
    "lost_document",
    "recent_move",
    "deceased",
    "repeat_contacts",
    "shielded",
    "no_partij",
    "open_fine",
    "overdue_tax_with_arrangement",
    "two_branches",
    "eenmanszaak",
    "eenmanszaak_owner",
    "stichting",
    "vereniging_zonder_vestiging",
    "valid_document",
    "expired_document",
)
# The belastingen simulator gives this BSN an open boete and an overdue aanslag under a
# betalingsregeling (belastingen.FEATURED_BSN; that module imports this one, not the other way round).
BELASTINGEN_FEATURED_BSN = "999993653"
GEMEENTE_CODE = "0599"
GEMEENTE_NAAM = "Rotterdam"
