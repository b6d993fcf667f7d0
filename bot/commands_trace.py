"""`mimic trace IMAGE [--json]`: read the invisible trace id (or, in a copy without one, find the picture among the
generated images) and name the generation it belongs to."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import select

from data.db import Database
from data.models import Generation, Maker, SocialAccount, User
from data.settings import Settings


def generation_summary(db: Database, trace_id: int, public_url: str) -> dict | None:
    try:
        with db.session() as s:
            gen = s.exec(select(Generation).where(Generation.trace_id == trace_id)).first()
            if gen is None:
                return None
            maker = s.get(Maker, gen.maker_id)
            artist = s.get(User, maker.owner_id) if maker else None
            account = s.exec(select(SocialAccount).where(SocialAccount.user_id == artist.id)).first() if artist else None
            return {
                "id": gen.id, "kind": gen.kind, "status": gen.status, "prompt": gen.prompt, "seed": gen.seed,
                "maker": maker.name if maker else None, "usage": maker.usage if maker else None,
                "artist": f"@{account.handle}" if account else (artist.display_name if artist else None),
                "artist_profile": account.profile_url if account else None,
                "requester_id": gen.requester_id, "created_at": gen.created_at.isoformat(),
                "taken_down": gen.taken_down, "url": f"{public_url.rstrip('/')}/image/{gen.id}",
            }
    except (OperationalError, ProgrammingError):  # no database yet: nothing generated here
        return None


def trace_command(settings: Settings, image: Path, *, as_json: bool) -> int:
    from engine.content_trace import trace_copy
    from engine.trace import TraceError
    from verification.imaging import ImageRejected, load_image

    index = None
    try:
        data = image.read_bytes()
        picture = load_image(data, max_pixels=settings.max_image_pixels,
                             max_bytes=max(settings.max_upload_bytes, len(data)))
        index = _content_index(settings)
        result = trace_copy(data, picture, index, max_pixels=settings.max_image_pixels)
    except (OSError, ImageRejected, TraceError) as exc:
        reason = (exc.reason if isinstance(exc, ImageRejected) else str(exc) if isinstance(exc, TraceError)
                  else f"cannot read {image}: {exc.strerror}")
        print(json.dumps({"trace_id": None, "generation": None, "error": reason}) if as_json
              else f"{image}: {reason}", file=sys.stdout if as_json else sys.stderr)
        return 1
    finally:
        if index is not None:
            index.db.dispose()
    generation = None
    if result.trace_id is not None:
        db = Database.from_settings(settings)
        generation = generation_summary(db, result.trace_id, settings.public_url)
        db.dispose()
    if as_json:
        # "source" says what carried the id: the invisible mark, a signed C2PA manifest, (forgeable) XMP alone, or
        # "content": no id in the file, but the picture matched a generated image (a crop, a heavy edit)
        print(json.dumps({"trace_id": result.trace_id, "generation": generation, "source": result.source},
                         ensure_ascii=False))
    elif result.trace_id is None:
        print(f"{image}: no mimic trace id found, and it matches no image generated here")
    elif generation is None:
        print(f"{image}: trace id {result.trace_id}, not a generation of this installation")
    else:
        how = " (found by its content: the copy carries no trace id)" if result.source == "content" else ""
        print(f"{image}: trace id {result.trace_id} → generation {generation['id']} by maker "
              f"'{generation['maker']}' ({generation['artist']}), {generation['url']}{how}")
    return 0


def _content_index(settings: Settings):
    """The generated images to compare a copy with when it carries no trace id, or None where this installation
    has none (no database file, or one without the table). Read only: no file or folder is created."""
    from sqlalchemy.engine import make_url

    from data.blobs import BlobStore
    from data.models import GenerationFingerprint
    from engine.content_trace import ContentIndex

    url = make_url(settings.resolved_database_url)
    if url.drivername.startswith("sqlite") and not (url.database and Path(url.database).is_file()):
        return None
    db = Database.from_settings(settings)
    try:
        with db.session() as s:
            s.exec(select(GenerationFingerprint.id).limit(1)).first()
    except (OperationalError, ProgrammingError):
        db.dispose()
        return None
    return ContentIndex(db, BlobStore.reader(settings.blob_dir), max_images=settings.trace_index_max_images)
