"""The configured, enabled sources of this installation, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dgkb.domain.identifiers import SubjectKind
from dgkb.sources.base import BehandelaarZaken, SourceAdapter, SubjectVerifier, ZaakLookup
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

    def verifier(self, kind: SubjectKind) -> tuple[SourceConfig, SubjectVerifier] | None:
        """The base registry that can confirm a subject of this kind exists (BRP for BSN)."""
        wanted = "klant.basis"
        for sid, adapter in self.adapters.items():
            cfg = self.configs[sid]
            if wanted in cfg.categories and isinstance(adapter, SubjectVerifier):
                if kind is SubjectKind.BSN and cfg.kind.startswith("brp"):
                    return cfg, adapter
                if kind is not SubjectKind.BSN and cfg.kind.startswith("kvk"):
                    return cfg, adapter
        return None

    def zaak_lookup(self) -> tuple[SourceConfig, ZaakLookup] | None:
        for sid, adapter in self.adapters.items():
            if isinstance(adapter, ZaakLookup):
                return self.configs[sid], adapter
        return None

    def behandelaar_zaken(self) -> tuple[SourceConfig, BehandelaarZaken] | None:
        """The source that lists a medewerker's zaken (the Zaken adapter)."""
        for sid, adapter in self.adapters.items():
            if isinstance(adapter, BehandelaarZaken):
                return self.configs[sid], adapter
        return None

    async def aclose(self) -> None:
        for adapter in self.adapters.values():
            await adapter.aclose()
