"""What the results poster needs from the database, as use cases: the adapter posts, these decide what.

The poster (bot/discord/poster.py) turns worker events into Discord messages; every look-up and record it makes
lives here, so a cog never reaches into the tables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from bot.core.app import Core
from bot.core.generations import ResultCard, unposted_result
from data.credit import public_credit
from data.models import Generation, JobStatus, Maker, MakerStatus, Visibility


@dataclass(frozen=True)
class MakerNews:
    """A maker to announce (ready, or waiting for review), with its artist's public credit."""

    maker_id: int
    name: str
    guild_id: int | None
    public: bool
    credit: str


async def unposted_since(core: Core, since: datetime) -> list[int]:
    """Finished, visible results since `since` that no message carries yet (a catch-up after a restart)."""
    return await core.db(lambda s: list(s.exec(select(Generation.id).where(
        Generation.status == JobStatus.done.value, Generation.message_id.is_(None),
        Generation.taken_down.is_(False), Generation.finished_at >= since)).all()))


async def unposted_card(core: Core, generation_id: int) -> ResultCard | None:
    return await core.db(lambda s: unposted_result(s, generation_id))


async def record_post(core: Core, generation_id: int, channel_id: int, message_id: int) -> None:
    """The gallery message that shows a result: its buttons and reports find the result by it."""
    def remember(s) -> None:
        row = s.get(Generation, generation_id)
        row.channel_id, row.message_id = channel_id, message_id
        s.add(row)
        s.commit()
    await core.db(remember)


async def maker_name(core: Core, maker_id: int) -> str:
    maker = await core.db(lambda s: s.get(Maker, maker_id))
    return maker.name if maker else "?"


async def cancel_reason(core: Core, generation_id: int) -> str:
    gen = await core.db(lambda s: s.get(Generation, generation_id))
    return gen.error or "" if gen else ""


async def maker_news(core: Core, maker_id: int, status: MakerStatus) -> MakerNews | None:
    """The maker to announce, if it is (still) in `status` when the news is posted."""
    def read(s) -> MakerNews | None:
        maker = s.get(Maker, maker_id)
        if maker is None or maker.status != status.value:
            return None
        return MakerNews(maker.id, maker.name, maker.guild_id, maker.visibility == Visibility.public.value,
                         public_credit(s, maker.owner_id).name)
    return await core.db(read)
