"""An in-memory source behind the source port (dgkb.sources.base.SourceAdapter), the way httpx tests
its transports: federation, the gateway and the klantbeeld service run for real above it, without
sockets or simulators, and a test scripts what the source does and reads back what it was asked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import ALL_SUBJECT_KINDS, CategoryData, FetchRequest, SubjectFacts, SubjectNotFound


class FakeSource:
    """Answers `fetch` from `answers` (category -> data; a category without an answer is None, "the
    source does not know the subject"). Before answering it raises the next exception of `failures`,
    or `failure` when that is set; it waits for `gate` when there is one, and forever when `hang`.
    It records every request, how many calls were in flight at once and which were cancelled."""

    def __init__(
        self,
        id: str,
        categories: Iterable[str],
        *,
        subject_kinds: frozenset[SubjectKind] = ALL_SUBJECT_KINDS,
        vocabulary: Mapping[str, frozenset[str]] | None = None,
        answers: Mapping[str, CategoryData | None] | None = None,
    ) -> None:
        self.id = id
        self.categories = frozenset(categories)
        self.subject_kinds = subject_kinds
        self.vocabulary: Mapping[str, frozenset[str]] = vocabulary or {}
        self.answers: dict[str, CategoryData | None] = dict(answers or {})
        self.extra: dict[str, Any] = {}  # answered besides what was asked (a source that ignores `fields`)
        self.failures: list[BaseException] = []
        self.failure: BaseException | None = None
        self.gate: asyncio.Event | asyncio.Barrier | None = None
        self.hang = False
        self.requests: list[FetchRequest] = []
        self.entered = asyncio.Event()  # set when a call has started
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0
        self.closed = False

    @property
    def calls(self) -> int:
        return len(self.requests)

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.entered.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.hang:
                await asyncio.Event().wait()  # until the caller's deadline cancels it
            if self.failures:
                raise self.failures.pop(0)
            if self.failure is not None:
                raise self.failure
            return {**{c: self.answers.get(c) for c in request.fields}, **self.extra}
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True


class FakeRegistry(FakeSource):
    """A base registry (as BRP, KVK): besides `fetch` it verifies subjects (SubjectVerifier) from
    `known` (identifier -> facts); an unknown one is SubjectNotFound. `failure` applies here too."""

    def __init__(self, *args: Any, known: Mapping[str, SubjectFacts] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.known: dict[str, SubjectFacts] = dict(known or {})
        self.verified: list[Subject] = []

    async def verify_subject(self, subject: Subject, headers: Mapping[str, str]) -> SubjectFacts:
        self.verified.append(subject)
        if self.failure is not None:
            raise self.failure
        facts = self.known.get(subject.value)
        if facts is None:
            raise SubjectNotFound("404")
        return facts
