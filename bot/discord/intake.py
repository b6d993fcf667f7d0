"""Where interactions come in: each one's acknowledgement latency is measured, and a clean stop turns new ones
away politely, lets those in flight finish (bounded), then lets the client close.

discord.py runs each interaction's handler in tasks it creates while parsing INTERACTION_CREATE (the command
tree's invoker, a view's or dynamic item's dispatch, a modal's). We wrap that one parser and record exactly the
tasks created during the call, with asyncio's public task-factory hook, so a stop can wait for them before the
HTTP session closes. Without this, `Client.close()` closes the session under them and every late answer dies
with `RuntimeError: Session is closed`.

Acknowledgement latency runs from reading INTERACTION_CREATE off the gateway to the end of the interaction's
first callback (POST /interactions/{id}/{token}/callback), seen through the aiohttp trace hook discord.py
offers (`Client(http_trace=...)`); a callback that Discord refused (the 3 s passed) is not counted as an ack."""
from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

import aiohttp
import discord

from bot.i18n import t

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger("mimic.discord")

AUTOCOMPLETE = 4  # interaction type: answered with choices, never with a message
CALLBACK_PATH = re.compile(r"/interactions/(\d+)/[^/]+/callback$")
WATCHED = 10_000  # arrivals remembered for their acknowledgement (the oldest are forgotten first)


class InteractionIntake:
    def __init__(self, bot: commands.Bot, observe_ack: Callable[[float], None] | None = None):
        self.bot = bot
        self.accepting = True
        self._tasks: set[asyncio.Task] = set()
        self._installed = False
        self._observe_ack = observe_ack
        self._arrived: OrderedDict[int, float] = OrderedDict()

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_request_end(_session, _context, params: aiohttp.TraceRequestEndParams) -> None:
            found = CALLBACK_PATH.search(params.url.path)
            if found is None:
                return
            arrived = self._arrived.pop(int(found.group(1)), None)
            if arrived is not None and params.response.status < 300 and self._observe_ack is not None:
                self._observe_ack(time.perf_counter() - arrived)
        trace.on_request_end.append(on_request_end)
        return trace

    def _arrival(self, data: dict) -> None:
        try:
            self._arrived[int(data["id"])] = time.perf_counter()
        except (KeyError, TypeError, ValueError):
            return
        while len(self._arrived) > WATCHED:
            self._arrived.popitem(last=False)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def install(self) -> None:
        """Route INTERACTION_CREATE through us (the connection state keeps one parser per gateway event)."""
        if self._installed:
            return
        parsers: dict[str, Callable[[Any], None]] = self.bot._connection.parsers
        original = parsers["INTERACTION_CREATE"]
        parsers["INTERACTION_CREATE"] = lambda data: self._parse(original, data)
        self._installed = True

    def _keep(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _parse(self, original: Callable[[Any], None], data: dict) -> None:
        self._arrival(data)
        if not self.accepting:
            self._keep(asyncio.create_task(self._turn_away(data), name="mimic-turn-away"))
            return
        loop = asyncio.get_running_loop()
        previous = loop.get_task_factory()

        def recording_factory(loop_, coro, **kwargs):
            task = previous(loop_, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop_, **kwargs)
            self._keep(task)
            return task

        loop.set_task_factory(recording_factory)
        try:
            original(data)
        finally:
            loop.set_task_factory(previous)

    async def _turn_away(self, data: dict) -> None:
        if data.get("type") == AUTOCOMPLETE:
            return
        interaction = discord.Interaction(data=data, state=self.bot._connection)
        locale = str(interaction.locale.value if interaction.locale else "en")
        try:
            await interaction.response.send_message(t("error.restarting", locale), ephemeral=True)
        except discord.HTTPException as exc:
            log.info("could not turn an interaction away while stopping: %s", exc.status)
        except RuntimeError:  # it arrived as the HTTP session closed: nothing left to answer with
            log.info("an interaction arrived as the bot closed; not answered")

    async def drain(self, grace_s: float) -> None:
        """Stop accepting, wait up to `grace_s` for the interactions in flight (and the polite answers to those
        that arrive meanwhile), then cancel what is left."""
        self.accepting = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        if self._tasks:
            log.info("stopping: waiting for %d interactions in flight (at most %.0f s)", len(self._tasks), grace_s)
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())
        pending = set(self._tasks)
        if pending:
            log.warning("stopping: %d interactions did not finish within %.0f s and were cancelled",
                        len(pending), grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
