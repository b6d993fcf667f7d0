"""The public web gallery: an aiohttp application over the gallery and moderation use cases.

`build_web_app(core)` makes the application (tests start it on a random port); `serve_web(app, host=, port=)`
runs it until cancelled, as `mimic web` and `mimic run` do."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from aiohttp import web

from bot.core.app import Core
from data.settings import ConfigError
from bot.web.images import ThumbnailCache
from bot.web.security import SAFE_HEADERS, Csrf, Limit, RateLimiter, secret_bytes

log = logging.getLogger("mimic.web")
HERE = Path(__file__).parent
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around an upload


@dataclass
class WebLimits:
    """Per client address: a burst, then a steady rate."""

    report: Limit = field(default_factory=lambda: Limit(capacity=5, per_second=1 / 60))
    trace: Limit = field(default_factory=lambda: Limit(capacity=10, per_second=1 / 6))


@dataclass
class Gallery:
    core: Core
    templates: jinja2.Environment
    csrf: Csrf
    report_limiter: RateLimiter
    trace_limiter: RateLimiter
    thumbs: ThumbnailCache
    secure_cookies: bool

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
    gallery = Gallery(core=core, templates=_templates(), csrf=Csrf(secret_bytes(secret)),
                      report_limiter=RateLimiter(limits.report), trace_limiter=RateLimiter(limits.trace),
                      thumbs=ThumbnailCache(), secure_cookies=settings.public_url.startswith("https://"))
    app = web.Application(client_max_size=settings.max_upload_bytes + FORM_OVERHEAD,
                          middlewares=[views.error_pages])
    app[GALLERY] = gallery
    app.on_response_prepare.append(_safe_headers)
    views.add_routes(app.router)
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
