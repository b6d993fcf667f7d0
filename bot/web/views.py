"""Request handlers: parse, call a use case, render. No rules of the product live here."""
from __future__ import annotations

import asyncio
import logging
from functools import partial

from aiohttp import web
from PIL import Image
from yarl import URL

from bot.core import gallery as views_of
from bot.core.errors import Refusal, is_row_id
from bot.web import forms, i18n, sessions, share
from bot.web.conditional import image_headers, not_modified, ranged_response
from bot.web.images import as_png, make_thumbnail
from bot.web.security import CSRF_COOKIE, CSRF_FIELD
from bot.web.state import GALLERY, Gallery
from bot.web.uploads import UploadTooLarge, read_form
from data.blobs import BlobError, BlobNotFound, blob_key
from data.media import browser_mime

log = logging.getLogger("mimic.web")
LANG_COOKIE = "mimic_lang"
NAV = (("home", "/"), ("makers", "/makers"), ("generations", "/generations"), ("remakes", "/remakes"),
       ("artists", "/artists"), ("trace", "/trace"))
REPORT_MAX_BODY = 16 * 1024
REPORTABLE = ("generation", "maker")
DIGEST = "{digest:[0-9a-f]{64}}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", home)
    router.add_get("/makers", makers)
    router.add_get("/makers/{name}", maker)
    router.add_get("/generations", partial(generations, kind="txt2img", active="generations"))
    router.add_get("/remakes", partial(generations, kind="remake", active="remakes"))
    router.add_get("/g/{id:[0-9]{1,18}}", image_page)
    router.add_get("/artists", artists)
    router.add_get("/artists/{id:[0-9]{1,18}}", artist_page)
    router.add_get("/makers/{name}/feed.atom", maker_feed)
    router.add_get("/artists/{id:[0-9]{1,18}}/feed.atom", artist_feed)
    router.add_get("/oembed", oembed)
    router.add_get("/trace", trace_form)
    router.add_post("/trace", trace_submit)
    router.add_post("/report", report_submit)
    router.add_get(f"/img/{DIGEST}", image_blob)
    router.add_get(f"/thumb/{DIGEST}", thumbnail)


# rendering ----------------------------------------------------------------------------------------------------


def _gallery(request: web.Request) -> Gallery:
    return request.app[GALLERY]


def request_locale(request: web.Request) -> str:
    return i18n.pick_locale(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                            request.headers.get("Accept-Language", ""))


def render(request: web.Request, template: str, *, status: int = 200, active: str = "", **context) -> web.Response:
    g = _gallery(request)
    locale = request_locale(request)
    other = "en" if locale == "ja" else "ja"
    cookie = request.cookies.get(CSRF_COOKIE, "")
    fresh = not cookie or len(cookie) > 100
    preview = context.get("preview")
    if preview is not None:
        context["oembed_url"] = share.oembed_discovery(g.settings.public_url, preview.url)
    if fresh:
        cookie = g.csrf.new_cookie()
    html = g.templates.get_template(template).render(
        lang=locale, other_lang=other, _=partial(i18n.text, locale), nav=NAV, active=active,
        switch_url=str(request.rel_url.update_query(lang=other)), csrf_field=CSRF_FIELD,
        csrf_token=g.csrf.token_for(cookie), when=partial(i18n.format_time, locale=locale),
        iso=lambda value: i18n.iso_time(value).isoformat(),
        max_upload=i18n.format_bytes(g.settings.max_upload_bytes, locale), path=request.path,
        viewer=sessions.viewer(request), signin_enabled=bool(g.settings.discord_client_id), **context)
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"  # pages carry a form token
    if fresh:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="Lax", secure=g.secure_cookies, path="/")
    if request.query.get("lang") in i18n.LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="Lax", secure=g.secure_cookies,
                            path="/")
    return response


def error_page(request: web.Request, status: int, title_key: str, message: str,
               headers: dict | None = None) -> web.Response:
    locale = request_locale(request)
    response = render(request, "error.html", status=status, title=i18n.text(locale, title_key), message=message)
    response.headers.update(headers or {})
    return response


