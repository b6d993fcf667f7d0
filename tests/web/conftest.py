"""Fixtures of the web gallery tests: a populated database (see gallery_seed.py)."""
from __future__ import annotations

import pytest
import redis

from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery


@pytest.fixture
def gallery_app(tmp_path):
    app = gallery_context(gallery_settings(tmp_path, max_upload_bytes=256 * 1024))
    yield app, seed_gallery(app)
    app.db.dispose()
    try:  # the web app keeps its CSRF secret and rate limits under the install's prefix
        client = redis.Redis.from_url(app.settings.redis_url, socket_connect_timeout=1)
        for key in client.scan_iter(match=f"{app.settings.redis_prefix}:*"):
            client.delete(key)
        client.close()
    except (redis.RedisError, OSError):
        pass
