"""The configured, enabled sources of this installation, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dgkb.sources.base import SourceAdapter
from dgkb.sources.config import SourceConfig, SourcesConfig


class SourceSet:
    def __init__(self, config: SourcesConfig, build: Callable[[SourceConfig], SourceAdapter]) -> None:
        self.all_configs: tuple[SourceConfig, ...] = config.sources
        self.configs: dict[str, SourceConfig] = {s.id: s for s in config.sources if s.enabled}
        self.adapters: dict[str, SourceAdapter] = {sid: build(cfg) for sid, cfg in self.configs.items()}

    def serving(self, category: str, allowed: Iterable[str] | None) -> list[SourceConfig]:
        """Enabled sources that serve `category`, restricted to `allowed` ids when the register says so."""
        allowed_set = set(allowed) if allowed is not None else None
        return [
            cfg
            for cfg in self.configs.values()
            if category in cfg.categories and (allowed_set is None or cfg.id in allowed_set)
        ]

    async def aclose(self) -> None:
        for adapter in self.adapters.values():
            await adapter.aclose()
