"""The bot's own measurements, read from its per-context Prometheus registry: acknowledgement latency of real
interactions through the fake Discord, and verification time per uploaded image."""
from __future__ import annotations

from tests.bot.conftest import png
from tests.fakes.discord_server import Upload


def sample(world, name: str, **labels) -> float:
    return world.app.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_every_acknowledged_interaction_is_timed_once(world):
    for _ in range(3):
        await world.run("maker list")
    assert sample(world, "mimic_interaction_ack_seconds_count") == 3
    total = sample(world, "mimic_interaction_ack_seconds_sum")
    assert 0 < total < 3 * 3.0  # each within Discord's 3 s


async def test_each_uploaded_image_is_timed_by_its_verdict(world):
    await world.verified_artist()
    uploads = [Upload("a.png", png(1, size=128)), Upload("broken.png", b"\x89PNG not really", "image/png")]
    _, _, answer = await world.submit_form("maker create", {"name": "aoi"}, uploads, user="artist")
    assert "nothing was created" in answer.content
    assert sample(world, "mimic_verification_seconds_count", result="rejected") == 2
    assert sample(world, "mimic_verification_seconds_count", result="accepted") == 0
