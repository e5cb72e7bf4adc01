"""A JWKS cache shared by every token verifier (staff tokens, DigiD/eHerkenning assertions)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from jwt import PyJWK


class KeySet:
    """JWKS cache. `static` keys (dev issuer, test broker) never expire; fetched keys refresh at
    most every 60 s, when an unknown `kid` appears."""

    def __init__(self, *, url: str | None = None, static: dict[str, Any] | None = None) -> None:
        self._url = url
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        if static:
            self._load(static)

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            if "kid" in jwk:
                keys[jwk["kid"]] = PyJWK(jwk)
        self._keys = keys

    async def get(self, kid: str) -> PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        if self._url is None:
            return None
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > 60:
                self._fetched_at = time.monotonic()
                try:
                    async with (
                        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client,
                        client.get(self._url) as resp,
                    ):
                        self._load(await resp.json(content_type=None))
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    return None
        return self._keys.get(kid)
