"""Load on the Discord bot through the fake Discord: N concurrent slash commands.

Prints the acknowledgement latency (INTERACTION_CREATE sent -> interaction callback received) p50/p99/max
and the throughput (interactions fully answered per second). Issue 5's target: p99 < 250 ms at 100.

    .venv/bin/python bench/bot_load.py                 # the minimal bot below, 100 concurrent, 3 rounds
    .venv/bin/python bench/bot_load.py -n 200 --rounds 5
    .venv/bin/python bench/bot_load.py --bot mimic      # the real mimic bot, /generate maker:aoi
    .venv/bin/python bench/bot_load.py --bot bot.discord.bench:build --command generate \\
        --options '{"maker": "aoi", "prompt": "smiling"}'

Hook for the real bot: `--bot module:function`, where function(settings) returns a discord.Client (or an
awaitable of one) that is configured from `settings` (DISCORD_API_BASE / DISCORD_GATEWAY_URL already point
at the fake, discord_token is the fake's token) and whose setup_hook syncs its command tree; seed whatever
the command needs (makers, artists) inside it, and give the client an async `bench_cleanup()` attribute
if something must be undone afterwards. Its commands are invoked by the fake's "fan" user.
The fake runs in its own process by default (as Discord runs elsewhere); --same-process shares the loop.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import logging
import multiprocessing
import os
import statistics
from collections import Counter
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord.ext import commands  # noqa: E402

from tests.fakes.discord_server import FakeDiscord, discord_py_pointed_at, running_bot  # noqa: E402


class MinimalBot(commands.Bot):
    """Stands in for the mimic bot: defers at once, does a little async work, follows up."""

    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), guild_ready_timeout=0.05)

    async def setup_hook(self) -> None:
        @self.tree.command(name="generate", description="queue a generation")
        async def generate(interaction: discord.Interaction, maker: str, prompt: str) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.01)  # stands in for writing a row and enqueueing a job
            await interaction.followup.send(f"queued {maker}: {prompt}")

        await self.tree.sync()


def mimic_bot(settings):
    """The real mimic bot (bot.discord.client.build_bot) with its own SQLite database, the real Redis
    (REDIS_URL, default redis://127.0.0.1:6379/0, keys under a bench-only prefix) and a ready maker "aoi"
    owned by a verified artist, so `/generate maker:aoi` runs the whole use case and enqueues a job."""
    from sqlmodel import SQLModel

    from bot.core import Core
    from bot.discord.client import build_bot
    from data.context import AppContext
    from data.models import Maker, MakerStatus, SocialAccount, User, utcnow

    settings = settings.model_copy(
        update={
            "redis_url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "redis_prefix": f"mimic-bench-{os.getpid()}",
            "daily_generations_per_fan": 10**9,  # the bench measures acknowledgement, not quotas
        }
    )
    app = AppContext.create(settings)
    SQLModel.metadata.create_all(app.db.engine)
    with app.db.session() as s:
        artist = User(display_name="bench artist")
        s.add(artist)
        s.commit()
        s.refresh(artist)
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="id-aoi", handle="aoi", verified_at=utcnow()))
        s.add(Maker(owner_id=artist.id, name="aoi", status=MakerStatus.ready.value, lora_blob="0" * 64))
        s.commit()
    core = Core.create(app)
    bot = build_bot(core)

    async def cleanup() -> None:
        import redis

        await core.aclose()
        await app.aclose()
        client = redis.Redis.from_url(app.redis_url)
        keys = list(client.scan_iter(match=f"*{settings.redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()

    bot.bench_cleanup = cleanup  # the queued jobs must not linger in the shared Redis
    return bot


@dataclass
class Endpoints:
    api_base: str
    gateway_url: str
    token: str


async def build_client(spec: str | None, endpoints: Endpoints) -> discord.Client:
    if not spec:
        return MinimalBot()
    from data.settings import Settings

    if spec == "mimic":
        factory = mimic_bot
    else:
        module_name, _, func_name = spec.partition(":")
        factory = getattr(importlib.import_module(module_name), func_name)
    settings = Settings(
        var_dir=Path(tempfile.mkdtemp(prefix="mimic-bench-")),
        discord_token=endpoints.token,
        discord_api_base=endpoints.api_base,
        discord_gateway_url=endpoints.gateway_url,
    )
    client = factory(settings)
    return await client if inspect.isawaitable(client) else client


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


async def one_round(fake: FakeDiscord, n: int, command: str, options: dict, timeout: float) -> dict:
    started, cpu_started = time.perf_counter(), time.process_time()
    handles = await asyncio.gather(*(fake.inject_slash_command(command, options) for _ in range(n)))
    await asyncio.gather(*(h.wait_callback(timeout) for h in handles))
    acked = time.perf_counter() - started
    answers = await asyncio.gather(*(h.wait_response(timeout) for h in handles))
    answered = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    latencies = [h.ack_latency for h in handles if h.ack_latency is not None]
    failed = sum(1 for h in handles if not h.acknowledged)
    return {
        "n": n,
        "failed": failed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 99),
        "max_ms": 1000 * max(latencies),
        "acks_per_s": n / acked,
        "answers_per_s": n / answered,
        "sample_answer": answers[-1].text()[:120],
        # answers grouped by their opening words: more than one group usually means some requests failed
        "answer_kinds": dict(Counter(" ".join(a.text().split()[:2]) for a in answers)),
        "cpu_ms_each": 1000 * cpu / n,  # this process: the fake, plus the bot with --same-process
    }


async def drive(fake: FakeDiscord, args: argparse.Namespace, on_start=lambda: None) -> list[dict]:
    """The fake's side: wait for the bot, warm up, run the rounds."""
    options = json.loads(args.options) if args.options else {"maker": "aoi", "prompt": "smiling"}
    await fake.wait_until_connected(args.timeout)
    await fake.wait_for_sync(args.timeout)
    # a cold round first: the client's connection pool grows to n connections, caches fill
    cold = await one_round(fake, args.n, args.command, options, args.timeout)
    on_start()
    return [cold] + [await one_round(fake, args.n, args.command, options, args.timeout) for _ in range(args.rounds)]


async def run_same_process(args: argparse.Namespace) -> tuple[list[dict], float | None]:
    async with FakeDiscord(rate_limit=10_000) as fake:
        client = await build_client(args.bot, Endpoints(fake.api_base, fake.gateway_url, fake.token))
        try:
            async with running_bot(client, fake):
                return await drive(fake, args), None
        finally:
            if hasattr(client, "bench_cleanup"):
                await client.bench_cleanup()


def fake_process_main(conn, args: argparse.Namespace) -> None:
    async def serve() -> None:
        async with FakeDiscord(rate_limit=10_000) as fake:
            conn.send(("endpoints", Endpoints(fake.api_base, fake.gateway_url, fake.token)))
            try:
                results = await drive(fake, args, on_start=lambda: conn.send(("started", None)))
            except Exception as exc:  # report it to the bot's process instead of hanging it
                conn.send(("error", repr(exc)))
            else:
                conn.send(("results", results))

    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve())


