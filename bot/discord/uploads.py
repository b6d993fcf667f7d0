"""The upload form: a modal of file-upload fields, for /maker create and /protect files.

Discord gives a modal at most 5 components and a File Upload at most 10 files, and a File Upload lives in a
Label (https://discord.com/developers/docs/components/reference#file-upload): three fields make the 30 images an
artist may give, and the fourth place holds the "use my posts" checkbox where it applies. The files arrive with
the submission (`data.resolved.attachments`); each is fetched on its own, so one that is too big or not an image
is named with its reason while the others go on to the use case."""
from __future__ import annotations

import asyncio

import discord

from bot.core import Core, Refusal
from bot.core.makers import Upload
from bot.discord.common import core_of, read_attachment, say
from bot.discord.errors import report_error
from bot.i18n import Text

FIELDS = 3
FILES_PER_FIELD = 10  # Discord's most for one File Upload
MAX_FILES = FIELDS * FILES_PER_FIELD
FETCHES_AT_ONCE = 4
FORM_TIMEOUT_S = 1800  # choosing 30 files takes a while; a form submitted later than this (or after a restart) is
# forgotten: Discord then tells the user the interaction failed, and they run the command again
# read_attachment's refusals name the file; in a list of "file: reason" lines the reason alone reads better
AS_REASON = {"upload.too_big": "image.too_large", "upload.not_image": "image.not_an_image"}


class UploadForm(discord.ui.Modal):
    """Three optional file fields (and, with `posts_option`, a checkbox); subclasses say what to do on submit."""

    def __init__(self, interaction: discord.Interaction, title: str, custom_id: str, *, posts_option: bool = False):
        super().__init__(title=title[:45], timeout=FORM_TIMEOUT_S, custom_id=custom_id[:100])
        self.fields: list[discord.ui.FileUpload] = []
        for index in range(FIELDS):
            upload = discord.ui.FileUpload(custom_id=f"files{index + 1}", required=False, min_values=0,
                                           max_values=FILES_PER_FIELD)
            first = index * FILES_PER_FIELD + 1
            self.add_item(discord.ui.Label(
                text=say(interaction, "upload.form_files", first=first, last=first + FILES_PER_FIELD - 1)[:45],
                description=say(interaction, "upload.form_files_hint")[:100], component=upload))
            self.fields.append(upload)
        self.from_posts: discord.ui.Checkbox | None = None
        if posts_option:
            self.from_posts = discord.ui.Checkbox(custom_id="from_posts")
            self.add_item(discord.ui.Label(text=say(interaction, "maker.form_posts")[:45],
                                           description=say(interaction, "maker.form_posts_hint")[:100],
                                           component=self.from_posts))

    @property
    def attachments(self) -> list[discord.Attachment]:
        return [attachment for field in self.fields for attachment in field.values]

    @property
    def use_posts(self) -> bool:
        return bool(self.from_posts is not None and self.from_posts.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error, core_of(interaction).settings)


async def fetch_uploads(core: Core, interaction: discord.Interaction,
                        attachments: list[discord.Attachment]) -> list[Upload]:
    """Every attachment as an Upload, in order; one that can't be fetched carries its reason instead of bytes."""
    slots = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def fetch(attachment: discord.Attachment) -> Upload:
        async with slots:
            try:
                return Upload(attachment.filename, await read_attachment(core, interaction, attachment))
            except Refusal as refused:
                reason = Text(AS_REASON.get(refused.key, refused.key), **refused.params)
                return Upload(attachment.filename, b"", problem=reason)
    return list(await asyncio.gather(*(fetch(a) for a in attachments)))
