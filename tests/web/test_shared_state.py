"""Several `mimic web` processes behind one balancer: they share rate limits and the CSRF secret through Redis.

A form rendered by one process is accepted by another; a burst spent on one is spent on all. A configured
WEB_SECRET wins over the shared one; the secret never reaches a log; without Redis the gallery keeps working."""
from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.core.app import Core
from bot.web.security import CSRF_COOKIE, Csrf, Limit
from bot.web.server import GALLERY, WebLimits, build_web_app
from data.settings import Settings
from engine.queue import JobQueue
from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery

LIMITS = WebLimits(report=Limit(capacity=3, per_second=1e-6), trace=Limit(capacity=3, per_second=1e-6))


@pytest.fixture
def install(tmp_path, redis_url):
    """One install's settings and seeded database; its Redis keys are removed afterwards."""
    settings = gallery_settings(tmp_path, redis_url=redis_url)
    app = gallery_context(settings)
    seeded = seed_gallery(app)
    app.db.dispose()
    yield settings, seeded
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{settings.redis_prefix}:*"):
        client.delete(key)
    client.close()


@asynccontextmanager
async def web_process(settings: Settings, limits: WebLimits = LIMITS):
    """What one `mimic web` process holds: its own context, core and application, on a loopback port."""
    app = gallery_context(settings)
    core = Core(app=app, queue=JobQueue(app.redis_url, settings.redis_prefix), providers={})
    web_app = build_web_app(core, limits=limits)
    try:
        async with TestClient(TestServer(web_app, host="127.0.0.1"), cookie_jar=aiohttp.DummyCookieJar()) as client:
            yield client
    finally:
        await app.aclose()


async def form(client: TestClient, path: str) -> tuple[str, str]:
    """The CSRF cookie this process sets and the token its form carries."""
    response = await client.get(path)  # clients keep no cookies: each page sets a fresh one
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', await response.text()).group(1)
    return response.cookies[CSRF_COOKIE].value, token


async def report(client: TestClient, cookie: str, token: str, gen_id: int) -> int:
    response = await client.post("/report", allow_redirects=False, headers={"Cookie": f"{CSRF_COOKIE}={cookie}"},
                                 data={"csrf": token, "target_kind": "generation", "target_id": str(gen_id),
                                       "reason": "copies another artist"})
    return response.status


async def test_two_processes_share_limits_and_accept_each_others_forms(install):
    settings, seeded = install
    gen = seeded.gens["old"]
    async with web_process(settings) as first, web_process(settings) as second:
        cookie, token = await form(first, f"/g/{gen}")
        # a form from the first process posted to the second: accepted
        assert await report(second, cookie, token, gen) == 303
        cookie2, token2 = await form(second, "/trace")
        assert await report(first, cookie2, token2, gen) == 303
        # three reports a burst, over both processes together
        assert await report(second, cookie, token, gen) == 303
        assert await report(first, cookie, token, gen) == 429
        assert await report(second, cookie2, token2, gen) == 429
        # another limit has a bucket of its own
        response = await second.post("/trace", headers={"Cookie": f"{CSRF_COOKIE}={cookie}"}, data={"csrf": token})
        assert response.status == 400  # past the limit and the token: no file chosen



async def test_behind_a_trusted_balancer_each_client_has_its_own_bucket(install):
    """Every request comes from the balancer's address; its X-Forwarded-For names the client, when trusted."""
    settings, seeded = install
    gen = seeded.gens["old"]

    async def post(client, cookie, token, forwarded_for):
        response = await client.post("/report", allow_redirects=False, data={
            "csrf": token, "target_kind": "generation", "target_id": str(gen), "reason": "r"},
            headers={"Cookie": f"{CSRF_COOKIE}={cookie}", "X-Forwarded-For": forwarded_for})
        return response.status
    trusting = settings.model_copy(update={"web_trusted_proxies": "127.0.0.0/8"})
    async with web_process(trusting) as balanced:
        cookie, token = await form(balanced, "/trace")
        assert [await post(balanced, cookie, token, "198.51.100.1") for _ in range(4)] == [303, 303, 303, 429]
        assert await post(balanced, cookie, token, "198.51.100.2") == 303  # another client
        # what a client writes itself stays left of what the balancer appends: it cannot pick a fresh bucket
        assert await post(balanced, cookie, token, "203.0.113.77, 198.51.100.1") == 429
    async with web_process(settings) as direct:  # trusting nobody, the header is anyone's to write: ignored
        cookie, token = await form(direct, "/trace")
        assert [await post(direct, cookie, token, f"198.51.100.{n}") for n in range(10, 13)] == [303] * 3
        assert await post(direct, cookie, token, "198.51.100.99") == 429


