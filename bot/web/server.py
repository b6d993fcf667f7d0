"""The public web gallery: an aiohttp application over the gallery and moderation use cases.

`build_web_app(core)` makes the application (tests start it on a random port); `serve_web(app, host=, port=)`
runs it until cancelled, as `mimic web` and `mimic run` do."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import redis.asyncio as aioredis
from aiohttp import web

from bot.core.app import Core
from bot.ops import add_ops
from data.settings import ConfigError
from bot.web.images import ThumbnailCache
from bot.web.security import (SAFE_HEADERS, Limit, Network, RedisGuard, SharedCsrf, SharedRateLimiter,
                               trusted_networks)

log = logging.getLogger("mimic.web")
HERE = Path(__file__).parent
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around an upload


@dataclass
class WebLimits:
    """Per client address, over all the install's web processes: a burst, then a steady rate."""

    report: Limit = field(default_factory=lambda: Limit(capacity=5, per_second=1 / 60))
    trace: Limit = field(default_factory=lambda: Limit(capacity=10, per_second=1 / 6))


@dataclass
class Gallery:
    core: Core
    templates: jinja2.Environment
    csrf: SharedCsrf
    report_limiter: SharedRateLimiter
    trace_limiter: SharedRateLimiter
    thumbs: ThumbnailCache
    secure_cookies: bool
    trusted_proxies: tuple[Network, ...] = ()

    @property
    def settings(self):
        return self.core.settings


GALLERY = web.AppKey("gallery", Gallery)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env


def build_web_app(core: Core, *, limits: WebLimits | None = None) -> web.Application:
    from bot.web import views

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
                      trusted_proxies=proxies)
    app = web.Application(client_max_size=settings.max_upload_bytes + FORM_OVERHEAD,
                          middlewares=[views.error_pages])
    app[GALLERY] = gallery
    app.on_response_prepare.append(_safe_headers)

    async def shared_secret(_app: web.Application) -> None:  # before the first page: every form signed alike
        await gallery.csrf.load()

    async def close_redis(_app: web.Application) -> None:
        await redis.aclose()
    app.on_startup.append(shared_secret)
    app.on_cleanup.append(close_redis)
    views.add_routes(app.router)
    add_ops(app, core.app)  # /healthz, /readyz, /metrics
    app.router.add_static("/static", HERE / "static", show_index=False, follow_symlinks=False)
    return app


async def _safe_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SAFE_HEADERS.items():
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
