"""Fixtures of the web gallery tests: a populated database (see gallery_seed.py)."""
from __future__ import annotations

import pytest

from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery


@pytest.fixture
def gallery_app(tmp_path):
    app = gallery_context(gallery_settings(tmp_path, max_upload_bytes=256 * 1024))
    yield app, seed_gallery(app)
    app.db.dispose()
