"""The shipped catalogue and register, and an engine over them (built once per session)."""

from __future__ import annotations

import pytest

from dgkb.domain.catalogue import Catalogue
from dgkb.domain.register import Register
from dgkb.policy.engine import CedarPolicyEngine
from dgkb.settings import get_settings, load_catalogue, load_register, load_yaml

SOURCE_IDS = {s["id"] for s in load_yaml(get_settings().config_files["sources"])["sources"]}


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(get_settings())


@pytest.fixture(scope="session")
def register(catalogue: Catalogue) -> Register:
    return load_register(get_settings(), catalogue, SOURCE_IDS)


@pytest.fixture(scope="session")
def engine(register: Register, catalogue: Catalogue) -> CedarPolicyEngine:
    return CedarPolicyEngine(register, catalogue)
