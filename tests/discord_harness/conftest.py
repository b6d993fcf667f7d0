from __future__ import annotations

import pytest

from tests.discord_harness.harness_bot import HarnessBot
from tests.fakes.discord_server import FakeDiscord, running_bot


@pytest.fixture
async def fake_discord():
    async with FakeDiscord() as discord:
        yield discord


@pytest.fixture
async def bot(fake_discord):
    async with running_bot(HarnessBot(), fake_discord) as running:
        yield running
