"""A source adapter configured entirely in YAML, for simple REST/JSON systems without an adapter.

Municipal tax and fines systems and water-board tax systems differ per supplier, but most share one
shape: GET a list of items for a BSN or KVK-nummer. `GenericRestAdapter` (kind `generic-rest`)
calls the configured paths, picks the items with a small JSONPath subset and maps every *permitted*
field of a category from an expression; fields that were not asked for are never evaluated.

Example (`config/sources.yaml`)::

    - id: gemeente-belastingen
      kind: generic-rest
      name: Belastingen Gemeente Voorbeeldstad
      organisation: "00000001234567890000"
      baseUrl: http://127.0.0.1:8031
      categories: [dossier.financieel]
      options:
        subjectKinds: [bsn, kvk]
        requests:
          - path: "/api/v1/aanslagen?bsn={subject}"
            subjectKinds: [bsn]
            itemsPath: "$.results"
            nextPath: "$.next"
            categories:
              dossier.financieel:
                soort: "'aanslag'"
                omschrijving: "$.omschrijving"
                bedrag: "$.bedrag"

Expressions are a quoted literal (`'aanslag'`) or a JSONPath subset: `$`, `.key`, `['key']`,
`[n]` (negative counts from the end) and `[*]`, nested. A path with `[*]` maps to the list of all
matches, one without to the first match or null.

Per category `fetch` returns the concatenated items of every call serving it, an empty list when the
subject has none, or None when every call said "not found" (404 in `notFoundStatus`) or no call
serves the subject's kind. Timeouts and HTTP errors map via `SourceHttpClient`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeAlias
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import CategoryData, FetchRequest, ProbeResult, SourceError, SubjectNotFound
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient

__all__ = ["GenericRestAdapter", "GenericRestOptions", "JsonPath", "RestCall"]

KIND = "generic-rest"


# --- JSONPath subset ---------------------------------------------------------------------------


class _Wildcard:
    __slots__ = ()

    def __repr__(self) -> str:
        return "[*]"


WILDCARD = _Wildcard()
Step: TypeAlias = str | int | _Wildcard

_KEY = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)")
_QUOTED_KEY = re.compile(r"\['([^']*)'\]")
_INDEX = re.compile(r"\[(-?\d{1,9})\]")


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed JSONPath of the supported subset. Parse once at start-up, evaluate per response."""

    expression: str
    steps: tuple[Step, ...]

    @classmethod
    def parse(cls, expression: str) -> JsonPath:
        """Parse `expression`; raise ValueError naming the position of the first bad character."""
        if not expression.startswith("$"):
            raise ValueError("een JSONPath begint met '$'")
        steps: list[Step] = []
        pos = 1
        while pos < len(expression):
            if expression.startswith("[*]", pos):
                steps.append(WILDCARD)
                pos += 3
                continue
            if (m := _KEY.match(expression, pos)) or (m := _QUOTED_KEY.match(expression, pos)):
                steps.append(m.group(1))
            elif m := _INDEX.match(expression, pos):
                steps.append(int(m.group(1)))
            else:
                raise ValueError(
                    f"ongeldig JSONPath '{expression}' op positie {pos}: "
                    "verwacht .sleutel, ['sleutel'], [n] of [*]"
                )
            pos = m.end()
        return cls(expression, tuple(steps))

    @property
    def has_wildcard(self) -> bool:
        return any(step is WILDCARD for step in self.steps)

    def find(self, data: Any) -> list[Any]:
        """All matches, in document order; a missing key or index simply matches nothing."""
        current: list[Any] = [data]
        for step in self.steps:
            following: list[Any] = []
            for node in current:
                if isinstance(step, _Wildcard):
                    if isinstance(node, Mapping):
                        following.extend(node.values())
                    elif isinstance(node, list):
                        following.extend(node)
                elif isinstance(step, str):
                    if isinstance(node, Mapping) and step in node:
                        following.append(node[step])
                elif isinstance(node, list) and -len(node) <= step < len(node):
                    following.append(node[step])
            current = following
            if not current:
                break
        return current

    def value(self, data: Any) -> Any:
        """A field's value: all matches for a wildcard path, else the first match or None."""
        matches = self.find(data)
        if self.has_wildcard:
            return matches
        return matches[0] if matches else None


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str

    def value(self, data: Any) -> Any:
        return self.text


Expression: TypeAlias = _Literal | JsonPath


def parse_expression(text: str) -> Expression:
    """A field expression: `'literal'` or a JSONPath."""
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _Literal(text[1:-1])
    if text.startswith("$"):
        return JsonPath.parse(text)
    raise ValueError(
        f"'{text}' is geen expressie: gebruik een JSONPath ('$.veld') of een letterlijke waarde "
        "tussen enkele aanhalingstekens (\"'aanslag'\")"
    )


# --- options -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDERS = {"subject", "subjectKind"}


