"""The public web gallery: an aiohttp application over the gallery and moderation use cases.

`build_web_app(core)` makes the application (tests start it on a random port); `serve_web(app, host=, port=)`
runs it until cancelled, as `mimic web` and `mimic run` do."""
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
from bot.web import api, owner, signin, views
from bot.web.images import ThumbnailCache
from bot.web.security import RedisGuard, SharedCsrf, SharedRateLimiter, safe_headers, trusted_networks
from bot.web.state import GALLERY, Gallery, WebLimits
from data.settings import ConfigError

log = logging.getLogger("mimic.web")
HERE = Path(__file__).parent
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around an upload


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
    guard = RedisGuard(core.app.redis_url.split("@")[-1])  # no password in a log line
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
    app.on_response_prepare.append(partial(_safe_headers, safe_headers(_blob_origins(settings, core.app.blobs))))

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


async def serve_web(app, *, host: str, port: int) -> None:
    """Serve the gallery until cancelled."""
    core = Core.create(app, providers={})  # the gallery verifies no accounts
    runner = web.AppRunner(build_web_app(core))
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
