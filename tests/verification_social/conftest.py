"""Fixtures for the social half of the ownership gate: the fake platforms, providers pointed at them, users."""
from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw

from data.models import User
from tests.fakes.social import FakeSocial
from verification.accounts import build_providers
from verification.providers.base import Backoff

PLATFORMS = ("x", "bluesky", "mastodon")
# reset times in the tests are 1 s ahead; anything longer than this is given up on at once
FAST_BACKOFF = Backoff(max_wait_s=3.0, max_attempts=3, fallback_wait_s=0.1)
HANDLES = {"x": ("alice", "bob"), "bluesky": ("alice.bsky.social", "bob.bsky.social"),
           "mastodon": ("alice", "bob")}


@pytest.fixture
async def fake() -> FakeSocial:
    async with FakeSocial() as server:
        yield server


@pytest.fixture
def social_settings(settings, fake):
    return settings.model_copy(update=fake.settings_overrides())


@pytest.fixture
async def providers(social_settings):
    built = build_providers(social_settings, backoff=FAST_BACKOFF)
    yield built
    for provider in built.values():
        await provider.aclose()


@pytest.fixture
def users(ctx) -> tuple[int, int]:
    """Two Discord users, as rows."""
    with ctx.db.session() as session:
        rows = [User(discord_id=1000 + n, display_name=f"user{n}") for n in range(2)]
        session.add_all(rows)
        session.commit()
        return rows[0].id, rows[1].id


def drawing(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A small flat-colour picture, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse((x0, y0, x0 + rng.randrange(4, 30), y0 + rng.randrange(4, 30)),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    return image