def _check_template(text: str) -> str:
    for name in _PLACEHOLDER.findall(text):
        if name not in _PLACEHOLDERS:
            raise ValueError(f"onbekende plaatshouder '{{{name}}}' (bekend: {{subject}}, {{subjectKind}})")
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        raise ValueError("losse accolade; plaatshouders zijn {subject} en {subjectKind}")
    return text


def _check_path(text: str) -> str:
    JsonPath.parse(text)
    return text


def _check_expression(text: str) -> str:
    parse_expression(text)
    return text


def _check_not_found(codes: tuple[int, ...]) -> tuple[int, ...]:
    # SourceHttpClient only reports 404 as "not found"; other statuses become a source error.
    if any(code != 404 for code in codes):
        raise ValueError("alleen 404 kan 'niet gevonden' betekenen; laat andere statussen weg")
    return codes


PathTemplate = Annotated[str, Field(pattern=r"^/"), AfterValidator(_check_template)]
JsonPathText = Annotated[str, AfterValidator(_check_path)]
ExpressionText = Annotated[str, AfterValidator(_check_expression)]
FieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]


class RestCall(BaseModel):
    """One outbound call and the categories its items feed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["GET", "POST"] = "GET"
    path: PathTemplate  # relative to baseUrl; {subject} is URL-encoded
    body: Any = None  # JSON body for POST; string values may hold {subject} and {subjectKind}
    subjectKinds: tuple[SubjectKind, ...] | None = None  # default: the source's subjectKinds
    itemsPath: JsonPathText = "$"
    nextPath: JsonPathText | None = None  # link to the next page (absolute URL within baseUrl)
    maxPages: int = Field(default=10, ge=1, le=100)
    notFoundStatus: Annotated[tuple[int, ...], AfterValidator(_check_not_found)] = (404,)
    # category id -> field -> expression
    categories: dict[str, Annotated[dict[FieldName, ExpressionText], Field(min_length=1)]] = Field(
        min_length=1
    )


class ProbeCall(BaseModel):
    """`options.probe`: the cheap read `dgkb check` makes with the configured credentials. Pick a
    path that names no person; `authenticated` lists the statuses that prove the source accepted
    the credentials (e.g. 400 for a list that refuses to answer without a subject)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["GET", "POST"] = "GET"
    path: str = ""  # relative to baseUrl; "" = the base URL itself
    authenticated: tuple[int, ...] = (200,)


