"""How the gallery's pages travel: link previews (OpenGraph, Twitter cards), oEmbed, and Atom feeds.

Everything here describes a page from the same view the page renders (bot.core.gallery), so a preview, a feed
entry or an embed never shows what the page would not: a tombstone previews as a tombstone, with no image."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from PIL import Image
from yarl import URL

from bot.core import gallery as views_of
from bot.web import i18n

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
ATOM_TYPE = "application/atom+xml"
OEMBED_TYPE = "application/json+oembed"
THUMB_SIDE = 360  # bot.web.images.THUMB_SIDE: thumbnails fit this square
CACHE_AGE_S = 300  # as long as an image response is cached: a takedown reaches embeds as soon


ET.register_namespace("", ATOM_NS)  # how feeds are written: Atom unprefixed, XHTML content as xhtml:
ET.register_namespace("xhtml", XHTML_NS)


@dataclass
class Preview:
    """What a link preview, an embed and a feed entry say about one page."""

    title: str
    description: str
    url: str  # the page, absolute
    image: str | None = None  # absolute URL of a watermarked image the public may see, or None
    image_alt: str = ""
    kind: str = "website"  # og:type
    feed: str | None = None  # absolute URL of the page's Atom feed


def absolute(public_url: str, path: str) -> str:
    return public_url.rstrip("/") + path


def image_url(public_url: str, blob: str, *, generation_id: int | None = None, maker_id: int | None = None) -> str:
    """Where the gallery serves a blob, with the hint that lets it check the one place the blob belongs."""
    hint = f"?g={generation_id}" if generation_id is not None else (f"?m={maker_id}" if maker_id is not None else "")
    return absolute(public_url, f"/img/{blob}{hint}")


def thumb_url(image: str) -> str:
    return image.replace("/img/", "/thumb/", 1)


def _usage(locale: str, usage: str) -> dict[str, str]:
    return {"usage": i18n.text(locale, f"web.usage.{usage}"), "usage_help": i18n.text(locale, f"usage.help.{usage}")}


def generation_preview(public_url: str, locale: str, card: views_of.GenerationCard) -> Preview:
    gen, maker, artist = card.generation, card.maker, card.artist
    title = i18n.text(locale, "share.gen_title", id=gen.id, artist=artist.credit, maker=maker.name)
    if card.gone:
        description = i18n.text(locale, "share.withdrawn", reason=i18n.text(locale, f"tomb.{card.gone_reason}"))
        image = None
    else:
        description = i18n.text(locale, "share.gen_desc", artist=artist.credit, maker=maker.name,
                                **_usage(locale, maker.usage))
        image = image_url(public_url, card.image_blobs[0], generation_id=gen.id) if card.image_blobs else None
    alt = i18n.text(locale, "gen.alt", maker=maker.name, artist=artist.credit, prompt=gen.prompt or "—")
    return Preview(title, description, views_of.generation_url(public_url, gen.id), image, alt if image else "",
                   kind="article")


def maker_preview(public_url: str, locale: str, detail: views_of.MakerDetail) -> Preview:
    card = detail.card
    maker, artist = card.maker, card.artist
    title = i18n.text(locale, "share.maker_title", maker=maker.name, artist=artist.credit)
    if card.gone:
        description = i18n.text(locale, "share.withdrawn", reason=i18n.text(locale, f"tomb.maker_{maker.status}"))
    else:
        description = i18n.text(locale, "share.maker_desc", artist=artist.credit, **_usage(locale, maker.usage))
    # a generated image carries the visible credit; the sample grid and training images do not
    made = [s for s in detail.samples if s.generation_id is not None]
    image = image_url(public_url, made[0].blob, generation_id=made[0].generation_id) if made else None
    alt = i18n.text(locale, "gen.thumb_alt", maker=maker.name, artist=artist.credit, prompt="—") if image else ""
    return Preview(title, description, views_of.maker_url(public_url, maker.name), image, alt,
                   feed=absolute(public_url, f"/makers/{maker.name}/feed.atom"))


def artist_preview(public_url: str, locale: str, detail: views_of.ArtistDetail,
                   latest: views_of.GenerationCard | None) -> Preview:
    artist = detail.artist
    live = [c.maker for c in detail.makers if not c.gone]
    makers = ", ".join(f"{m.name} ({i18n.text(locale, f'web.usage.{m.usage}')})" for m in live) \
        or i18n.text(locale, "artist.no_makers")
    image = None
    if latest is not None and latest.image_blobs:
        image = image_url(public_url, latest.image_blobs[0], generation_id=latest.generation.id)
    alt = i18n.text(locale, "gen.thumb_alt", maker=latest.maker.name, artist=artist.credit,
                    prompt=latest.generation.prompt or "—") if image else ""
    return Preview(i18n.text(locale, "share.artist_title", artist=artist.credit),
                   i18n.text(locale, "share.artist_desc", makers=makers),
                   views_of.artist_url(public_url, artist.id), image, alt, kind="profile",
                   feed=absolute(public_url, f"/artists/{artist.id}/feed.atom"))


def oembed_discovery(public_url: str, page_url: str) -> str:
    """The address of the oEmbed answer for a page (https://oembed.com, section 4: discovery)."""
    return str(URL(absolute(public_url, "/oembed")).with_query(url=page_url, format="json"))


# oEmbed ------------------------------------------------------------------------------------------------------

PAGE_PATTERNS = (("generation", re.compile(r"^/g/([0-9]{1,18})$")),
                 ("maker", re.compile(r"^/makers/([a-z0-9][a-z0-9_-]{0,63})$")),
                 ("artist", re.compile(r"^/artists/([0-9]{1,18})$")))


def page_of(public_url: str, url: str) -> tuple[str, str] | None:
    """Which of our pages a URL names ("generation", "42"), or None for anything else (another site included)."""
    try:
        asked, ours = URL(url), URL(public_url)
    except (ValueError, TypeError):
        return None
    if not asked.is_absolute() or (asked.scheme, asked.host, asked.port) != (ours.scheme, ours.host, ours.port):
        return None
    path = asked.path
    base = ours.path.rstrip("/")
    if base:
        if not path.startswith(base + "/"):
            return None
        path = path[len(base):]
    for kind, pattern in PAGE_PATTERNS:
        match = pattern.match(path)
        if match:
            return kind, match.group(1)
    return None


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header (Pillow reads no pixels for this)."""
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def fit_thumbnail(width: int, height: int, side: int = THUMB_SIDE) -> tuple[int, int]:
    """The size Pillow's thumbnail() gives an image of this size in a side x side box."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def oembed_answer(preview: Preview, *, author_name: str, author_url: str, provider_name: str, provider_url: str,
                  size: tuple[int, int] | None, maxwidth: int | None, maxheight: int | None) -> dict:
    """An oEmbed 1.0 response (https://oembed.com, section 2.3.4): a photo when the page shows one image the
    public may see and it fits the consumer's maximum size (full size, else its thumbnail), else a link."""
    answer = {"version": "1.0", "type": "link", "title": preview.title, "author_name": author_name,
              "author_url": author_url, "provider_name": provider_name, "provider_url": provider_url,
              "cache_age": CACHE_AGE_S}
    if preview.image is None or size is None:
        return answer

    def fits(w: int, h: int) -> bool:
        return (maxwidth is None or w <= maxwidth) and (maxheight is None or h <= maxheight)
    thumb = fit_thumbnail(*size)
    if preview.kind == "article":  # an image page: the image itself
        for url, (w, h) in ((preview.image, size), (thumb_url(preview.image), thumb)):
            if fits(w, h):
                return {**answer, "type": "photo", "url": url, "width": w, "height": h}
    if fits(*thumb):  # section 2.3.4: the three thumbnail fields come together or not at all
        answer.update(thumbnail_url=thumb_url(preview.image), thumbnail_width=thumb[0], thumbnail_height=thumb[1])
    return answer


