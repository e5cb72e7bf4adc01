"""A copy of config/ for a DGKB process a test starts (`dgkb run`, the CLI, a topology node): the
sources point at the given simulators, with `source_fields` set on every source (e.g. a deadline)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from dgkb.runner import rebase_sources
from dgkb.settings import PROJECT_ROOT, Settings


def config_for(simulators: dict[str, str], target: Path, **source_fields: Any) -> Path:
    shutil.copytree(PROJECT_ROOT / "config", target, dirs_exist_ok=True)
    overrides = rebase_sources(Settings(), simulators)
    sources = yaml.safe_load((target / "sources.yaml").read_text())
    for src in sources["sources"]:
        src["baseUrl"] = overrides.get(src["id"], src["baseUrl"])
        src.update(source_fields)
    (target / "sources.yaml").write_text(yaml.safe_dump(sources))
    return target