async def test_a_malformed_trusted_proxy_list_is_a_configuration_error(install):
    from data.settings import ConfigError

    settings, _ = install
    app = gallery_context(settings.model_copy(update={"web_trusted_proxies": "10.0.0.0/8, the balancer"}))
    try:
        core = Core(app=app, queue=JobQueue(app.redis_url, settings.redis_prefix), providers={})
        with pytest.raises(ConfigError, match="WEB_TRUSTED_PROXIES: not an address or network: 'the balancer'"):
            build_web_app(core)
    finally:
        await app.aclose()

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_separate_mimic_web_processes(install, tmp_path):
    """Two real `mimic web` processes on one database and one Redis, as behind a load balancer (default limits:
    five reports a burst per address)."""
    from data.db import Database

    settings, _ = install
    settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'migrated.db'}"})
    Database(settings.database_url).upgrade()  # `mimic web` insists on an up-to-date schema
    app = gallery_context(settings)
    seeded = seed_gallery(app)
    app.db.dispose()
    ports = [free_port(), free_port()]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "REDIS_PREFIX": settings.redis_prefix, "VAR_DIR": str(tmp_path / "var")}
    env.pop("WEB_SECRET", None)
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for port in ports]
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async def get(port: int, path: str) -> aiohttp.ClientResponse:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        response = await http.get(f"http://127.0.0.1:{port}{path}")
                        await response.read()
                        return response
                    except aiohttp.ClientConnectorError:
                        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.poll()]
                        assert time.monotonic() < deadline, "a gallery never answered"
                        await asyncio.sleep(0.3)

            gen = seeded.gens["old"]
            pages = [await get(port, f"/g/{gen}") for port in ports]
            forms = [(page.cookies[CSRF_COOKIE].value, re.search(r'name="csrf" value="([0-9a-f]+)"',
                                                                  await page.text()).group(1)) for page in pages]
            statuses = []
            for n in range(6):  # each process posts the other's form, alternately
                port, (cookie, token) = ports[n % 2], forms[(n + 1) % 2]
                response = await http.post(f"http://127.0.0.1:{port}/report", allow_redirects=False,
                                           headers={"Cookie": f"{CSRF_COOKIE}={cookie}"},
                                           data={"csrf": token, "target_kind": "generation", "target_id": str(gen),
                                                 "reason": f"report {n}"})
                statuses.append(response.status)
            assert statuses == [303] * 5 + [429]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


async def test_a_configured_web_secret_wins(install):
    settings, seeded = install
    settings = settings.model_copy(update={"web_secret": SecretStr("the operator's own secret")})
    async with web_process(settings) as client:
        cookie, token = await form(client, "/trace")
        assert token == Csrf(b"the operator's own secret").token_for(cookie)
        assert await report(client, cookie, token, seeded.gens["old"]) == 303
    assert not redis.Redis.from_url(settings.redis_url).exists(f"{settings.redis_prefix}:web:csrf-secret")


async def test_the_shared_secret_never_reaches_a_log(install, caplog):
    settings, seeded = install
    caplog.set_level(logging.DEBUG)
    async with web_process(settings) as first, web_process(settings) as second:
        cookie, token = await form(first, "/trace")
        assert await report(second, cookie, token, seeded.gens["old"]) == 303
        assert await report(second, cookie, "0" * 64, seeded.gens["old"]) == 403
    secret = redis.Redis.from_url(settings.redis_url).get(f"{settings.redis_prefix}:web:csrf-secret")
    assert secret and len(secret) >= 32
    assert secret.decode() not in caplog.text


async def test_a_process_that_missed_the_secret_catches_up(install):
    """Redis lost the secret (flushed) between two processes' starts: the older one adopts the new secret as soon
    as a form signed with it arrives, instead of refusing the other process's forms until it restarts."""
    settings, seeded = install
    key = f"{settings.redis_prefix}:web:csrf-secret"
    async with web_process(settings) as old:
        redis.Redis.from_url(settings.redis_url).delete(key)
        async with web_process(settings) as new:
            old.server.app[GALLERY].csrf.recheck_s = 0
            cookie, token = await form(new, "/trace")
            assert await report(old, cookie, token, seeded.gens["old"]) == 303
            cookie, token = await form(old, "/trace")  # and what it signs now, the other accepts
            assert await report(new, cookie, token, seeded.gens["old"]) == 303


async def test_without_redis_the_gallery_keeps_working_and_warns_once(install, caplog):
    """Redis unreachable: pages and forms work, limits fall back to this process's own, one warning."""
    settings, seeded = install
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here
    settings = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    caplog.set_level(logging.WARNING)
    async with web_process(settings) as client:
        assert (await client.get("/makers")).status == 200
        cookie, token = await form(client, f"/g/{seeded.gens['old']}")
        statuses = [await report(client, cookie, token, seeded.gens["old"]) for _ in range(4)]
        assert statuses == [303, 303, 303, 429]
        assert (await client.get(f"/img/{seeded.blobs['traced.image']}")).status == 200
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("mimic")]
    assert len(warnings) == 1 and "Redis" in warnings[0].getMessage(), [r.getMessage() for r in warnings]


async def test_the_shared_bucket_refills_and_expires(install):
    import redis.asyncio as aioredis

    from bot.web.security import RedisGuard, SharedRateLimiter

    settings, _ = install
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        limiter = SharedRateLimiter(client, f"{settings.redis_prefix}:web:rate", "test",
                                    Limit(capacity=2, per_second=10), guard=RedisGuard("test"))
        assert [await limiter.allow("10.0.0.1") for _ in range(3)] == [True, True, False]
        assert await limiter.allow("10.0.0.2")  # another address
        ttl = await client.pttl(f"{settings.redis_prefix}:web:rate:test:10.0.0.1")
        assert 0 < ttl <= 1200  # gone once it would be full again (0.2 s here), plus a second
        await asyncio.sleep(0.15)
        assert await limiter.allow("10.0.0.1") and not await limiter.allow("10.0.0.1")
    finally:
        await client.aclose()
