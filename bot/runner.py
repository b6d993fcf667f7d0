"""Start the long-running services (bot, web gallery, worker) in one process or separately."""
from __future__ import annotations

import asyncio
import logging
import signal

from redis.exceptions import RedisError

from data.context import AppContext
from data.db import alembic_config
from data.settings import ConfigError, Settings

log = logging.getLogger("mimic")


def ensure_schema(app: AppContext, *, upgrade: bool) -> None:
    """Apply migrations (small installs) or insist that someone did (scaled installs)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    if upgrade:
        app.db.upgrade()
        return
    head = ScriptDirectory.from_config(alembic_config(app.db.url)).get_current_head()
    with app.db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise ConfigError("the database schema is not up to date: run `mimic db upgrade` first")


# a lost Redis: the first retry after this long, doubling up to the cap (settings: REDIS_RETRY_MAX_S)
REDIS_RETRY_FIRST_S = 0.5


async def run_worker(worker, *, retry_max_s: float) -> None:
    """`worker.main()`, carried on through Redis restarts: one log line when Redis goes, retries with backoff
    (its jobs keep running meanwhile; their state is in the database), one line when it is back."""
    delay = REDIS_RETRY_FIRST_S
    while True:
        try:
            await worker.main()
            return
        except (RedisError, OSError) as exc:  # redis-py's ConnectionError/TimeoutError, a refused socket
            log.warning("worker lost Redis (%s); retrying with backoff until it is back", type(exc).__name__)
        while True:  # wait until Redis answers before polling again (arq's pool reconnects by itself)
            await asyncio.sleep(delay)
            delay = min(delay * 2, retry_max_s)
            try:
                await worker.pool.ping()
                break
            except (RedisError, OSError):
                continue
        log.warning("worker: Redis is back; carrying on")
        delay = REDIS_RETRY_FIRST_S


async def close_worker(worker) -> None:
    """arq's `close()`, which raises when Redis is gone (it deletes its health key there): then close what is left
    quietly, in one line."""
    try:
        await worker.close()
    except (RedisError, OSError) as exc:
        log.warning("worker stopped without Redis (%s)", type(exc).__name__)
        try:
            await worker.pool.close(close_connection_pool=True)
        except (RedisError, OSError, AttributeError):
            pass


async def run_services(settings: Settings, services: set[str], *, port: int | None = None, host: str | None = None,
                       burst: bool = False) -> int:
    if services == {"bot"} and settings.discord_token is None:  # `mimic bot` has nothing else to run
        raise ConfigError("DISCORD_TOKEN is not set: the bot needs its token (Discord developer portal, Bot page)")
    app = AppContext.create(settings)
    ensure_schema(app, upgrade="bot" in services and "worker" in services)
    tasks: list[asyncio.Task] = []
    stop = asyncio.Event()
    worker = None
    health = None
    if settings.health_port and services != {"web"}:  # /healthz, /readyz, /metrics for probes and Prometheus
        from bot.ops import start_health_server

        health = await start_health_server(app, settings.health_host, settings.health_port)

    if "worker" in services:
        from engine.worker import build_worker

        # the worker shares this process: it must not take SIGTERM for itself and leave the others running
        worker = build_worker(settings, app=app, burst=burst, handle_signals=False)
        tasks.append(asyncio.create_task(run_worker(worker, retry_max_s=settings.redis_retry_max_s), name="worker"))
    if "web" in services:
        from bot.web.server import serve_web

        tasks.append(asyncio.create_task(serve_web(app, host=host or settings.web_host,
                                                   port=port or settings.web_port), name="web"))
    if "bot" in services:
        if settings.discord_token is None:
            log.warning("Discord bot disabled: DISCORD_TOKEN is not set")
        else:
            from bot.discord.client import run_bot

            tasks.append(asyncio.create_task(run_bot(app), name="bot"))
    if not tasks:
        log.error("nothing to run")
        if health is not None:
            await health.cleanup()
        await app.aclose()
        return 1

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait(), name="signal")
    done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    status = 0
    for task in done:
        if task is not waiter and task.exception() is not None:
            exc = task.exception()
            if isinstance(exc, ConfigError):
                raise exc
            log.error("%s stopped: %s", task.get_name(), exc)
            status = 1
    for task in [*tasks, waiter]:
        task.cancel()
    await asyncio.gather(*tasks, waiter, return_exceptions=True)
    if worker is not None:
        # stops its running jobs the arq way (a training checkpoints and goes back to the queue) and waits
        # for them, while the database and Redis are still open
        await close_worker(worker)
    if health is not None:
        await health.cleanup()
    await app.aclose()
    return status
