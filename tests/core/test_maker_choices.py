"""The maker names a picker offers (bot.core.makers), the same rules request_generation applies."""
from __future__ import annotations

from bot.core.generations import request_generation
from bot.core.makers import own_maker_choices, usable_maker_choices
from data.models import Maker, MakerStatus, User


def _makers(ctx, owner_id: int, *names: str, **fields) -> None:
    with ctx.db.session() as s:
        for name in names:
            s.add(Maker(owner_id=owner_id, name=name, lora_blob="x", **{"status": MakerStatus.ready.value, **fields}))
        s.commit()


async def test_what_was_typed_is_text_not_a_pattern(ctx, core, people):
    _makers(ctx, people["artist"].user_id, "a_b", "axb", "b-a_b")
    found = await usable_maker_choices(core, people["fan"], "a_")
    assert [c.name for c in found] == ["a_b", "b-a_b"]  # "_" is no wildcard; prefix matches first
    assert found[0].credit == "@aoi.example" and found[0].usage == "personal"


async def test_every_offered_name_can_be_used_and_banned_people_get_none(ctx, core, people):
    _makers(ctx, people["artist"].user_id, "closed", usage="not_allowed")
    _makers(ctx, people["artist"].user_id, "hidden", visibility="unlisted")
    offered = [c.name for c in await usable_maker_choices(core, people["fan"])]
    assert offered == ["aoi"]
    for name in offered:
        await request_generation(core, people["fan"], name, "a cat")  # nothing offered is refused
    assert [c.name for c in await own_maker_choices(core, people["artist"], "")] == ["aoi", "closed", "hidden"]
    with ctx.db.session() as s:
        fan = s.get(User, people["fan"].user_id)
        fan.banned = True
        s.add(fan)
        s.commit()
    assert await usable_maker_choices(core, people["fan"]) == []