# Atom --------------------------------------------------------------------------------------------------------


def _rfc3339(value: datetime | None) -> str:
    value = views_of.aware(value) or datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(public_url: str, locale: str, *, title: str, page: Preview, self_url: str, author_name: str,
              author_url: str | None, cards: list[views_of.GenerationCard], fallback_updated: datetime | None) -> bytes:
    """An Atom feed (RFC 4287) of generation pages, newest first: each entry is one image page, and withdrawn
    ones stay as entries that say so (a reader that saw the image learns it was withdrawn), with no image."""
    def el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k.rstrip("_"): v for k, v in attrs.items()})
        if text is not None:
            node.text = text
        return node
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": locale})
    el(feed, "id", page.url)  # 4.2.6: a permanent IRI; the page the feed follows is one
    el(feed, "title", title)
    el(feed, "subtitle", page.description)
    newest = max((views_of.aware(c.generation.finished_at or c.generation.created_at) for c in cards), default=None)
    el(feed, "updated", _rfc3339(newest or fallback_updated))
    el(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    el(feed, "link", rel="alternate", type="text/html", href=page.url)
    author = el(feed, "author")  # 4.1.1: the feed names its author, so entries may leave it out
    el(author, "name", author_name)
    if author_url:
        el(author, "uri", author_url)
    el(feed, "generator", i18n.text(locale, "site.name"), uri=public_url.rstrip("/") + "/")
    for card in cards:
        preview = generation_preview(public_url, locale, card)
        gen = card.generation
        entry = el(feed, "entry")
        el(entry, "id", preview.url)
        el(entry, "title", preview.title)
        el(entry, "updated", _rfc3339(gen.finished_at or gen.created_at))
        el(entry, "published", _rfc3339(gen.created_at))
        el(entry, "link", rel="alternate", type="text/html", href=preview.url)
        el(entry, "summary", preview.description)
        el(entry, "rights", i18n.text(locale, f"usage.help.{card.maker.usage}"))
        if preview.image:
            el(entry, "link", rel="enclosure", href=preview.image)
            content = el(entry, "content", type_="xhtml")
            div = ET.SubElement(content, f"{{{XHTML_NS}}}div")  # 4.1.3.3: one xhtml:div holds the content
            ET.SubElement(div, f"{{{XHTML_NS}}}img", src=preview.image, alt=preview.image_alt)
            ET.SubElement(div, f"{{{XHTML_NS}}}p").text = preview.description
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
