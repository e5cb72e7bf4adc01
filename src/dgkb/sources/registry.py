"""Adapter kinds: `kind:` in sources.yaml picks the adapter class. One line per adapter."""

from __future__ import annotations

from collections.abc import Callable

from dgkb.sources.base import SourceAdapter
from dgkb.sources.config import SourceConfig

AdapterFactory = Callable[[SourceConfig], SourceAdapter]

ADAPTERS: dict[str, AdapterFactory] = {}


def register_kind(kind: str, factory: AdapterFactory) -> None:
    ADAPTERS[kind] = factory


def build_adapter(config: SourceConfig) -> SourceAdapter:
    return ADAPTERS[config.kind](config)


def known_kinds() -> set[str]:
    return set(ADAPTERS)
