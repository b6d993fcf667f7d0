"""Why an image was not used reaches people in their own language: every reason the verification layer gives
(ImageRejected, match verdicts, registry decisions) has a message key with English and Japanese text, and the
English equals the sentence that logs and the command line print."""
from __future__ import annotations

import io
import os
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from bot.i18n import MESSAGES, Text, t
from verification.hashing import fingerprint
from verification.imaging import ImageRejected, load_image
from verification.matching import Portfolio, PortfolioEntry, match
from verification.synthetic import draw_illustration

ROOT = Path(__file__).resolve().parents[2]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
NAMES = {"PNG", "JPEG", "GIF", "WebP", "BMP", "TIFF", "SVG", "pHash"}  # proper names, the same in Japanese


def keys_in(path: str, prefix: str, within: str = "") -> set[str]:
    """Message keys written in a source file (only inside `within(...)` calls when given)."""
    pattern = rf'{within}\([^)]*?"({prefix}\.[a-z_]+)"' if within else rf'"({prefix}\.[a-z_]+)"'
    return set(re.findall(pattern, (ROOT / path).read_text()))


def english_words(text: str, *, besides: tuple[str, ...] = ()) -> list[str]:
    """Words of English left in `text` once file names and format names are set aside."""
    for token in besides:
        text = text.replace(token, "")
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in NAMES]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size and carries almost no pixels: the checks must refuse it from the header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def encoded(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _animated() -> bytes:
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _truncated() -> bytes:
    data = encoded(draw_illustration(3, (128, 128)))
    return data[: len(data) // 2]


def _special(tmp, kind: str):
    """Something named gone.png that is not a regular file: a folder, a FIFO, or a link to /dev/null."""
    path = tmp / "gone.png"
    {"folder": path.mkdir, "fifo": lambda: os.mkfifo(path), "device": lambda: path.symlink_to("/dev/null")}[kind]()
    return path


# one real input per reason load_image gives: (data, keyword arguments)
CASES = {
    "image.unreadable_file": lambda tmp: (tmp / "gone.png", {}),
    "image.too_large": lambda tmp: (b"\x00" * 2_000_001, {"max_bytes": 1_000_000}),
    "image.empty": lambda tmp: (b"", {}),
    "image.svg": lambda tmp: (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', {}),
    "image.decompression_bomb": lambda tmp: (png_header(15_200, 15_200), {}),
    "image.not_an_image": lambda tmp: (b"hello, this is a text file\n" * 10, {}),
    "image.side_too_long": lambda tmp: (png_header(20_001, 16), {}),
    "image.too_many_pixels": lambda tmp: (png_header(8_000, 8_000), {}),
    "image.too_small": lambda tmp: (encoded(Image.new("RGB", (8, 8))), {}),
    "image.animated": lambda tmp: (_animated(), {}),
    "image.corrupt": lambda tmp: (_truncated(), {}),
    "image.is_folder": lambda tmp: (_special(tmp, "folder"), {}),
    "image.is_pipe": lambda tmp: (_special(tmp, "fifo"), {}),
    "image.is_device": lambda tmp: (_special(tmp, "device"), {}),
}
# Pillow opens no file with an empty canvas, and always says how many pixels a bomb has
UNREACHABLE = {"image.no_pixels", "image.decompression_bomb_unsized"}
IMAGE_KEYS = keys_in("verification/imaging.py", "image")


def test_every_reason_of_imaging_has_a_key_and_both_languages():
    assert len(IMAGE_KEYS) >= 12
    assert set(CASES) | UNREACHABLE == IMAGE_KEYS
    for key in sorted(IMAGE_KEYS):
        assert key in MESSAGES, key
        assert JAPANESE.search(MESSAGES[key][1]), key


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_refused_image_reads_the_same_in_english_and_fully_in_japanese(key, tmp_path):
    data, kwargs = CASES[key](tmp_path)
    with pytest.raises(ImageRejected) as info:
        load_image(data, **kwargs)
    exc = info.value
    assert exc.key == key
    assert t(key, "en", **exc.params) == exc.reason  # the CLI's sentence, unchanged
    ja = t(key, "ja", **exc.params)
    assert JAPANESE.search(ja) and "{" not in ja
    assert english_words(ja, besides=("gone.png",)) == [], ja
    for value in exc.params.values():  # sizes and limits are shown, not lost in translation
        assert str(value) in ja


def test_a_reason_inside_a_refusal_or_a_list_takes_the_readers_language():
    reason = Text("image.decompression_bomb", megapixels="231", limit_mp="40")
    ja = t("image.rejected", "ja", reason=reason)
    assert ja.startswith("そのファイルは使えません: 画像が 231 メガピクセル") and english_words(ja) == []
    assert t("image.rejected", "en", reason=reason) == ("That file can't be used: the image is 231 megapixels, far "
                                                         "beyond the limit of 40 megapixels (decompression bomb "
                                                         "suspected)")
    lines = [Text("upload.line", filename="notes.png", reason=Text("image.not_an_image")),
             Text("upload.line", filename="k.png", reason=Text("registry.someone_elses"))]
    ja = t("maker.nothing_accepted", "ja-JP", details=lines)
    assert "• notes.png: 読み込める画像ファイルではありません" in ja and "• k.png: この作品は他の作家" in ja
    assert english_words(ja, besides=("notes.png", "k.png")) == []
    assert str(lines[1]) == "k.png: this work was posted by another artist"  # logs and storage stay English


def test_every_upload_verdict_has_both_languages():
    keys = (keys_in("verification/matching.py", "match") | keys_in("bot/core/ownership.py", "match")
            | keys_in("verification/registry.py", "registry", within="RegistryDecision"))
    assert {"match.none", "match.hash", "match.no_index", "registry.someone_elses", "registry.no_ai"} <= keys
    for key in sorted(keys):
        assert key in MESSAGES, key
        ja = t(key, "ja", post="https://x.com/aoi/status/1", phash=12, inliers=3, correlation="0.41")
        assert JAPANESE.search(ja) and english_words(ja, besides=("https://x.com/aoi/status/1",)) == [], ja


def test_match_verdicts_carry_their_key_and_values():
    posted = [draw_illustration(seed, (256, 256)) for seed in (1, 2)]
    portfolio = Portfolio([PortfolioEntry(id=str(i), fingerprint=fingerprint(img), source_url=f"https://x.com/a/{i}")
                           for i, img in enumerate(posted)])
    same = match(fingerprint(posted[1], candidate=True), portfolio)
    assert (same.verdict, same.key, same.params["post"]) == ("match", "match.hash", "https://x.com/a/1")
    other = match(fingerprint(draw_illustration(99, (256, 256)), candidate=True), portfolio)
    assert other.verdict == "no_match" and other.key == "match.none"
    ja = t(other.key, "ja", **other.params)
    assert f"{other.params['phash']}/64" in ja and english_words(ja) == []
