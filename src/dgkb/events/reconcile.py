"""Reconciliation: notifications can be lost, so open views are re-read from their sources.

Every `interval` seconds, for each (subject, purpose) with an open view in this process: drop the
cached answers, read the klantbeeld afresh with the context of one of those views (the same
decision, the same permitted fields, logged like any read — it is a read on behalf of that view),
and compare a digest per category with the previous round. Categories whose digest changed are
published as a ChangeEvent (source "reconciliatie"). Sections that did not answer "ok" are not
compared (a timeout is not a change). Digests are kept in memory for open views only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from dgkb.domain.context import RequestContext, Trace
from dgkb.events.hub import ChangeHub

log = logging.getLogger("dgkb.events")

SOURCE = "reconciliatie"


class _Section(Protocol):
    categorie: str
    status: str
    bron_id: str | None
    gegevens: Any


class _View(Protocol):
    @property
    def secties(self) -> Sequence[_Section]: ...


class ViewReader(Protocol):
    """KlantbeeldService.read (structurally; this layer does not import the klantbeeld)."""

    async def read(self, context: RequestContext) -> Any: ...


Publish = Callable[[str, Iterable[str], str], Awaitable[Any]]
Invalidate = Callable[[str], Awaitable[int]]


def digests(view: _View) -> dict[str, str]:
    """category -> digest of its data over every source that answered "ok"."""
    parts: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for s in view.secties:
        if s.status == "ok":
            parts[s.categorie].append((s.bron_id or "", s.gegevens))
    return {
        cat: hashlib.sha256(
            json.dumps(sorted(p, key=lambda x: x[0]), sort_keys=True, default=str).encode()
        ).hexdigest()
        for cat, p in parts.items()
    }


class Reconciler:
    def __init__(
        self, *, hub: ChangeHub, reader: ViewReader, invalidate: Invalidate, publish: Publish
    ) -> None:
        self._hub = hub
        self._reader = reader
        self._invalidate = invalidate
        self._publish = publish
        self._last: dict[tuple[str, str], dict[str, str]] = {}

    async def run_once(self) -> int:
        """One round; returns how many change events it published."""
        groups: dict[tuple[str, str], RequestContext] = {}
        for sub in self._hub.subscriptions():
            if sub.context is not None:
                groups.setdefault((sub.subject_key, sub.context.purpose_id), sub.context)
        for gone in set(self._last) - set(groups):
            del self._last[gone]
        published = 0
        for (key, purpose), context in groups.items():
            try:
                await self._invalidate(key)
                view = await self._reader.read(dataclasses.replace(context, trace=Trace()))
            except Exception as exc:  # the next round tries again
                log.warning("reconcile: read failed (%s)", type(exc).__name__)
                continue
            now = digests(view)
            before = self._last.get((key, purpose))
            self._last[(key, purpose)] = {**(before or {}), **now}
            if before is None:
                continue  # the first round sets the baseline
            changed = [c for c, d in now.items() if before.get(c) not in (None, d)]
            if changed:
                await self._publish(key, changed, SOURCE)
                published += 1
        return published

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("reconcile failed: %s", type(exc).__name__)


__all__ = ["Reconciler", "ViewReader", "digests"]
