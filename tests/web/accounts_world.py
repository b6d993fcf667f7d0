"""A gallery with "Sign in with Discord" wired to the local Discord-compatible server (tests/fakes/discord_server.py):
the seeded gallery world (gallery_seed.py) whose artists and fan are the fake's users, served on a real port so that
PUBLIC_URL, the registered redirect and the browser agree."""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web
from sqlmodel import select

from bot.core.app import Core
from bot.web.security import Limit
from bot.web.server import WebLimits, build_web_app
from data.models import User
from engine.queue import JobQueue
from engine.worker import build_worker
from tests.fakes.discord_server import FakeDiscord
from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery

PEOPLE = {"artist": "aoi", "fan": "fan", "ren": "ren"}  # fake Discord user -> seeded gallery person


@dataclass
class World:
    base: str
    discord: FakeDiscord
    core: Core
    seeded: object
    runner: web.AppRunner
    worker: object  # an arq worker on the same Redis: it builds "Export my data"

    async def close(self) -> None:
        await self.worker.close()
        self.worker_task.cancel()
        await asyncio.gather(self.worker_task, return_exceptions=True)
        await self.runner.cleanup()
        await self.core.queue.aclose()
        await self.discord.close()
        self.core.app.db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_world(tmp_path, *, account: Limit | None = None, **overrides) -> World:
    discord = FakeDiscord()
    await discord.start()
    discord.create_user("ren")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    discord.oauth.redirect_uris = [f"{base}/signin/callback"]
    settings = gallery_settings(tmp_path, public_url=base, discord_client_id=discord.oauth.client_id,
                                discord_client_secret=discord.oauth.client_secret, discord_api_base=discord.api_base,
                                discord_oauth_authorize_url=f"{discord.base_url}/oauth2/authorize", **overrides)
    app = gallery_context(settings)
    seeded = seed_gallery(app)
    with app.db.session() as s:  # the seeded people are these Discord users
        for fake_name, key in PEOPLE.items():
            user = s.get(User, seeded.users[key])
            user.discord_id = discord.user(fake_name).id
            s.add(user)
        s.commit()
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    limits = WebLimits(account=account) if account else WebLimits()
    runner = web.AppRunner(build_web_app(core, limits=limits))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    worker = build_worker(settings, app=app, handle_signals=False)
    world = World(base=base, discord=discord, core=core, seeded=seeded, runner=runner, worker=worker)
    world.worker_task = asyncio.create_task(worker.main(), name="export-worker")
    return world


async def wait_for_export(world: World, session: aiohttp.ClientSession, timeout: float = 30.0) -> str:
    """Follow /me until the worker has built the export; the download link's path."""
    import re

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with session.get(f"{world.base}/me") as page:
            text = await page.text()
        found = re.search(r'href="(/me/exports/\d+\.zip)"', text)
        if found:
            return found.group(1)
        assert 'data-status="failed"' not in text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the export was not built in time")
        await asyncio.sleep(0.2)


def browser_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1


async def approve_on_discord(world: World, authorize_url: str, who: str, decision: str = "approve") -> str:
    """What a person does on Discord's consent page: the URL Discord sends the browser back to."""
    world.discord.oauth.browser_user = who
    query = dict(parse_qsl(urlsplit(authorize_url).query))
    async with aiohttp.ClientSession() as discord_tab:
        async with discord_tab.get(authorize_url) as page:
            assert page.status == 200, await page.text()
        async with discord_tab.post(f"{world.discord.base_url}/oauth2/authorize", data={**query, "decision": decision},
                                    allow_redirects=False) as answer:
            assert answer.status == 302, await answer.text()
            return answer.headers["Location"]


async def sign_in(world: World, session: aiohttp.ClientSession, who: str) -> aiohttp.ClientResponse:
    async with session.get(f"{world.base}/signin", allow_redirects=False) as start:
        assert start.status == 302
        back = await approve_on_discord(world, start.headers["Location"], who)
    async with session.get(back, allow_redirects=False) as answer:
        await answer.read()
        return answer


def person_id(world: World, key: str) -> int:
    return world.seeded.users[key]


def user_named(world: World, discord_name: str) -> User:
    with world.core.app.db.session() as s:
        return s.exec(select(User).where(User.discord_id == world.discord.user(discord_name).id)).one()