@web.middleware
async def error_pages(request: web.Request, handler):
    """Our own pages for errors: never a traceback, a server path or a setting."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        locale = request_locale(request)
        if exc.status == 404:
            return error_page(request, 404, "error.404.title", i18n.text(locale, "error.404.body"))
        if exc.status == 413:
            limit = i18n.format_bytes(_gallery(request).settings.max_upload_bytes, locale)
            return error_page(request, 413, "error.generic.title", i18n.text(locale, "error.too_big", limit=limit))
        keep = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return error_page(request, exc.status, "error.generic.title", i18n.text(locale, "refusal.generic"), keep)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("web request failed: %s %s", request.method, request.path)
        try:
            locale = request_locale(request)
            return error_page(request, 500, "error.500.title", i18n.text(locale, "error.500.body"))
        except Exception:  # the error page itself failed: plain words, still nothing internal
            log.exception("error page failed")
            return web.Response(status=500, text="Something went wrong.")


def _page_number(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1


# pages --------------------------------------------------------------------------------------------------------


async def home(request: web.Request) -> web.Response:
    core = _gallery(request).core
    latest = await views_of.generations_page(core, per_page=8)
    makers_ = await views_of.makers_page(core, per_page=6)
    return render(request, "home.html", active="home", latest=latest, makers=makers_)


async def makers(request: web.Request) -> web.Response:
    page = await views_of.makers_page(_gallery(request).core, _page_number(request))
    return render(request, "makers.html", active="makers", page=page)


async def maker(request: web.Request) -> web.Response:
    detail = await views_of.maker_detail(_gallery(request).core, request.match_info["name"][:64])
    if detail is None:
        raise web.HTTPNotFound()
    preview = share.maker_preview(_gallery(request).settings.public_url, request_locale(request), detail)
    return render(request, "maker.html", active="makers", detail=detail, card=detail.card, preview=preview,
                  reported=request.query.get("reported") == "1")


async def generations(request: web.Request, *, kind: str, active: str) -> web.Response:
    page = await views_of.generations_page(_gallery(request).core, kind=kind, page=_page_number(request))
    title_key = "remakes.title" if kind == "remake" else "gens.title"
    return render(request, "generations.html", active=active, page=page, title_key=title_key)


async def image_page(request: web.Request) -> web.Response:
    g = _gallery(request)
    card = await views_of.generation_view(g.core, int(request.match_info["id"]))
    if card is None:
        raise web.HTTPNotFound()
    preview = share.generation_preview(g.settings.public_url, request_locale(request), card)
    return render(request, "image.html", active="remakes" if card.generation.kind == "remake" else "generations",
                  card=card, now=g.core.clock(), preview=preview, reported=request.query.get("reported") == "1")


async def artists(request: web.Request) -> web.Response:
    page = await views_of.artists_page(_gallery(request).core, _page_number(request))
    return render(request, "artists.html", active="artists", page=page)


ARTIST_LATEST = 12  # images on an artist's page; their feed and the JSON API page through the rest


async def _artist(request: web.Request, artist_id: int, per_page: int = ARTIST_LATEST):
    """The artist's view, their latest images and the page's preview; None for no public artist."""
    core = _gallery(request).core
    detail = await views_of.artist_detail(core, artist_id)
    if detail is None:
        return None
    latest = await views_of.generations_page(core, artist_id=artist_id, per_page=per_page)
    first_shown = next((c for c in latest.items if c.image_blobs), None)
    preview = share.artist_preview(_gallery(request).settings.public_url, request_locale(request), detail,
                                   first_shown)
    return detail, latest, preview


async def _artist_or_404(request: web.Request, per_page: int = ARTIST_LATEST):
    found = await _artist(request, int(request.match_info["id"]), per_page)
    if found is None:
        raise web.HTTPNotFound()
    return found


async def artist_page(request: web.Request) -> web.Response:
    detail, latest, preview = await _artist_or_404(request)
    return render(request, "artist.html", active="artists", detail=detail, latest=latest, preview=preview)


def _atom(body: bytes) -> web.Response:
    response = web.Response(body=body, content_type=share.ATOM_TYPE, charset="utf-8")
    response.headers["Cache-Control"] = f"public, max-age={share.CACHE_AGE_S}"
    return response


async def maker_feed(request: web.Request) -> web.Response:
    g = _gallery(request)
    locale = request_locale(request)
    detail = await views_of.maker_detail(g.core, request.match_info["name"][:64])
    if detail is None:
        raise web.HTTPNotFound()
    card = detail.card
    page = share.maker_preview(g.settings.public_url, locale, detail)
    latest = await views_of.generations_page(g.core, maker_name=card.maker.name)
    title = i18n.text(locale, "feed.maker_title", maker=card.maker.name, artist=card.artist.credit)
    return _atom(share.atom_feed(g.settings.public_url, locale, title=title, page=page, self_url=page.feed,
                                 author_name=card.artist.credit, author_url=_author_url(g, card.artist),
                                 cards=latest.items, fallback_updated=card.maker.created_at))


async def artist_feed(request: web.Request) -> web.Response:
    g = _gallery(request)
    locale = request_locale(request)
    detail, latest, page = await _artist_or_404(request, views_of.PER_PAGE)
    title = i18n.text(locale, "feed.artist_title", artist=detail.artist.credit)
    newest_maker = detail.makers[0].maker.created_at if detail.makers else None
    return _atom(share.atom_feed(g.settings.public_url, locale, title=title, page=page, self_url=page.feed,
                                 author_name=detail.artist.credit, author_url=_author_url(g, detail.artist),
                                 cards=latest.items, fallback_updated=newest_maker))


def _author_url(g: Gallery, artist: views_of.ArtistView) -> str:
    """The artist's verified account when there is one (the credit's own link), else their page here."""
    return artist.accounts[0].url if artist.accounts else views_of.artist_url(g.settings.public_url, artist.id)


def _dimension(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and 0 < len(value) < 6 and int(value) > 0 else None


async def oembed(request: web.Request) -> web.Response:
    """The oEmbed endpoint (https://oembed.com, section 2.2): JSON for our image, maker and artist pages."""
    g = _gallery(request)
    locale = request_locale(request)
    fmt = request.query.get("format", "json")
    if fmt != "json":  # section 2.3.4: 501 for a format we do not offer
        return web.json_response({"error": "only format=json is offered"}, status=501)
    named = share.page_of(g.settings.public_url, request.query.get("url", "")[:2000])
    if named is None:
        return web.json_response({"error": "not a page of this gallery"}, status=404)
    kind, key = named
    public = g.settings.public_url
    preview, artist = None, None
    if kind == "generation":
        card = await views_of.generation_view(g.core, int(key))
        if card is not None:
            preview, artist = share.generation_preview(public, locale, card), card.artist
    elif kind == "maker":
        detail = await views_of.maker_detail(g.core, key)
        if detail is not None:
            preview, artist = share.maker_preview(public, locale, detail), detail.card.artist
    else:
        found = await _artist(request, int(key), per_page=1)
        if found is not None:
            preview, artist = found[2], found[0].artist
    if preview is None:
        return web.json_response({"error": "no such page"}, status=404)
    size = None
    if preview.image:  # the image the preview names, by its digest
        digest = URL(preview.image).path.rsplit("/", 1)[-1]
        try:
            data = await asyncio.to_thread(g.core.app.blobs.get, digest)
            size = await asyncio.to_thread(share.image_size, data)
        except (BlobNotFound, OSError, ValueError, Image.DecompressionBombError):
            size = None
    answer = share.oembed_answer(preview, author_name=artist.credit, author_url=_author_url(g, artist),
                                 provider_name=i18n.text(locale, "site.name"), provider_url=public.rstrip("/") + "/",
                                 size=size, maxwidth=_dimension(request, "maxwidth"),
                                 maxheight=_dimension(request, "maxheight"))
    response = web.json_response(answer)
    response.headers["Cache-Control"] = f"public, max-age={share.CACHE_AGE_S}"
    return response


# forms --------------------------------------------------------------------------------------------------------


_client, _drain, _csrf_ok, _safe_return = forms.client, forms.drain, forms.csrf_ok, forms.safe_return


async def too_many(request: web.Request, cap: int) -> web.Response:
    await forms.drain(request, cap)
    locale = request_locale(request)
    return error_page(request, 429, "error.generic.title", i18n.text(locale, "error.rate"), {"Retry-After": "60"})


def csrf_refused(request: web.Request) -> web.Response:
    return error_page(request, 403, "error.generic.title", i18n.text(request_locale(request), "error.csrf"))


_too_many, _csrf_refused = too_many, csrf_refused


async def trace_form(request: web.Request) -> web.Response:
    return render(request, "trace.html", active="trace", result=None, error="")


async def trace_submit(request: web.Request) -> web.Response:
    from bot.core.generations import trace

    g = _gallery(request)
    limit = g.settings.max_upload_bytes
    drain_cap = 4 * limit + 64 * 1024
    if not await g.trace_limiter.allow(_client(request)):
        return await _too_many(request, drain_cap)
    locale = request_locale(request)

    def again(status: int, error: str) -> web.Response:
        return render(request, "trace.html", status=status, active="trace", result=None, error=error)
    too_big = i18n.text(locale, "error.too_big", limit=i18n.format_bytes(limit, locale))
    try:
        form = await read_form(request, max_file_bytes=limit, drain_cap=drain_cap)
    except UploadTooLarge:
        return again(413, too_big)
    if not await _csrf_ok(request, form.fields.get(CSRF_FIELD)):
        return _csrf_refused(request)
    if form.too_big:
        return again(413, too_big)
    data = form.files.get("image")
    if not data:
        return again(400, i18n.text(locale, "error.no_file"))
    try:
        found = await trace(g.core, data)
    except Refusal as refusal:
        return again(400, i18n.refusal_text(locale, refusal.key, refusal.params))
    card = None
    if found.generation is not None:
        card = await views_of.generation_view(g.core, found.generation.id)
    result = {"trace_id": found.trace_id, "card": card, "source": found.source}
    return render(request, "trace.html", active="trace", result=result, error="")


async def report_submit(request: web.Request) -> web.Response:
    from bot.core.moderation import file_report

    g = _gallery(request)
    if not await g.report_limiter.allow(_client(request)):
        return await _too_many(request, REPORT_MAX_BODY)
    if request.content_length is None or request.content_length > REPORT_MAX_BODY:
        await _drain(request, 4 * REPORT_MAX_BODY)
        locale = request_locale(request)
        return error_page(request, 413, "error.generic.title",
                          i18n.text(locale, "error.too_big", limit=i18n.format_bytes(REPORT_MAX_BODY, locale)))
    form = await request.post()
    if not await _csrf_ok(request, form.get(CSRF_FIELD)):
        return _csrf_refused(request)
    locale = request_locale(request)
    kind = str(form.get("target_kind", ""))
    try:
        target_id = int(str(form.get("target_id", "")))
    except ValueError:
        target_id = 0
    try:
        if kind not in REPORTABLE or not is_row_id(target_id):  # 99999999999999999999999: a 400, not a 500
            raise Refusal("report.bad_target")
        await file_report(g.core, None, kind, target_id, str(form.get("reason", "")), source="web")
    except Refusal as refusal:
        return error_page(request, 400, "error.generic.title", i18n.refusal_text(locale, refusal.key, refusal.params))
    back = _safe_return(str(form.get("return_to", "/")))
    raise web.HTTPSeeOther(location=str(back.update_query(reported="1").with_fragment("report")))


# images -------------------------------------------------------------------------------------------------------


def _hint(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


async def _may_serve(request: web.Request, digest: str) -> bool:
    """Pages say where an image belongs (?g=generation, ?m=maker) so the check is a look-up, not a search."""
    return await views_of.is_public_blob(_gallery(request).core, digest, generation_id=_hint(request, "g"),
                                         maker_id=_hint(request, "m"))


async def _public_bytes(request: web.Request) -> tuple[str, bytes]:
    g = _gallery(request)
    digest = request.match_info["digest"]
    if not await _may_serve(request, digest):
        raise web.HTTPNotFound()
    return digest, await _read_blob(g, digest)


async def _read_blob(g: Gallery, digest: str) -> bytes:
    try:
        return await g.core.app.blobs.aget(digest)
    except BlobNotFound:
        raise web.HTTPNotFound() from None
    except BlobError as exc:  # damaged or unreachable: never served, and said so in the log
        log.error("image %s not served: %s", digest[:12], exc)
        raise web.HTTPServiceUnavailable() from None


async def image_blob(request: web.Request) -> web.StreamResponse:
    """An original: 304 for a copy the browser holds (checked before any blob is read), else a redirect to the
    blob's public or presigned URL where configured, else the bytes, with Range support."""
    g = _gallery(request)
    digest = request.match_info["digest"]
    if not await _may_serve(request, digest):
        raise web.HTTPNotFound()
    if not_modified(request, digest):
        return web.Response(status=304, headers=image_headers(digest))
    location = await _blob_location(g, digest)
    if location:
        raise web.HTTPFound(location, headers={"Cache-Control": "private, no-store"})
    data = await _read_blob(g, digest)
    ctype = browser_mime(data)
    if ctype is None:  # stored in a format browsers do not show (TIFF): a PNG copy, never the raw bytes
        try:
            data = await asyncio.to_thread(as_png, data, g.settings.max_image_pixels)
        except (OSError, ValueError, Image.DecompressionBombError):
            raise web.HTTPNotFound() from None
        ctype = "image/png"
    return ranged_response(request, digest, data, ctype)


async def _blob_location(g: Gallery, digest: str) -> str | None:
    """Where the browser may fetch the original itself (PUBLIC_BLOB_URL, or a presigned S3 URL), for images it
    shows as stored; None serves the bytes from here."""
    settings, store = g.settings, g.core.app.blobs
    if not settings.public_blob_url and settings.blob_presign_s <= 0:
        return None
    try:
        ctype = browser_mime(await store.apeek(digest, 16))
    except BlobNotFound:
        raise web.HTTPNotFound() from None
    except BlobError:
        return None  # the normal path reports it
    if ctype is None:
        return None
    if settings.public_blob_url:
        return f"{settings.public_blob_url.rstrip('/')}/{blob_key(digest)}"
    return await asyncio.to_thread(store.presigned_url, digest, expires_s=settings.blob_presign_s,
                                   content_type=ctype)


async def thumbnail(request: web.Request) -> web.Response:
    g = _gallery(request)
    digest = request.match_info["digest"]
    cached = g.thumbs.get(digest)
    if cached is None and not_modified(request, f"t-{digest}"):  # the browser's copy: no blob read
        if not await _may_serve(request, digest):
            raise web.HTTPNotFound()
        return web.Response(status=304, headers=image_headers(f"t-{digest}"))
    if cached is None:
        _, data = await _public_bytes(request)
        try:
            cached = await asyncio.to_thread(make_thumbnail, data, max_pixels=g.settings.max_image_pixels)
        except (OSError, ValueError, Image.DecompressionBombError):
            raise web.HTTPNotFound() from None
        g.thumbs.put(digest, cached)
    elif not await _may_serve(request, digest):  # withdrawn since it was cached
        g.thumbs.discard(digest)
        raise web.HTTPNotFound()
    return ranged_response(request, f"t-{digest}", cached, "image/webp")
