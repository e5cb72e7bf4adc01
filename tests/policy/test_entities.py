"""The entity store and the fixed policies agree with the Cedar schema (a typo cannot fail open)."""

from __future__ import annotations

import json

import cedarpy

from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.policy.engine import load_policy_text
from dgkb.policy.entities import SCHEMA, build_entities, channel_rule_uid, grant_id

WMO = "https://register.voorbeeldstad.nl/verwerkingen/wmo-aanvraag"
BELASTINGEN = "https://register.voorbeeldstad.nl/verwerkingen/gemeentelijke-belastingen"


def test_policies_validate_against_the_schema() -> None:
    result = cedarpy.validate_policies(load_policy_text(), SCHEMA)
    assert result.validation_passed, result.errors


def test_entities_validate_against_the_schema(register: Register, catalogue: Catalogue) -> None:
    entities = cedarpy.Entities.from_json_str(json.dumps(build_entities(register, catalogue)), schema=SCHEMA)
    assert len(entities) == len(build_entities(register, catalogue)) + 1  # + the action the schema declares


def test_one_purpose_and_grants_per_activity(register: Register, catalogue: Catalogue) -> None:
    entities = build_entities(register, catalogue)
    by_type: dict[str, list[dict[str, object]]] = {}
    for e in entities:
        by_type.setdefault(e["uid"]["type"], []).append(e)
    assert len(by_type["Dgkb::Purpose"]) == len(register.verwerkingsactiviteiten)
    assert len(by_type["Dgkb::Category"]) == len(catalogue.categorieen)
    assert len(by_type["Dgkb::Role"]) == len(Role)
    assert len(by_type["Dgkb::Grant"]) == sum(len(va.categorieen) for va in register.verwerkingsactiviteiten)


def test_category_parents_are_its_purposes(register: Register, catalogue: Catalogue) -> None:
    entities = {(e["uid"]["type"], e["uid"]["id"]): e for e in build_entities(register, catalogue)}
    werk = entities[("Dgkb::Category", "klant.werk-en-inkomen")]
    purposes_with_income = [
        va.id for va in register.verwerkingsactiviteiten if "klant.werk-en-inkomen" in va.categorieen
    ]
    assert WMO in purposes_with_income
    assert sorted(p["id"] for p in werk["parents"]) == sorted(purposes_with_income)
    grant = entities[("Dgkb::Grant", grant_id(WMO, "klant.werk-en-inkomen"))]
    assert grant["attrs"]["minAssurance"] == 3
    assert grant["attrs"]["roles"] == [{"__entity": {"type": "Dgkb::Role", "id": "behandelaar"}}]
    purpose = entities[("Dgkb::Purpose", WMO)]
    assert purpose["attrs"]["consentRequired"] == [
        {"__entity": {"type": "Dgkb::Category", "id": "klant.werk-en-inkomen"}},
        {"__entity": {"type": "Dgkb::Category", "id": "dossier.financieel"}},
    ]
    assert purpose["attrs"]["organisation"] == "00000001001234567000"


def test_channel_rules_only_for_channel_bound_grants(register: Register, catalogue: Catalogue) -> None:
    entities = {(e["uid"]["type"], e["uid"]["id"]): e for e in build_entities(register, catalogue)}
    rules = {k[1]: e["attrs"] for k, e in entities.items() if k[0] == "Dgkb::ChannelRule"}
    bound = [
        (va.id, c)
        for va in register.verwerkingsactiviteiten
        for c, a in va.categorieen.items()
        if a.channel_bound
    ]
    assert (BELASTINGEN, "dossier.financieel") in bound
    assert len(rules) == len(bound) * (len(Kanaal) + 1)  # every channel and the unknown one
    financieel = channel_rule_uid(BELASTINGEN, "dossier.financieel", Kanaal.CHAT)["id"]
    assert rules[financieel] == {"allowed": True, "minAssurance": 4}
    assert rules[channel_rule_uid(BELASTINGEN, "dossier.financieel", Kanaal.TELEFOON)["id"]] == {
        "allowed": True,
        "minAssurance": 0,
    }
    assert (
        rules[channel_rule_uid(BELASTINGEN, "dossier.financieel", Kanaal.SOCIAL_MEDIA)["id"]]["allowed"]
        is False
    )
    unknown = rules[channel_rule_uid(BELASTINGEN, "dossier.financieel", None)["id"]]
    assert unknown == {"allowed": False, "minAssurance": 4}
    assert rules[channel_rule_uid(WMO, "klant.werk-en-inkomen", Kanaal.BALIE)["id"]]["allowed"] is False
    assert not any(k.startswith(grant_id(BELASTINGEN, "klant.basis")) for k in rules)