async def run_split(args: argparse.Namespace) -> tuple[list[dict], float | None]:
    """The fake in its own process, as Discord is on other machines: the bot's latency is its own."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=fake_process_main, args=(theirs, args), daemon=True)
    process.start()
    try:
        kind, endpoints = await asyncio.to_thread(ours.recv)
        client = await build_client(args.bot, endpoints)
        with discord_py_pointed_at(endpoints.api_base, endpoints.gateway_url):
            task = asyncio.create_task(client.start(endpoints.token))
            try:
                kind, value = await asyncio.to_thread(ours.recv)
                cpu_started = time.process_time()
                if kind == "started":
                    kind, value = await asyncio.to_thread(ours.recv)
                if kind != "results":
                    raise RuntimeError(f"fake Discord process failed: {value}")
                bot_cpu_ms = 1000 * (time.process_time() - cpu_started) / (args.n * args.rounds)  # warm rounds
                return value, bot_cpu_ms
            finally:
                await client.close()
                await asyncio.gather(task, return_exceptions=True)
                if hasattr(client, "bench_cleanup"):
                    await client.bench_cleanup()
    finally:
        process.join(10)


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    load_before = os.getloadavg()
    results, bot_cpu_ms = await (run_same_process(args) if args.same_process else run_split(args))
    where = "the same process as the bot" if args.same_process else "its own process"
    print(f"bot: {args.bot or 'bench MinimalBot'}  command: /{args.command}  concurrent: {args.n}  rounds: {args.rounds}")
    print(f"load average before: {load_before[0]:.2f} (cores: {os.cpu_count()}); fake Discord in {where}")
    cpu_label = "cpu ms each" + (" (bot+fake)" if args.same_process else " (fake)")
    print(f"{'round':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'acks/s':>8} {'answers/s':>10} {cpu_label:>22} {'failed':>6}")
    for i, r in enumerate(results):
        print(
            f"{i if i else 'cold':>5} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} "
            f"{r['acks_per_s']:>8.0f} {r['answers_per_s']:>10.0f} {r['cpu_ms_each']:>22.2f} {r['failed']:>6}"
        )
    print(f"a sample answer: {results[-1]['sample_answer']!r}")
    for i, r in enumerate(results):
        if len(r["answer_kinds"]) > 1:
            print(f"round {i if i else 'cold'}: answers of different kinds (by first words): {r['answer_kinds']}")
    if bot_cpu_ms is not None:
        print(f"bot process cpu per interaction: {bot_cpu_ms:.2f} ms")
    warm = results[1:]
    worst_p99 = max(r["p99_ms"] for r in warm)
    verdict = "PASS" if worst_p99 < args.target_ms and not any(r["failed"] for r in results) else "FAIL"
    print(f"worst p99 ack of the warm rounds {worst_p99:.1f} ms (target < {args.target_ms:.0f} ms): {verdict}")
    return 0 if verdict == "PASS" else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100, help="concurrent interactions per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bot", default="", help='"mimic" (the real bot) or module:function building a bot from Settings')
    parser.add_argument("--command", default="generate", help='slash command path, e.g. "maker list"')
    parser.add_argument("--options", default="", help="JSON object of option values")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--target-ms", type=float, default=250.0)
    parser.add_argument("--same-process", action="store_true", help="run the fake in the bot's process and event loop")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
