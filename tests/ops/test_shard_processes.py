"""Shards over several processes: two `mimic bot` processes, DISCORD_SHARD_COUNT=2 and DISCORD_SHARD_IDS=0 / 1,
against the local Discord-compatible server. Every process hears every worker event; each result is posted
once, by the process whose shard holds the result's guild ((guild_id >> 22) % 2)."""
from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from data.context import AppContext
from data.events import GenerationDone
from data.models import Generation, JobStatus, Maker, MakerStatus, SocialAccount, User, utcnow
from data.settings import ConfigError, load_settings
from tests.fakes.discord_server import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (seed * 40 % 256, 90, 200)).save(out, "PNG")
    return out.getvalue()


def _guilds_on_each_shard(fake: FakeDiscord) -> dict[int, object]:
    """A guild on shard 0 and one on shard 1 (a snowflake's shard follows its millisecond)."""
    found: dict[int, object] = {}
    owner = fake.user("owner")
    while len(found) < 2:
        guild = fake.add_guild(f"guild {len(fake.guilds)}", owner)
        found.setdefault((guild.id >> 22) % 2, guild)
        time.sleep(0.002)
    return found


def _seed(app: AppContext) -> tuple[int, int]:
    with app.db.session() as s:
        artist, fan = User(display_name="Aoi"), User(display_name="Fan")
        s.add_all([artist, fan])
        s.flush()
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="id-aoi", handle="aoi", verified_at=utcnow()))
        maker = Maker(owner_id=artist.id, name="aoi", status=MakerStatus.ready.value, lora_blob="0" * 64)
        s.add(maker)
        s.commit()
        return maker.id, fan.id


def _finished(app: AppContext, maker_id: int, fan_id: int, guild, seed: int) -> int:
    with app.db.session() as s:
        now = utcnow()
        gen = Generation(requester_id=fan_id, maker_id=maker_id, prompt=f"a cat {seed}", seed=seed, count=1,
                         status=JobStatus.done.value, image_blobs=[app.blobs.put(_png(seed))], trace_id=seed + 1,
                         guild_id=guild.id, channel_id=guild.channel("general").id, finished_at=now,
                         undeletable_until=now + timedelta(hours=48))
        s.add(gen)
        s.commit()
        return gen.id


def _posted(fake: FakeDiscord, guild) -> list:
    """The bot's result cards in the guild (Components V2: a card carries the reroll button, not an embed)."""
    return [m for m in fake.messages_in(guild.channel("general"))
            if m.source == "bot" and any(cid.startswith("mimic:reroll:") for cid in m.custom_ids())]


async def _until(predicate, timeout: float, what: str, procs) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for proc in procs:
            assert proc.poll() is None, f"a bot process died: {proc.stderr.read().decode()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_two_bot_processes_with_two_shards_post_each_result_once(settings):
    async with FakeDiscord(shard_count=2) as fake:
        guilds = _guilds_on_each_shard(fake)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": settings.database_url,
               "REDIS_URL": settings.redis_url, "REDIS_PREFIX": settings.redis_prefix,
               "VAR_DIR": str(settings.var_dir), "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DISCORD_SHARD_COUNT": "2", "LOG_LEVEL": "WARNING"}
        await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env,
                                cwd=ROOT, check=True, capture_output=True)
        app = AppContext.create(settings)
        maker_id, fan_id = _seed(app)
        # finished while no bot ran: each process's catch-up finds both, and posts only its own
        first = {shard: _finished(app, maker_id, fan_id, guild, seed=shard) for shard, guild in guilds.items()}
        procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "bot"], env={**env, "DISCORD_SHARD_IDS": str(i)},
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
                 for i in (0, 1)]
        try:
            await _until(lambda: all(_posted(fake, g) for g in guilds.values()), 90, "the caught-up results", procs)
            assert sorted(s.shard for s in fake.gateway.sessions.values()) == [(0, 2), (1, 2)]

            # then live events, which both processes hear
            second = {shard: _finished(app, maker_id, fan_id, guild, seed=10 + shard) for shard, guild in guilds.items()}
            for shard, generation_id in second.items():
                await app.events.publish(GenerationDone(id=generation_id, maker_id=maker_id))
            await _until(lambda: all(len(_posted(fake, g)) >= 2 for g in guilds.values()), 30, "the live results",
                         procs)
            await asyncio.sleep(2.0)  # time for a duplicate to show up, if one were coming

            for shard, guild in guilds.items():
                posts = _posted(fake, guild)
                assert len(posts) == 2, [m.text()[:60] for m in posts]
                with app.db.session() as s:
                    stored = {s.get(Generation, first[shard]).message_id, s.get(Generation, second[shard]).message_id}
                assert stored == {m.id for m in posts}
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            outputs = [await asyncio.to_thread(proc.communicate, timeout=60) for proc in procs]
            await app.aclose()
        for proc, (_, stderr) in zip(procs, outputs):
            assert proc.returncode == 0, stderr.decode()[-3000:]
            assert b"Traceback" not in stderr, stderr.decode()[-3000:]


def test_shard_settings_are_checked():
    assert load_settings(_env_file=None, discord_shard_count=4, discord_shard_ids="0-1,3").shard_ids == [0, 1, 3]
    assert load_settings(_env_file=None, discord_shard_count=4).shard_ids is None
    for bad in (dict(discord_shard_ids="0"), dict(discord_shard_count=2, discord_shard_ids="2"),
                dict(discord_shard_count=2, discord_shard_ids="zero")):
        with pytest.raises(ConfigError, match="DISCORD_SHARD"):
            load_settings(_env_file=None, **bad)


async def test_the_fake_refuses_an_invalid_shard_as_discord_does():
    """IDENTIFY with shard [2, 2] closes the connection with 4010 Invalid shard."""
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        async with http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
            hello = json.loads((await ws.receive()).data)
            assert hello["op"] == 10
            await ws.send_str(json.dumps({"op": 2, "d": {"token": fake.token, "intents": 1, "shard": [2, 2],
                                                          "properties": {}}}))
            closed = await ws.receive()
            assert ws.close_code == 4010, closed
