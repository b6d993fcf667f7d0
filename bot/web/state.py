"""What every request handler of the web gallery reads: the Gallery (the core, templates, the shared CSRF secret,
rate limiters and thumbnail cache) under one typed application key. server.py builds it, views.py reads it; neither
imports the other for it."""
from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from bot.core.app import Core
from bot.web.images import ThumbnailCache
from bot.web.security import Limit, Network, SharedCsrf, SharedRateLimiter


@dataclass
class WebLimits:
    """Per client address, over all the install's web processes: a burst, then a steady rate."""

    report: Limit = field(default_factory=lambda: Limit(capacity=5, per_second=1 / 60))
    trace: Limit = field(default_factory=lambda: Limit(capacity=10, per_second=1 / 6))
    account: Limit = field(default_factory=lambda: Limit(capacity=20, per_second=1 / 6))  # sign-in, owner forms


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
    account_limiter: SharedRateLimiter | None = None  # sign-in and the owner pages' forms (bot/web/owner.py)

    @property
    def settings(self):
        return self.core.settings


GALLERY = web.AppKey("gallery", Gallery)
