"""The configured `acr` table: which assurance level a broker login yields, per `acr` value.

eIDAS LoA URIs alone cannot tell DigiD basis from midden or EH2 from EH2+, so the table also lists
DigiD's SAML authentication context classes and the eHerkenning assurance classes. An `acr` that is
not in the table counts as `geen`: an unknown claim never raises a level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgkb.domain.assurance import Assurance, IdentificationMethod, login_method
from dgkb.domain.errors import InvalidConfiguration
from dgkb.settings import load_yaml

__all__ = ["AcrTable", "load_acr_table", "parse_acr_table"]

_SECTIONS = (IdentificationMethod.DIGID, IdentificationMethod.EHERKENNING)


@dataclass(frozen=True)
class AcrTable:
    levels: Mapping[IdentificationMethod, Mapping[str, Assurance]]

    def level(self, method: IdentificationMethod, acr: str | None) -> Assurance:
        """The level of a login by `method` with this `acr`; `geen` for an unknown or absent acr."""
        if not acr:
            return Assurance.GEEN
        return self.levels.get(method, {}).get(acr, Assurance.GEEN)

    def acr_for(self, method: IdentificationMethod, level: Assurance) -> str | None:
        """The first `acr` of the table that yields exactly this level (the test broker uses it)."""
        return next((acr for acr, lvl in self.levels.get(method, {}).items() if lvl is level), None)


def parse_acr_table(data: Any, *, source: str = "acr.yaml") -> AcrTable:
    """Validate the table; every problem names the file and the path in it."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InvalidConfiguration(
            f"{source}: verwacht een mapping met 'digid' en 'eherkenning'", field=source
        )
    for key in data:
        if key not in {m.value for m in _SECTIONS}:
            problems.append(f"{source}: {key}: onbekende sectie (kies uit digid, eherkenning)")
    levels: dict[IdentificationMethod, dict[str, Assurance]] = {}
    for method in _SECTIONS:
        section = data.get(method.value, {}) or {}
        if not isinstance(section, dict):
            problems.append(f"{source}: {method.value}: verwacht een mapping van acr naar niveau")
            continue
        table: dict[str, Assurance] = {}
        for acr, value in section.items():
            path = f"{source}: {method.value}.{acr}"
            if not isinstance(acr, str) or not acr.strip():
                problems.append(f"{path}: een acr is een niet-lege tekst")
                continue
            try:
                level = Assurance(str(value))
            except ValueError:
                problems.append(f"{path}: onbekend niveau '{value}'")
                continue
            if login_method(level) is not method:
                problems.append(f"{path}: {level.value} is geen {method.value}-niveau")
                continue
            table[acr] = level
        levels[method] = table
    if problems:
        raise InvalidConfiguration("\n".join(problems), field=problems[0].split(":", 1)[0])
    return AcrTable(levels=levels)


def load_acr_table(path: Path) -> AcrTable:
    """config/acr.yaml, read like every other config file (dgkb.settings.load_yaml)."""
    return parse_acr_table(load_yaml(path), source=path.name)
