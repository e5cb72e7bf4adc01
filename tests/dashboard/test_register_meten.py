"""The register knows meten en leren as a purpose of DGKB itself that reads nothing, and no purpose
lets a teamleider read a category (issue 15 §4)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.register import parse_register
from dgkb.domain.roles import Role
from dgkb.settings import get_settings, load_catalogue, load_yaml

SOURCE_IDS = {s["id"] for s in load_yaml(get_settings().config_files["sources"])["sources"]}


def _raw() -> dict[str, Any]:
    data = load_yaml(get_settings().config_files["register"])
    assert isinstance(data, dict)
    return data


def test_each_organisation_has_one_meten_purpose_that_reads_nothing() -> None:
    register = parse_register(_raw(), catalogue=load_catalogue(get_settings()), source_ids=SOURCE_IDS)
    organisations = {va.organisatie.oin for va in register.verwerkingsactiviteiten}
    for oin in organisations:
        purpose = register.system_purpose(oin, "meten-en-leren")
        assert purpose is not None, oin
        assert purpose.rollen == (Role.SYSTEEM,)
        assert purpose.categorieen == {}  # the PDP can permit nothing under it
        assert purpose.grondslag.avg
        assert purpose.bewaartermijn == "P2Y"
    assert not [va.id for va in register.verwerkingsactiviteiten if Role.TEAMLEIDER in va.rollen]


def test_a_meten_purpose_with_a_category_is_refused_naming_the_path() -> None:
    raw = copy.deepcopy(_raw())
    index = next(
        i for i, va in enumerate(raw["verwerkingsactiviteiten"]) if va.get("systeemtaak") == "meten-en-leren"
    )
    raw["verwerkingsactiviteiten"][index]["categorieen"] = {"contact.historie": {}}
    with pytest.raises(InvalidConfiguration) as refused:
        parse_register(raw, catalogue=load_catalogue(get_settings()), source_ids=SOURCE_IDS)
    assert f"register.yaml: verwerkingsactiviteiten.{index}.categorieen: 'meten-en-leren' leest niets" in str(
        refused.value.message
    )