class GenericRestOptions(BaseModel):
    """`options:` of a `generic-rest` source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subjectKinds: tuple[SubjectKind, ...] = Field(min_length=1)
    requests: tuple[RestCall, ...] = Field(min_length=1)
    probe: ProbeCall = Field(default_factory=ProbeCall)


def parse_options(config: SourceConfig, *, source: str = "sources.yaml") -> GenericRestOptions:
    """Validate `config.options`; errors name `sources.yaml: sources.<id>.options.<path>`."""
    prefix = f"sources.{config.id}.options"
    try:
        options = GenericRestOptions.model_validate(config.options)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
    else:
        problems = _cross_check(options, config)
    if problems:
        lines = [f"{source}: {prefix}{'.' + path if path else ''}: {msg}" for path, msg in problems]
        first = problems[0][0]
        raise InvalidConfiguration("\n".join(lines), field=f"{source}:{prefix}{'.' + first if first else ''}")
    return options


def _cross_check(options: GenericRestOptions, config: SourceConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    served: set[str] = set()
    for i, call in enumerate(options.requests):
        for kind in call.subjectKinds or ():
            if kind not in options.subjectKinds:
                problems.append(
                    (f"requests.{i}.subjectKinds", f"'{kind.value}' staat niet in options.subjectKinds")
                )
        for category in call.categories:
            served.add(category)
            if category not in config.categories:
                problems.append(
                    (
                        f"requests.{i}.categories.{category}",
                        f"categorie '{category}' staat niet in sources.{config.id}.categories",
                    )
                )
        if call.body is not None and call.method != "POST":
            problems.append((f"requests.{i}.body", "een body hoort alleen bij method POST"))
    for category in config.categories:
        if category not in served:
            problems.append(("requests", f"geen aanroep levert categorie '{category}'"))
    return problems


# --- adapter -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    path: str
    body: Any
    subject_kinds: frozenset[SubjectKind]
    items_path: JsonPath
    next_path: JsonPath | None
    max_pages: int
    not_found_is_subject: bool
    categories: Mapping[str, Mapping[str, Expression]]

    @classmethod
    def compile(cls, call: RestCall, options: GenericRestOptions) -> _Call:
        return cls(
            method=call.method,
            path=call.path,
            body=call.body,
            subject_kinds=frozenset(call.subjectKinds or options.subjectKinds),
            items_path=JsonPath.parse(call.itemsPath),
            next_path=JsonPath.parse(call.nextPath) if call.nextPath else None,
            max_pages=call.maxPages,
            not_found_is_subject=404 in call.notFoundStatus,
            categories={
                cat: {name: parse_expression(expr) for name, expr in mapping.items()}
                for cat, mapping in call.categories.items()
            },
        )

    def render_path(self, subject: Subject) -> str:
        return _fill(self.path, subject, encode=True)

    def render_body(self, subject: Subject) -> Any:
        return _fill_json(self.body, subject)

    def items(self, data: Any, source_id: str) -> list[Any]:
        """The items of one response page."""
        matches = self.items_path.find(data)
        if self.items_path.has_wildcard:
            return matches
        if not matches:
            raise SourceError(f"{source_id}: antwoord bevat geen {self.items_path.expression}")
        items: list[Any] = []
        for match in matches:
            if isinstance(match, list):
                items.extend(match)
            elif isinstance(match, dict):
                items.append(match)
            elif match is not None:
                raise SourceError(f"{source_id}: {self.items_path.expression} is geen lijst of object")
        return items

    def map_items(self, category: str, items: Sequence[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
        """Only the permitted fields that this call maps; nothing else is evaluated."""
        mapping = self.categories[category]
        wanted = [(name, mapping[name]) for name in fields if name in mapping]
        return [{name: expr.value(item) for name, expr in wanted} for item in items]


def _fill(template: str, subject: Subject, *, encode: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        raw = subject.value if match.group(1) == "subject" else subject.kind.value
        return quote(raw, safe="") if encode else raw

    return _PLACEHOLDER.sub(replace, template)


def _fill_json(value: Any, subject: Subject) -> Any:
    if isinstance(value, str):
        return _fill(value, subject, encode=False)
    if isinstance(value, list):
        return [_fill_json(v, subject) for v in value]
    if isinstance(value, dict):
        return {k: _fill_json(v, subject) for k, v in value.items()}
    return value


class GenericRestAdapter:
    """A REST/JSON source described by `options:` in sources.yaml (kind `generic-rest`)."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self.options = parse_options(config)
        self._calls = tuple(_Call.compile(call, self.options) for call in self.options.requests)
        self.subject_kinds = frozenset(kind for call in self._calls for kind in call.subject_kinds)
        # what the configured mapping can deliver, per category
        vocabulary: dict[str, set[str]] = {}
        for raw in self.options.requests:
            for category, mapping in raw.categories.items():
                vocabulary.setdefault(category, set()).update(mapping)
        self.vocabulary: Mapping[str, frozenset[str]] = {c: frozenset(f) for c, f in vocabulary.items()}
        self._http = SourceHttpClient(config)

    async def fetch(self, request: FetchRequest) -> dict[str, CategoryData | None]:
        wanted = {cat: fields for cat, fields in request.fields.items() if cat in self.categories}
        calls = [
            call
            for call in self._calls
            if request.subject.kind in call.subject_kinds and not wanted.keys().isdisjoint(call.categories)
        ]
        pages = await self._run(calls, request)
        result: dict[str, CategoryData | None] = {}
        for category, fields in wanted.items():
            found: list[dict[str, Any]] | None = None
            for call, items in zip(calls, pages, strict=True):
                if category in call.categories and items is not None:
                    found = (found or []) + call.map_items(category, items, fields)
            result[category] = found
        return result

    async def _run(self, calls: Sequence[_Call], request: FetchRequest) -> list[list[Any] | None]:
        if len(calls) <= 1:
            return [await self._call(call, request) for call in calls]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._call(call, request)) for call in calls]
        except ExceptionGroup as group_error:
            # One failing call fails the source (federation reports its status); the rest is cancelled.
            source_errors, _ = group_error.split(SourceError)
            if source_errors is not None and len(source_errors.exceptions) == len(group_error.exceptions):
                raise _first(source_errors) from None
            raise
        return [task.result() for task in tasks]

    async def _call(self, call: _Call, request: FetchRequest) -> list[Any] | None:
        """All items of one call (following `nextPath`), or None when the source says "not found"."""
        url = call.render_path(request.subject)
        body = call.render_body(request.subject) if call.method == "POST" else None
        items: list[Any] = []
        for _ in range(call.max_pages):
            try:
                data = await self._http.request(
                    call.method,
                    url,
                    headers=request.headers,
                    json=body,
                    not_found_is_subject=call.not_found_is_subject,
                )
            except SubjectNotFound:
                return None
            items.extend(call.items(data, self.id))
            next_url = call.next_path.value(data) if call.next_path else None
            if next_url is None or next_url == "" or next_url == []:
                return items
            if not isinstance(next_url, str) or not next_url.startswith(self._http.base_url + "/"):
                # Never send purpose headers or credentials to another host.
                raise SourceError(f"{self.id}: volgende pagina ligt buiten baseUrl")
            url = next_url
        raise SourceError(f"{self.id}: meer dan {call.max_pages} pagina's")

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: `options.probe` (a path that names no person, and the statuses that prove
        an authenticated answer), by default a GET of the base URL."""
        probe = self.options.probe
        return await self._http.probe(
            probe.method, probe.path, headers=headers, authenticated=frozenset(probe.authenticated)
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _first(group: BaseExceptionGroup[SourceError]) -> SourceError:
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error
