"""The "No AI learning" list: any artist can protect their works without ever making a maker."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.core.app import Actor, Core
from bot.core.errors import Refusal
from bot.core.ownership import discard_unreferenced, fingerprint_bytes
from bot.core.makers import require_verified_artist
from bot.i18n import Text
from data.models import Artwork
from verification.registry import ArtworkItem, add_no_ai


MAX_FILES = 30  # one upload form's worth (three file fields of ten)


@dataclass
class Protected:
    works: int = 0
    refused: list[Text] = field(default_factory=list)  # "filename: reason" lines, in the reader's language


async def _require_verified(core: Core, actor: Actor) -> None:
    await core.db(lambda s: require_verified_artist(s, actor))


async def protect_my_posts(core: Core, actor: Actor) -> Protected:
    """Put every indexed post of the artist on the list (their own makers can then not use them either)."""
    await _require_verified(core, actor)

    def mark(s: Session) -> int:
        rows = list(s.exec(select(Artwork).where(Artwork.owner_id == actor.user_id, Artwork.no_ai.is_(False))))
        for row in rows:
            row.no_ai = True
            s.add(row)
        core.audit(s, actor, "no_ai.posts", "user", actor.user_id, works=len(rows))
        s.commit()
        return len(rows)
    return Protected(works=await core.db(mark))


async def can_protect(core: Core, actor: Actor) -> None:
    """Refuse before any upload starts: only a verified artist may list works (see protect_files)."""
    await _require_verified(core, actor)


async def protect_files(core: Core, actor: Actor, uploads) -> Protected:
    """Add uploaded files to the list. Another artist's claimed work is refused (it is theirs to protect)."""
    await _require_verified(core, actor)
    if not uploads:
        raise Refusal("protect.no_files")
    if len(uploads) > MAX_FILES:
        raise Refusal("protect.too_many_files", limit=MAX_FILES)
    result = Protected()
    for upload in uploads:
        if upload.problem is not None:  # the adapter could not fetch it: say why, go on with the others
            result.refused.append(Text("upload.line", filename=upload.filename, reason=upload.problem))
            continue
        try:
            blob, fp, fp_blob = await fingerprint_bytes(core, upload.data)
        except Refusal as exc:
            why = exc.params.get("reason", Text(exc.key))
            result.refused.append(Text("upload.line", filename=upload.filename, reason=why))
            continue
        item = ArtworkItem(fingerprint=fp, blob=blob, fingerprint_blob=fp_blob)
        added = await asyncio.to_thread(add_no_ai, core.app.db, actor.user_id, [item], registry=core.registry)
        if not added.added:  # refused, or the listing marked a work already indexed: keep no copy of this file
            await discard_unreferenced(core, [blob, fp_blob])
        if added.refused:
            result.refused.append(Text("upload.line", filename=upload.filename,
                                       reason=Text("registry.someone_elses")))
        result.works += len(added.added) + len(added.marked)
    return result
