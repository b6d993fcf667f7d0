"""How pages travel, over plain HTTP: link-preview tags, oEmbed, Atom feeds and the JSON API, each checked against
the page it describes (same images, same credit, same visibility)."""
from __future__ import annotations

import html
import io
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from defusedxml import ElementTree as SafeET
from PIL import Image

from bot.core.app import Core
from bot.web.server import build_web_app
from engine.queue import JobQueue

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def site(gallery_app):
    app, seeded = gallery_app
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    async with TestClient(TestServer(build_web_app(core))) as client:
        yield client, seeded, app.settings.public_url.rstrip("/")


def meta(body: str) -> dict[str, str]:
    """<meta property|name=... content=...> of a page, and its oEmbed and Atom links."""
    found = {}
    for attr, key, content in re.findall(r'<meta (property|name)="([^"]+)" content="([^"]*)">', body):
        found[key] = html.unescape(content)
    for kind, href in re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)"', body):
        found[kind] = html.unescape(href)
    return found


async def page(client, path: str, **headers) -> tuple[str, dict]:
    response = await client.get(path, headers=headers)
    assert response.status == 200, path
    body = await response.text()
    return body, meta(body)


async def test_image_page_preview_names_the_artist_the_usage_and_the_watermarked_image(site):
    client, seeded, public = site
    gen_id = seeded.gens["traced"]
    body, tags = await page(client, f"/g/{gen_id}")
    assert "@aoi_draws" in tags["og:title"] and "aoi-style" in tags["og:title"]
    assert "Commercial use" in tags["og:description"] and "@aoi_draws" in tags["og:description"]
    image = f"{public}/img/{seeded.blobs['traced.image']}?g={gen_id}"
    assert tags["og:image"] == tags["twitter:image"] == image
    assert f'src="{image.removeprefix(public)}"' in body  # the picture the page shows
    assert tags["og:url"] == f"{public}/g/{gen_id}" and tags["twitter:card"] == "summary_large_image"
    served = await client.get(image.removeprefix(public))
    assert served.status == 200 and served.content_type == "image/png"
    assert await served.read() == seeded.traced_png  # the watermarked result itself
    assert tags["application/json+oembed"].startswith(f"{public}/oembed?url=")


async def test_a_tombstone_previews_as_one(site):
    client, seeded, _ = site
    for key in ("down", "of-revoked"):
        _, tags = await page(client, f"/g/{seeded.gens[key]}")
        assert "og:image" not in tags and "twitter:image" not in tags, key
        assert tags["twitter:card"] == "summary" and tags["og:description"].startswith("Withdrawn")
    _, tags = await page(client, "/makers/kai-old")
    assert "og:image" not in tags and "revoked" in tags["og:description"]


async def test_maker_and_artist_pages_preview_in_japanese_too(site):
    client, seeded, public = site
    body, tags = await page(client, "/makers/aoi-style")
    assert tags["og:title"] == "aoi-style: a style maker by @aoi_draws"
    image = tags["og:image"]
    assert re.fullmatch(rf"{re.escape(public)}/img/[0-9a-f]{{64}}\?g=\d+", image)  # a generated, credited image
    assert image.removeprefix(public).replace("/img/", "/thumb/") in body  # one of the samples the page shows
    assert tags["application/atom+xml"] == f"{public}/makers/aoi-style/feed.atom"
    _, ja = await page(client, "/makers/aoi-style", **{"Accept-Language": "ja"})
    assert ja["og:title"] == "@aoi_draws さんの画風メーカー「aoi-style」" and "商用利用可" in ja["og:description"]
    artist = seeded.users["aoi"]
    body, tags = await page(client, f"/artists/{artist}")
    assert tags["og:title"] == "@aoi_draws on mimic gallery"
    assert "aoi-style (Commercial use)" in tags["og:description"] and "aoi-wip" in tags["og:description"]
    assert 'href="/makers/aoi-style"' in body and "og:image" in tags
    assert (await client.get(f"/artists/{seeded.users['shy']}")).status == 404  # never verified: not listed
    assert 'href="/artists/' in await (await client.get("/artists")).text()


