"""The gallery over plain HTTP (aiohttp's test client): status codes, headers, what is and is not served, forms."""
from __future__ import annotations

import html
import importlib.util
import io
import re

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from bot.core.app import Actor, Core
from bot.core.moderation import open_reports
from bot.web.security import Limit
from bot.web.server import WebLimits, build_web_app
from engine.queue import JobQueue

HAS_TRACE = importlib.util.find_spec("engine.trace") is not None


@pytest.fixture
async def gallery(gallery_app):
    app, seeded = gallery_app
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    web_app = build_web_app(core, limits=WebLimits(report=Limit(capacity=3, per_second=1e-6),
                                                   trace=Limit(capacity=3, per_second=1e-6)))

    async def boom(request):  # an unexpected failure inside a handler, carrying internals in its message
        raise RuntimeError(f"database at {app.settings.var_dir} password=hunter2")
    web_app.router.add_get("/boom", boom)
    async with TestClient(TestServer(web_app)) as client:
        yield client, core, seeded


async def _token(client: TestClient, path: str = "/trace") -> str:
    page = await (await client.get(path)).text()
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def refusal_words(key: str, **params) -> str:
    from bot.web.i18n import refusal_text

    return refusal_text("en", key, params).strip(" :")


async def _moderator_queue(core: Core):
    return await open_reports(core, Actor(user_id=1, is_moderator=True), limit=100)


async def test_safe_headers_everywhere(gallery):
    client, _, seeded = gallery
    for path in ("/", "/static/style.css", "/no/such/page", f"/img/{seeded.blobs['aoi-style.sample']}"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Server" not in response.headers, path


async def test_pages_need_no_javascript_and_label_their_images(gallery):
    client, _, seeded = gallery
    pages = ["/", "/makers", "/makers/aoi-style", "/makers/kai-old", "/generations", "/remakes", "/artists",
             "/trace", f"/g/{seeded.gens['traced']}", f"/g/{seeded.gens['down']}", "/nothing"]
    for path, language in [(p, "en") for p in pages] + [(p, "ja") for p in pages]:
        body = await (await client.get(path, headers={"Accept-Language": language})).text()
        assert f'<html lang="{language}">' in body, (path, language)
        assert "<script" not in body.lower() and " on" + "click=" not in body.lower(), path
        for tag in re.findall(r"<img [^>]*>", body):
            assert re.search(r'alt="[^"]+"', tag), (path, tag)
        for control in re.findall(r'<(?:textarea|input)(?![^>]*type="hidden")[^>]*id="([^"]+)"', body):
            assert f'<label for="{control}">' in body, (path, control)


async def test_serve_web_runs_until_cancelled(gallery_app):
    """What `mimic web` and `mimic run` start."""
    import asyncio
    import socket

    import aiohttp

    from bot.web.server import serve_web

    app, _ = gallery_app
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.create_task(serve_web(app, host="127.0.0.1", port=port))
    async with aiohttp.ClientSession() as session:
        for _ in range(200):  # until it listens: a connection attempt is the event to wait for
            try:
                async with session.get(f"http://127.0.0.1:{port}/makers") as response:
                    assert response.status == 200 and "aoi-style" in await response.text()
                    break
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.02)
        else:
            pytest.fail("the gallery never listened")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_taken_port_is_a_clear_configuration_error(gallery_app):
    import socket

    from bot.web.server import serve_web
    from data.settings import ConfigError

    app, _ = gallery_app
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await serve_web(app, host="127.0.0.1", port=port)


async def test_error_pages_are_ours_and_reveal_nothing(gallery):
    client, core, _ = gallery
    for path in ("/no/such/page", "/g/999999", "/makers/ren-hidden", "/makers/aoi-draft", "/static/../conftest.py"):
        response = await client.get(path)
        body = await response.text()
        assert response.status == 404, path
        assert "Not found" in body and "<html lang=\"en\">" in body
    response = await client.get("/boom")
    body = await response.text()
    assert response.status == 500
    assert "Something went wrong" in body
    for secret in ("hunter2", str(core.settings.var_dir), "Traceback", "RuntimeError"):
        assert secret not in body
    response = await client.delete("/")
    assert response.status == 405 and "Request refused" in await response.text()


