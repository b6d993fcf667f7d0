"""CSRF tokens, per-address rate limits and the response headers every page carries.

CSRF is a signed double submit: each browser gets a random cookie, and forms carry HMAC(secret, cookie). A
cross-site page can make a browser send the cookie but cannot read it, so it cannot compute the form field.

Rate limits are token buckets in this process's memory, keyed by client address: right for one web process.
Several web processes behind a balancer would share the buckets in Redis instead (one INCR with expiry per
window), and the address would come from the proxy's X-Forwarded-For, which we do not trust by default."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

CSRF_COOKIE = "mimic_csrf"
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")
SAFE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Csrf:
    def __init__(self, secret: bytes):
        self._key = hashlib.sha256(b"mimic-web-csrf:" + secret).digest()

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token or len(cookie) > 100 or len(token) > 100:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)


@dataclass(frozen=True)
class Limit:
    capacity: float  # a burst this large passes
    per_second: float  # then this many a second


class RateLimiter:
    """Token buckets per key; the least recently used are forgotten past `max_keys` (memory stays bounded)."""

    def __init__(self, limit: Limit, *, max_keys: int = 10_000, clock=time.monotonic):
        self.limit = limit
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.limit.capacity, now))
        tokens = min(self.limit.capacity, tokens + (now - last) * self.limit.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


def secret_bytes(configured: str | None) -> bytes:
    """The configured WEB_SECRET, or a random one for this process (forms then expire on restart)."""
    return configured.encode() if configured else secrets.token_bytes(32)
