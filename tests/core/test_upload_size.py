"""One size rule for every upload (Discord attachments, modal uploads, web forms, the core's own check)."""
from __future__ import annotations

import pytest

from bot.i18n import t
from verification.imaging import ImageRejected, check_size, upload_limit

MB = 1024 * 1024


def test_the_transport_may_only_lower_the_limit():
    assert upload_limit(10 * MB) == 10 * MB
    assert upload_limit(10 * MB, 8 * MB) == 8 * MB  # a server whose attachments are smaller
    assert upload_limit(10 * MB, 25 * MB) == 10 * MB  # a boosted server does not raise ours
    assert upload_limit(10 * MB, 0) == 10 * MB  # Discord did not say


def test_over_the_limit_is_refused_with_the_same_figures_everywhere():
    check_size(10 * MB, 10 * MB)  # at the limit is fine
    with pytest.raises(ImageRejected) as refused:
        check_size(12 * MB, 10 * MB)
    assert refused.value.key == "image.too_large"
    core_words = t("image.too_large", "en", **refused.value.params)
    discord_words = t("upload.too_big", "en", filename="big.png", **refused.value.params)
    assert "12.6 MB" in core_words and "12.6 MB" in discord_words  # one unit (10^6 bytes), one rounding
    assert "limit is 10 MB" in core_words and "limit is 10 MB" in discord_words
