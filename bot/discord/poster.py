"""The results poster: turns worker events into Discord messages.

Final results and "maker ready" announcements are posted with the bot token in the server's gallery channel
(the 15-minute interaction token may be long gone when a job finishes). The requester's private "thinking"
message is edited with progress while its token lives, at most once every 3 seconds. Events are only
notifications: at start-up, and after each reconnection to Redis, results that finished without being
posted are posted from the database."""
from __future__ import annotations

import asyncio
import io
import logging
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.core.gallery import generation_url
from bot.core.makers import training_images
from bot.core.moderation import guild_settings
from bot.core.posting import cancel_reason, maker_name, maker_news, record_post, unposted_card, unposted_since
from bot.discord.common import guild_locale
from bot.exts.results._cog import MAX_GALLERY_ITEMS, chunks, result_card, result_files
from bot.i18n import t
from data.events import (BotProbe, Event, GenerationCancelled, GenerationDone, GenerationFailed, GenerationStarted,
                         JobEvent, TrainingCancelled, TrainingDone, TrainingFailed, TrainingProgress, TrainingStarted)
from data.media import file_extension
from data.models import MakerStatus
from data.settings import redact

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

log = logging.getLogger("mimic.discord.poster")

PROGRESS_EVERY_S = 3.0
TOKEN_LIFE_S = 15 * 60 - 30  # stop editing a little before Discord's 15 minutes
CATCH_UP_WINDOW = timedelta(days=1)
PURGE_EVERY_S = 60.0
RETRY_FIRST_S = 0.5  # a lost Redis: the first reconnection after this long, doubling up to REDIS_RETRY_MAX_S
CLAIM_TTL_S = 600  # a posting claim outlives any post; a process that died mid-post frees it this late


@dataclass
class Tracked:
    """A requester's deferred interaction, kept to edit its message while the token lives."""

    interaction: discord.Interaction
    received: float
    last_edit: float = 0.0

    def alive(self) -> bool:
        return time.monotonic() - self.received < TOKEN_LIFE_S and not self.interaction.is_expired()


