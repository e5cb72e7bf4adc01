"""Cedar entities and request shapes built from the register and the catalogue.

Built once per register version: a `Purpose` per processing activity, a `Category` per catalogue
category (whose parents are the purposes it belongs to), a `Grant` per (purpose, category) pair
carrying the category-level rules, a `Role` per role, and — for a grant the register restricts
per channel (kanaalinzet: `kanalen`, `kanaalZekerheid`) — a `ChannelRule` per channel plus one for
an unknown channel (the strictest). The fixed policies in `policies.cedar` read only these
attributes and the request context; `SCHEMA` types both, and the tests validate the policies
against it so a typo in a policy cannot silently fail open.
"""

from __future__ import annotations

from typing import Any

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role

__all__ = [
    "ACTION",
    "SCHEMA",
    "build_entities",
    "category_uid",
    "channel_rule_uid",
    "entity_ref",
    "grant_id",
    "grant_uid",
    "purpose_uid",
    "role_uid",
]

NAMESPACE = "Dgkb"
ACTION: dict[str, str] = {"type": f"{NAMESPACE}::Action", "id": "read"}

SCHEMA = """
namespace Dgkb {
  entity Role;
  entity Purpose = {
    roles: Set<Role>,
    minAssurance: Long,
    consentRequired: Set<Category>,
    shieldingAllowed: Bool,
    organisation: String,
  };
  entity Category in [Purpose] = {
    subjectKinds: Set<String>,
    sensitivity: String,
  };
  entity Grant in [Purpose] = {
    roles?: Set<Role>,
    minAssurance?: Long,
  };
  entity ChannelRule = {
    allowed: Bool,
    minAssurance: Long,
  };
  action read appliesTo {
    principal: [Role],
    resource: [Category],
    context: {
      purpose: Purpose,
      grant: Grant,
      channelRule?: ChannelRule,
      assuranceRank: Long,
      subjectKind: String,
      shielded: Bool,
      consented: Set<Category>,
      objected: Bool,
      organisation?: String,
    },
  };
}
"""


def _uid(kind: str, id_: str) -> dict[str, str]:
    return {"type": f"{NAMESPACE}::{kind}", "id": id_}


def purpose_uid(purpose_id: str) -> dict[str, str]:
    return _uid("Purpose", purpose_id)


def category_uid(category_id: str) -> dict[str, str]:
    return _uid("Category", category_id)


def role_uid(role: Role) -> dict[str, str]:
    return _uid("Role", role.value)


def grant_id(purpose_id: str, category_id: str) -> str:
    """Id of the grant of one category by one purpose (category ids never contain '#')."""
    return f"{purpose_id}#{category_id}"


def grant_uid(purpose_id: str, category_id: str) -> dict[str, str]:
    return _uid("Grant", grant_id(purpose_id, category_id))


def channel_rule_uid(purpose_id: str, category_id: str, channel: Kanaal | None) -> dict[str, str]:
    """The channel rule of one grant on one channel (`…@` = unknown channel). Exists only when the
    register restricts that grant per channel; a missing entity has no attributes, so no rule."""
    return _uid("ChannelRule", f"{grant_id(purpose_id, category_id)}@{channel.value if channel else ''}")


def entity_ref(uid: dict[str, str]) -> dict[str, dict[str, str]]:
    """An entity reference as an attribute or context value in Cedar JSON."""
    return {"__entity": uid}


def _purpose_entity(va: Verwerkingsactiviteit) -> dict[str, Any]:
    return {
        "uid": purpose_uid(va.id),
        "attrs": {
            "roles": [entity_ref(role_uid(r)) for r in va.rollen],
            "minAssurance": va.minimaleZekerheid.rank,
            "consentRequired": [entity_ref(category_uid(c)) for c in va.toestemmingVereist],
            "shieldingAllowed": va.geheimhoudingToegestaan,
            "organisation": va.organisatie.oin,
        },
        "parents": [],
    }


def _grant_entity(va: Verwerkingsactiviteit, category_id: str) -> dict[str, Any]:
    return {
        "uid": grant_uid(va.id, category_id),
        "attrs": {
            "roles": [entity_ref(role_uid(r)) for r in va.roles_for(category_id)],
            "minAssurance": va.minimum_assurance(category_id).rank,
        },
        "parents": [purpose_uid(va.id)],
    }


def _channel_rule_entities(va: Verwerkingsactiviteit, category_id: str) -> list[dict[str, Any]]:
    """Kanaalinzet: may the category be shown on each channel, and from which assurance rank."""
    access = va.categorieen[category_id]
    if not access.channel_bound:
        return []
    channels: list[Kanaal | None] = [*Kanaal, None]
    return [
        {
            "uid": channel_rule_uid(va.id, category_id, channel),
            "attrs": {
                "allowed": access.channel_allowed(channel),
                "minAssurance": (access.channel_minimum(channel) or Assurance.GEEN).rank,
            },
            "parents": [],
        }
        for channel in channels
    ]


def build_entities(register: Register, catalogue: Catalogue) -> list[dict[str, Any]]:
    """The whole entity store for one register version, as Cedar JSON."""
    entities: list[dict[str, Any]] = [{"uid": role_uid(r), "attrs": {}, "parents": []} for r in Role]
    member_of: dict[str, list[dict[str, str]]] = {c.id: [] for c in catalogue.categorieen}
    for va in register.verwerkingsactiviteiten:
        entities.append(_purpose_entity(va))
        for category_id in va.categorieen:
            member_of.setdefault(category_id, []).append(purpose_uid(va.id))
            entities.append(_grant_entity(va, category_id))
            entities.extend(_channel_rule_entities(va, category_id))
    for cat in catalogue.categorieen:
        entities.append(
            {
                "uid": category_uid(cat.id),
                "attrs": {"subjectKinds": list(cat.onderwerpen), "sensitivity": cat.gevoeligheid.value},
                "parents": member_of[cat.id],
            }
        )
    return entities
