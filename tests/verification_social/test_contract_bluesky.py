"""BlueskyProvider against the AppView, PLC directory and PDS as documented (issue 12, rows 7-9)."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.verification_social.conftest import drawing
from verification.accounts import fetch_portfolio


def _png(seed: int, size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    drawing(seed, size).save(buf, format="PNG")
    return buf.getvalue()


async def test_the_original_file_is_read_from_the_accounts_pds(fake, providers, social_settings):
    """Row 7: `fullsize` is a JPEG re-encode fitted inside 1000x1000; the original is com.atproto.sync.getBlob on
    the PDS named by the DID document. Older posts have no aspectRatio: the size then comes from the file."""
    alice = fake.add_account("bluesky", "alice.bsky.social")
    original = _png(1, (1600, 1200))
    old = fake.add_post(alice, images=[original], text="from 2023")
    old.aspect_ratio = False

    account = await providers["bluesky"].lookup("alice.bsky.social")
    portfolio = await fetch_portfolio(providers["bluesky"], account, social_settings)

    assert len(portfolio) == 1
    item = portfolio[0]
    assert item.image_bytes == original
    assert (item.width, item.height) == (1600, 1200)
    parts = urlsplit(item.media_url)
    assert f"{parts.scheme}://{parts.netloc}" == fake.bluesky_pds_url
    assert parts.path == "/xrpc/com.atproto.sync.getBlob"
    assert parse_qs(parts.query)["did"] == [alice.uid]
    assert [r.path for r in fake.requests if r.platform == "bluesky-plc"] == [f"/{alice.uid}"]


async def test_the_cdn_rendition_would_not_have_been_the_original(fake):
    """The fake's CDN behaves like Bluesky's: what the old provider matched on is not the posted file."""
    import aiohttp

    alice = fake.add_account("bluesky", "alice.bsky.social")
    original = _png(1, (1600, 1200))
    fake.add_post(alice, images=[original])
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.bluesky_url}/xrpc/app.bsky.feed.getAuthorFeed",
                               params={"actor": alice.uid, "filter": "posts_with_media"}) as response:
            fullsize = (await response.json())["feed"][0]["post"]["embed"]["images"][0]["fullsize"]
        async with session.get(fullsize) as response:
            rendition = await response.read()
    with Image.open(io.BytesIO(rendition)) as picture:
        assert picture.format == "JPEG" and max(picture.size) == 1000


async def test_empty_pages_with_a_cursor_and_replies_and_quote_posts_are_read(fake, providers):
    """Row 8: the AppView drops posts it can't show after cutting a page, so a page can be empty and still carry
    a cursor; posts_with_media includes replies and quote posts with pictures."""
    alice = fake.add_account("bluesky", "alice.bsky.social")
    bob = fake.add_account("bluesky", "bob.bsky.social")
    bobs = fake.add_post(bob, images=[drawing(9)], text="bob's piece")
    first = fake.add_post(alice, images=[drawing(1)], text="first piece")
    fake.add_post(alice, images=[drawing(2)], text="second panel", reply_to=first)
    fake.add_post(alice, images=[drawing(3)], text="my take on bob's", quote_of=bobs)
    fake.add_post(alice, text="quoting without pictures", quote_of=bobs)
    for n in range(120):
        fake.add_post(alice, images=[drawing(1)], text=f"taken down {n}", hidden=True)

    account = await providers["bluesky"].lookup("alice.bsky.social")
    posts = [post async for post in providers["bluesky"].iter_media_posts(account)]

    assert [p.text for p in posts] == ["my take on bob's", "second panel", "first piece"]
    quote = posts[0]
    assert len(quote.media) == 1  # the quote's own picture, not bob's


async def test_links_use_the_did_when_the_handle_stopped_verifying(fake, providers):
    """Row 9: the AppView shows `handle.invalid` for a handle that no longer verifies; links must use the DID."""
    alice = fake.add_account("bluesky", "alice.bsky.social", bio="mimic-ABCD-EFGH")
    post = fake.add_post(alice, images=[drawing(1)], text="piece")
    fake.rename(alice, "handle.invalid")

    account = await providers["bluesky"].lookup_id(alice.uid)
    posts = [p async for p in providers["bluesky"].iter_media_posts(account)]
    recent = await providers["bluesky"].recent_posts(account)

    assert account.profile_url == f"https://bsky.app/profile/{alice.uid}"
    assert posts[0].url == f"https://bsky.app/profile/{alice.uid}/post/{post.rkey}"
    assert recent[0].url == posts[0].url
    assert "handle.invalid" not in account.handle
