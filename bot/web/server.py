"""The public web gallery: an aiohttp application over the gallery and moderation use cases.

`build_web_app(core)` makes the application (tests start it on a random port); `serve_web(app, host=, port=)`
runs it until cancelled, as `mimic web` and `mimic run` do, through `GalleryRunner`: requests that aiohttp cannot
even parse (an over-long request line or header, a raw non-ASCII byte in the path) get our own error page and
headers from it too, with one log line and no traceback."""
from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path

import jinja2
import redis.asyncio as aioredis
from aiohttp import web
from yarl import URL

from bot.core.app import Core
from bot.ops import add_ops
from bot.web import api, i18n, owner, signin, views
from bot.web.images import ThumbnailCache
from bot.web.security import RedisGuard, SharedCsrf, SharedRateLimiter, safe_headers, trusted_networks
from bot.web.state import GALLERY, Gallery, WebLimits
from data.settings import ConfigError, redact_url

log = logging.getLogger("mimic.web")
HERE = Path(__file__).parent
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around an upload
# what requests that never reach the application are answered with: the page (by status) and the headers
PROTOCOL_ANSWERS = web.AppKey("protocol_answers", tuple)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env


def build_web_app(core: Core, *, limits: WebLimits | None = None) -> web.Application:
    settings = core.settings
    limits = limits or WebLimits()
    secret = settings.web_secret.get_secret_value() if settings.web_secret else None
    try:
        proxies = trusted_networks(settings.web_trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"WEB_TRUSTED_PROXIES: {exc}") from None
    # what the install's web processes share; short timeouts: a form waits at most this long on a sick Redis
    redis = aioredis.Redis.from_url(core.app.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    guard = RedisGuard(redact_url(core.app.redis_url))  # no password in a log line
    prefix = f"{settings.redis_prefix}:web"
    gallery = Gallery(core=core, templates=_templates(),
                      csrf=SharedCsrf(secret, redis, f"{prefix}:csrf-secret", guard=guard),
                      report_limiter=SharedRateLimiter(redis, f"{prefix}:rate", "report", limits.report, guard=guard),
                      trace_limiter=SharedRateLimiter(redis, f"{prefix}:rate", "trace", limits.trace, guard=guard),
                      thumbs=ThumbnailCache(), secure_cookies=settings.public_url.startswith("https://"),
                      trusted_proxies=proxies,
                      account_limiter=SharedRateLimiter(redis, f"{prefix}:rate", "account", limits.account,
                                                        guard=guard))
    app = web.Application(client_max_size=settings.max_upload_bytes + FORM_OVERHEAD,
                          middlewares=[views.error_pages])
    app[GALLERY] = gallery
    headers = safe_headers(_blob_origins(settings, core.app.blobs))
    app.on_response_prepare.append(partial(_safe_headers, headers))
    app[PROTOCOL_ANSWERS] = (headers, {status: _plain_error_page(gallery.templates, status) for status in (400, 500)})

    async def shared_secret(_app: web.Application) -> None:  # before the first page: every form signed alike
        await gallery.csrf.load()

    async def close_redis(_app: web.Application) -> None:
        await redis.aclose()
    app.on_startup.append(shared_secret)
    app.on_cleanup.append(close_redis)
    views.add_routes(app.router)
    api.add_routes(app.router)
    signin.add_routes(app.router)
    owner.add_routes(app.router)
    add_ops(app, core.app)  # /healthz, /readyz, /metrics
    app.router.add_static("/static", HERE / "static", show_index=False, follow_symlinks=False)
    return app


def _blob_origins(settings, store) -> list[str]:
    """Where the gallery redirects originals (PUBLIC_BLOB_URL, else presigned URLs): pages must allow them."""
    if settings.public_blob_url:
        return [str(URL(settings.public_blob_url).origin())]
    if settings.blob_presign_s > 0 and (url := store.presigned_url("0" * 64, expires_s=60)):
        return [str(URL(url).origin())]
    return []


async def _safe_headers(headers: dict[str, str], request: web.Request, response: web.StreamResponse) -> None:
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    response.headers.pop("Server", None)  # no software versions for scanners


def _plain_error_page(templates: jinja2.Environment, status: int) -> str:
    """Our error page for a request we could not read (no locale, no cookies, no path to trust): in English, with the
    language switch to the home page."""
    _ = partial(i18n.text, i18n.DEFAULT)
    title, message = (("error.generic.title", "error.bad_request") if status < 500 else
                      ("error.500.title", "error.500.body"))
    return templates.get_template("error.html").render(
        lang=i18n.DEFAULT, other_lang="ja", _=_, nav=views.NAV, active="", switch_url="/?lang=ja",
        viewer=None, signin_enabled=False, csrf_field="", csrf_token="", title=_(title), message=_(message))


class _PlainResponse(web.Response):
    """A response sent outside the application (no on_response_prepare): our headers, and no `Server` banner."""

    def __init__(self, *, extra_headers: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self._extra_headers = extra_headers

    async def _prepare_headers(self) -> None:  # aiohttp sets `Server: Python/... aiohttp/...` in here
        await super()._prepare_headers()
        self.headers.pop("Server", None)
        for name, value in self._extra_headers.items():
            self.headers.setdefault(name, value)


class _GalleryProtocol(web.RequestHandler):
    """aiohttp's connection handler, answering what it cannot parse with our page instead of its own (which echoes
    the request line, names aiohttp's version and logs a traceback per request)."""

    answers: tuple[dict[str, str], dict[int, str]] = ({}, {})

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:
            log.error("web request failed before the application: %s", type(exc).__name__ if exc else status)
        else:  # a malformed request is the client's doing: worth a line, not a traceback
            log.info("refused a malformed request from %s: %s (%s)", request.remote, status,
                     type(exc).__name__ if exc else "unreadable")
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already under way")
        headers, pages = self.answers
        page = pages.get(400 if status < 500 else 500, "")
        response = _PlainResponse(status=status, text=page, content_type="text/html", charset="utf-8",
                                  extra_headers={**headers, "Cache-Control": "no-store"})
        response.force_close()
        return response


class _GalleryServer(web.Server):
    answers: tuple[dict[str, str], dict[int, str]] = ({}, {})

    def __call__(self) -> web.RequestHandler:
        handler = _GalleryProtocol(self, loop=self._loop, **self._kwargs)
        handler.answers = self.answers
        return handler


class GalleryRunner(web.AppRunner):
    """web.AppRunner whose connections answer unparseable requests with the gallery's own error page and headers."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        server = _GalleryServer(plain.request_handler, request_factory=plain.request_factory,
                                handler_cancellation=plain.handler_cancellation, loop=plain._loop, **plain._kwargs)
        server.answers = self.app.get(PROTOCOL_ANSWERS, ({}, {}))
        return server


async def serve_web(app, *, host: str, port: int) -> None:
    """Serve the gallery until cancelled."""
    core = Core.create(app, providers={})  # the gallery verifies no accounts
    runner = GalleryRunner(build_web_app(core))
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # port taken, address not ours: a setting to fix, not a crash
            raise ConfigError(f"the web gallery cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        log.info("web gallery on http://%s:%s", host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await core.aclose()