async def test_oembed_answers_for_our_pages_only(site):
    client, seeded, public = site
    gen_id = seeded.gens["traced"]
    _, tags = await page(client, f"/g/{gen_id}")
    discovery = tags["application/json+oembed"].removeprefix(public)
    answer = await (await client.get(discovery)).json()
    assert answer["version"] == "1.0" and answer["type"] == "photo"
    size = Image.open(io.BytesIO(seeded.traced_png)).size
    assert answer["url"] == tags["og:image"] and (answer["width"], answer["height"]) == size
    assert answer["author_name"] == "@aoi_draws" and answer["author_url"] == "https://x.com/aoi_draws"
    assert answer["title"] == tags["og:title"] and answer["provider_url"] == public + "/"

    url = f"{public}/g/{gen_id}"
    thumb = await (await client.get("/oembed", params={"url": url, "maxwidth": "400"})).json()
    assert thumb["type"] == "photo" and thumb["url"] == tags["og:image"].replace("/img/", "/thumb/")
    assert max(thumb["width"], thumb["height"]) <= 360
    served = Image.open(io.BytesIO(await (await client.get(thumb["url"].removeprefix(public))).read()))
    assert served.size == (thumb["width"], thumb["height"])  # the size the answer promised
    small = await (await client.get("/oembed", params={"url": url, "maxwidth": "100"})).json()
    assert small["type"] == "link" and "url" not in small and "thumbnail_url" not in small  # nothing fits
    tomb = await (await client.get("/oembed", params={"url": f"{public}/g/{seeded.gens['down']}"})).json()
    assert tomb["type"] == "link" and "thumbnail_url" not in tomb
    maker = await (await client.get("/oembed", params={"url": f"{public}/makers/aoi-style"})).json()
    assert maker["type"] == "link" and maker["thumbnail_url"].startswith(f"{public}/thumb/")
    for refused, status in ((f"{public}/g/{seeded.gens['of-private']}", 404), (f"{public}/makers/ren-hidden", 404),
                            (f"https://evil.example/g/{gen_id}", 404), (f"{public}/trace", 404), ("", 404)):
        response = await client.get("/oembed", params={"url": refused})
        assert response.status == status, refused
    response = await client.get("/oembed", params={"url": url, "format": "xml"})
    assert response.status == 501


async def test_maker_feed_is_atom_with_the_pages_of_its_images(site):
    client, seeded, public = site
    response = await client.get("/makers/aoi-style/feed.atom")
    assert response.status == 200 and response.content_type == "application/atom+xml"
    feed = SafeET.fromstring(await response.read())
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{public}/makers/aoi-style"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{public}/makers/aoi-style/feed.atom"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "@aoi_draws"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", feed.findtext(f"{ATOM}updated"))
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    api = await (await client.get("/api/v1/generations", params={"maker": "aoi-style"})).json()
    assert ids == [g["url"] for g in api["items"]]  # the same images, newest first
    expected = {seeded.gens[k] for k in ("traced", "old", "down", "remake")}
    assert {int(i.rsplit("/", 1)[1]) for i in ids} == expected  # done ones only: not the queued one
    by_id = {e.findtext(f"{ATOM}id"): e for e in entries}
    down = by_id[f"{public}/g/{seeded.gens['down']}"]
    assert down.find(f"{ATOM}link[@rel='enclosure']") is None and "Withdrawn" in down.findtext(f"{ATOM}summary")
    traced = by_id[f"{public}/g/{seeded.gens['traced']}"]
    enclosure = traced.find(f"{ATOM}link[@rel='enclosure']").get("href")
    assert enclosure == f"{public}/img/{seeded.blobs['traced.image']}?g={seeded.gens['traced']}"
    assert traced.findtext(f"{ATOM}rights").startswith("Images may be used commercially")
    for entry in entries:
        for required in ("id", "title", "updated"):  # RFC 4287, 4.1.2
            assert entry.findtext(f"{ATOM}{required}"), required


