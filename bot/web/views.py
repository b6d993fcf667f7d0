"""Request handlers: parse, call a use case, render. No rules of the product live here."""
from __future__ import annotations

import asyncio
import logging
from functools import partial

from aiohttp import web
from PIL import Image
from yarl import URL

from bot.core import gallery as views_of
from bot.core.errors import Refusal
from bot.web import i18n
from bot.web.images import as_png, content_type, make_thumbnail
from bot.web.security import CSRF_COOKIE, CSRF_FIELD, client_address
from bot.web.server import GALLERY, Gallery
from bot.web.uploads import CHUNK, UploadTooLarge, read_form
from data.blobs import BlobNotFound

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
    if fresh:
        cookie = g.csrf.new_cookie()
    html = g.templates.get_template(template).render(
        lang=locale, other_lang=other, _=partial(i18n.text, locale), nav=NAV, active=active,
        switch_url=str(request.rel_url.update_query(lang=other)), csrf_field=CSRF_FIELD,
        csrf_token=g.csrf.token_for(cookie), when=partial(i18n.format_time, locale=locale),
        iso=lambda value: i18n.iso_time(value).isoformat(),
        max_upload=i18n.format_bytes(g.settings.max_upload_bytes, locale), path=request.path, **context)
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
    return render(request, "maker.html", active="makers", detail=detail, card=detail.card,
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
    return render(request, "image.html", active="remakes" if card.generation.kind == "remake" else "generations",
                  card=card, now=g.core.clock(), reported=request.query.get("reported") == "1")


async def artists(request: web.Request) -> web.Response:
    page = await views_of.artists_page(_gallery(request).core, _page_number(request))
    return render(request, "artists.html", active="artists", page=page)


# forms --------------------------------------------------------------------------------------------------------


def _client(request: web.Request) -> str:
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                          _gallery(request).trusted_proxies)


async def _drain(request: web.Request, cap: int) -> None:
    """Read and drop a body we refuse, so a browser still uploading gets our answer (not a reset)."""
    seen = 0
    while seen <= cap and (chunk := await request.content.read(CHUNK)):
        seen += len(chunk)


async def _too_many(request: web.Request, cap: int) -> web.Response:
    await _drain(request, cap)
    locale = request_locale(request)
    return error_page(request, 429, "error.generic.title", i18n.text(locale, "error.rate"), {"Retry-After": "60"})


async def _csrf_ok(request: web.Request, token: str | None) -> bool:
    return await _gallery(request).csrf.valid(request.cookies.get(CSRF_COOKIE), token)


def _csrf_refused(request: web.Request) -> web.Response:
    return error_page(request, 403, "error.generic.title", i18n.text(request_locale(request), "error.csrf"))


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


def _safe_return(path: str | None) -> URL:
    """Only a path on this site: never an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return URL("/")
    url = URL(path)
    return URL("/") if url.is_absolute() else url


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
        if kind not in REPORTABLE or target_id <= 0:
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
    try:
        return digest, await asyncio.to_thread(g.core.app.blobs.get, digest)
    except BlobNotFound:
        raise web.HTTPNotFound() from None


def _image_response(request: web.Request, etag: str, body: bytes, ctype: str) -> web.Response:
    headers = {"Cache-Control": "public, max-age=300", "ETag": f'"{etag}"'}  # short: a takedown takes effect soon
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=ctype, headers=headers)


async def image_blob(request: web.Request) -> web.Response:
    digest, data = await _public_bytes(request)
    ctype = content_type(data)
    if ctype is None:  # stored in a format browsers do not show (TIFF): a PNG copy, never the raw bytes
        try:
            data = await asyncio.to_thread(as_png, data, _gallery(request).settings.max_image_pixels)
        except (OSError, ValueError, Image.DecompressionBombError):
            raise web.HTTPNotFound() from None
        ctype = "image/png"
    return _image_response(request, digest, data, ctype)


async def thumbnail(request: web.Request) -> web.Response:
    g = _gallery(request)
    digest = request.match_info["digest"]
    cached = g.thumbs.get(digest)
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
    return _image_response(request, f"t-{digest}", cached, "image/webp")
