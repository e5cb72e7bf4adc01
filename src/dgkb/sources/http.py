"""One pooled aiohttp client per source, with auth and error mapping onto the source exceptions.

Why aiohttp: in bench/klantbeeld.py it needs clearly less CPU per request than httpx on this
2-core machine, and CPU per outbound call is what bounds klantbeelden/s.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from dgkb.sources.base import (
    InvalidParam,
    ProbeResult,
    SourceError,
    SourceRejected,
    SourceTimeout,
    SourceUnauthorized,
    SourceUnavailable,
    SubjectNotFound,
)
from dgkb.sources.config import ApiKeyAuth, BearerAuth, MutualTlsAuth, SourceConfig, TokenAuth, ZgwJwtAuth
from dgkb.sources.zgw_jwt import ZgwJwtIssuer

_UNAVAILABLE_STATUS = {502, 503, 504}
_UNAUTHORIZED_STATUS = {401, 403}
_REJECTED_STATUS = {400, 422}
_MAX_PARAMS = 10  # of a 400 answer's invalidParams, kept for the message
_MAX_REASON = 300  # characters of one reason


class SourceHttpClient:
    """Thin wrapper: base URL, auth header, JSON in/out, status -> exception. No retries here
    (federation decides about retries within the deadline)."""

    def __init__(self, config: SourceConfig, *, clock: Callable[[], float] = time.time) -> None:
        """`clock` (seconds since the epoch) dates the ZGW JWTs; a test injects one to let minutes pass."""
        self.config = config
        self.base_url = config.baseUrl.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        auth = config.auth
        self._zgw = (
            ZgwJwtIssuer(auth.clientId, auth.secret, refresh_seconds=auth.refreshSeconds, clock=clock)
            if isinstance(auth, ZgwJwtAuth)
            else None
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.config.concurrency,
                ttl_dns_cache=300,
                keepalive_timeout=30,
                ssl=self._ssl_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.config.deadline),
                json_serialize=_dumps,
                raise_for_status=False,
            )
        return self._session

    def _ssl_context(self) -> ssl.SSLContext | bool:
        """Mutual TLS: present the configured client certificate; otherwise default verification."""
        auth = self.config.auth
        if not isinstance(auth, MutualTlsAuth):
            return True
        context = ssl.create_default_context(cafile=auth.caFile)
        context.load_cert_chain(auth.certFile, auth.keyFile)
        return context

    def _auth_headers(self) -> dict[str, str]:
        auth = self.config.auth
        if isinstance(auth, ApiKeyAuth):
            return {auth.header: auth.value}
        if isinstance(auth, BearerAuth):
            return {"Authorization": f"Bearer {auth.token}"}
        if isinstance(auth, TokenAuth):
            return {"Authorization": f"Token {auth.token}"}
        if self._zgw is not None:  # a fresh token every `auth.refreshSeconds` (dgkb.sources.zgw_jwt)
            return {"Authorization": self._zgw.authorization()}
        return {}

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        not_found_is_subject: bool = True,
    ) -> Any:
        """Send one request and return the decoded JSON body. 404 raises SubjectNotFound when
        `not_found_is_subject` (the subject is unknown), else SourceError."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"
        all_headers = {"Accept": "application/json", **self._auth_headers(), **(headers or {})}
        try:
            async with self._client().request(
                method, url, headers=all_headers, params=params, json=json
            ) as resp:
                if resp.status == 404 and not_found_is_subject:
                    raise SubjectNotFound(f"{self.config.id}: 404")
                if resp.status in _REJECTED_STATUS:
                    raise SourceRejected(
                        f"{self.config.id}: HTTP {resp.status}", params=_invalid_params(await resp.read())
                    )
                self._raise_for_status(resp.status)
                try:
                    raw = await resp.read()
                    # orjson: decoding the answers was the largest single cost in the adapters
                    # (~4x json's). It is stricter: NaN, Infinity and integers beyond 64 bits are
                    # not JSON for it, and such an answer is refused like any other non-JSON.
                    return orjson.loads(raw) if raw.strip() else None
                except ValueError as exc:
                    raise SourceError(f"{self.config.id}: antwoord is geen JSON") from exc
        except TimeoutError as exc:
            raise SourceTimeout(f"{self.config.id}: timeout") from exc
        except aiohttp.ClientConnectionError as exc:
            raise SourceUnavailable(f"{self.config.id}: niet bereikbaar") from exc
        except aiohttp.ClientError as exc:
            raise SourceError(f"{self.config.id}: {type(exc).__name__}") from exc

    def _raise_for_status(self, status: int) -> None:
        """401/403 SourceUnauthorized, 502/503/504 SourceUnavailable, any other error SourceError."""
        if status in _UNAUTHORIZED_STATUS:
            raise SourceUnauthorized(f"{self.config.id}: HTTP {status}", status=status)
        if status in _UNAVAILABLE_STATUS:
            raise SourceUnavailable(f"{self.config.id}: HTTP {status}")
        if status >= 400:
            raise SourceError(f"{self.config.id}: HTTP {status}")

    async def probe(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json: Any = None,
        authenticated: frozenset[int] = frozenset({200}),
    ) -> ProbeResult:
        """One request with the configured credentials for `dgkb check`; the caller picks one that
        names no person. A status in `authenticated` proves the source served an authenticated
        client (a 400 does too where the source checks credentials before the request). The API
        version comes from the `API-version` header (ZGW, Open Klant, Haal Centraal)."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        all_headers = {"Accept": "application/json", **self._auth_headers(), **headers}
        try:
            async with self._client().request(
                method, url, headers=all_headers, params=params, json=json
            ) as resp:
                await resp.read()
                status, version = resp.status, resp.headers.get("API-version")
        except TimeoutError as exc:
            raise SourceTimeout(f"{self.config.id}: timeout") from exc
        except aiohttp.ClientConnectionError as exc:
            raise SourceUnavailable(f"{self.config.id}: niet bereikbaar") from exc
        except aiohttp.ClientError as exc:
            raise SourceError(f"{self.config.id}: {type(exc).__name__}") from exc
        if status not in authenticated and (status in _UNAUTHORIZED_STATUS or status >= 500):
            self._raise_for_status(status)
        # another answer (e.g. 404 for a base URL) shows the source is there, not that it accepts DGKB
        return ProbeResult(status, True if status in authenticated else None, version or None)

    def same_origin(self, url: str) -> bool:
        """Is `url` on this source's scheme+host+port? Links elsewhere are never followed: purpose
        headers and credentials must not reach another host."""
        own, other = urlsplit(self.base_url), urlsplit(url)
        return (own.scheme, own.netloc) == (other.scheme, other.netloc)

    async def get_object(
        self, url: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET a JSON object; 404 is a plain SourceError here (the caller knows what it means)."""
        answer = await self.request("GET", url, headers=headers, params=params, not_found_is_subject=False)
        if not isinstance(answer, dict):
            raise SourceError(f"{self.config.id}: antwoord is geen object")
        return answer

    async def get_all_pages(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str], *, max_pages: int
    ) -> list[dict[str, Any]]:
        """All `results` of a paginated list (`count/next/previous/results`, as ZGW APIs and Open Klant
        serve them), following `next` on the same origin, at most `max_pages`, never in a loop."""
        next_url: str | None = url
        query: Mapping[str, str] | None = params
        seen: set[str] = set()
        results: list[dict[str, Any]] = []
        for _ in range(max_pages):
            if next_url is None:
                break
            page = await self.get_object(next_url, headers, query)
            results.extend(r for r in page.get("results", []) if isinstance(r, dict))
            nxt = page.get("next")
            if not isinstance(nxt, str) or nxt in seen or not self.same_origin(nxt):
                break
            seen.add(nxt)
            next_url, query = nxt, None
        return results

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _invalid_params(raw: bytes) -> list[InvalidParam]:
    """The `invalidParams` of a 400 problem answer (ZGW, Open Klant, Haal Centraal), else its
    `detail` as one nameless entry; [] when the body says nothing usable."""
    try:
        body = orjson.loads(raw) if raw else None
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    found = []
    for item in body.get("invalidParams") or []:
        if isinstance(item, dict):
            found.append(
                InvalidParam(
                    name=str(item.get("name") or ""),
                    code=str(item.get("code") or ""),
                    reason=str(item.get("reason") or "")[:_MAX_REASON],
                )
            )
    if not found and isinstance(body.get("detail"), str):
        found.append(
            InvalidParam(name="", code=str(body.get("code") or ""), reason=body["detail"][:_MAX_REASON])
        )
    return found[:_MAX_PARAMS]


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
