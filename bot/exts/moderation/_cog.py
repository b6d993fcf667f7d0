"""/report for everyone; /review, /takedown and /ban for moderators (the use cases check the role)."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import Refusal
from bot.core.generations import get_generation
from bot.core.makers import approve_maker, find_maker, reject_maker, review_entries
from bot.core.disputes import (decide_dispute, decision_notices, dispute_view, open_disputes, settle_suspended,
                               suspended_makers)
from bot.core.moderation import ban_user, file_report, take_down
from bot.core.ownership import allow_file
from bot.discord.common import (acknowledged, actor_for, answer, core_of, deliver_notices, generation_for_reference,
                                say)
from data.media import file_extension
from bot.exts.results._cog import remove_gallery_message

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

TARGET = "A result number, its message link, or a maker name"


async def resolve_target(interaction: discord.Interaction, reference: str) -> tuple[str, int, str]:
    """(target kind, row id, how to name it) for a result number, a message link or a maker name."""
    core = core_of(interaction)
    generation_id = await generation_for_reference(core, reference)
    if generation_id is not None:
        return "generation", generation_id, f"#{generation_id}"
    if "/" in reference or not reference.strip():
        raise Refusal("report.bad_reference")
    maker = await find_maker(core, reference)
    return "maker", maker.id, maker.name



async def _moderator_on(interaction: discord.Interaction, user: discord.User):
    """A moderator acting on a person: checked before the person is looked up (others learn nothing of them)."""
    core = core_of(interaction)
    actor = await actor_for(interaction)
    actor.require_moderator()
    row = await core.user_for_discord(user.id, user.display_name)
    return core, actor, row.id


class Moderation(commands.Cog):
    review = app_commands.Group(name="review", description="Moderators: makers waiting for review", guild_only=True)

    def __init__(self, bot: MimicBot):
        self.bot = bot

    @app_commands.command(name="report", description="Report a result or a maker to the moderators")
    @app_commands.describe(target=TARGET, reason="What is wrong")
    async def report(self, interaction: discord.Interaction, target: app_commands.Range[str, 1, 200],
                     reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            kind, row_id, _ = await resolve_target(interaction, target)
            report = await file_report(core_of(interaction), await actor_for(interaction), kind, row_id, reason)
            await answer(interaction, say(interaction, "report.filed", id=report.id))

    @review.command(name="queue", description="Show the review queue")
    async def review_list(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            lines = []
            for entry in await review_entries(core, await actor_for(interaction)):
                owner = entry.owner
                if owner is not None and owner.discord_id:
                    artist = f"<@{owner.discord_id}>"
                else:
                    artist = owner.display_name if owner else "?"
                lines.append(say(interaction, "review.line", name=entry.maker.name, artist=artist,
                                 images=entry.image_count))
            await answer(interaction, "\n".join(lines) if lines else say(interaction, "review.empty"))

    @review.command(name="approve", description="Approve a maker and start its training")
    @app_commands.describe(name="The maker's name")
    async def review_approve(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32]) -> None:
        async with acknowledged(interaction):
            maker, position = await approve_maker(core_of(interaction), await actor_for(interaction), name)
            await answer(interaction, say(interaction, "review.approved", name=maker.name, position=max(position, 1)))

    @review.command(name="reject", description="Reject a maker")
    @app_commands.describe(name="The maker's name", reason="What is wrong")
    async def review_reject(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32],
                            reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            maker = await reject_maker(core_of(interaction), await actor_for(interaction), name, reason)
            await answer(interaction, say(interaction, "review.rejected", name=maker.name))

    @app_commands.command(name="takedown", description="Moderators: remove a result or a maker")
    @app_commands.describe(target=TARGET, reason="What is wrong")
    @app_commands.guild_only()
    async def takedown(self, interaction: discord.Interaction, target: app_commands.Range[str, 1, 200],
                       reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            actor = await actor_for(interaction)
            actor.require_moderator()  # before resolving the target: non-moderators learn nothing about it
            kind, row_id, label = await resolve_target(interaction, target)
            await take_down(core, actor, kind, row_id, reason)
            if kind == "generation":
                await remove_gallery_message(interaction.client, await get_generation(core, row_id))
            await answer(interaction, say(interaction, "takedown.done", what=label))

    @app_commands.command(name="ban", description="Moderators: ban a user from mimic")
    @app_commands.describe(user="The user", reason="What is wrong")
    @app_commands.guild_only()
    async def ban(self, interaction: discord.Interaction, user: discord.User,
                  reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            core, actor, user_id = await _moderator_on(interaction, user)
            await ban_user(core, actor, user_id, reason)
            await answer(interaction, say(interaction, "ban.done", user=user.mention))

    # ownership disputes (bot.core.disputes) --------------------------------------------------------------------

    @review.command(name="disputes", description="Ownership disputes, both posts side by side")
    @app_commands.describe(dispute="A dispute number, to see its two images")
    async def review_disputes(self, interaction: discord.Interaction,
                              dispute: app_commands.Range[int, 1] | None = None) -> None:
        async with acknowledged(interaction):
            core, actor = core_of(interaction), await actor_for(interaction)
            views = [await dispute_view(core, actor, dispute)] if dispute else await open_disputes(core, actor)
            if not views:
                await answer(interaction, say(interaction, "dispute.empty"))
                return
            lines = [say(interaction, "dispute.entry", id=v.dispute.id, origin=v.dispute.origin,
                         artwork=v.dispute.artwork_id, holder=_person(v.holder.user), holder_post=v.holder.post_url,
                         holder_date=_date(v.holder.posted_at), claimant=_person(v.claimant.user),
                         claimant_post=v.claimant.post_url, claimant_date=_date(v.claimant.posted_at),
                         note=v.dispute.note) for v in views]
            files = []
            if dispute:  # the evidence: both posted images, holder first
                for side, blob in (("holder", views[0].holder.blob), ("claimant", views[0].claimant.blob)):
                    if blob and await core.app.blobs.aexists(blob):
                        data = await core.app.blobs.aget(blob)
                        files.append(discord.File(io.BytesIO(data),
                                                  filename=f"dispute-{dispute}-{side}.{file_extension(data)}"))
            await answer(interaction, "\n\n".join(lines)[:1900], files=files or None)

    @review.command(name="decide", description="Decide a dispute: move the work to the claimant or keep it")
    @app_commands.describe(dispute="The dispute number", decision="move: to the claimant; keep: with the holder",
                           note="Why (kept in the audit log)")
    async def review_decide(self, interaction: discord.Interaction, dispute: app_commands.Range[int, 1],
                            decision: Literal["move", "keep"], note: app_commands.Range[str, 0, 1000] = "") -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            decided, change = await decide_dispute(core, await actor_for(interaction), dispute, decision, note=note)
            for gen in change.hidden if change else []:
                await remove_gallery_message(interaction.client, gen)
            await deliver_notices(interaction.client, await decision_notices(core, decided, change))
            await answer(interaction, say(interaction, "dispute.decided", id=decided.id, decision=decided.status,
                                          makers=(change.suspended if change else []) or "—"))

    @review.command(name="suspended", description="Makers suspended because a work was another artist's")
    async def review_suspended(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            makers = await suspended_makers(core_of(interaction), await actor_for(interaction))
            lines = [f"• **{m.name}** ({m.suspended_from or '?'})" for m in makers]
            await answer(interaction, "\n".join(lines) if lines else say(interaction, "review.empty"))

    @review.command(name="settle", description="End a suspension: restore the maker or delete its LoRA")
    @app_commands.describe(name="The maker's name", decision="restore it, or delete its quarantined LoRA")
    async def review_settle(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 32],
                            decision: Literal["restore", "delete"]) -> None:
        async with acknowledged(interaction):
            maker = await settle_suspended(core_of(interaction), await actor_for(interaction), name,
                                           restore=decision == "restore")
            await answer(interaction, say(interaction, "maker.settled", name=maker.name, status=maker.status))

    @review.command(name="allow_file", description="Let a person use a file that its metadata refused")
    @app_commands.describe(user="The uploader", file="The file's code from the refusal (sha256 digits)")
    async def review_allow_file(self, interaction: discord.Interaction, user: discord.User,
                                file: app_commands.Range[str, 16, 64]) -> None:
        async with acknowledged(interaction):
            core, actor, user_id = await _moderator_on(interaction, user)
            sha = await allow_file(core, actor, user_id, file)
            await answer(interaction, say(interaction, "provenance.allowed", sha=sha, user=user.mention))


def _person(user) -> str:
    if user is None:
        return "?"
    return f"<@{user.discord_id}>" if user.discord_id else user.display_name


def _date(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "?"
