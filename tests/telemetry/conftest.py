"""The stack of tests/api (DGKB on a real socket over the session's simulators), for these tests too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import Stack, running_stack


@pytest.fixture
async def stack(database_url: str, simulators: dict[str, str]) -> AsyncIterator[Stack]:
    async with running_stack(database_url, simulators) as running:
        yield running
