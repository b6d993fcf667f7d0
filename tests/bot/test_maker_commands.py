"""/maker create from posts, the free-maker quota, /maker settings and /maker list, with an indexed portfolio."""
from __future__ import annotations

from sqlmodel import select

from bot.core.accounts import VerificationResult, index_portfolio
from data.models import Maker, SocialAccount, utcnow
from tests.bot.conftest import png
from tests.fakes.discord_server import Upload
from verification.accounts import PortfolioItem


async def _indexed_artist(world, images: int = 4):
    artist = await world.verified_artist(handle="aoi_draws")
    account = await world.core.db(lambda s: s.exec(select(SocialAccount)).one())
    items = [PortfolioItem(post_url=f"https://x.com/aoi_draws/status/{i}", posted_at=utcnow(),
                           media_url=f"https://pbs.example/{i}.png", image_bytes=png(500 + i, size=128))
             for i in range(images)]
    await index_portfolio(world.core, artist.id, account, items, VerificationResult(account, "bio"))
    return artist


async def test_from_posts_then_the_free_maker_quota(world):
    await _indexed_artist(world)
    _, first = await world.run("maker create", {"name": "aoi", "from_posts": True}, user="artist")
    assert "queued for training (position 1, 4 images accepted)" in first.content
    _, second = await world.run("maker create", {"name": "aoi-2", "from_posts": True}, user="artist")
    assert "queued for training" in second.content
    _, third = await world.run("maker create", {"name": "aoi-3", "from_posts": True}, user="artist")
    assert third.ephemeral and "already have 2 makers" in third.content
    _, taken = await world.run("maker create", {"name": "aoi", "from_posts": True}, user="artist")
    assert "“aoi” is taken" in taken.content
    _, bad = await world.run("maker create", {"name": "Bad Name!"}, user="artist")
    assert "lowercase" in bad.content


async def test_unverified_people_are_sent_to_verify_first(world):
    _, answer = await world.run("maker create", {"name": "mine", "from_posts": True}, user="fan", locale="ja")
    assert "/verify start" in answer.content and "連携" in answer.content


async def test_settings_belong_to_the_artist_and_list_shows_them(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, name="aoi")
    _, denied = await world.run("maker settings", {"name": "aoi", "usage": "commercial"}, user="fan")
    assert "Only the artist" in denied.content
    _, saved = await world.run("maker settings", {"name": "aoi", "usage": "commercial", "daily_limit": 5},
                               user="artist")
    assert "commercial use OK" in saved.content and "daily limit 5" in saved.content
    maker = await world.core.db(lambda s: s.exec(select(Maker)).one())
    assert (maker.usage, maker.daily_limit) == ("commercial", 5)
    _, listed = await world.run("maker list")
    assert "**aoi**" in listed.content
    await world.run("maker settings", {"name": "aoi", "visibility": "private"}, user="artist")
    _, hidden = await world.run("maker list")
    assert "**aoi**" not in hidden.content
    _, mine = await world.run("maker list", {"mine": True}, user="artist")
    assert "**aoi**" in mine.content


async def test_protect_posts_then_nobody_can_train_on_them(world):
    await _indexed_artist(world)
    _, done = await world.run("protect posts", user="artist")
    assert "4 of your posted works are now on the No AI learning list" in done.content
    _, refused = await world.run("maker create", {"name": "aoi", "from_posts": True}, user="artist")
    assert refused.ephemeral
    assert await world.core.db(lambda s: s.exec(select(Maker)).all()) == []
    _, _, ja = await world.submit_form("protect files", {}, [Upload("new.png", png(900, size=128))], user="artist",
                                       locale="ja")
    assert "1点の作品を「AI学習禁止」に登録しました" in ja.content
    _, stranger = await world.run("protect posts", user="fan")
    assert stranger.ephemeral and "/verify start" in stranger.content


async def test_moderators_hear_of_a_maker_waiting_for_review(world):
    await _indexed_artist(world)
    gallery = world.discord.channel("gallery")
    role = world.discord.guild.role("mimic-moderator")
    await world.run("server settings", {"gallery_channel": gallery, "review_required": True, "moderator_role": role},
                    user="manager")
    _, created = await world.run("maker create", {"name": "aoi", "from_posts": True}, user="artist")
    assert "waiting for a moderator's review" in created.content
    notice = await world.discord.wait_for_message(gallery, lambda m: "waits for review" in m.content, timeout=10)
    assert "**aoi**" in notice.content and "/review queue" in notice.content
    assert f"<@&{role.id}>" in notice.content
