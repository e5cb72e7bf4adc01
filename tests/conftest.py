"""Shared fixtures: databases (SQLite always, PostgreSQL when DGKB_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

import dgkb.settings
from dgkb.api import dev_issuer, test_broker
from dgkb.runner import reset_simulators, running_simulators
from dgkb.store.db import Database
from dgkb.store.migrate import upgrade_async
from tests.clients import http_client

# No wall-clock limits: CI machines are loaded and noisy, so hypothesis' 200 ms deadline would make
# property tests fail on timing, not on behaviour. Tests that pass their own @settings keep this.
hypothesis_settings.register_profile("dgkb", deadline=None)
hypothesis_settings.load_profile("dgkb")

# Under pytest-xdist every worker ("gw0", "gw1", …) is a process of its own with its own simulators,
# templates and apps; on PostgreSQL it gets a database (and template) of its own too, named after it.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_worker(url: str) -> str:
    if not url or not XDIST_WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(hide_password=False)


PG_URL = _per_worker(os.environ.get("DGKB_TEST_DATABASE_URL", ""))
SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"

DB_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


# Migrating a fresh database takes ~0.75 s and almost every test wants one, on both backends: migrate
# once per session into a template and copy it per test (SQLite: a file copy; PostgreSQL: CREATE
# DATABASE … TEMPLATE, made ahead, see _PostgresDatabases). The migrations themselves keep their own
# tests (tests/audit).
_templates: dict[str, str] = {}


async def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        path = Path(tempfile.mkdtemp(prefix="dgkb-template-")) / "template.sqlite3"
        await upgrade_async(f"sqlite+aiosqlite:///{path}")
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


async def postgres_admin(url: str, *statements: str) -> None:
    """Run `statements` (CREATE/DROP DATABASE) on the server of `url`, from its `postgres` database."""
    admin = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def empty_postgres_database(name: str) -> AsyncIterator[str]:
    """A new database without schema or migrations on the test server (DGKB_TEST_DATABASE_URL), as on
    a recovery server or before the first `dgkb migrate`; dropped afterwards."""
    assert PG_URL, "DGKB_TEST_DATABASE_URL is not set"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    await postgres_admin(PG_URL, drop, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await postgres_admin(PG_URL, drop)


class _PostgresDatabases:
    """Test databases on PostgreSQL, made from a template migrated once per session, one step ahead:
    CREATE DATABASE … TEMPLATE takes 0.3–1 s on a loaded machine, so the next test's database is
    made in the background while the current test runs. Three names take turns, so a database is
    dropped (closing any connection a test left) and made anew only two hand-outs after it was
    handed out: a test may use two at once."""

    TURNS = 3

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        name = self._url.database
        if not name or name == "postgres":
            raise RuntimeError("DGKB_TEST_DATABASE_URL must name a database of its own (e.g. /test)")
        self._template = f"{name}_template"
        self._names = [f"{name}_{turn}" for turn in range(self.TURNS)]
        self._turn = 0
        self._next: asyncio.Task[str] | None = None

    async def _admin(self, *statements: str) -> None:
        await postgres_admin(str(self._url), *statements)

    async def _make_template(self) -> None:
        template = self._template
        await self._admin(
            f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)', f'CREATE DATABASE "{template}"'
        )
        await upgrade_async(self._url.set(database=template).render_as_string(hide_password=False))

    async def _create(self, name: str) -> str:
        await self._admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"',
        )
        return self._url.set(database=name).render_as_string(hide_password=False)

    def _start_next(self) -> None:
        self._next = asyncio.get_running_loop().create_task(self._create(self._names[self._turn]))
        self._turn = (self._turn + 1) % self.TURNS

    async def take(self) -> str:
        """The URL of an empty, migrated database no one else uses."""
        if self._next is None:
            await self._make_template()
            self._start_next()
        assert self._next is not None
        ready, self._next = self._next, None
        try:
            return await ready
        finally:
            self._start_next()

    async def aclose(self) -> None:
        """Wait for the database being made (a task must not outlive the session's event loop)."""
        if self._next is not None:
            with contextlib.suppress(Exception):
                await self._next
            self._next = None


_postgres = _PostgresDatabases(PG_URL) if PG_URL else None


@pytest.fixture(scope="session", autouse=True)
async def _postgres_databases() -> AsyncIterator[None]:
    yield
    if _postgres is not None:
        await _postgres.aclose()


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty, migrated database of the given backend."""
    if backend == "sqlite":
        target = tmp_path / "dgkb-test.sqlite3"
        shutil.copyfile(await _sqlite_template(), target)
        return f"sqlite+aiosqlite:///{target}"
    if _postgres is None:
        raise RuntimeError("DGKB_TEST_DATABASE_URL is not set")
    return await _postgres.take()


WEB_TESTS = Path(__file__).parent / "web"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects and xdist groups by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/web drives a browser: it is marked `browser` and `slow`. Under
    pytest-xdist (`--dist loadgroup`) the tests of one module run in one worker, in their order, as
    in a single process: module-scoped fixtures (simulators with their data) start once, and what
    one test leaves in them is where the next expects it. A test with a group of its own (`nats`)
    keeps that group."""
    for item in items:
        if WEB_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(params=DB_BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrised over every available backend: the test runs once on SQLite, once on PostgreSQL."""
    return await fresh_database_url(request.param, tmp_path)


@pytest.fixture
async def postgres_url(tmp_path: Path) -> str:
    """A fresh PostgreSQL database, for what only a server database has (connections to lose, other
    sessions); skipped only where no PostgreSQL is configured (CI always has one)."""
    if _postgres is None:
        pytest.skip("DGKB_TEST_DATABASE_URL is not set")
    return await fresh_database_url("postgresql", tmp_path)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"../shared/reference not found at {SHARED_REFERENCE}; conformance tests need it")
    return SHARED_REFERENCE


@dataclass(frozen=True)
class SharedSimulators:
    urls: dict[str, str]
    client: httpx.AsyncClient  # for the resets


@pytest.fixture(scope="session")
async def shared_simulators() -> AsyncIterator[SharedSimulators]:
    """Every simulator on its own socket, started once per session (starting them takes ~0.5 s);
    use `simulators`, which resets them first. The Notificaties simulator delivers only when a test
    runs a round (tests.events.conftest.deliver_round)."""
    async with (
        running_simulators(base_port=0, notificaties_seconds=0, resettable=True) as sims,
        http_client() as client,
    ):
        yield SharedSimulators(sims, client)


@pytest.fixture
async def simulators(shared_simulators: SharedSimulators) -> dict[str, str]:
    """Source id -> base URL of the session's simulators, each back in its pristine state (the demo
    world, no recorded requests, default `/_sim/behaviour`, no abonnementen or deliveries). A test
    that needs other simulator settings (a latency, ZGW JWTs, another world, a fixed port) or stops
    them starts its own with `running_simulators`."""
    await reset_simulators(shared_simulators.urls, shared_simulators.client)
    return dict(shared_simulators.urls)


# Every app of a test environment makes two RSA keys (dev issuer, test broker: ~70 ms of CPU each),
# and the tests start hundreds of apps. They take keys from a small pool instead, in turn: every
# instance still has another key than the ones made just before and after it (a test that makes an
# impostor broker or issuer gets one with a key of its own), but nothing is generated twice.
_KEY_POOL_SIZE = 8
_key_pool: list[rsa.RSAPrivateKey] = []
_key_turn = itertools.count()


def _pooled_key(
    real: Callable[[Path | None], rsa.RSAPrivateKey],
) -> Callable[[Path | None], rsa.RSAPrivateKey]:
    def load_or_create(key_file: Path | None) -> rsa.RSAPrivateKey:
        if key_file is not None:  # a key file (development) keeps its own behaviour
            return real(key_file)
        turn = next(_key_turn) % _KEY_POOL_SIZE
        if turn == len(_key_pool):
            _key_pool.append(real(None))
        return _key_pool[turn]

    return load_or_create


# Every app of a test reads the same configuration files (~0.1 s of YAML per app, hundreds of apps):
# the tests parse each version of a file once (keyed by path, size and modification time, so a test
# that writes its own configuration gets its own) and hand every caller a fresh copy.
_yaml_cache: dict[tuple[str, int, int], bytes] = {}


def _cached_load_yaml(real: Callable[[Path], Any]) -> Callable[[Path], Any]:
    def load_yaml(path: Path) -> Any:
        try:
            stat = path.stat()
        except OSError:
            return real(path)  # missing: the real loader's error
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _yaml_cache:
            _yaml_cache[key] = pickle.dumps(real(path))
        return pickle.loads(_yaml_cache[key])

    return load_yaml


@pytest.fixture(scope="session", autouse=True)
def _yaml_once() -> Iterator[None]:
    real = dgkb.settings.load_yaml
    cached = _cached_load_yaml(real)
    with pytest.MonkeyPatch.context() as patch:
        for name, module in list(sys.modules.items()):
            if name.startswith("dgkb") and getattr(module, "load_yaml", None) is real:
                patch.setattr(module, "load_yaml", cached)
        yield


@pytest.fixture(scope="session", autouse=True)
def _rsa_key_pool() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        pooled = _pooled_key(dev_issuer._load_or_create_key)
        patch.setattr(dev_issuer, "_load_or_create_key", pooled)
        patch.setattr(test_broker, "_load_or_create_key", pooled)
        yield