async def test_only_public_images_are_served(gallery):
    client, _, seeded = gallery
    b = seeded.blobs
    public = [b["aoi-style.sample"], b["aoi-style.train0"], b["traced.image"], b["remake.image"],
              b["ren-closed.sample"], b["aoi-wip.train0"], b["aoi-wip.tiff"]]
    hidden = [b["aoi-style.lora"],  # model weights
              b["remake.source"],  # a remake's input
              b["down.withdrawn"],  # a taken-down generation (its blob still exists here)
              b["kai-old.sample"], b["kai-old.train0"], b["of-revoked.image"],  # a revoked maker
              b["kai-banned.sample"],  # a maker taken down
              b["ren-hidden.sample"], b["of-private.image"],  # a private maker
              b["ren-closed.train0"],  # its server does not publish training images
              b["aoi-draft.sample"],  # still in review
              "0" * 64]
    for digest in public:
        response = await client.get(f"/img/{digest}")
        assert response.status == 200 and response.content_type == "image/png", digest
        thumb = await client.get(f"/thumb/{digest}")
        assert thumb.status == 200 and thumb.content_type == "image/webp"
        assert max(Image.open(io.BytesIO(await thumb.read())).size) <= 360
    for digest in hidden:
        for kind in ("img", "thumb"):
            response = await client.get(f"/{kind}/{digest}")
            assert response.status == 404, (kind, digest)
            assert response.content_type == "text/html"
    # pages name where an image belongs; the look-up must then find it there, and only there
    g, m = seeded.gens, seeded.makers
    hinted = {f"/img/{b['traced.image']}?g={g['traced']}": 200, f"/thumb/{b['traced.image']}?g={g['traced']}": 200,
              f"/img/{b['aoi-style.train1']}?m={m['aoi-style']}": 200,
              f"/img/{b['aoi-style.sample']}?m={m['aoi-style']}": 200,
              f"/img/{b['traced.image']}?g={g['old']}": 404,  # a public image, but not of that generation
              f"/img/{b['down.withdrawn']}?g={g['down']}": 404,
              f"/img/{b['of-revoked.image']}?g={g['of-revoked']}": 404,
              f"/img/{b['of-private.image']}?g={g['of-private']}": 404,
              f"/img/{b['kai-old.sample']}?m={m['kai-old']}": 404,
              f"/img/{b['ren-closed.train0']}?m={m['ren-closed']}": 404,
              f"/img/{b['aoi-style.lora']}?m={m['aoi-style']}": 404, f"/img/{b['remake.source']}?g={g['remake']}": 404,
              f"/img/{b['aoi-style.sample']}?m={m['ren-pastel']}": 404}
    for path, status in hinted.items():
        assert (await client.get(path)).status == status, path
    again = await client.get(f"/img/{public[0]}", headers={"If-None-Match": f'"{public[0]}"'})
    assert again.status == 304


async def test_lists_show_what_a_visitor_may_see(gallery):
    client, _, seeded = gallery
    makers = await (await client.get("/makers")).text()
    for name in ("aoi-style", "ren-pastel", "ren-closed", "aoi-wip", "kai-old", "kai-banned"):
        assert f'href="/makers/{name}"' in makers
    for name in ("ren-hidden", "aoi-draft"):
        assert name not in makers
    assert makers.count('class="tombstone small"') == 2 and "Training" in makers
    assert seeded.blobs["kai-old.sample"] not in makers

    artists = await (await client.get("/artists")).text()
    for text in ("Aoi Sato", "Ren", "Kai", 'href="https://x.com/aoi_draws"',
                 'href="https://bsky.app/profile/ren.bsky.social"', 'href="https://example.social/@kai"'):
        assert text in artists
    assert "Unverified Person" not in artists and "ren-hidden" not in artists

    first = await (await client.get("/generations")).text()
    second = await (await client.get("/generations?page=2")).text()
    assert first.count('<li class="card') == 24 and "Page 1" in first and 'rel="next"' in first
    total = 26 + 4  # fillers, traced, old, down and of-revoked; not the queued, private or remakes
    assert second.count('<li class="card') == total - 24 and 'rel="prev"' in second and 'rel="next"' not in second
    assert "remake of my cat" not in first + second and "private maker output" not in first + second
    assert f'href="/g/{seeded.gens["down"]}"' in first and "This image was taken down" in first
    remakes = await (await client.get("/remakes")).text()
    assert "Remake" in remakes and remakes.count('<li class="card') == 2
    assert seeded.blobs["remake.source"] not in remakes


