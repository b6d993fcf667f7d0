"""Originals over HTTP: Range requests, conditional GET answered before any blob is read, damaged blobs never
served, and redirects to PUBLIC_BLOB_URL or to presigned S3 URLs (moto's server)."""
from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.app import Core
from bot.web.server import build_web_app
from data.blobs import blob_key
from engine.queue import JobQueue
from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery


@pytest.fixture
async def serve(tmp_path):
    """`await serve(**settings)`: a seeded gallery on those settings, as (client, app, seeded)."""
    opened = []

    async def start(**overrides):
        app = gallery_context(gallery_settings(tmp_path, **overrides))
        seeded = seed_gallery(app)
        core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
        client = TestClient(TestServer(build_web_app(core)))
        await client.start_server()
        opened.append((client, app))
        return client, app, seeded
    yield start
    for client, app in opened:
        await client.close()
        app.db.dispose()


async def test_range_requests_get_the_slice_asked_for(serve):
    client, app, seeded = await serve()
    digest = seeded.blobs["aoi-style.sample"]
    whole = app.blobs.get(digest)
    full = await client.get(f"/img/{digest}")
    assert full.status == 200 and full.headers["Accept-Ranges"] == "bytes" and await full.read() == whole
    cases = {"bytes=0-7": (0, 7), "bytes=10-": (10, len(whole) - 1), "bytes=-5": (len(whole) - 5, len(whole) - 1),
             f"bytes=4-{len(whole) + 100}": (4, len(whole) - 1)}
    for header, (first, last) in cases.items():
        part = await client.get(f"/img/{digest}", headers={"Range": header})
        assert part.status == 206, header
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{len(whole)}"
        assert await part.read() == whole[first:last + 1]
    beyond = await client.get(f"/img/{digest}", headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(whole)}"
    for ignored in ("bytes=0-1,5-6", "pages=1-2", "bytes=9-3"):  # the whole body, as RFC 9110 section 14.2 allows
        answer = await client.get(f"/img/{digest}", headers={"Range": ignored})
        assert answer.status == 200 and await answer.read() == whole, ignored
    stale = await client.get(f"/img/{digest}", headers={"Range": "bytes=0-7", "If-Range": '"another-version"'})
    assert stale.status == 200 and await stale.read() == whole


async def test_a_browsers_copy_is_confirmed_without_reading_the_blob(serve):
    client, app, seeded = await serve()
    digest = seeded.blobs["aoi-style.sample"]
    app.blobs.delete(digest)  # were the blob read, this would be a 404
    for header in (f'"{digest}"', f'W/"{digest}"', f'"other", "{digest}"', "*"):
        answer = await client.get(f"/img/{digest}", headers={"If-None-Match": header})
        assert answer.status == 304 and answer.headers["ETag"] == f'"{digest}"', header
        thumb = await client.get(f"/thumb/{digest}", headers={"If-None-Match": f'"t-{digest}"'})
        assert thumb.status == 304
    assert (await client.get(f"/img/{digest}")).status == 404
    hidden = seeded.blobs["aoi-style.lora"]  # conditional or not, what is not public stays a 404
    assert (await client.get(f"/img/{hidden}", headers={"If-None-Match": f'"{hidden}"'})).status == 404


async def test_a_damaged_blob_is_never_served(serve):
    client, app, seeded = await serve()
    digest = seeded.blobs["aoi-style.sample"]
    path = app.blobs.root / blob_key(digest)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    answer = await client.get(f"/img/{digest}")
    assert answer.status == 503
    assert (await client.get(f"/thumb/{digest}")).status == 503


async def test_redirects_to_presigned_urls_on_s3(serve, fake_s3):
    bucket = fake_s3.new_bucket()
    client, app, seeded = await serve(**fake_s3.settings_overrides(bucket), blob_presign_s=120)
    digest = seeded.blobs["aoi-style.sample"]
    assert fake_s3.keys(bucket, f"blobs/{blob_key(digest)}")  # the gallery's blobs live in the bucket
    answer = await client.get(f"/img/{digest}", allow_redirects=False)
    assert answer.status == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{fake_s3.endpoint}/{bucket}/blobs/{blob_key(digest)}?") and "Expires=" in location
    async with aiohttp.ClientSession() as session, session.get(location) as direct:
        assert direct.status == 200 and direct.content_type == "image/png"
        assert await direct.read() == app.blobs.get(digest)
    assert (await client.get(f"/img/{digest}", headers={"If-None-Match": f'"{digest}"'},
                             allow_redirects=False)).status == 304
    tiff = seeded.blobs["aoi-wip.tiff"]  # browsers do not show TIFF: converted here, not redirected
    converted = await client.get(f"/img/{tiff}", allow_redirects=False)
    assert converted.status == 200 and converted.content_type == "image/png"
    assert (await client.get(f"/img/{seeded.blobs['aoi-style.lora']}", allow_redirects=False)).status == 404
    page = await client.get("/")  # the pages allow the storage as an image source, and nothing else new
    assert f"img-src 'self' {fake_s3.endpoint};" in page.headers["Content-Security-Policy"]


async def test_redirects_to_the_public_blob_url(serve):
    client, _, seeded = await serve(public_blob_url="https://cdn.example/mimic/")
    digest = seeded.blobs["traced.image"]
    answer = await client.get(f"/img/{digest}", allow_redirects=False)
    assert answer.status == 302 and answer.headers["Location"] == f"https://cdn.example/mimic/{blob_key(digest)}"
    assert "img-src 'self' https://cdn.example;" in (await client.get("/")).headers["Content-Security-Policy"]


async def test_without_redirects_images_come_from_the_gallery_only(serve):
    client, _, _ = await serve()
    assert "img-src 'self';" in (await client.get("/")).headers["Content-Security-Policy"]
