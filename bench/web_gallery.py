"""The web gallery at size: page and image-permission latencies over a database with many generations.

Fills a fresh SQLite (or PostgreSQL, --database-url) database with N finished generations spread over makers, then
times, over the real aiohttp app (in-process test client, so no network in the figures):
  - GET /generations (first page and a deep page), /makers, /makers/<name>, /g/<id>
  - GET /img/<digest> with the page's hint of where it belongs (a primary-key look-up) and without one (what a
    hand-shared bare link costs: a look-up in the blob -> generation index, GenerationImage)
  - GET /thumb/<digest> cold (made with Pillow) and warm (memory cache)

    .venv/bin/python bench/web_gallery.py                  # 20,000 generations, SQLite
    .venv/bin/python bench/web_gallery.py -n 100000 --rounds 30
    .venv/bin/python bench/web_gallery.py --database-url postgresql://postgres@127.0.0.1:5432/bench_db
"""
from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from PIL import Image  # noqa: E402
from sqlmodel import SQLModel, select  # noqa: E402

from bot.core.app import Core  # noqa: E402
from bot.web.server import build_web_app  # noqa: E402
from data.context import AppContext  # noqa: E402
from data.models import Generation, GenerationImage, Maker, SocialAccount, User  # noqa: E402
from data.settings import Settings  # noqa: E402
from engine.queue import JobQueue  # noqa: E402


def picture(i: int) -> bytes:
    img = Image.new("RGB", (512, 512), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def fill(app: AppContext, n: int, makers: int) -> tuple[list[str], int, str]:
    now = datetime.now(timezone.utc)
    blobs = [app.blobs.put(picture(i)) for i in range(64)]  # real files; rows reuse them round-robin
    with app.db.session() as s:
        artist = User(display_name="Bench Artist")
        fan = User(display_name="Bench Fan")
        s.add(artist), s.add(fan)
        s.flush()
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="1", handle="bench", verified_at=now))
        ids = []
        for m in range(makers):
            maker = Maker(owner_id=artist.id, name=f"bench-{m}", status="ready", sample_blob=blobs[m % 64],
                          created_at=now - timedelta(days=m))
            s.add(maker)
            s.flush()
            ids.append(maker.id)
        s.commit()
        rows = [dict(requester_id=fan.id, maker_id=ids[i % makers], kind="txt2img", prompt=f"bench {i}",
                     status="done", trace_id=i + 1, created_at=now - timedelta(seconds=i), seed=i, count=1,
                     image_blobs=[f"{i:064x}"], negative_prompt="", steps=0, guidance=0.0, source_blob="",
                     error="", taken_down=False, undeletable_until=now + timedelta(hours=48))
                for i in range(n)]
        # the newest one shows a real picture; the oldest too (what a scan of the generations would reach last)
        rows[0]["image_blobs"] = [blobs[-1]]
        rows[-1]["image_blobs"] = [blobs[-2]]
        s.execute(Generation.__table__.insert(), rows)  # bulk, past the ORM: so the index is written here too
        index = [{"blob": blob, "generation_id": gen_id}
                 for gen_id, images in s.execute(select(Generation.id, Generation.image_blobs)) for blob in images]
        s.execute(GenerationImage.__table__.insert(), index)
        s.commit()
    return blobs, ids[0], "bench-0"


async def timed(client: TestClient, path: str, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = await client.get(path)
        await response.read()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, (path, response.status)
    return statistics.median(samples), max(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="finished generations (default 20000)")
    parser.add_argument("--makers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, var_dir=Path(tmp), redis_url="redis://127.0.0.1:6379/0",
                            database_url=args.database_url or f"sqlite:///{tmp}/bench.db")
        app = AppContext.create(settings, check=False)
        SQLModel.metadata.create_all(app.db.engine)
        start = time.perf_counter()
        blobs, _, maker_name = fill(app, args.n, args.makers)
        print(f"filled {args.n} generations over {args.makers} makers in {time.perf_counter() - start:.1f} s "
              f"({app.db.engine.dialect.name})")
        core = Core(app=app, queue=JobQueue(app.redis_url, settings.redis_prefix), providers={})
        async with TestClient(TestServer(build_web_app(core))) as client:
            last_page = (args.n + 23) // 24
            newest, oldest = blobs[-1], blobs[-2]  # not used as samples: found only through generations
            cases = [("generations, page 1", "/generations"),
                     (f"generations, page {last_page}", f"/generations?page={last_page}"),
                     ("makers", "/makers"), ("maker page", f"/makers/{maker_name}"), ("image page", "/g/1"),
                     ("/img maker sample, ?m= hint", f"/img/{blobs[0]}?m=1"),
                     ("/img oldest generation, ?g= hint", f"/img/{oldest}?g={args.n}"),
                     ("/img newest generation, no hint", f"/img/{newest}"),
                     ("/img oldest generation, no hint", f"/img/{oldest}")]
            print(f"{'request':40} {'median ms':>10} {'max ms':>10}   ({args.rounds} rounds)")
            for label, path in cases:
                median, worst = await timed(client, path, args.rounds)
                print(f"{label:40} {median:10.1f} {worst:10.1f}")
            cold = await timed(client, f"/thumb/{blobs[2]}?m=3", 1)
            warm = await timed(client, f"/thumb/{blobs[2]}?m=3", args.rounds)
            print(f"{'/thumb cold (Pillow, 512 px PNG)':40} {cold[0]:10.1f}")
            print(f"{'/thumb warm (memory cache)':40} {warm[0]:10.1f} {warm[1]:10.1f}")
        await app.aclose()


if __name__ == "__main__":
    asyncio.run(main())
