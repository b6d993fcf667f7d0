"""XProvider against X API v2 as documented (issue 12, rows 1-6): the fake models the published contract."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest

from bot.core.accounts import _refusal
from bot.i18n import t
from tests.verification_social.conftest import drawing
from verification.providers.base import (
    AccessTierLacking, AccountSuspended, AuthFailed, RateLimited, UsageCapReached,
)


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    drawing(seed).save(buf, format="PNG")
    return buf.getvalue()


async def _media_posts(provider, handle: str):
    account = await provider.lookup(handle)
    return [post async for post in provider.iter_media_posts(account)]


def _timeline_requests(fake):
    return [r for r in fake.api_requests("x") if r.path.endswith("/tweets")]


async def test_history_past_the_800_most_recent_posts_and_self_threads_are_read(fake, providers):
    """Row 1: with exclude=replies X serves only the 800 most recent posts, and a self-thread is a reply."""
    alice = fake.add_account("x", "alice")
    picture = _png(1)
    old = [fake.add_post(alice, images=[picture], text=f"old {n}") for n in range(40)]
    thread = fake.add_post(alice, images=[picture], text="thread 1/2")
    fake.add_post(alice, images=[picture], text="thread 2/2", reply_to=thread)
    for n in range(800):
        fake.add_post(alice, images=[picture], text=f"new {n}")

    posts = await _media_posts(providers["x"], "alice")

    texts = [p.text for p in posts]
    assert len(texts) == 842
    assert "thread 2/2" in texts and texts[-40:] == [p.text for p in reversed(old)]
    assert "replies" not in _timeline_requests(fake)[0].query.get("exclude", "")


async def test_media_reused_from_someone_elses_post_is_not_the_artists(fake, providers):
    """Row 2: attachments.media_source_tweet_id names the post the media first appeared in."""
    alice = fake.add_account("x", "alice")
    bob = fake.add_account("x", "bob")
    bobs = fake.add_post(bob, images=[drawing(9)], text="bob's piece")
    mine = fake.add_post(alice, images=[drawing(1)], text="alice's piece")
    fake.add_post(alice, media_from=bobs, text="look what bob drew")
    fake.add_post(alice, media_from=mine, text="my piece again")

    posts = await _media_posts(providers["x"], "alice")

    assert [p.text for p in posts] == ["my piece again", "alice's piece"]


async def test_pages_emptied_by_exclusions_do_not_end_the_timeline(fake, providers):
    """Row 3: excluded posts still fill a page; only a missing next_token ends the list."""
    alice = fake.add_account("x", "alice")
    bob = fake.add_account("x", "bob")
    bobs = fake.add_post(bob, images=[drawing(9)], text="bob's piece")
    fake.add_post(alice, images=[drawing(1)], text="alice's piece")
    for _ in range(150):
        fake.add_post(alice, repost_of=bobs)

    posts = await _media_posts(providers["x"], "alice")

    assert [p.text for p in posts] == ["alice's piece"]
    first = _timeline_requests(fake)[0]
    assert first.status == 200 and len(_timeline_requests(fake)) == 2


async def test_monthly_usage_cap_is_one_clear_message_without_retries(fake, providers):
    """Row 4: 429 UsageCapExceeded is the app's monthly cap; its x-rate-limit-* headers describe another limit."""
    fake.add_account("x", "alice")
    fake.x_usage_capped = True
    fake.x_window_reset_in_s = 1  # the 15-minute window would reset at once: waiting for it would not help

    with pytest.raises(UsageCapReached) as caught:
        await providers["x"].lookup("alice")

    assert not isinstance(caught.value, RateLimited)
    assert len(fake.api_requests("x")) == 1  # no retry
    message = str(caught.value)
    assert "monthly" in message and "app" in message and "UTC" not in message and "slow down" not in message


async def test_client_forbidden_tells_the_admin_about_the_access_tier(fake, providers):
    """Row 5: 403 client-forbidden means the app's access tier lacks the endpoint, not bad credentials."""
    fake.add_account("x", "alice")
    fake.add_post(fake.accounts[0], images=[drawing(1)], text="piece")
    fake.x_forbidden_endpoints.add("tweets")

    with pytest.raises(AccessTierLacking) as caught:
        await _media_posts(providers["x"], "alice")

    assert not isinstance(caught.value, AuthFailed)
    message = str(caught.value)
    assert "access" in message and "/2/users/:id/tweets" in message and "expired" not in message


async def test_a_code_late_in_a_long_post_is_found(fake, providers):
    """Row 6: posts over 280 characters carry their full text in note_tweet only."""
    alice = fake.add_account("x", "alice")
    long_post = fake.add_post(alice, text="A long thank-you to everyone who came to the show. " * 8 + "mimic-ABCD-EFGH")
    assert len(long_post.text) > 400

    account = await providers["x"].lookup("alice")
    found = await providers["x"].find_code(account, "mimic-ABCD-EFGH")

    assert found == f"https://x.com/alice/status/{long_post.id}"


@pytest.mark.parametrize("locale", ["en", "ja"])
@pytest.mark.parametrize("error", [UsageCapReached("x"), AccessTierLacking("x", "/2/users/:id/tweets"),
                                   RateLimited("x", datetime(2026, 12, 3, 9, 45, tzinfo=timezone.utc)),
                                   AccountSuspended("mastodon", "alice@example.social")],
                         ids=lambda e: type(e).__name__)
def test_the_new_refusals_read_well_in_both_languages(error, locale):
    refusal = _refusal(error, error.platform)
    text = t(refusal.key, locale, **refusal.params)
    assert "{" not in text and text != refusal.key
    if isinstance(error, RateLimited):
        assert "09:45" in text  # the true reset time, not "in a few minutes"
    if isinstance(error, AccessTierLacking):
        assert "/2/users/:id/tweets" in text
    if locale == "ja":
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text)
