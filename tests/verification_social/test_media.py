"""Media downloads: bounded concurrency, size cap while streaming, per-item errors that never fail a batch."""
from __future__ import annotations

import io

import aiohttp
from aiohttp import web
from PIL import Image

from tests.verification_social.conftest import drawing
from verification.media import MediaDownloader


async def test_concurrency_is_bounded(fake):
    alice = fake.add_account("x", "alice")
    post = fake.add_post(alice, images=[drawing(n) for n in range(8)])
    fake.media_delay_s = 0.1
    urls = [f"{fake.x_url}/media/{image.key}.png" for image in post.images]

    async with MediaDownloader(allow_private=True, max_bytes=1_000_000, concurrency=2) as downloader:
        results = await downloader.fetch_many(urls)

    assert [r.data for r in results] == [image.data for image in post.images]  # order kept
    assert fake.media_max_in_flight == 2


async def test_size_cap_stops_the_download_and_the_batch_goes_on(fake):
    alice = fake.add_account("x", "alice")
    big = Image.effect_noise((400, 400), 80).convert("RGB")  # noise does not compress: ~480 kB as PNG
    post = fake.add_post(alice, images=[big, drawing(1)])
    urls = [f"{fake.x_url}/media/{image.key}.png" for image in post.images]

    async with MediaDownloader(allow_private=True, max_bytes=100_000, concurrency=2) as downloader:
        too_big, small = await downloader.fetch_many(urls)

    assert not too_big.ok and "larger than" in too_big.error
    assert small.ok and Image.open(io.BytesIO(small.data)).size == (64, 48)


async def test_size_cap_holds_when_the_server_sends_no_length(unused_tcp_port):
    async def endless(request):
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(200):  # 12.8 MB if nobody stopped it
            await response.write(b"\0" * 65536)
        return response

    app = web.Application()
    app.router.add_get("/big.png", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        async with MediaDownloader(allow_private=True, max_bytes=200_000, concurrency=1) as downloader:
            result = await downloader.fetch(f"http://127.0.0.1:{unused_tcp_port}/big.png")
    finally:
        await runner.cleanup()
    assert not result.ok and "larger than" in result.error


async def test_slow_download_hits_the_time_limit(fake):
    alice = fake.add_account("x", "alice")
    post = fake.add_post(alice, images=[drawing(1)])
    fake.media_delay_s = 1.0

    async with MediaDownloader(allow_private=True, max_bytes=1_000_000, concurrency=1, timeout_s=0.2) as downloader:
        result = await downloader.fetch(f"{fake.x_url}/media/{post.images[0].key}.png")

    assert not result.ok and "longer than 0.2 s" in result.error


async def test_bad_addresses_are_per_item_errors(fake):
    async with MediaDownloader(allow_private=True, max_bytes=1_000_000, concurrency=2) as downloader:
        results = await downloader.fetch_many(["file:///etc/passwd", f"{fake.x_url}/media/nothing.png",
                                               "http://127.0.0.1:9/x.png"])

    assert [r.ok for r in results] == [False, False, False]
    assert "not a web address" in results[0].error
    assert "deleted" in results[1].error
    assert "failed" in results[2].error


async def test_private_addresses_are_refused_by_default(fake):
    """Media addresses come from the platforms: nothing on a private network is fetched, redirects included."""
    alice = fake.add_account("x", "alice")
    post = fake.add_post(alice, images=[drawing(1)])
    loopback_ip = f"{fake.x_url}/media/{post.images[0].key}.png"
    loopback_name = loopback_ip.replace("127.0.0.1", "localhost")

    async def redirect(request):
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app.router.add_get("/r", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with MediaDownloader(max_bytes=1_000_000, concurrency=2) as guarded:
            results = await guarded.fetch_many([loopback_ip, loopback_name, "http://10.1.2.3/a.png"])
        assert [r.error for r in results] == ["the address is not on the public internet"] * 3
        async with MediaDownloader(max_bytes=1_000_000, concurrency=1, allow_private=True) as open_:
            assert (await open_.fetch(loopback_ip)).ok  # the same image, where private hosts are allowed
        # every redirect hop is checked too: a plain session (no guarding resolver) reaches the first hop by
        # name, and the redirect to the cloud metadata address is refused before any request is made to it
        async with aiohttp.ClientSession() as plain:
            hop = await MediaDownloader(max_bytes=1_000, concurrency=1, session=plain).fetch(
                f"http://localhost:{port}/r")
        assert hop.error == "the address is not on the public internet"
    finally:
        await runner.cleanup()
