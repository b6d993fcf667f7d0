"""The signed-in person's own pages: /me (their makers, their requests, the disputes about their works, their
data), one maker's control room (status, training images, usage scope and visibility, every image made with it and
who asked, revoke), and the data rights (export, delete the account). Handlers parse, check the session, call the
core (bot/core/owner.py, disputes, makers, generations, data_rights) and render; the core decides who owns what,
and a page or action about someone else's maker answers 403. Every form is CSRF-protected and rate-limited per
client like the report form."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from aiohttp import web
from PIL import Image
from yarl import URL

from bot.core import data_rights, disputes, owner
from bot.core.app import Actor
from bot.core.errors import Refusal
from bot.core.generations import delete_generation
from bot.core.makers import revoke_maker, update_settings
from bot.web import forms, i18n, sessions
from bot.web.images import as_png
from bot.web.security import CSRF_FIELD
from bot.web.state import GALLERY
from bot.web.views import DIGEST, csrf_refused, error_page, render, request_locale, too_many
from data.blobs import BlobError, BlobNotFound
from data.media import browser_mime
from data.models import UsageScope, Visibility

FORM_MAX_BODY = 16 * 1024
NAME = "{name:[a-z0-9][a-z0-9_-]{0,63}}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/me", home)
    router.add_get(f"/me/makers/{NAME}", maker_page)
    router.add_post(f"/me/makers/{NAME}/settings", maker_settings)
    router.add_get(f"/me/makers/{NAME}/revoke", revoke_confirm)
    router.add_post(f"/me/makers/{NAME}/revoke", revoke)
    router.add_post("/me/requests/{id:[0-9]{1,18}}/withdraw", withdraw)
    router.add_post("/me/export", export)
    router.add_get("/me/exports/{id:[0-9]{1,18}}.zip", export_download)
    router.add_get("/me/delete", delete_confirm)
    router.add_post("/me/delete", delete)
    router.add_get(f"/me/img/{DIGEST}", image)


class _Stop(Exception):
    """A response to send instead of the page (not signed in, refused, too many)."""

    def __init__(self, response: web.StreamResponse):
        self.response = response


def _page(handler):
    """An owner page: stops (sign in, CSRF, rate limit) and refusals become their own answers."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Stop as stop:
            return stop.response
        except Refusal as refusal:  # a use case said no: the page for that reason, in the reader's language
            return _refusal(request, refusal)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def _actor(request: web.Request) -> Actor:
    """The signed-in person, or: a GET goes to sign in (and comes back), a POST is refused."""
    g = request.app[GALLERY]
    who = await sessions.verified_viewer(request)
    user = await owner.signed_in_user(g.core, who.user_id) if who is not None else None
    if user is None:
        if request.method == "GET":
            response = _see_other(str(URL("/signin").with_query(next=request.rel_url.path)))
        else:
            response = _forbidden(request, "me.signed_out")
        if who is not None:  # an erased or unknown account: its cookie goes
            sessions.sign_out(response, request)
        raise _Stop(response)
    return Actor(user_id=user.id, locale=user.locale)


def _forbidden(request: web.Request, key: str) -> web.Response:
    return error_page(request, 403, "error.forbidden.title", i18n.text(request_locale(request), key))


def _refusal(request: web.Request, refusal: Refusal) -> web.Response:
    locale = request_locale(request)
    if refusal.key in ("maker.not_owner", "generation.not_yours", "permission.moderator_only", "export.not_yours"):
        return error_page(request, 403, "error.forbidden.title", i18n.text(locale, "me.not_yours"))
    status = 404 if refusal.key in ("maker.not_found", "generation.not_found", "user.not_found",
                                    "export.not_found") else 400
    return error_page(request, status, "error.generic.title", i18n.refusal_text(locale, refusal.key, refusal.params))


async def _form(request: web.Request) -> dict:
    """A small form's fields, after the rate limit and the CSRF check (each answered with its own page)."""
    g = request.app[GALLERY]
    if not await g.account_limiter.allow(forms.client(request)):
        raise _Stop(await too_many(request, FORM_MAX_BODY))
    if request.content_length is None or request.content_length > FORM_MAX_BODY:
        await forms.drain(request, 4 * FORM_MAX_BODY)
        locale = request_locale(request)
        raise _Stop(error_page(request, 413, "error.generic.title", i18n.text(
            locale, "error.too_big", limit=i18n.format_bytes(FORM_MAX_BODY, locale))))
    form = await request.post()
    if not await forms.csrf_ok(request, form.get(CSRF_FIELD)):
        raise _Stop(csrf_refused(request))
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


