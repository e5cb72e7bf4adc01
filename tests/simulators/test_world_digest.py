"""Pins the built world byte for byte: a sha256 of a canonical JSON dump of everything `build_world`
returns. The digests were computed on the single-module `world.py` before it became a package, so a
restructuring that changes any person, company, zaak, document or product fails here. A deliberate
change to the world updates the digests in the same commit, with the reason."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from dgkb.simulators.world import World, build_world


def _digest(world: World) -> str:
    dump = {
        "seed": world.seed,
        "reference_date": world.reference_date,
        "persons": [dataclasses.asdict(p) for p in world.persons],
        "companies": [dataclasses.asdict(c) for c in world.companies],
        "zaaktypen": [dataclasses.asdict(z) for z in world.zaaktypen],
        "actoren": [dataclasses.asdict(a) for a in world.actoren],
        "producttypen": [dataclasses.asdict(t) for t in world.producttypen],
        "shielded_bsn": world.shielded_bsn,
        "no_partij_bsn": world.no_partij_bsn,
        "special": world.special,
    }
    text = json.dumps(dump, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "fdf13a356c4b452d3fce535f732d5fe95062e57ebfa3eef6e1761dc13c139e09"),
        ((7, 40, 3), "d66730c595d6b65c066e76c28a1b8f24e9dbdbaab234f70019d6260d460a7f9f"),
        ((11, 12, 5), "ec57c7917799acd30ba3a6067a294d68af717fdc7cbd9939111f5b09893eedce"),
        ((2026, 400, 45), "47b413af1c74ac8b8b2012c1f067ad1b17da03590020176c617c2ce94be730b5"),
    ],
)
def test_built_world_is_unchanged(args: tuple[int, ...], expected: str) -> None:
    assert _digest(build_world(*args)) == expected
