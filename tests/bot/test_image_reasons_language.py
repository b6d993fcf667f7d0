"""Why a file was refused, in the uploader's Discord language: a Japanese user reads the whole reply in Japanese,
the reason included; an English user reads the same sentence the command line prints."""
from __future__ import annotations

import struct
import zlib

from tests.core.test_image_reasons import JAPANESE, _chunk, english_words
from tests.fakes.discord_server import Upload


def bomb_png(width: int = 15_200, height: int = 15_200) -> bytes:
    """A few hundred bytes whose header promises a 231-megapixel canvas."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width * 3 + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


NOT_AN_IMAGE = Upload("notes.png", b"hello, this is a text file\n" * 10, "image/png")
BOMB = Upload("bomb.png", bomb_png(), "image/png")


async def test_a_japanese_artist_reads_why_each_file_was_refused_in_japanese(world):
    await world.verified_artist()
    form, _, reply = await world.submit_form("maker create", {"name": "aoi"}, [NOT_AN_IMAGE, BOMB], user="artist",
                                             locale="ja")
    assert form["title"] == "新しいメーカー: aoi" and form["components"][0]["label"] == "あなたの作品 1〜10"
    text = reply.content
    assert reply.ephemeral and text.startswith("どの画像もあなたの投稿と一致しなかったため")
    assert "• notes.png: 読み込める画像ファイルではありません" in text
    assert "• bomb.png: 画像が 231 メガピクセルもあり、上限の 40 メガピクセルを大きく超えています" in text
    assert english_words(text, besides=("notes.png", "bomb.png")) == [], text


async def test_remake_trace_and_protect_refuse_a_bad_file_in_japanese(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, name="aoi")
    _, remake = await world.run("remake", {"maker": "aoi", "image": BOMB}, user="fan", locale="ja")
    assert remake.content.startswith("そのファイルは使えません: 画像が 231 メガピクセル")
    assert english_words(remake.content) == [], remake.content
    _, traced = await world.run("trace", {"image": NOT_AN_IMAGE}, user="fan", locale="ja")
    assert traced.content.startswith("そのファイルは使えません: 読み込める画像ファイルではありません")
    assert english_words(traced.content) == [], traced.content
    _, _, protected = await world.submit_form("protect files", {}, [NOT_AN_IMAGE], user="artist", locale="ja")
    assert "登録できなかったもの:\n• notes.png: 読み込める画像ファイルではありません" in protected.content
    assert english_words(protected.content, besides=("notes.png",)) == [], protected.content


async def test_an_english_user_reads_the_sentence_the_cli_prints(world):
    await world.verified_artist()
    _, _, reply = await world.submit_form("maker create", {"name": "aoi"}, [BOMB], user="artist", locale="en-US")
    assert ("• bomb.png: the image is 231 megapixels, far beyond the limit of 40 megapixels (decompression bomb "
            "suspected)") in reply.content
    assert not JAPANESE.search(reply.content)
