"""Adapter kinds: `kind:` in sources.yaml picks the adapter class. One line per adapter."""

from __future__ import annotations

from collections.abc import Callable

from dgkb.sources.base import SourceAdapter
from dgkb.sources.brp import BrpPersonenAdapter
from dgkb.sources.config import SourceConfig
from dgkb.sources.generic import GenericRestAdapter
from dgkb.sources.klantinteracties import KlantinteractiesAdapter
from dgkb.sources.kvk import KvkAdapter
from dgkb.sources.producten import ProductenAdapter
from dgkb.sources.reisdocumenten import ReisdocumentenAdapter
from dgkb.sources.zaken import ZakenAdapter

AdapterFactory = Callable[[SourceConfig], SourceAdapter]

ADAPTERS: dict[str, AdapterFactory] = {
    "brp-personen": BrpPersonenAdapter,
    "zgw-zaken": ZakenAdapter,
    "klantinteracties": KlantinteractiesAdapter,
    "generic-rest": GenericRestAdapter,
    "brp-reisdocumenten": ReisdocumentenAdapter,
    "kvk": KvkAdapter,
    "open-producten": ProductenAdapter,
}


def build_adapter(config: SourceConfig) -> SourceAdapter:
    return ADAPTERS[config.kind](config)


def known_kinds() -> set[str]:
    return set(ADAPTERS)
