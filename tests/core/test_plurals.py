"""Counting words and dates follow each language's CLDR rules (Babel), in the one catalogue Discord and the gallery read."""
from __future__ import annotations

import re
from datetime import datetime, timezone


from bot.i18n import MESSAGES, t
from bot.l10n import Plural, format_datetime, plural_category
from bot.web import i18n as web


def test_one_image_is_not_one_images():
    assert web.text("en", "maker.generations", count=1) == "1 image made"
    assert web.text("en", "maker.generations", count=0) == "0 images made"
    assert web.text("en", "maker.generations", count=2) == "2 images made"
    assert web.text("ja", "maker.generations", count=1) == "1 件"  # Japanese does not inflect
    assert t("review.line", "en", name="aoi", artist="@aoi", images=1).endswith("— 1 image")
    assert t("review.line", "en-US", name="aoi", artist="@aoi", images=12).endswith("— 12 images")
    assert t("review.line", "ja", name="aoi", artist="@aoi", images=1) == "• @aoi さんの **aoi** — 画像 1 枚"
    assert "1 of your posted works is now" in t("protect.posts_done", "en", count=1)
    assert "3 of your posted works are now" in t("protect.posts_done", "en", count=3)
    assert "(the code expires in 1 minute)" in t("verify.started", "en", handle="h", platform="X", code="c",
                                                minutes=1)


def test_categories_come_from_cldr():
    assert [plural_category(n, "en") for n in (0, 1, 2, 1.0, 1.5)] == ["other", "one", "other", "one", "other"]
    assert {plural_category(n, "ja") for n in (0, 1, 2)} == {"other"}
    assert plural_category("many", "en") == "other"  # not a number: the general form, never an error


def test_every_plural_has_its_forms_and_the_same_placeholders():
    """One catalogue for Discord and the gallery: its counting entries, the gallery's among them."""
    entries = [(k, en, ja) for k, (en, ja) in MESSAGES.items()]
    assert any(k == "maker.generations" and isinstance(en, Plural) for k, en, _ in entries)  # a page string
    plurals = [(k, en, ja) for k, en, ja in entries if isinstance(en, Plural)]
    assert plurals
    for key, en, ja in plurals:
        assert set(en.forms) == {"one", "other"}, key  # English: CLDR's two categories
        expected = set(re.findall(r"{(\w+)}", ja))
        assert en.operand in expected, key
        for form in en.forms.values():
            assert set(re.findall(r"{(\w+)}", form)) == expected, key


def test_dates_in_each_language():
    moment = datetime(2026, 12, 3, 8, 4, tzinfo=timezone.utc)
    assert format_datetime(moment, "en") == "Dec 3, 2026, 08:04 UTC"
    assert format_datetime(moment, "ja") == "2026年12月3日 8:04 UTC"
    assert format_datetime(moment.replace(tzinfo=None), "en") == "Dec 3, 2026, 08:04 UTC"  # SQLite's naive UTC
    assert web.format_time(moment, "ja") == "2026年12月3日 8:04 UTC"
