"""One public credit: what the worker burns into an image is what Discord posts and the web shows (and what
`mimic trace` prints: tests/cli/test_trace_cli.py).

Before data.credit there were three rules: the worker wrote "@@aoi" for a handle stored with its "@", and
"user 12" where Discord said "artist 12"; `mimic trace` credited an account that was linked but never proven."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.gallery import generation_view
from bot.core.generations import unposted_result
from data.models import Generation, Maker, MakerStatus, SocialAccount, User, utcnow
from engine.jobs import render_request

NOW = utcnow()


def _accounts(user_id: int, case: str) -> list[SocialAccount]:
    proven = dict(user_id=user_id, verified_at=NOW)
    return {
        "handle with its @": [SocialAccount(platform="x", account_id="1", handle="@aoi_draws", **proven)],
        "proven and unproven": [SocialAccount(platform="x", account_id="2", handle="someone_else", user_id=user_id),
                                SocialAccount(platform="bluesky", account_id="did:plc:a", handle="aoi.bsky.social",
                                              profile_url="https://bsky.app/profile/did:plc:a", **proven)],
        "two proven": [SocialAccount(platform="mastodon", account_id="3", handle="aoi@art.example", user_id=user_id,
                                     verified_at=NOW + timedelta(days=1)),
                       SocialAccount(platform="x", account_id="4", handle="aoi_first", **proven)],
        "unproven only": [SocialAccount(platform="x", account_id="5", handle="impostor", user_id=user_id)],
        "nothing": [],
    }[case]


EXPECTED = {"handle with its @": ("@aoi_draws",), "proven and unproven": ("@aoi.bsky.social",),
            "two proven": ("@aoi_first",), "unproven only": ("{name}",), "nothing": ("{name}",)}


@pytest.mark.parametrize("display_name", ["Aoi", ""])
@pytest.mark.parametrize("case", list(EXPECTED))
async def test_the_image_discord_the_web_and_trace_credit_the_artist_alike(ctx, core, case, display_name):
    with ctx.db.session() as s:
        artist, fan = User(display_name=display_name), User(display_name="hana")
        s.add_all([artist, fan])
        s.flush()
        s.add_all(_accounts(artist.id, case))
        maker = Maker(owner_id=artist.id, name="aoi", status=MakerStatus.ready.value, lora_blob="x" * 64)
        s.add(maker)
        s.flush()
        gen = Generation(requester_id=fan.id, maker_id=maker.id, prompt="smiling", trace_id=42, status="done",
                         image_blobs=[ctx.blobs.put(b"png")])
        s.add(gen)
        s.commit()
        burned = render_request(s, gen, maker, ctx.settings).artist_credit
        posted = unposted_result(s, gen.id).credit
        name = display_name or f"artist {artist.id}"
    shown = (await generation_view(core, gen.id)).artist.credit

    assert burned == posted == shown == EXPECTED[case][0].format(name=name)
