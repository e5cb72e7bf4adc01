"""Shared fixtures: databases (SQLite always, PostgreSQL when DGKB_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dgkb.api import dev_issuer, test_broker
from dgkb.runner import reset_simulators, running_simulators
from dgkb.store.db import Database
from dgkb.store.migrate import upgrade_async
from tests.clients import http_client

# No wall-clock limits: CI machines are loaded and noisy, so hypothesis' 200 ms deadline would make
# property tests fail on timing, not on behaviour. Tests that pass their own @settings keep this.
hypothesis_settings.register_profile("dgkb", deadline=None)
hypothesis_settings.load_profile("dgkb")

PG_URL = os.environ.get("DGKB_TEST_DATABASE_URL", "")
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
# DATABASE … TEMPLATE, ~0.1 s). The migrations themselves keep their own tests (tests/audit).
_templates: dict[str, str] = {}


async def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        path = Path(tempfile.mkdtemp(prefix="dgkb-template-")) / "template.sqlite3"
        await upgrade_async(f"sqlite+aiosqlite:///{path}")
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


async def _recreate_postgres_from_template(url: str) -> None:
    """Drop the test database (closing any connection a previous test left) and create it anew
    from a migrated template database built once per session."""
    target = make_url(url)
    name = target.database
    if not name or name == "postgres":
        raise RuntimeError("DGKB_TEST_DATABASE_URL must name a database of its own (e.g. /test)")
    template = f"{name}_template"
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            if "postgresql" not in _templates:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
                await conn.execute(text(f'CREATE DATABASE "{template}"'))
                await upgrade_async(target.set(database=template).render_as_string(hide_password=False))
                _templates["postgresql"] = template
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        await admin.dispose()


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty, migrated database of the given backend."""
    if backend == "sqlite":
        target = tmp_path / "dgkb-test.sqlite3"
        shutil.copyfile(await _sqlite_template(), target)
        return f"sqlite+aiosqlite:///{target}"
    await _recreate_postgres_from_template(PG_URL)
    return PG_URL


@pytest.fixture(params=DB_BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrised over every available backend: the test runs once on SQLite, once on PostgreSQL."""
    return await fresh_database_url(request.param, tmp_path)


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


@pytest.fixture(scope="session", autouse=True)
def _rsa_key_pool() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        pooled = _pooled_key(dev_issuer._load_or_create_key)
        patch.setattr(dev_issuer, "_load_or_create_key", pooled)
        patch.setattr(test_broker, "_load_or_create_key", pooled)
        yield
