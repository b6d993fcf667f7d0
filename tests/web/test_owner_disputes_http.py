"""/me shows a signed-in artist the disputes about their works (the consent issue) with their state, from their side:
both posts' links and dates, open / contested / decided (moved, kept, refused), whose the work is now; the other party
sees the same dispute from theirs, a third person sees none of it, and nothing private of the other side (a contest's
words, a moderator's note) is shown. The disputes are made the real way: two artists verify Bluesky accounts on the
project's fake Bluesky (posts with their dates), one contests, a moderator decides."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.core import Actor, Core
from bot.core.accounts import check_verification, start_verification
from bot.core.disputes import contest, decide_dispute
from bot.web.i18n import iso_time
from data.models import Dispute
from tests.fakes.social import FakeSocial
from tests.web.accounts_world import browser_session, person_id, sign_in, start_world
from verification.accounts import build_providers
from verification.providers.base import Backoff
from verification.synthetic import draw_illustration

AOI_DATES = [datetime(2020, 3, d, 12, tzinfo=timezone.utc) for d in range(1, 5)]
CONTEST_WORDS = "my sketchbook scans from 2018 show it"
MOD_NOTE = "private moderator reasoning"


def _jpeg(img, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


async def _link(core: Core, fake: FakeSocial, user_id: int, handle: str, images, dates):
    actor = Actor(user_id=user_id)
    challenge = await start_verification(core, actor, "bluesky", handle)
    account = fake.add_account("bluesky", handle, bio=f"illustrator · {challenge.code}")
    for img, when in zip(images, dates):
        fake.add_post(account, images=[img], text="new drawing", posted_at=when)
    return await check_verification(core, actor)


@pytest.fixture
async def disputed(tmp_path, redis_url):
    """aoi posted four drawings in March 2020; ren shows the same four: #0 posted later (refused, then contested by
    ren), #1 and #3 within an hour of aoi's (unclear: #1 a moderator keeps with aoi, #3 stays open), #2 posted in 2019
    (earlier: it moves to ren at once)."""
    async with FakeSocial() as fake:
        world = await start_world(tmp_path, **fake.settings_overrides())
        providers = build_providers(world.core.app.settings,
                                    backoff=Backoff(max_wait_s=2, max_attempts=2, fallback_wait_s=0.1))
        verifier = Core(app=world.core.app, queue=world.core.queue, providers=providers)
        try:
            aoi, ren = person_id(world, "aoi"), person_id(world, "ren")
            drawings = [draw_illustration(seed, (384, 384)) for seed in range(11, 15)]
            await _link(verifier, fake, aoi, "aoi-art.bsky.social", drawings, AOI_DATES)
            ren_dates = [datetime(2026, 11, 1, tzinfo=timezone.utc), AOI_DATES[1] + timedelta(hours=1),
                         datetime(2019, 5, 1, tzinfo=timezone.utc), AOI_DATES[3] + timedelta(minutes=30)]
            result = await _link(verifier, fake, ren, "ren-art.bsky.social", [_jpeg(d, 80) for d in drawings],
                                 ren_dates)
            assert (len(result.moved), len(result.conflicts), len(result.disputed)) == (1, 1, 2)
            with world.core.app.db.session() as s:
                rows = {d.origin: d for d in s.exec(select(Dispute).order_by(Dispute.id))}
                unclear = [d.id for d in s.exec(select(Dispute).where(Dispute.origin == "unclear_dates")
                                                .order_by(Dispute.id))]
                refused_post = rows["later_post"].claimant_post_url
            await contest(verifier, Actor(user_id=ren), refused_post, CONTEST_WORDS)
            mod = Actor(user_id=person_id(world, "kai"), is_moderator=True)
            await decide_dispute(verifier, mod, unclear[0], "keep", note=MOD_NOTE)
            with world.core.app.db.session() as s:
                disputes = {d.id: d for d in s.exec(select(Dispute))}
            yield world, disputes
        finally:
            for provider in providers.values():
                await provider.aclose()
            await world.close()


def _items(page: str) -> dict[int, str]:
    """Each listed dispute's HTML, by its id."""
    found = re.findall(r'<li class="dispute" data-dispute="(\d+)".*?</li>', page, re.S)
    blocks = re.findall(r'(<li class="dispute" data-dispute="\d+".*?</li>)', page, re.S)
    return {int(i): block for i, block in zip(found, blocks)}