# pages ----------------------------------------------------------------------------------------------------------


@_page
async def home(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    makers = await owner.my_makers(g.core, actor)
    requests = await owner.my_requests(g.core, actor)
    mine = await disputes.my_disputes(g.core, actor)
    latest = await data_rights.latest_export(g.core, actor)
    size = i18n.format_bytes(latest.size, request_locale(request)) if latest is not None else ""
    return render(request, "me.html", active="me", makers=makers, requests=requests, disputes=mine, export=latest,
                  export_size=size, notice=request.query.get("done", "")[:20])


@_page
async def maker_page(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    detail = await owner.my_maker(g.core, actor, request.match_info["name"])
    return render(request, "me_maker.html", active="me", detail=detail, usages=[u.value for u in UsageScope],
                  visibilities=[v.value for v in Visibility], notice=request.query.get("done", "")[:20])


@_page
async def maker_settings(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    form = await _form(request)
    name = request.match_info["name"]
    await update_settings(g.core, actor, name, usage=form.get("usage") or None,
                          visibility=form.get("visibility") or None)
    return _see_other(f"/me/makers/{name}?done=saved")


@_page
async def revoke_confirm(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    detail = await owner.my_maker(g.core, actor, request.match_info["name"])
    return render(request, "me_confirm.html", active="me", action=f"/me/makers/{detail.maker.name}/revoke",
                  title_key="me.revoke.title", body_key="me.revoke.body", button_key="me.revoke.button",
                  params={"name": detail.maker.name, "images": len(detail.made)}, keeps=(),
                  back=f"/me/makers/{detail.maker.name}")


@_page
async def revoke(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    form = await _form(request)
    name = request.match_info["name"]
    if form.get("confirm") != "yes":
        return _see_other(f"/me/makers/{name}/revoke")
    await revoke_maker(g.core, actor, name)
    return _see_other(f"/me/makers/{name}?done=revoked")


@_page
async def withdraw(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    await _form(request)
    await delete_generation(g.core, actor, int(request.match_info["id"]))
    return _see_other("/me?done=withdrawn#requests")


@_page
async def export(request: web.Request) -> web.StreamResponse:
    """Ask a worker for the zip; /me follows its progress and offers the download."""
    g = request.app[GALLERY]
    actor = await _actor(request)
    await _form(request)
    await data_rights.request_export(g.core, actor, actor.user_id)
    return _see_other("/me?done=export#data")


@_page
async def export_download(request: web.Request) -> web.StreamResponse:
    g = request.app[GALLERY]
    actor = await _actor(request)
    data = await data_rights.export_file(g.core, actor, int(request.match_info["id"]))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    return web.Response(body=data, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="mimic-export-{stamp}.zip"', "Cache-Control": "no-store"})


@_page
async def delete_confirm(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    makers = await owner.my_makers(g.core, actor)
    live = [m.maker.name for m in makers if not m.gone]
    return render(request, "me_confirm.html", active="me", action="/me/delete", title_key="me.delete.title",
                  body_key="me.delete.body", button_key="me.delete.button", params={"count": len(live)},
                  keeps=[f"me.delete.keeps.{k}" for k in data_rights.ERASE_KEEPS], back="/me")


@_page
async def delete(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    actor = await _actor(request)
    form = await _form(request)
    if form.get("confirm") != "yes":
        return _see_other("/me/delete")
    await data_rights.erase_user(g.core, actor, actor.user_id)
    sessions.forget(request)
    response = render(request, "me_deleted.html", active="")
    sessions.sign_out(response, request)
    return response


# the person's own images ---------------------------------------------------------------------------------------


def _hint(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@_page
async def image(request: web.Request) -> web.Response:
    """An image only its owner's pages show (a private maker's training images, a revoked maker's results)."""
    g = request.app[GALLERY]
    actor = await _actor(request)
    digest = request.match_info["digest"]
    if not await owner.may_see_image(g.core, actor, digest, maker_id=_hint(request, "m"),
                                     generation_id=_hint(request, "g")):
        return _forbidden(request, "me.not_yours")
    try:
        data = await g.core.app.blobs.aget(digest)
    except (BlobNotFound, BlobError):
        raise web.HTTPNotFound() from None
    ctype = browser_mime(data)
    if ctype is None:
        try:
            data = await asyncio.to_thread(as_png, data, g.settings.max_image_pixels)
        except (OSError, ValueError, Image.DecompressionBombError):
            raise web.HTTPNotFound() from None
        ctype = "image/png"
    return web.Response(body=data, content_type=ctype, headers={"Cache-Control": "private, no-store"})