async def test_artist_feed_and_hidden_feeds(site):
    client, seeded, public = site
    ren = seeded.users["ren"]
    feed = SafeET.fromstring(await (await client.get(f"/artists/{ren}/feed.atom")).read())
    ids = {int(e.findtext(f"{ATOM}id").rsplit("/", 1)[1]) for e in feed.findall(f"{ATOM}entry")}
    assert seeded.gens["remake2"] in ids and seeded.gens["of-private"] not in ids
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "@ren.bsky.social"
    for path in ("/makers/ren-hidden/feed.atom", "/makers/aoi-draft/feed.atom",
                 f"/artists/{seeded.users['shy']}/feed.atom"):
        assert (await client.get(path)).status == 404, path


def _listed(body: str) -> list[int]:
    return list(dict.fromkeys(int(i) for i in re.findall(r'<a href="/g/(\d+)" aria-label', body)))


async def test_api_lists_what_the_pages_list_page_by_page(site):
    client, seeded, public = site
    url = "/api/v1/generations"
    for number in (1, 2):
        body = await (await client.get(f"/generations?page={number}")).text()
        answer = await (await client.get(url, params={"page": str(number), "kind": "txt2img"})).json()
        assert [g["id"] for g in answer["items"]] == _listed(body), number
    first = await (await client.get(url, params={"per_page": "5"})).json()
    assert len(first["items"]) == 5 and first["prev"] is None
    assert first["next"] == f"{public}/api/v1/generations?per_page=5&page=2"
    second = await (await client.get(first["next"].removeprefix(public))).json()
    assert second["prev"].endswith("page=1") and second["items"][0]["id"] < first["items"][-1]["id"]
    everything = await (await client.get(url, params={"per_page": "100"})).json()
    ids = {g["id"] for g in everything["items"]}
    assert everything["next"] is None
    assert seeded.gens["of-private"] not in ids and seeded.gens["queued"] not in ids
    assert seeded.gens["down"] in ids and seeded.gens["of-revoked"] in ids  # as tombstones, as on the page

    makers = await (await client.get("/api/v1/makers")).json()
    body = await (await client.get("/makers")).text()
    on_page = list(dict.fromkeys(re.findall(r'<a href="/makers/([a-z0-9-]+)">', body)))
    assert [m["name"] for m in makers["items"]] == on_page
    assert makers["total"] == len(on_page) and makers["pages"] == 1
    kai = next(m for m in makers["items"] if m["name"] == "kai-old")
    assert kai["gone"] and kai["cover"] is None and kai["trigger"] is None
    for bad in ("page=0", "per_page=101", "page=x", "kind=video", "artist=-1"):
        response = await client.get(f"{url}?{bad}")
        assert response.status == 400 and (await response.json())["error"] == "bad_query", bad


async def test_api_generation_matches_its_page(site):
    client, seeded, public = site
    gen_id = seeded.gens["traced"]
    answer = await (await client.get(f"/api/v1/generations/{gen_id}")).json()
    body, tags = await page(client, f"/g/{gen_id}")
    assert answer["url"] == tags["og:url"] and answer["images"] == [tags["og:image"]]
    assert html.escape(answer["prompt"]) in body and str(answer["trace_id"]) in body
    assert answer["artist"]["credit"] == "@aoi_draws" and answer["maker"]["usage"] == "commercial"
    assert answer["gone"] is False and answer["locked_until"].endswith("Z")
    down = await (await client.get(f"/api/v1/generations/{seeded.gens['down']}")).json()
    assert down["gone"] and down["gone_reason"] == "taken_down" and down["images"] == [] and down["prompt"] is None
    queued = await (await client.get(f"/api/v1/generations/{seeded.gens['queued']}")).json()
    assert queued["status"] == "queued" and queued["images"] == []
    for hidden in (seeded.gens["of-private"], 999999):
        response = await client.get(f"/api/v1/generations/{hidden}")
        assert response.status == 404 and (await response.json())["error"] == "not_found"
        assert (await client.get(f"/g/{hidden}")).status == 404  # one rule for both
    assert "source" not in str(answer)  # a remake's input is never public