def _link_of(block: str, cls: str) -> str:
    return re.search(rf'class="{cls}" href="([^"]+)"', block).group(1)


def _iso(moment: datetime) -> str:
    return iso_time(moment).isoformat()


async def test_each_party_sees_the_disputes_about_their_works_from_their_side(disputed):
    world, disputes = disputed
    aoi, ren = person_id(world, "aoi"), person_id(world, "ren")
    by_state = {}
    for d in disputes.values():
        state = "contested" if d.status == "open" and d.origin == "contest" else d.status
        by_state[state] = d
    assert set(by_state) == {"contested", "kept", "moved", "open"}
    assert all(d.holder_id == aoi and d.claimant_id == ren for d in disputes.values())
    async with browser_session() as artist, browser_session() as other:
        await sign_in(world, artist, "artist")  # aoi
        await sign_in(world, other, "ren")
        aoi_page = await (await artist.get(f"{world.base}/me")).text()
        ren_page = await (await other.get(f"{world.base}/me")).text()
    assert "Disputes about my works" in aoi_page and "Disputes about my works" in ren_page
    mine, theirs = _items(aoi_page), _items(ren_page)
    assert set(mine) == set(theirs) == set(disputes)  # every dispute where each is a party, nothing else
    assert list(mine) == sorted(disputes, reverse=True)  # newest first
    for state, d in by_state.items():
        for block, own_url, own_at, other_url, other_at in (
                (mine[d.id], d.holder_post_url, d.holder_posted_at, d.claimant_post_url, d.claimant_posted_at),
                (theirs[d.id], d.claimant_post_url, d.claimant_posted_at, d.holder_post_url, d.holder_posted_at)):
            assert f'data-state="{state}"' in block
            assert _link_of(block, "my-post") == own_url and _link_of(block, "their-post") == other_url
            assert own_url != other_url
            assert f'datetime="{_iso(own_at)}"' in block and f'datetime="{_iso(other_at)}"' in block
    expected = {"contested": "Contested: waiting for a moderator",
                "kept": "Decided: kept by the account that held it",
                "moved": "Decided: moved to the account that claimed it",
                "open": "Open: the dates could not decide, a moderator will"}
    for state, text in expected.items():
        assert text in mine[by_state[state].id] and text in theirs[by_state[state].id]
    # whose the work is now, each from their own side: only the earlier 2019 post moved to ren
    for state, d in by_state.items():
        aoi_owns = state != "moved"
        assert ('class="owner-now">yours<' in mine[d.id]) is aoi_owns
        assert ('class="owner-now">yours<' in theirs[d.id]) is not aoi_owns
    decided = by_state["kept"]
    assert f'datetime="{_iso(decided.decided_at)}"' in mine[decided.id]
    # nothing private of the other side: the contest's words and the moderator's note stay with the moderators
    for page in (aoi_page, ren_page):
        assert CONTEST_WORDS not in page and MOD_NOTE not in page
        assert "did:plc" not in page


async def test_a_third_person_sees_none_of_it(disputed):
    world, disputes = disputed
    urls = {u for d in disputes.values() for u in (d.holder_post_url, d.claimant_post_url)}
    assert len(urls) == 8
    async with browser_session() as fan:
        await sign_in(world, fan, "fan")
        page = await (await fan.get(f"{world.base}/me")).text()
        ja = await (await fan.get(f"{world.base}/me?lang=ja")).text()
    assert "No dispute involves your works." in page and not _items(page)
    assert "あなたの作品についての申し立てはありません。" in ja
    for text in (page, ja):
        assert not any(url in text for url in urls)
        assert CONTEST_WORDS not in text and "ren-art" not in text and "aoi-art" not in text


async def test_the_disputes_in_japanese(disputed):
    world, disputes = disputed
    async with browser_session() as other:
        await sign_in(world, other, "ren")
        page = await (await other.get(f"{world.base}/me?lang=ja")).text()
    assert "自分の作品についての申し立て" in page and "あなたの投稿" in page and "相手の投稿" in page
    for text in ("異議申し立て中: モデレーターの判断待ち", "判断済み: 持っていたアカウントのままです",
                 "判断済み: 主張したアカウントに移りました", "判断待ち: 日付で決められないため、モデレーターが判断します"):
        assert text in page
    assert set(_items(page)) == set(disputes)
