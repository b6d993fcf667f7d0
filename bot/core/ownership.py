"""The ownership gate as the use cases see it (being wired to verification/ by the lead)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ImageCheck:
    filename: str
    ok: bool
    reason: str
    blob: str = ""
    artwork_id: int | None = None
    someone_elses: bool = False  # matched another artist's claimed or protected work: an incident


async def check_uploads(core, actor, uploads, *, from_posts: bool = False) -> list[ImageCheck]:
    raise NotImplementedError("wired by the lead")


async def check_remake_source(core, actor, data: bytes) -> None:
    raise NotImplementedError("wired by the lead")
