"""Every refusal the use cases can raise has an English and a Japanese message."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import t

CORE = Path(__file__).resolve().parents[2] / "bot" / "core"
KEYS = sorted({key for path in CORE.glob("*.py")
               for key in re.findall(r'Refusal\(\s*"([a-z_.]+)"', path.read_text())})


def test_the_core_raises_refusals():
    assert len(KEYS) > 20


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("locale", ["en", "ja"])
def test_refusal_has_a_message(key, locale):
    text = t(key, locale, name="aoi", limit=3, used=2, reason="r", detail="d", details=["x"], platform="x",
             status="training", until="2026-11-24T10:00", id=1,
             post="https://bsky.app/profile/aoi/post/1", length=16)
    assert text and text != key and "{" not in text
    if locale == "ja":
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text
