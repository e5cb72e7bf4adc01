"""Reconciliation: notifications can be lost, so open views are re-read from their sources.

Every `interval` seconds, for each (subject, purpose) with an open view in this process: drop the
cached answers, re-read what one of those views shows — in DGKB's own name, under the organisation's
`actualiseren` purpose, never more than the employee's decision permits (KlantbeeldService.refresh) —
and compare a digest per category with the previous round. Categories whose digest changed are
published as a ChangeEvent (source "reconciliatie"): the open view then reloads, and that reload is
the employee's own read. The employee's access trail shows only what the employee saw. Outcomes
that are not "ok" are not compared (a timeout is not a change). Digests live in memory, for open
views only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from dgkb.domain.context import RequestContext
from dgkb.events.hub import ChangeHub
from dgkb.federation.fanout import SectionStatus
from dgkb.gateway import Reading

log = logging.getLogger("dgkb.events")

SOURCE = "reconciliatie"


class ViewReader(Protocol):
    """KlantbeeldService.refresh (structurally; this layer does not import the klantbeeld)."""

    async def refresh(self, context: RequestContext) -> Reading | None: ...


Publish = Callable[[str, Iterable[str], str], Awaitable[Any]]
Invalidate = Callable[[str], Awaitable[int]]


def digests(reading: Reading) -> dict[str, str]:
    """category -> digest of its data over every source that answered "ok"."""
    parts: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for o in reading.outcomes:
        if o.status is SectionStatus.OK:
            parts[o.category].append((o.source_id, o.data))
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
                reading = await self._reader.refresh(context)
            except Exception as exc:  # the next round tries again
                log.warning("reconcile: read failed (%s)", type(exc).__name__)
                continue
            if reading is None:
                continue  # no `actualiseren` purpose registered for this organisation
            now = digests(reading)
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