async def test_maker_and_image_pages(gallery):
    client, _, seeded = gallery
    page = await (await client.get("/makers/aoi-style")).text()
    assert "Commercial use" in page and 'href="https://x.com/aoi_draws"' in page
    for i in range(3):
        assert f"/thumb/{seeded.blobs[f'aoi-style.train{i}']}" in page
    assert seeded.blobs["down.withdrawn"] not in page and seeded.blobs["aoi-style.lora"] not in page
    closed = await (await client.get("/makers/ren-closed")).text()
    assert "does not publish its training images" in closed and seeded.blobs["ren-closed.train0"] not in closed
    revoked = await (await client.get("/makers/kai-old")).text()
    assert "The artist revoked this maker" in revoked and "/thumb/" not in revoked and "/img/" not in revoked

    traced = await (await client.get(f"/g/{seeded.gens['traced']}")).text()
    assert "a girl with a red umbrella in the rain" in traced and str(0x5A_1234_5678) in traced
    assert "cannot delete this image until" in traced and f"/img/{seeded.blobs['traced.image']}" in traced
    old = await (await client.get(f"/g/{seeded.gens['old']}")).text()
    assert "The 48-hour lock ended on" in old
    down = await (await client.get(f"/g/{seeded.gens['down']}")).text()
    assert "This image was taken down" in down and "/img/" not in down and "taken down prompt" not in down
    of_revoked = await (await client.get(f"/g/{seeded.gens['of-revoked']}")).text()
    assert "The artist revoked this maker" in of_revoked and "/img/" not in of_revoked
    queued = await (await client.get(f"/g/{seeded.gens['queued']}")).text()
    assert "still being made" in queued
    assert (await client.get(f"/g/{seeded.gens['of-private']}")).status == 404


async def test_language_from_header_query_and_cookie(gallery):
    client, _, _ = gallery
    ja = await (await client.get("/makers", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})).text()
    assert '<html lang="ja">' in ja and "メーカー" in ja and 'href="/makers?lang=en"' in ja
    en = await (await client.get("/makers", headers={"Accept-Language": "fr, en;q=0.5, ja;q=0.4"})).text()
    assert '<html lang="en">' in en
    await client.get("/?lang=ja")  # the switcher link: remembered
    assert '<html lang="ja">' in await (await client.get("/artists")).text()


async def test_report_needs_a_csrf_token(gallery):
    client, core, seeded = gallery
    before = len(await _moderator_queue(core))
    target = {"target_kind": "generation", "target_id": str(seeded.gens["traced"]), "reason": "forged"}
    response = await client.post("/report", data=target, allow_redirects=False)
    assert response.status == 403 and "did not come from this site" in await response.text()
    response = await client.post("/report", data={**target, "csrf": "0" * 64}, allow_redirects=False)
    assert response.status == 403
    assert len(await _moderator_queue(core)) == before


async def test_report_lands_in_the_review_queue(gallery):
    client, core, seeded = gallery
    gen_id = seeded.gens["traced"]
    token = await _token(client, f"/g/{gen_id}")
    response = await client.post("/report", allow_redirects=False, data={
        "csrf": token, "target_kind": "generation", "target_id": str(gen_id), "return_to": f"/g/{gen_id}",
        "reason": "This copies someone else's character."})
    assert response.status == 303 and response.headers["Location"] == f"/g/{gen_id}?reported=1#report"
    queue = await _moderator_queue(core)
    mine = [r for r in queue if r.source == "web"]
    assert [(r.target_kind, r.target_id, r.reason, r.reporter_id) for r in mine] == [
        ("generation", gen_id, "This copies someone else's character.", None)]
    page = html.unescape(await (await client.get(response.headers["Location"])).text())
    assert "Your report is in the moderators' review queue" in page

    # never an open redirect, and polite refusals for a bad target or no reason
    response = await client.post("/report", allow_redirects=False, data={
        "csrf": token, "target_kind": "maker", "target_id": str(seeded.makers["aoi-style"]),
        "return_to": "//evil.example/x", "reason": "spam"})
    assert response.headers["Location"] == "/?reported=1#report"
    response = await client.post("/report", data={"csrf": token, "target_kind": "generation",
                                                  "target_id": "987654", "reason": "gone?"})
    assert response.status == 400  # the bot's own words for the same refusal, as Discord users see them
    assert refusal_words("report.target_missing") in html.unescape(await response.text())


async def test_oversized_report_is_refused_politely(gallery):
    client, core, seeded = gallery
    token = await _token(client)
    response = await client.post("/report", data={"csrf": token, "target_kind": "generation",
                                                  "target_id": str(seeded.gens["old"]), "reason": "x" * 40_000})
    assert response.status == 413 and "the limit is 16 KB" in await response.text()
    assert not [r for r in await _moderator_queue(core) if r.source == "web"]


