"""A finished result as the gallery shows it, and its persistent buttons (reroll, variations, report, delete).

The buttons' custom_ids carry the generation id (`mimic:reroll:42`), and the bot registers the DynamicItem
class at start-up, so a click on a message posted before a restart still reaches the right generation."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import discord

from bot.core.generations import MAX_COUNT, ResultCard, delete_generation, repeat_request
from bot.core.moderation import file_report
from bot.discord.common import acknowledged, actor_for, answer, core_of, say
from bot.discord.errors import guarded, report_error
from bot.exts.generate._cog import queue_generation
from bot.i18n import t
from data.media import file_extension
from data.models import Generation

MAX_FILES_PER_MESSAGE = 10


def result_files(card: ResultCard, images: list[bytes], size_limit: int) -> tuple[list[discord.File], int]:
    """Files for the images that fit the size limit, and how many did not."""
    files, too_big = [], 0
    for index, data in enumerate(images):
        if len(data) > size_limit:
            too_big += 1
            continue
        files.append(discord.File(io.BytesIO(data), filename=f"mimic-{card.generation.id}-{index + 1}."
                                  f"{file_extension(data)}"))
    return files, too_big


MAX_GALLERY_ITEMS = 10  # Discord's most for one Media Gallery


def result_card(card: ResultCard, locale: str, filenames: list[str], too_big: int, *,
                lock_hours: int, page_url: str | None = None) -> discord.ui.LayoutView:
    """The gallery post as a Components V2 card: the images in a media gallery, the artist's credit, the usage
    scope, the trace id, the 48-hour lock and the buttons, in one container (IS_COMPONENTS_V2: no content, no
    embeds; https://discord.com/developers/docs/components/reference)."""
    gen, maker = card.generation, card.maker
    ui = discord.ui
    artist = f"[{card.credit}](<{card.credit_url}>)" if card.credit_url else card.credit
    parts: list[discord.ui.Item] = [ui.TextDisplay(
        f"### {t('result.title', locale, maker=maker.name, artist=card.credit)}\n"
        + t("result.credit", locale, artist=artist))]
    if filenames:
        parts.append(ui.MediaGallery(*(
            discord.MediaGalleryItem(f"attachment://{name}", description=t(
                "result.image_alt", locale, maker=maker.name, artist=card.credit, number=index + 1)[:1024])
            for index, name in enumerate(filenames[:MAX_GALLERY_ITEMS]))))
    facts = []
    if gen.prompt:
        facts.append(f"**{t('result.prompt', locale)}** {_quote(gen.prompt[:1000])}")
    facts += [f"**{t('result.usage', locale)}** {t(f'usage.{maker.usage}', locale)}",
              f"**{t('result.trace', locale)}** `{gen.trace_id:010x}` · **{t('result.number', locale)}** #{gen.id}"]
    if card.requester is not None and card.requester.discord_id:
        facts.append(f"**{t('result.requested_by', locale)}** <@{card.requester.discord_id}>")
    if gen.undeletable_until is not None:
        until = discord.utils.format_dt(_aware(gen.undeletable_until), "f")
        facts.append(t("result.lock", locale, until=until, hours=lock_hours))
    if page_url:
        facts.append(t("result.page", locale, url=page_url))
    if too_big:
        facts.append(t("result.too_big", locale))
    parts += [ui.TextDisplay("\n".join(facts)), ui.Separator(), ui.ActionRow(*result_buttons(gen.id, locale))]
    view = ui.LayoutView(timeout=None)
    view.add_item(ui.Container(*parts, accent_colour=discord.Colour.blurple()))
    return view


def _quote(text: str) -> str:
    """A prompt shown as typed: no markdown, no mentions (the post pings nobody anyway)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def result_buttons(generation_id: int, locale: str) -> list[ResultButton]:
    return [ResultButton(action, generation_id, label=t(f"button.{action}", locale), style=style)
            for action, style in (("reroll", discord.ButtonStyle.primary),
                                  ("variations", discord.ButtonStyle.secondary),
                                  ("report", discord.ButtonStyle.danger),
                                  ("delete", discord.ButtonStyle.secondary))]


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
    interaction.client.generation_cooldowns.hit(interaction.user.id)  # type: ignore[attr-defined]
    async with acknowledged(interaction):
        again = await repeat_request(core_of(interaction), generation_id)
        if variations:
            await queue_generation(interaction, again.maker_name, again.prompt, count=MAX_COUNT,
                                   seed=(again.seed + 1) % 2**32, source_image=again.source_image)
        else:
            await queue_generation(interaction, again.maker_name, again.prompt, count=again.count,
                                   source_image=again.source_image)


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
        await report_error(interaction, error, core_of(interaction).settings)
