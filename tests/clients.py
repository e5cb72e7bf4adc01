"""HTTP clients for the tests, sharing one TLS context.

httpx loads the CA bundle for every client it creates (~40 ms of CPU each) unless it is given a
context; the tests create hundreds of clients, nearly all to plain-HTTP servers on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """An httpx.AsyncClient with the shared TLS context and a 10 s timeout (unless given)."""
    kwargs.setdefault("timeout", 10)
    return httpx.AsyncClient(verify=TLS, **kwargs)
