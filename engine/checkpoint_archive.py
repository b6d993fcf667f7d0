"""A training checkpoint as one blob, so a retry on another machine resumes instead of starting over.

A checkpoint folder (`step-N/` with three known files) is packed into an uncompressed tar: the weights and
optimizer state don't compress, and a tar keeps the blob store's put/get unchanged. Unpacking accepts only
those three regular files, so a damaged or hostile archive cannot write anywhere else."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

CHECKPOINT_FILES = ("lora_params.safetensors", "training_state.pt", "state.json")


class BadCheckpointArchive(ValueError):
    pass


def pack_checkpoint(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in CHECKPOINT_FILES:
            tar.add(Path(folder) / name, arcname=name, recursive=False)
    return buffer.getvalue()


def _read(data: bytes) -> tuple[dict[str, bytes], int]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            contents = {}
            for member in tar.getmembers():
                if member.name not in CHECKPOINT_FILES or not member.isfile():
                    raise BadCheckpointArchive(f"unexpected entry {member.name!r}")
                contents[member.name] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        raise BadCheckpointArchive(str(exc)) from None
    if set(contents) != set(CHECKPOINT_FILES):
        raise BadCheckpointArchive("incomplete checkpoint")
    try:
        return contents, int(json.loads(contents["state.json"])["step"])
    except (ValueError, KeyError, TypeError):
        raise BadCheckpointArchive("unreadable state.json") from None


def archived_step(data: bytes) -> int:
    """The training step an archive was taken at; BadCheckpointArchive when it is not a usable checkpoint."""
    return _read(data)[1]


def unpack_checkpoint(data: bytes, checkpoints_root: Path) -> Path:
    """Write the archive as `checkpoints_root/step-N` (N from its state.json) and return that folder."""
    contents, step = _read(data)
    final = Path(checkpoints_root) / f"step-{step}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, content in contents.items():
        (partial / name).write_bytes(content)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)  # same rule as the trainer: only complete checkpoints carry the step-N name
    return final
