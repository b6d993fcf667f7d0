"""CSRF tokens, per-address rate limits and the response headers every page carries.

CSRF is a signed double submit: each browser gets a random cookie, and forms carry HMAC(secret, cookie). A
cross-site page can make a browser send the cookie but cannot read it, so it cannot compute the form field.

Several `mimic web` processes may serve one install behind a balancer, so what they must agree on lives in the
install's Redis: the rate limits are token buckets kept there (one Lua script: atomic, on Redis's clock), and the
CSRF secret, when WEB_SECRET is not configured, is created once there (SET NX) and read by every process.
Redis failing must not take the gallery down: limits then fall back to this process's own buckets, the CSRF
secret stays the one last read, and the outage is logged once.

Limits are per client address: the peer's, unless the peer is a proxy the operator trusts (WEB_TRUSTED_PROXIES),
whose X-Forwarded-For is then read from the right, past trusted hops, to the first address a trusted proxy saw.
Entries further left are whatever the client wrote, so they never count."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence, TypeVar

from redis.exceptions import RedisError

log = logging.getLogger("mimic.web")
T = TypeVar("T")

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


def safe_headers(image_origins: Sequence[str] = ()) -> dict[str, str]:
    """SAFE_HEADERS, allowing as image sources the origins that originals are redirected to (a CDN, S3)."""
    if not image_origins:
        return SAFE_HEADERS
    policy = CONTENT_SECURITY_POLICY.replace("img-src 'self'", " ".join(("img-src 'self'", *image_origins)))
    return {**SAFE_HEADERS, "Content-Security-Policy": policy}


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

    def sign(self, purpose: str, text: str) -> str:
        """HMAC of `text` under a key of its own per purpose (a session cookie is never a valid form token)."""
        key = hmac.new(self._key, b"purpose:" + purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


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


class RedisGuard:
    """Calls to Redis that the gallery can do without: an outage is logged once (and its end once), and Redis is
    not asked again for `retry_s`, so a dead server costs one timeout now and then, not one per request."""

    def __init__(self, where: str, *, retry_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.where, self.retry_s, self.clock = where, retry_s, clock
        self.down = False
        self._retry_at = 0.0

    async def call(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """`work()`'s result, or None when Redis is unavailable."""
        if self.down and self.clock() < self._retry_at:
            return None
        try:
            result = await work()
        except (RedisError, OSError) as exc:
            if not self.down:
                log.warning("Redis unavailable at %s (%s): rate limits are this process's own and the CSRF secret "
                            "stays as last read until it answers again", self.where, type(exc).__name__)
            self.down, self._retry_at = True, self.clock() + self.retry_s
            return None
        if self.down:
            log.info("Redis at %s answers again: rate limits are shared again", self.where)
            self.down = False
        return result


# KEYS[1]: the bucket (a hash of tokens and when they were counted); ARGV: capacity, tokens a second, longest TTL
# in ms. Redis's own clock, so processes on machines whose clocks differ agree. (Redis 5+: TIME before a write.)
TOKEN_BUCKET = """
local capacity, rate, max_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then
  tokens, at = capacity, now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens, allowed = tokens - 1, 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
local ttl = max_ttl
if rate > 0 then  -- once full again it is as good as missing: let it go then
  ttl = math.min(max_ttl, math.ceil((capacity - tokens) / rate * 1000) + 1000)
end
redis.call('PEXPIRE', KEYS[1], ttl)
return allowed
"""


class SharedRateLimiter:
    """Token buckets in Redis, one per `name` and client address, shared by every process of the install.
    Without Redis it falls back to a bucket in this process (`fallback`): still a limit, only per process."""

    def __init__(self, redis, prefix: str, name: str, limit: Limit, *, guard: RedisGuard,
                 max_ttl_s: float = 3600, fallback: RateLimiter | None = None):
        self.limit, self.guard = limit, guard
        self.key_prefix = f"{prefix}:{name}:"
        self.max_ttl_ms = int(max_ttl_s * 1000)
        self.fallback = fallback or RateLimiter(limit)
        self._script = redis.register_script(TOKEN_BUCKET)

    async def allow(self, client: str) -> bool:
        allowed = await self.guard.call(lambda: self._script(
            keys=[self.key_prefix + client[:100]], args=[self.limit.capacity, self.limit.per_second, self.max_ttl_ms]))
        if allowed is None:
            return self.fallback.allow(client)
        return bool(allowed)


class SharedCsrf:
    """The CSRF signer of every process of an install. A configured WEB_SECRET always wins; otherwise the first
    process to ask creates a random secret in Redis (SET NX under the install's prefix, no expiry) and all read
    it. Until Redis answers, a random secret of this process's own serves (single-process behaviour).

    A token that does not verify makes it re-read the secret (at most every `recheck_s`): a process that started
    while Redis was away, or before Redis lost its data, catches up with the others instead of refusing their
    forms until restarted. The secret is never logged."""

    def __init__(self, configured: str | None, redis=None, key: str = "", *, guard: RedisGuard | None = None,
                 recheck_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.shared = not configured and redis is not None
        self._csrf = Csrf(configured.encode() if configured else secrets.token_bytes(32))
        self._secret: bytes | None = None
        self._redis, self._key, self._guard = redis, key, guard or RedisGuard(key)
        self.recheck_s, self.clock = recheck_s, clock
        self._read_at = float("-inf")

    def __repr__(self) -> str:
        return f"SharedCsrf(shared={self.shared})"

    async def load(self) -> bool:
        """Read (or create) the shared secret; True when it changed this process's signer."""
        if not self.shared:
            return False
        self._read_at = self.clock()

        async def read() -> bytes | None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key, secrets.token_hex(32), nx=True)
                pipe.get(self._key)
                _, value = await pipe.execute()
            return value
        value = await self._guard.call(read)
        if not value or value == self._secret:
            return False
        self._secret, self._csrf = value, Csrf(value)
        return True

    @staticmethod
    def new_cookie() -> str:
        return Csrf.new_cookie()

    def token_for(self, cookie: str) -> str:
        return self._csrf.token_for(cookie)

    async def valid(self, cookie: str | None, token: str | None) -> bool:
        if self._csrf.valid(cookie, token):
            return True
        if not self.shared or not cookie or not token or self.clock() - self._read_at < self.recheck_s:
            return False
        return await self.load() and self._csrf.valid(cookie, token)

    def sign(self, purpose: str, text: str) -> str:
        return self._csrf.sign(purpose, text)

    async def signed(self, purpose: str, text: str, signature: str) -> bool:
        """Whether `signature` is sign(purpose, text), re-reading a shared secret as `valid` does."""
        if hmac.compare_digest(self.sign(purpose, text), signature):
            return True
        if not self.shared or self.clock() - self._read_at < self.recheck_s:
            return False
        return await self.load() and hmac.compare_digest(self.sign(purpose, text), signature)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(text: str) -> tuple[Network, ...]:
    """WEB_TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.7" (a ValueError names the entry that is neither)."""
    networks = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {entry!r}") from None
    return tuple(networks)


def _ip(text: str):
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if ip.version == 6 else ip  # ::ffff:10.0.0.1 from a dual-stack socket is 10.0.0.1


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """Who to count a request against: the peer, or behind trusted proxies the address the nearest of them saw."""
    current = peer or "unknown"
    if not trusted:
        return current
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    while True:
        ip = _ip(current)
        if ip is None or not any(ip in network for network in trusted) or not hops:
            return current
        nearer = hops.pop()
        if _ip(nearer) is None:  # a proxy wrote "unknown" or worse: count the proxy we trust
            return current
        current = nearer
