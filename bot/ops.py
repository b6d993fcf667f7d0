"""What an operator's tools ask a process: /healthz (alive), /readyz (its database, Redis and blob storage
answer; 503 naming the part that does not) and /metrics (Prometheus).

The web gallery serves them beside its pages; the bot and the workers serve them on HEALTH_PORT."""
from __future__ import annotations

import logging

import redis.asyncio as aioredis
from aiohttp import web

from data.context import AppContext
from data.health import readiness
from data.settings import ConfigError
from engine.queue import queue_name

log = logging.getLogger("mimic.ops")


class Ops:
    def __init__(self, app: AppContext):
        self.app = app
        self.queue = queue_name(app.settings.redis_prefix)
        # its own connection, with short timeouts: a probe must answer even when Redis does not
        self.redis = aioredis.Redis.from_url(app.redis_url, socket_connect_timeout=1, socket_timeout=1)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(self, request: web.Request) -> web.Response:
        parts = await readiness(self.app, self.redis)
        ready = all(state == "ok" for state in parts.values())
        return web.json_response({"ready": ready, **parts}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            await self.app.metrics.refresh_queue(self.redis, self.queue)
        except Exception as exc:  # noqa: BLE001 - Redis away: the queue gauges keep their last values
            log.debug("queue metrics not refreshed: %s", type(exc).__name__)
        return web.Response(body=self.app.metrics.exposition(),
                            headers={"Content-Type": self.app.metrics.content_type})

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/healthz", self.healthz)
        router.add_get("/readyz", self.readyz)
        router.add_get("/metrics", self.metrics)

    async def aclose(self, _app: web.Application | None = None) -> None:
        await self.redis.aclose()


def add_ops(web_app: web.Application, app: AppContext) -> Ops:
    ops = Ops(app)
    ops.add_routes(web_app.router)
    web_app.on_cleanup.append(ops.aclose)
    return ops


async def start_health_server(app: AppContext, host: str, port: int) -> web.AppRunner:
    """The small HTTP server of a bot or worker process (HEALTH_PORT); stop it with `await runner.cleanup()`."""
    health = web.Application()
    add_ops(health, app)
    runner = web.AppRunner(health, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"HEALTH_PORT: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    log.info("health and metrics on http://%s:%s (/healthz, /readyz, /metrics)", host, port)
    return runner
