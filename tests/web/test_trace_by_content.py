"""The web trace form names the generation of a copy whose mark is gone (cropped, re-encoded), says it was found by
the picture itself, and still says "not found" for a picture never made here."""
from __future__ import annotations

import html
import io
import re

from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from bot.core.app import Core
from bot.web.server import build_web_app
from engine.generation_fingerprints import fingerprint_generated, record_fingerprints, store_fingerprint
from engine.queue import JobQueue
from engine.trace import trace_image
from verification.synthetic import draw_illustration


def _jpeg(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


async def _post(client: TestClient, data: bytes) -> str:
    page = await (await client.get("/trace")).text()
    form = FormData()
    form.add_field("csrf", re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1))
    form.add_field("image", data, filename="found-online.jpg", content_type="image/jpeg")
    response = await client.post("/trace", data=form)
    assert response.status == 200
    return html.unescape(await response.text())


async def test_the_trace_form_finds_a_cropped_copy_by_its_content(gallery_app):
    app, seeded = gallery_app
    gen_id, blob = seeded.gens["traced"], seeded.blobs["traced.image"]
    published = Image.open(io.BytesIO(seeded.traced_png)).convert("RGB")
    record_fingerprints(app.db, app.blobs, gen_id, [store_fingerprint(app.blobs, blob, fingerprint_generated(published))])
    w, h = published.size
    cropped = _jpeg(published.crop((8, 8, w - w // 7, h - h // 9)))
    assert trace_image(cropped).trace_id is None  # the crop took the mark with it

    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    async with TestClient(TestServer(build_web_app(core))) as client:
        body = await _post(client, cropped)
        assert "This image was made here." in body and f'href="/g/{gen_id}"' in body
        assert "recognised by comparing the picture itself" in body
        body = await _post(client, _jpeg(draw_illustration(7, (256, 256), "lineart")))
        assert "No mimic watermark was found" in body and "recognised by comparing" not in body
    await core.aclose()