class ResultsPoster:
    def __init__(self, bot: MimicBot):
        self.bot = bot
        self.ready = asyncio.Event()  # set once the Redis subscription is live
        self._tracked: dict[tuple[str, int], Tracked] = {}
        self._posting: set[int] = set()
        self._posted: dict[int, asyncio.Future] = {}  # generation id -> its gallery message, once stored
        self._probe = f"poster-{uuid.uuid4().hex}"
        self._task: asyncio.Task | None = None
        self._current: asyncio.Task | None = None  # the event being handled, which a stop lets finish
        self._purged = time.monotonic()

    @property
    def core(self):
        return self.bot.core

    # --- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mimic-results-poster")

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop listening; a result being posted gets `grace_s` to finish (a post cut in half would be posted
        again by the next start's catch-up, after its message had gone out)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._current is not None and not self._current.done():
            _, pending = await asyncio.wait({self._current}, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._current, return_exceptions=True)
        self._current = None

    async def _run(self) -> None:
        delay, lost = RETRY_FIRST_S, False
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis hiccup: reconnect with backoff, never die
                if self.ready.is_set() or not lost:  # one line per outage, not one per retry
                    log.warning("event listener stopped (%s); reconnecting with backoff",
                                redact(str(exc), self.core.settings))
                    delay = RETRY_FIRST_S
                lost = True
                self.ready.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, max(RETRY_FIRST_S, self.core.settings.redis_retry_max_s))

    async def _listen(self) -> None:
        events = self.core.app.events
        prober = asyncio.create_task(self._probe_until_ready())
        try:
            async for event in events.events():
                if isinstance(event, BotProbe):
                    if event.nonce == self._probe and not self.ready.is_set():
                        self.ready.set()
                        await self._handle_shielded("catch-up", self._catch_up())
                    continue
                await self._handle_shielded(event.type, self.handle(event))
        finally:
            prober.cancel()

    async def _handle_shielded(self, what: str, work) -> None:
        """Handle in a task of its own, which a stop lets finish (see stop) rather than cutting a post in half."""
        self._current = asyncio.create_task(self._guarded(what, work))
        await asyncio.shield(self._current)

    async def _guarded(self, what: str, work) -> None:
        """One bad event must not stop the others; its traceback is logged without secrets."""
        try:
            await work
        except Exception as exc:  # noqa: BLE001
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            log.error("handling %s failed:\n%s", what, redact(details, self.core.settings))

    async def _probe_until_ready(self) -> None:
        """Publish a probe until our own subscription hears it: then no later event can be missed."""
        while not self.ready.is_set():
            await self.core.app.events.publish(BotProbe(nonce=self._probe))
            await asyncio.sleep(0.05)

    async def _catch_up(self) -> None:
        since = self.core.clock() - CATCH_UP_WINDOW
        for generation_id in await unposted_since(self.core, since):
            await self.post_generation(generation_id)

    # --- tracking requesters ----------------------------------------------------------------------------
    def track_generation(self, generation_id: int, interaction: discord.Interaction) -> None:
        self._track(("generation", generation_id), interaction)

    def track_maker(self, maker_id: int, interaction: discord.Interaction) -> None:
        self._track(("maker", maker_id), interaction)

    def _track(self, key: tuple[str, int], interaction: discord.Interaction) -> None:
        now = time.monotonic()
        if now - self._purged > PURGE_EVERY_S:  # jobs that ended without an event, or whose token expired
            self._purged = now
            for old in [k for k, tracked in self._tracked.items() if not tracked.alive()]:
                del self._tracked[old]
        self._tracked[key] = Tracked(interaction, now)

    async def _tell(self, kind: str, row_id: int, text: str, *, progress: bool = False, final: bool = False) -> None:
        tracked = self._tracked.get((kind, row_id))
        if tracked is None:
            return
        if not tracked.alive():
            self._tracked.pop((kind, row_id), None)
            return
        now = time.monotonic()
        if progress and now - tracked.last_edit < PROGRESS_EVERY_S:
            return
        tracked.last_edit = now
        if final:
            self._tracked.pop((kind, row_id), None)
        try:
            await tracked.interaction.edit_original_response(content=text)
        except discord.HTTPException as exc:  # expired or deleted: the public post is what matters
            log.info("progress edit skipped: %s", exc.status)
            self._tracked.pop((kind, row_id), None)

    def _locale_for(self, kind: str, row_id: int) -> str:
        tracked = self._tracked.get((kind, row_id))
        return str(tracked.interaction.locale.value) if tracked else "en"

    # --- events -----------------------------------------------------------------------------------------
    async def handle(self, event: Event) -> None:
        if not isinstance(event, JobEvent):
            return
        row_id, maker_id = event.id, event.maker_id
        if isinstance(event, GenerationDone):
            await self.post_generation(row_id)
        elif isinstance(event, GenerationStarted):
            name = await self._maker_name(maker_id)
            await self._tell("generation", row_id, t("generate.running", self._locale_for("generation", row_id),
                                                     name=name), progress=True)
        elif isinstance(event, GenerationFailed):
            await self._tell("generation", row_id, t("generate.failed", self._locale_for("generation", row_id),
                                                     id=row_id), final=True)
        elif isinstance(event, GenerationCancelled):
            reason = await cancel_reason(self.core, row_id)
            await self._tell("generation", row_id, t("generate.cancelled", self._locale_for("generation", row_id),
                                                     id=row_id, reason=reason), final=True)
        elif isinstance(event, (TrainingStarted, TrainingProgress)):
            name = await self._maker_name(maker_id)
            locale = self._locale_for("maker", maker_id)
            step, total = (event.step, event.total or "?") if isinstance(event, TrainingProgress) else (0, "?")
            await self._tell("maker", maker_id, t("maker.training_progress", locale, name=name, step=step,
                                                  total=total), progress=True)
        elif isinstance(event, TrainingDone):
            await self.announce_maker(maker_id)
        elif isinstance(event, (TrainingFailed, TrainingCancelled)):
            key = "maker.training_failed" if isinstance(event, TrainingFailed) else "maker.training_cancelled"
            name = await self._maker_name(maker_id)
            await self._tell("maker", maker_id, t(key, self._locale_for("maker", maker_id), name=name), final=True)

    async def _maker_name(self, maker_id: int) -> str:
        return await maker_name(self.core, maker_id)

    # --- where to post ----------------------------------------------------------------------------------
    async def gallery_channel_id(self, guild_id: int | None, fallback: int | None) -> int | None:
        if guild_id:
            configured = (await self.bot.guild_settings.get(guild_id)).gallery_channel_id
            if configured:
                return configured
        return fallback

    async def _channel(self, channel_id: int | None, guild_id: int | None) -> discord.abc.Messageable | None:
        """The channel to post in, if this process serves its server. With shards spread over several
        processes every process hears every event; only the one running the server's shard posts."""
        if not channel_id or not self.bot.owns_guild(guild_id):
            return None
        channel = self.bot.get_channel(channel_id)
        if channel is None and not self.bot.is_ready():  # just connected: the server list is still arriving
            await self.bot.wait_until_ready()
            channel = self.bot.get_channel(channel_id)
        if channel is None and (guild_id is None or self.bot.get_guild(guild_id) is not None):
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        return channel  # type: ignore[return-value]

    def _size_limit(self, channel, kind: str, row_id: int) -> int:
        tracked = self._tracked.get((kind, row_id))
        if tracked is not None and tracked.interaction.filesize_limit:
            return tracked.interaction.filesize_limit
        guild = getattr(channel, "guild", None)
        return guild.filesize_limit if guild is not None else 10 * 1024 * 1024

    # --- posting ----------------------------------------------------------------------------------------
    async def post_generation(self, generation_id: int) -> discord.Message | None:
        """Post a finished result once, in its server's gallery, from the process running that server's shard.

        Besides the shard rule, a claim in Redis keeps two processes holding the same shard for a moment (an old
        one finishing its last post while its replacement catches up) from both posting it."""
        if generation_id in self._posting:
            return None
        self._posting.add(generation_id)
        claim = f"{self.core.settings.redis_prefix}:posting:{generation_id}"
        claimed = False
        message = None
        try:
            card = await unposted_card(self.core, generation_id)
            if card is None or not self.bot.owns_guild(card.generation.guild_id):
                return None
            redis = await self.core.queue.pool()
            claimed = bool(await redis.set(claim, self._probe, nx=True, ex=CLAIM_TTL_S))
            if not claimed:
                return None
            message = await self._post_generation(card)
            return message
        finally:
            self._posting.discard(generation_id)
            if claimed and message is None:  # nothing went out: let a later catch-up try again
                await (await self.core.queue.pool()).delete(claim)

    async def _post_generation(self, card) -> discord.Message | None:
        gen = card.generation
        generation_id = gen.id
        channel = await self._channel(await self.gallery_channel_id(gen.guild_id, gen.channel_id), gen.guild_id)
        if channel is None:
            log.warning("no channel to post result %s in", generation_id)
            return None
        locale = guild_locale(getattr(channel, "guild", None))
        images = await self.core.app.blobs.aget_present(gen.image_blobs)
        files, too_big = result_files(card, images, self._size_limit(channel, "generation", generation_id))
        batches = chunks(files, MAX_GALLERY_ITEMS)
        view = result_card(card, locale, [f.filename for f in batches[0]], too_big,
                           lock_hours=self.core.settings.lock_hours,
                           page_url=generation_url(self.core.settings.public_url, gen.id))
        message = await channel.send(view=view, files=batches[0], allowed_mentions=discord.AllowedMentions.none())
        for batch in batches[1:]:
            await channel.send(files=batch)
        await record_post(self.core, generation_id, message.channel.id, message.id)
        posted = self._posted_future(generation_id)
        if not posted.done():
            posted.set_result(message)
        asyncio.get_running_loop().call_later(60, self._posted.pop, generation_id, None)
        await self._tell("generation", generation_id,
                         t("generate.posted", self._locale_for("generation", generation_id), link=message.jump_url),
                         final=True)
        return message

    def _posted_future(self, generation_id: int) -> asyncio.Future:
        return self._posted.setdefault(generation_id, asyncio.get_running_loop().create_future())

    async def wait_posted(self, generation_id: int, timeout: float = 30.0) -> discord.Message:
        """The gallery message of a result, once posted and stored on its row (for tests and tools)."""
        return await asyncio.wait_for(asyncio.shield(self._posted_future(generation_id)), timeout)

    async def announce_review(self, maker_id: int, fallback_channel_id: int | None) -> None:
        """Tell the server's moderators (their role, when configured) that a new maker waits for review."""
        maker = await maker_news(self.core, maker_id, MakerStatus.pending_review)
        if maker is None:
            return
        channel = await self._channel(await self.gallery_channel_id(maker.guild_id, fallback_channel_id),
                                      maker.guild_id)
        if channel is None:
            return
        credit = maker.credit
        policy = await guild_settings(self.core, maker.guild_id) if maker.guild_id else None
        role = f"<@&{policy.moderator_role_id}> " if policy is not None and policy.moderator_role_id else ""
        text = role + t("review.waiting", guild_locale(getattr(channel, "guild", None)), name=maker.name,
                        artist=credit)
        await channel.send(text, allowed_mentions=discord.AllowedMentions(roles=True, users=False, everyone=False))

    async def announce_maker(self, maker_id: int) -> None:
        maker = await maker_news(self.core, maker_id, MakerStatus.ready)
        if maker is None:
            return
        credit = maker.credit
        tracked = self._tracked.get(("maker", maker_id))
        fallback = tracked.interaction.channel_id if tracked else None
        await self._tell("maker", maker_id, t("maker.ready_private", self._locale_for("maker", maker_id),
                                              name=maker.name), final=True)
        if not maker.public:
            return
        channel = await self._channel(await self.gallery_channel_id(maker.guild_id, fallback), maker.guild_id)
        if channel is None:
            return
        locale = guild_locale(getattr(channel, "guild", None))
        await channel.send(t("maker.ready", locale, name=maker.name, artist=credit))
        policy = await guild_settings(self.core, maker.guild_id) if maker.guild_id else None
        if policy is not None and not policy.publish_training_images:
            return
        rows = await training_images(self.core, maker.maker_id)
        limit = getattr(getattr(channel, "guild", None), "filesize_limit", 10 * 1024 * 1024)
        files = []
        for index, data in enumerate(await self.core.app.blobs.aget_present(row.blob for row in rows)):
            if len(data) <= limit:
                files.append(discord.File(io.BytesIO(data), filename=f"{maker.name}-training-{index + 1}."
                                          f"{file_extension(data)}"))
        for number, batch in enumerate(chunks(files)):
            if batch:
                text = t("maker.training_images", locale, name=maker.name, artist=credit) if number == 0 else None
                await channel.send(content=text, files=batch)
