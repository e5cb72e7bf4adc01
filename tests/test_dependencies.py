"""No route and no dependency of a route runs in a worker thread. FastAPI runs a plain `def`
endpoint or dependency through `run_in_threadpool`: a thread hop per request (measured: ~7 % of the
CPU of a klantbeeld for one small dependency) and a pool of 40 threads that every request shares."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from dgkb.app import create_app
from dgkb.settings import Settings


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also those of included routers (FastAPI 0.16x keeps those behind a wrapper)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(list(inner.routes))


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.isfunction(call) or inspect.ismethod(call):
        return inspect.iscoroutinefunction(call)
    # an instance used as a dependency (HTTPBearer): its __call__; a class would be built in a thread
    return not inspect.isclass(call) and inspect.iscoroutinefunction(type(call).__call__)


def test_every_endpoint_and_dependency_is_async(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"))
    routes = list(_api_routes(list(app.routes)))
    assert len(routes) > 50, "the API and the console routes are all here"
    threaded = sorted(
        {
            f"{route.path}: {getattr(call, '__qualname__', repr(call))}"
            for route in routes
            for call in (route.endpoint, *_calls(route.dependant))
            if not _runs_on_the_loop(call)
        }
    )
    assert not threaded, "run in a worker thread per request:\n" + "\n".join(threaded)
