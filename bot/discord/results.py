"""A finished result as the gallery shows it, and its persistent buttons (reroll, variations, report, delete).

The buttons' custom_ids carry the generation id (`mimic:reroll:42`), and the bot registers the DynamicItem
class at start-up, so a click on a message posted before a restart still reaches the right generation."""
from __future__ import annotations

import io

import discord

from bot.core.generations import MAX_COUNT, ResultCard, delete_generation, get_generation
from bot.core.moderation import file_report
from bot.discord.common import acknowledged, actor_for, answer, core_of, say
from bot.discord.errors import guarded
from bot.i18n import t
from data.models import Generation, Maker

MAX_FILES_PER_MESSAGE = 10


def image_extension(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "png"


def result_files(card: ResultCard, images: list[bytes], size_limit: int) -> tuple[list[discord.File], int]:
    """Files for the images that fit the size limit, and how many did not."""
    files, too_big = [], 0
    for index, data in enumerate(images):
        if len(data) > size_limit:
            too_big += 1
            continue
        files.append(discord.File(io.BytesIO(data), filename=f"mimic-{card.generation.id}-{index + 1}."
                                  f"{image_extension(data)}"))
    return files, too_big


def result_embed(card: ResultCard, locale: str, first_file: str | None, too_big: int) -> discord.Embed:
    gen, maker = card.generation, card.maker
    embed = discord.Embed(title=t("result.title", locale, maker=maker.name, artist=card.credit),
                          description=gen.prompt[:1000] or None, colour=discord.Colour.blurple())
    embed.add_field(name=t("result.usage", locale), value=t(f"usage.{maker.usage}", locale))
    embed.add_field(name=t("result.trace", locale), value=f"`{gen.trace_id:010x}`")
    embed.add_field(name=t("result.number", locale), value=f"#{gen.id}")
    if card.requester is not None and card.requester.discord_id:
        embed.add_field(name=t("result.requested_by", locale), value=f"<@{card.requester.discord_id}>")
    if first_file:
        embed.set_image(url=f"attachment://{first_file}")
    if too_big:
        embed.set_footer(text=t("result.too_big", locale))
    return embed


def result_view(generation_id: int, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action, style in (("reroll", discord.ButtonStyle.primary), ("variations", discord.ButtonStyle.secondary),
                          ("report", discord.ButtonStyle.danger), ("delete", discord.ButtonStyle.secondary)):
        view.add_item(ResultButton(action, generation_id, label=t(f"button.{action}", locale), style=style))
    return view


def chunks(items: list, size: int = MAX_FILES_PER_MESSAGE) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


class ResultButton(discord.ui.DynamicItem[discord.ui.Button],
                   template=r"mimic:(?P<action>reroll|variations|report|delete):(?P<id>[0-9]+)"):
    def __init__(self, action: str, generation_id: int, *, label: str | None = None,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary):
        super().__init__(discord.ui.Button(label=label or action, style=style,
                                           custom_id=f"mimic:{action}:{generation_id}"))
        self.action, self.generation_id = action, generation_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match):
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        settings = core_of(interaction).settings
        if self.action == "report":
            await guarded(interaction, settings, interaction.response.send_modal(
                ReportModal(self.generation_id, interaction)))
            return
        await guarded(interaction, settings, ACTIONS[self.action](interaction, self.generation_id))


async def _again(interaction: discord.Interaction, generation_id: int, *, variations: bool) -> None:
    """Reroll: the same request with a new seed. Variations: neighbouring seeds, a full batch."""
    from bot.discord.generate import queue_generation

    async with acknowledged(interaction):
        core = core_of(interaction)
        gen = await get_generation(core, generation_id)
        maker = await core.db(lambda s: s.get(Maker, gen.maker_id))
        found = await core.app.blobs.aget_present([gen.source_blob]) if gen.source_blob else []
        source = found[0] if found else None
        if variations:
            await queue_generation(interaction, maker.name, gen.prompt, count=MAX_COUNT,
                                   seed=(gen.seed + 1) % 2**32, source_image=source)
        else:
            await queue_generation(interaction, maker.name, gen.prompt, count=gen.count, source_image=source)


async def _reroll(interaction: discord.Interaction, generation_id: int) -> None:
    await _again(interaction, generation_id, variations=False)


async def _variations(interaction: discord.Interaction, generation_id: int) -> None:
    await _again(interaction, generation_id, variations=True)


async def _delete(interaction: discord.Interaction, generation_id: int) -> None:
    """Requesters wait out the 48-hour lock (core refuses politely before then); moderators may delete now."""
    async with acknowledged(interaction):
        gen = await delete_generation(core_of(interaction), await actor_for(interaction), generation_id)
        await remove_gallery_message(interaction.client, gen)
        await answer(interaction, say(interaction, "delete.done", id=gen.id))


async def remove_gallery_message(client: discord.Client, gen: Generation) -> None:
    """Delete the posted result (bot token); a message already gone is fine."""
    if not gen.channel_id or not gen.message_id:
        return
    channel = client.get_partial_messageable(gen.channel_id)
    try:
        await channel.get_partial_message(gen.message_id).delete()
    except discord.HTTPException:
        pass


ACTIONS = {"reroll": _reroll, "variations": _variations, "delete": _delete}


class ReportModal(discord.ui.Modal):
    def __init__(self, generation_id: int, interaction: discord.Interaction):
        super().__init__(title=say(interaction, "report.modal_title")[:45], timeout=600,
                         custom_id=f"mimic:report-form:{generation_id}")
        self.generation_id = generation_id
        self.reason = discord.ui.TextInput(label=say(interaction, "report.modal_reason")[:45],
                                           style=discord.TextStyle.paragraph, max_length=1000,
                                           custom_id="reason")
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def submit() -> None:
            async with acknowledged(interaction):
                report = await file_report(core_of(interaction), await actor_for(interaction), "generation",
                                           self.generation_id, str(self.reason.value))
                await answer(interaction, say(interaction, "report.filed", id=report.id))
        await guarded(interaction, core_of(interaction).settings, submit())

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        from bot.discord.errors import report_error

        await report_error(interaction, error, core_of(interaction).settings)
