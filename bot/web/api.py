"""The read-only JSON API: `/api/v1/makers`, `/api/v1/generations`, `/api/v1/generations/{id}`.

It answers from the very views the pages render (bot.core.gallery), so it shows exactly what they show: private
makers never, withdrawn makers and images as tombstones without images or prompts, remake inputs never.

Pagination is by page number: `?page=N` (from 1) and `?per_page=M` (1 to 100, default 24). Every list answer
carries `next` and `prev`, the absolute URLs of the neighbouring pages, or null at either end; makers also carry
`total` and `pages`. Generations are not counted (a count is a scan at millions of rows), so follow `next`."""
from __future__ import annotations

import json

from aiohttp import web
from yarl import URL

from bot.core import gallery as views_of
from bot.web.state import GALLERY
from bot.web.share import absolute, image_url

MAX_PER_PAGE = 100
KINDS = ("txt2img", "remake")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/makers", makers)
    router.add_get("/api/v1/generations", generations)
    router.add_get("/api/v1/generations/{id:[0-9]{1,18}}", generation)


class BadQuery(ValueError):
    pass


def _json(request: web.Request, body: dict, status: int = 200) -> web.Response:
    response = web.json_response(body, status=status, dumps=_dumps)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public and read-only: any site may read it
    return response


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _error(request: web.Request, status: int, code: str, message: str) -> web.Response:
    return _json(request, {"error": code, "message": message}, status)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise BadQuery(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _iso(value) -> str | None:
    value = views_of.aware(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def _public(request: web.Request) -> str:
    return request.app[GALLERY].settings.public_url


def _neighbours(request: web.Request, page: views_of.Page) -> dict:
    here = URL(absolute(_public(request), request.path)).with_query(request.query)

    def at(n: int) -> str:
        return str(here.update_query(page=n))
    return {"next": at(page.page + 1) if page.has_next else None,
            "prev": at(page.page - 1) if page.has_prev else None}


def artist_json(public: str, artist: views_of.ArtistView) -> dict:
    return {"id": artist.id, "credit": artist.credit, "url": views_of.artist_url(public, artist.id),
            "accounts": [{"platform": a.platform, "handle": a.handle, "url": a.url} for a in artist.accounts]}


def maker_json(public: str, card: views_of.MakerCard) -> dict:
    maker = card.maker
    return {"name": maker.name, "url": views_of.maker_url(public, maker.name), "status": maker.status,
            "gone": card.gone, "usage": maker.usage, "trigger": None if card.gone else (maker.trigger or None),
            "artist": artist_json(public, card.artist),
            "cover": image_url(public, card.cover_blob, maker_id=maker.id) if card.cover_blob else None,
            "feed": absolute(public, f"/makers/{maker.name}/feed.atom"),
            "created_at": _iso(maker.created_at), "revoked_at": _iso(maker.revoked_at)}


def generation_json(public: str, card: views_of.GenerationCard) -> dict:
    gen = card.generation
    return {"id": gen.id, "url": views_of.generation_url(public, gen.id), "kind": gen.kind, "status": gen.status,
            "gone": card.gone, "gone_reason": card.gone_reason or None,
            "prompt": None if card.gone else (gen.prompt or None),
            "images": [image_url(public, blob, generation_id=gen.id) for blob in card.image_blobs],
            "maker": {"name": card.maker.name, "url": views_of.maker_url(public, card.maker.name),
                      "usage": card.maker.usage},
            "artist": artist_json(public, card.artist),
            "trace_id": gen.trace_id, "created_at": _iso(gen.created_at),
            "locked_until": _iso(card.lock_until)}


async def makers(request: web.Request) -> web.Response:
    try:
        number = _int_param(request, "page", 1, 1, views_of.MAX_PAGE)
        per_page = _int_param(request, "per_page", views_of.PER_PAGE, 1, MAX_PER_PAGE)
    except BadQuery as exc:
        return _error(request, 400, "bad_query", str(exc))
    page = await views_of.makers_page(request.app[GALLERY].core, number, per_page=per_page)
    public = _public(request)
    return _json(request, {"items": [maker_json(public, c) for c in page.items], "page": page.page,
                           "per_page": per_page, "pages": page.pages, "total": page.total,
                           **_neighbours(request, page)})


async def generations(request: web.Request) -> web.Response:
    """`?kind=txt2img|remake`, `?maker=NAME` (as its page shows them), `?artist=ID` (their public makers)."""
    try:
        number = _int_param(request, "page", 1, 1, views_of.MAX_PAGE)
        per_page = _int_param(request, "per_page", views_of.PER_PAGE, 1, MAX_PER_PAGE)
        artist = _int_param(request, "artist", 0, 1, 10**17) if "artist" in request.query else None
        kind = request.query.get("kind")
        if kind is not None and kind not in KINDS:
            raise BadQuery("kind must be txt2img or remake")
    except BadQuery as exc:
        return _error(request, 400, "bad_query", str(exc))
    maker = request.query.get("maker")
    page = await views_of.generations_page(request.app[GALLERY].core, kind=kind, page=number, per_page=per_page,
                                           maker_name=maker[:64] if maker else None, artist_id=artist)
    public = _public(request)
    return _json(request, {"items": [generation_json(public, c) for c in page.items], "page": page.page,
                           "per_page": per_page, **_neighbours(request, page)})


async def generation(request: web.Request) -> web.Response:
    card = await views_of.generation_view(request.app[GALLERY].core, int(request.match_info["id"]))
    if card is None:
        return _error(request, 404, "not_found", "no such generation")
    return _json(request, generation_json(_public(request), card))