async def test_report_rate_limit(gallery):
    client, core, seeded = gallery
    token = await _token(client)
    form = {"csrf": token, "target_kind": "generation", "target_id": str(seeded.gens["old"]), "reason": "again"}
    statuses = [(await client.post("/report", data=form, allow_redirects=False)).status for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    response = await client.post("/report", data=form, allow_redirects=False)
    assert response.headers["Retry-After"] == "60" and "Too many requests" in await response.text()
    assert len([r for r in await _moderator_queue(core) if r.source == "web"]) == 3


async def test_oversized_and_empty_uploads_are_refused_politely(gallery):
    client, core, _ = gallery
    token = await _token(client)
    form = FormData()
    form.add_field("csrf", token)
    form.add_field("image", b"\x89PNG" + b"x" * (300 * 1024), filename="big.png", content_type="image/png")
    response = await client.post("/trace", data=form)
    body = await response.text()
    assert response.status == 413 and "That file is too large: the limit is 256 KB." in body
    form = FormData()
    form.add_field("csrf", token)
    form.add_field("image", b"", filename="", content_type="application/octet-stream")
    response = await client.post("/trace", data=form)
    assert response.status == 400 and "Please choose an image file." in await response.text()
    form = FormData()
    form.add_field("image", b"GIF89a", filename="x.gif", content_type="image/gif")
    assert (await client.post("/trace", data=form)).status == 403  # no token
    response = await client.post("/trace", data={"csrf": token})  # the fourth try from this address
    assert response.status == 429 and response.headers["Retry-After"] == "60"


@pytest.mark.skipif(not HAS_TRACE, reason="engine.trace (trace_image) is not written yet")
async def test_trace_finds_the_generation(gallery):
    client, _, seeded = gallery
    token = await _token(client)
    form = FormData()
    form.add_field("csrf", token)
    form.add_field("image", seeded.traced_png, filename="found-online.png", content_type="image/png")
    body = await (await client.post("/trace", data=form)).text()
    assert "This image was made here." in body and f'href="/g/{seeded.gens["traced"]}"' in body
    form = FormData()
    form.add_field("csrf", token)
    form.add_field("image", b"not an image at all", filename="notes.txt", content_type="text/plain")
    response = await client.post("/trace", data=form)
    assert response.status == 400
    assert refusal_words("image.rejected", reason="") in html.unescape(await response.text())


async def test_a_refused_file_is_explained_in_the_readers_language(gallery):
    client, _, _ = gallery
    form = FormData()
    form.add_field("csrf", await _token(client))
    form.add_field("image", b"\x89PNG\r\n\x1a\n not really", filename="fake.png", content_type="image/png")
    response = await client.post("/trace", data=form, headers={"Accept-Language": "ja,en;q=0.5"})
    body = html.unescape(await response.text())
    assert response.status == 400
    assert "そのファイルは使えません: 読み込める画像ファイルではありません" in body
    assert "not an image" not in body


async def test_gallery_queries_on_postgresql(pg_url, tmp_path):
    """The same views on PostgreSQL: JSON-as-text search, boolean filters, the paging."""
    from bot.core import gallery
    from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery

    app = gallery_context(gallery_settings(tmp_path, database_url=pg_url))
    try:
        seeded = seed_gallery(app)
        core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
        b, g = seeded.blobs, seeded.gens
        assert await gallery.is_public_blob(core, b["traced.image"])
        assert await gallery.is_public_blob(core, b["traced.image"], generation_id=g["traced"])
        assert await gallery.is_public_blob(core, b["aoi-style.train2"])
        for digest in (b["down.withdrawn"], b["of-revoked.image"], b["of-private.image"], b["remake.source"],
                       b["ren-closed.train0"], b["aoi-style.lora"]):
            assert not await gallery.is_public_blob(core, digest), digest
        first = await gallery.generations_page(core, kind="txt2img")
        second = await gallery.generations_page(core, kind="txt2img", page=2)
        assert len(first.items) == 24 and first.has_next and len(second.items) == 6 and not second.has_next
        assert [c.gone_reason for c in first.items if c.gone] == ["maker_revoked", "taken_down"]
        artists = await gallery.artists_page(core)
        assert [a.name for a in artists.items] == ["Aoi Sato", "Kai", "Ren"]
        detail = await gallery.maker_detail(core, "aoi-style")
        assert len(detail.training_images) == 3 and detail.card.artist.accounts[0].url == "https://x.com/aoi_draws"
        async with TestClient(TestServer(build_web_app(core))) as client:
            page = await (await client.get(f"/g/{g['traced']}")).text()
            assert "a girl with a red umbrella in the rain" in page
    finally:
        app.db.dispose()
