"""`mimic trace IMAGE [--json]`: read the invisible trace id (or, in a copy without one, find the picture among the
generated images) and name the generation it belongs to."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import select

from bot.console import Progress
from bot.core.errors import Refusal
from bot.core.generations import trace_image, trace_summary
from bot.i18n import t
from data.db import Database
from data.settings import Settings
from verification.imaging import ImageRejected, read_file


def trace_command(settings: Settings, image: Path, *, as_json: bool) -> int:
    index = None
    try:  # a regular file only (not /dev/zero, a FIFO, a folder), read no further than the upload limit
        data = read_file(image, settings.max_upload_bytes)
        index = _content_index(settings)
        found = trace_image(data, settings=settings, db=index.db if index is not None else None, content_index=index)
        generation = trace_summary(found, settings.public_url)
    except (OSError, Refusal, ImageRejected) as exc:
        reason = (t(exc.key, "en", **exc.params) if isinstance(exc, Refusal) else exc.reason
                  if isinstance(exc, ImageRejected) else f"cannot read {image}: {exc.strerror}")
        print(json.dumps({"trace_id": None, "generation": None, "error": reason}) if as_json
              else f"{image}: {reason}", file=sys.stdout if as_json else sys.stderr)
        return 1
    finally:
        if index is not None:
            index.db.dispose()
    if as_json:
        # "source" says what carried the id: the invisible mark, a signed C2PA manifest, (forgeable) XMP alone, or
        # "content": no id in the file, but the picture matched a generated image (a crop, a heavy edit)
        print(json.dumps({"trace_id": found.trace_id, "generation": generation, "source": found.source},
                         ensure_ascii=False))
    elif found.trace_id is None:
        print(f"{image}: no mimic trace id found, and it matches no image generated here")
    elif generation is None:
        print(f"{image}: trace id {found.trace_id}, not a generation of this installation")
    else:
        how = " (found by its content: the copy carries no trace id)" if found.source == "content" else ""
        print(f"{image}: trace id {found.trace_id} → generation {generation['id']} by maker "
              f"'{generation['maker']}' ({generation['artist']}), {generation['url']}{how}")
    return 0


def _content_index(settings: Settings):
    """The generated images to compare a copy with when it carries no trace id, or None where this installation
    has none (no database file, or one without the table). Read only: no file or folder is created."""
    from sqlalchemy.engine import make_url

    from data.blob_stores import open_blob_store
    from data.models import GenerationFingerprint
    from bot.core.content_index import ContentIndex

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
    return ContentIndex(db, open_blob_store(settings, create=False), max_images=settings.trace_index_max_images,
                        progress=Progress)  # a bar on a terminal's stderr: stdout stays the contract
