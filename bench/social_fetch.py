"""How long reading a whole 3,200-post portfolio takes through each real client library, against the local
fake platforms (so it measures our code, the libraries and the downloads, not the internet).

    python bench/social_fetch.py [posts]
"""
from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from data.settings import Settings  # noqa: E402
from tests.fakes.social import FakeSocial  # noqa: E402
from verification.accounts import build_providers, fetch_portfolio  # noqa: E402

HANDLES = {"x": "alice", "bluesky": "alice.bsky.social", "mastodon": "alice"}


async def main(posts: int) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), "white").save(buf, "JPEG", quality=90)
    async with FakeSocial() as fake:
        for platform, handle in HANDLES.items():
            account = fake.add_account(platform, handle)
            for _ in range(posts):
                fake.add_post(account, images=[buf.getvalue()])
        settings = Settings(_env_file=None).model_copy(update=fake.settings_overrides())
        print(f"{posts} posts with one {len(buf.getvalue())}-byte JPEG each; media_concurrency="
              f"{settings.media_concurrency}")
        for platform, provider in build_providers(settings).items():
            start = time.perf_counter()
            account = await provider.lookup(HANDLES[platform])
            portfolio = await fetch_portfolio(provider, account, settings)
            elapsed = time.perf_counter() - start
            print(f"{platform:9s} {len(portfolio):5d} images, {len(fake.api_requests(platform)):3d} API requests, "
                  f"{elapsed:6.2f} s")
            await provider.aclose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3200))
