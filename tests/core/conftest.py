from __future__ import annotations

import pytest

from bot.core import Actor, Core
from data.models import Maker, MakerStatus, SocialAccount, User, utcnow


@pytest.fixture
async def core(ctx):
    core = Core.create(ctx, providers={})
    yield core
    await core.aclose()


@pytest.fixture
def people(ctx):
    """An artist with a ready maker, a fan, and a moderator."""
    with ctx.db.session() as s:
        artist, fan, mod = User(display_name="aoi"), User(display_name="hana"), User(display_name="mod")
        s.add_all([artist, fan, mod])
        s.flush()
        s.add(SocialAccount(user_id=artist.id, platform="bluesky", account_id="did:plc:aoi", handle="aoi.example",
                            verified_at=utcnow()))
        maker = Maker(owner_id=artist.id, name="aoi", status=MakerStatus.ready.value,
                      lora_blob=ctx.blobs.put(b"lora"), trigger="mimic_aoi")
        s.add(maker)
        s.commit()
        return {"artist": Actor(user_id=artist.id), "fan": Actor(user_id=fan.id),
                "mod": Actor(user_id=mod.id, is_moderator=True), "maker_id": maker.id}
